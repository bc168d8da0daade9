#include "interp/cpython.h" // first: Python.h must come before any standard header

#include "interp/runtime.h"

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "interp/builtin_modules.h"
#include "interp/detail/libcrypto.h"
#if PY_VERSION_HEX < 0x030D0000
#include "interp/detail/keyword_tuples_312.h"
#endif
#include "interp/detail/runtime_state.h"
#include "base/sanitized.h"
#include "interp/errors.h"
#include "interp/interpreter.h"

namespace isolates {

namespace {
std::mutex state_mutex;
std::condition_variable interpreters_gone;
bool ever_initialized = false;
bool runtime_alive = false;
std::size_t interpreter_count = 0;

struct BuiltinModule {
    const char* name;
    ModuleInit init;
};
std::vector<BuiltinModule>& builtin_modules() {
    static std::vector<BuiltinModule> modules; // filled during static initialisation
    return modules;
}

/// Fills `list` from UTF-8 strings; throws UsageError on failure.
void append_paths(PyConfig& config, PyWideStringList& list, const std::vector<std::string>& paths) {
    for (const std::string& path : paths) {
        wchar_t* wide = Py_DecodeLocale(path.c_str(), nullptr);
        if (!wide) throw UsageError("Runtime: cannot decode sys.path entry '" + path + "'");
        PyStatus status = PyWideStringList_Append(&list, wide);
        PyMem_RawFree(wide);
        if (PyStatus_Exception(status)) {
            PyConfig_Clear(&config);
            throw UsageError(std::string("Runtime: ") + (status.err_msg ? status.err_msg : "error"));
        }
    }
}

void check(PyStatus status, PyConfig& config) {
    if (PyStatus_Exception(status)) {
        PyConfig_Clear(&config);
        throw UsageError(std::string("Runtime: CPython initialisation failed: ") +
                         (status.err_msg ? status.err_msg : "unknown error"));
    }
}
} // namespace

void register_builtin_module(const char* name, ModuleInit init) {
    std::lock_guard lock(state_mutex);
    // CPython imports the first module of a name: a second one would be silently ignored.
    for (const BuiltinModule& module : builtin_modules())
        if (std::strcmp(module.name, name) == 0)
            throw UsageError(std::string("register_builtin_module('") + name +
                             "'): a built-in module of that name is already registered");
    // CPython's table is read only before it initialises (finalisation may free its copy).
    for (const _inittab* module = ever_initialized ? nullptr : PyImport_Inittab; module && module->name;
         ++module)
        if (std::strcmp(module->name, name) == 0)
            throw UsageError(std::string("register_builtin_module('") + name +
                             "'): CPython already has a built-in module of that name");
    if (ever_initialized)
        throw UsageError(std::string("register_builtin_module('") + name +
                         "') after the Runtime started; CPython reads built-in modules once");
    builtin_modules().push_back({name, init});
}

namespace detail {
void acquire_interpreter_slot() {
    std::lock_guard lock(state_mutex);
    if (!runtime_alive)
        throw UsageError(ever_initialized
                             ? "the isolates::Runtime has been finalised; no interpreter can be made"
                             : "no isolates::Runtime is alive: make one (usually in main) first");
    ++interpreter_count;
}

void release_interpreter_slot() noexcept {
    std::lock_guard lock(state_mutex);
    if (--interpreter_count == 0) interpreters_gone.notify_all();
}
} // namespace detail

Runtime::Hold::Hold() { detail::acquire_interpreter_slot(); }

Runtime::Hold& Runtime::Hold::operator=(Hold&& other) noexcept {
    if (this != &other) {
        if (held_) detail::release_interpreter_slot();
        held_ = std::exchange(other.held_, false);
    }
    return *this;
}

Runtime::Hold::~Hold() {
    if (held_) detail::release_interpreter_slot();
}

std::optional<Runtime::Hold> Runtime::try_hold() {
    try {
        return Hold();
    } catch (const UsageError&) {
        return std::nullopt;
    }
}

Runtime::Runtime(Options options) : owner_(std::this_thread::get_id()) {
    {
        std::lock_guard lock(state_mutex);
        if (ever_initialized)
            throw UsageError(runtime_alive
                                 ? "an isolates::Runtime already exists; make only one per process"
                                 : "CPython was already finalised in this process and cannot be "
                                   "initialised again");
        if (Py_IsInitialized())
            throw UsageError("CPython is already initialised by someone else in this process");
        ever_initialized = true;
    }

    for (const BuiltinModule& module : builtin_modules())
        if (PyImport_AppendInittab(module.name, reinterpret_cast<PyObject* (*)()>(module.init)) < 0)
            throw UsageError(std::string("cannot register built-in module ") + module.name);

#if ISOLATES_SANITIZED && !defined(Py_GIL_DISABLED)
    // The free-threaded build refuses any allocator but its own mimalloc (it keeps per-object
    // state in mimalloc's pages), so there sanitizers see CPython's memory as mimalloc's.
    // Sanitizer builds only: route CPython's object allocator to plain malloc, so that
    // AddressSanitizer sees every Python object's memory and ThreadSanitizer sees allocations it
    // knows how to track (pymalloc's arenas are invisible to both). Behaviour is otherwise the same.
    PyPreConfig preconfig;
    PyPreConfig_InitIsolatedConfig(&preconfig);
    preconfig.allocator = PYMEM_ALLOCATOR_MALLOC;
    if (PyStatus status = Py_PreInitialize(&preconfig); PyStatus_Exception(status))
        throw UsageError(std::string("Runtime: CPython pre-initialisation failed: ") +
                         (status.err_msg ? status.err_msg : "unknown error"));
#endif
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.install_signal_handlers = 0;
    // Read first so the default module search path is computed, then put ours in front: every
    // sub-interpreter copies its path from the main interpreter's configuration.
    check(PyConfig_Read(&config), config);
    if (!options.sys_path.empty()) {
        PyWideStringList merged = {0, nullptr};
        append_paths(config, merged, options.sys_path);
        for (Py_ssize_t k = 0; k < config.module_search_paths.length; ++k)
            check(PyWideStringList_Append(&merged, config.module_search_paths.items[k]), config);
        check(PyConfig_SetWideStringList(&config, &config.module_search_paths, merged.length,
                                         merged.items), config);
        for (Py_ssize_t k = 0; k < merged.length; ++k) PyMem_RawFree(merged.items[k]);
        PyMem_RawFree(merged.items);
        config.module_search_paths_set = 1;
    }
    check(Py_InitializeFromConfig(&config), config);
    PyConfig_Clear(&config);
    // Once per process, asked of the main interpreter: where _hashlib's libcrypto is, so each
    // sub-interpreter can get an OpenSSL context of its own (interp/detail/openssl_context.h).
    detail::find_libcrypto();

    main_thread_state_ = PyEval_SaveThread();
    std::lock_guard lock(state_mutex);
    runtime_alive = true;
}

Runtime::~Runtime() {
    if (std::this_thread::get_id() != owner_) {
        std::fputs("isolates: Runtime destroyed on a thread other than the one that made it; "
                   "CPython must be finalised by its main thread\n", stderr);
        std::abort();
    }
    {
        std::unique_lock lock(state_mutex);
        runtime_alive = false;
        if (interpreter_count > 0 && Interpreter::current_thread_owns_any()) {
            std::fputs("isolates: Runtime destroyed while its own thread still owns an "
                       "Interpreter; destroy the Interpreter first\n", stderr);
            std::abort();
        }
        interpreters_gone.wait(lock, [] { return interpreter_count == 0; });
    }
    PyEval_RestoreThread(static_cast<PyThreadState*>(main_thread_state_));
#if PY_VERSION_HEX < 0x030D0000 && !ISOLATES_SANITIZED
    // CPython 3.12.0-3.12.3 would free sub-interpreters' keyword tuples in the main interpreter
    // (interp/detail/keyword_tuples_312.h). Sanitizer builds use malloc for every interpreter,
    // whose free() takes any of them: nothing to keep there, and nothing left for LeakSanitizer.
    isolates_keep_parser_keyword_tuples();
#endif
    Py_FinalizeEx();
}

bool Runtime::alive() noexcept {
    std::lock_guard lock(state_mutex);
    return runtime_alive;
}

std::string Runtime::python_version() {
    // The libpython loaded, as sys.version starts: "3.15.0rc2" keeps a pre-release's level.
    const std::string version = Py_GetVersion();
    return version.substr(0, version.find(' '));
}

std::size_t Runtime::live_interpreters() noexcept {
    std::lock_guard lock(state_mutex);
    return interpreter_count;
}

} // namespace isolates
