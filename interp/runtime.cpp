#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

#include <isolates/interp/runtime.h>

#include <sys/types.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <string_view>

#include <isolates/interp/builtin_modules.h>
#include "interp/detail/embedded_python.h"
#include "interp/detail/libcrypto.h"
#if PY_VERSION_HEX < 0x030D0000
#include "interp/detail/keyword_tuples_312.h"
#endif
#include <isolates/interp/errors.h>
#include <isolates/interp/interpreter.h>
#include <isolates/interp/runtime_client.h>
#include "base/sanitized.h"
#include "interp/detail/runtime_state.h"
#include "interp/detail/sys_path.h"

namespace isolates {

namespace {
std::mutex state_mutex;
std::condition_variable interpreters_gone;
bool ever_initialized = false;
bool runtime_alive = false;
std::size_t interpreter_count = 0; // interpreters and Holds
std::map<pid_t, std::size_t> interpreter_threads; // interpreters alive per owning thread (gettid)
std::vector<std::string> extra_sys_path; // fixed before runtime_alive is first set
std::string runtime_venv;                 // the same

/// "1 interpreter", "3 pools".
std::string count_of(std::size_t n, const char* thing) {
    return std::to_string(n) + " " + thing + (n == 1 ? "" : "s");
}

/// Checks a Runtime is alive and counts one more slot; throws UsageError (after `what`) if not.
void acquire_slot(const std::string& what) {
    if (!runtime_alive)
        throw UsageError(what + (ever_initialized
                                     ? "the isolates::Runtime has been finalised; no interpreter can be made"
                                     : "no isolates::Runtime is alive: make one (usually in main) first"));
    ++interpreter_count;
}

void release_slot() noexcept {
    if (--interpreter_count == 0) interpreters_gone.notify_all();
}

struct BuiltinModule {
    const char* name;
    ModuleInit init;
};
std::vector<BuiltinModule>& builtin_modules() {
    static std::vector<BuiltinModule> modules; // filled during static initialisation
    return modules;
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
    acquire_slot("");
    ++interpreter_threads[::gettid()];
}

void release_interpreter_slot() noexcept {
    std::lock_guard lock(state_mutex);
    const auto thread = interpreter_threads.find(::gettid());
    if (thread != interpreter_threads.end() && --thread->second == 0) interpreter_threads.erase(thread);
    release_slot();
}

const std::vector<std::string>& runtime_sys_path() noexcept { return extra_sys_path; }

/// The registered RuntimeClients. Its mutex is recursive: a client's stop() resolves futures,
/// whose continuations may destroy another client on the Runtime's thread meanwhile. Both live
/// forever, so a client destroyed after static destruction began still finds them.
struct RuntimeClients {
    static std::recursive_mutex& mutex() {
        static auto* m = new std::recursive_mutex;
        return *m;
    }
    static std::vector<RuntimeClient*>& list() {
        static auto* clients = new std::vector<RuntimeClient*>;
        return *clients;
    }
    /// On the Runtime's thread, runtime_alive already false: every client's description.
    static std::vector<std::string> describe_all() {
        std::lock_guard lock(mutex());
        std::vector<std::string> descriptions;
        for (RuntimeClient* client : list()) descriptions.push_back(client->describe_());
        return descriptions;
    }
    /// Stops every client once. A stop() may unregister clients, so each round scans anew.
    static void stop_all() {
        std::lock_guard lock(mutex());
        for (;;) {
            RuntimeClient* next = nullptr;
            for (RuntimeClient* client : list())
                if (!client->stopped_) {
                    next = client;
                    break;
                }
            if (!next) return;
            next->stopped_ = true;
            next->stop_();
        }
    }
};

} // namespace detail

RuntimeClient::RuntimeClient(const std::string& what, std::function<std::string()> describe,
                             std::function<void()> stop)
    : describe_(std::move(describe)), stop_(std::move(stop)) {
    std::lock_guard clients(detail::RuntimeClients::mutex());
    {
        std::lock_guard lock(state_mutex);
        if (!runtime_alive)
            throw UsageError(what + ": " + (ever_initialized
                                 ? "the isolates::Runtime has been finalised"
                                 : "no isolates::Runtime is alive: make one (usually in main) first"));
    }
    detail::RuntimeClients::list().push_back(this);
}

RuntimeClient::~RuntimeClient() {
    std::lock_guard clients(detail::RuntimeClients::mutex());
    auto& list = detail::RuntimeClients::list();
    std::erase(list, this);
}

Runtime::Hold::Hold() {
    std::lock_guard lock(state_mutex);
    acquire_slot("");
}

Runtime::Hold& Runtime::Hold::operator=(Hold&& other) noexcept {
    if (this != &other) {
        if (held_) {
            std::lock_guard lock(state_mutex);
            release_slot();
        }
        held_ = std::exchange(other.held_, false);
    }
    return *this;
}

Runtime::Hold::~Hold() {
    if (held_) {
        std::lock_guard lock(state_mutex);
        release_slot();
    }
}

std::optional<Runtime::Hold> Runtime::try_hold() {
    try {
        return Hold();
    } catch (const UsageError&) {
        return std::nullopt;
    }
}

Runtime::Runtime(Options options) : owner_(std::this_thread::get_id()) {
    std::string executable;
    {
        std::lock_guard lock(state_mutex);
        if (ever_initialized)
            throw UsageError(runtime_alive
                                 ? "an isolates::Runtime already exists; make only one per process"
                                 : "CPython was already finalised in this process and cannot be "
                                   "initialised again");
        if (Py_IsInitialized())
            throw UsageError("CPython is already initialised by someone else in this process");
        // Checked before CPython is touched, so that a bad venv leaves the process able to make
        // a Runtime after all.
        executable = options.venv.empty() ? detail::embedded_python_executable()
                                          : detail::venv_python_executable(options.venv);
        extra_sys_path = options.sys_path;
        runtime_venv = options.venv;
        if (options.use_pythonpath) {
            // As CPython reads it: os.pathsep-separated, empty entries skipped, made absolute.
            const char* pythonpath = std::getenv("PYTHONPATH");
            std::string_view rest = pythonpath ? pythonpath : "";
            while (!rest.empty()) {
                const auto colon = rest.find(':');
                const std::string entry(rest.substr(0, colon));
                rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
                std::error_code error;
                if (!entry.empty())
                    extra_sys_path.push_back(std::filesystem::absolute(entry, error).string());
            }
        }
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
    // The program CPython thinks it is: sys.executable, and where the search for sys.prefix
    // starts. Left unset, CPython takes the first `python3` on PATH, possibly another Python.
    // A venv's python makes CPython read its pyvenv.cfg (sys.prefix is the venv, and `site`
    // adds its site-packages, .pth files included) in every interpreter, as that python would.
    if (!executable.empty()) {
        check(PyConfig_SetBytesString(&config, &config.program_name, executable.c_str()), config);
        check(PyConfig_SetBytesString(&config, &config.executable, executable.c_str()), config);
    }
    // The module search path is computed inside Py_InitializeFromConfig since 3.11 (PyConfig_Read
    // no longer does), and setting it replaces the standard library's entries; so extra entries
    // go into sys.path once CPython is up, here and in each Interpreter as it is made.
    check(Py_InitializeFromConfig(&config), config);
    PyConfig_Clear(&config);
    if (!detail::prepend_sys_path(extra_sys_path)) {
        PyErr_Clear();
        Py_FinalizeEx();
        throw UsageError("Runtime: cannot put Options::sys_path in front of sys.path");
    }
    // Once per process, asked of the main interpreter: where _hashlib's libcrypto is, so each
    // sub-interpreter can get an OpenSSL context of its own (interp/detail/openssl_context.h).
    detail::find_libcrypto();

    main_thread_state_ = PyEval_SaveThread();
    std::lock_guard lock(state_mutex);
    runtime_alive = true;
}

namespace {
/// What a Runtime destroyed too early waits for, and what it does about it; empty when it
/// waits for nothing but Holds (a pool's cleanup thread finishing).
std::string early_destruction_report(const std::map<pid_t, std::size_t>& threads,
                                     std::size_t holds, const std::vector<std::string>& pools) {
    std::size_t interpreters = 0;
    std::string thread_list;
    for (const auto& [thread, count] : threads) {
        interpreters += count;
        thread_list += (thread_list.empty() ? "" : ", ") + std::to_string(thread);
    }
    if (interpreters == 0 && pools.empty()) return {};
    std::string report = "isolates: the Runtime is being destroyed while " +
                         count_of(interpreters, "interpreter") + " (on " +
                         (threads.size() == 1 ? "thread " : "threads ") + thread_list + ")";
    if (holds > 0) report += " and " + count_of(holds, "Runtime::Hold") + " are alive";
    else report += interpreters == 1 ? " is alive" : " are alive";
    if (!pools.empty()) {
        report += " and " + count_of(pools.size(), "pool") + " still " +
                  (pools.size() == 1 ? "runs" : "run") + ":";
        for (const std::string& pool : pools) report += "\n  " + pool;
        report += "\nIt shuts those pools down (tasks not started are cancelled, running tasks "
                  "interrupted) and";
    } else {
        report += ";\nit";
    }
    report += " waits until every interpreter is destroyed by its own thread. Destroy pools and "
              "interpreters before the Runtime: make the Runtime first (in main), before any "
              "pool or std::optional of one.\n";
    return report;
}
} // namespace

Runtime::~Runtime() {
    if (std::this_thread::get_id() != owner_) {
        std::fputs("isolates: Runtime destroyed on a thread other than the one that made it; "
                   "CPython must be finalised by its main thread\n", stderr);
        std::abort();
    }
    std::map<pid_t, std::size_t> threads;
    std::size_t holds = 0;
    {
        std::unique_lock lock(state_mutex);
        runtime_alive = false;
        if (interpreter_count > 0 && Interpreter::current_thread_owns_any()) {
            std::fputs("isolates: Runtime destroyed while its own thread still owns an "
                       "Interpreter; destroy the Interpreter first\n", stderr);
            std::abort();
        }
        threads = interpreter_threads;
        holds = interpreter_count;
        for (const auto& [thread, count] : threads) holds -= count;
    }
    // No client registers from here on (runtime_alive is false): these are all of them.
    const std::string report =
        early_destruction_report(threads, holds, detail::RuntimeClients::describe_all());
    if (!report.empty()) std::fputs(report.c_str(), stderr);
    detail::RuntimeClients::stop_all();
    {
        std::unique_lock lock(state_mutex);
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

Runtime::Options Runtime::options() {
    std::lock_guard lock(state_mutex);
    if (!runtime_alive) throw UsageError("Runtime::options(): no isolates::Runtime is alive");
    Options options;
    options.sys_path = extra_sys_path;
    options.venv = runtime_venv;
    return options;
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
