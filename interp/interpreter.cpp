#include "interp/cpython.h" // first: Python.h must come before any standard header

#include "interp/interpreter.h"

#include <cstdio>
#include <cstdlib>

#include "interp/detail/heap.h"
#include "interp/detail/runtime_state.h"
#include "interp/errors.h"

namespace isolates {

using py::Object;

namespace {
thread_local Interpreter* current_interpreter = nullptr;
thread_local int interpreters_owned_here = 0;

#if PY_VERSION_HEX < 0x030D0000
// CPython 3.12 crashes when two interpreters initialise or finalise at the same time (shared
// runtime state that 3.13 made safe), so 3.12 takes turns.
std::mutex lifecycle_turns;
using LifecycleTurn = std::unique_lock<std::mutex>;
LifecycleTurn take_lifecycle_turn() { return LifecycleTurn(lifecycle_turns); }
#else
struct LifecycleTurn {};
LifecycleTurn take_lifecycle_turn() { return {}; }
#endif

// Creating interpreters on several threads at once now and then fails under load with "Failed to
// import encodings module" (CPython issues 128381 and 131485, seen here once on 3.13.0 in ~20
// full test runs). A failed creation leaves nothing behind, so try again, one retrying thread at
// a time, before reporting it.
std::mutex creation_retries;
PyStatus create_interpreter(PyThreadState** thread_state, const PyInterpreterConfig& config) {
    constexpr int attempts = 3;
    PyStatus status;
    for (int attempt = 0; attempt < attempts; ++attempt) {
        std::unique_lock<std::mutex> one_at_a_time(creation_retries, std::defer_lock);
        if (attempt > 0) one_at_a_time.lock();
        [[maybe_unused]] auto turn = take_lifecycle_turn();
        status = Py_NewInterpreterFromConfig(thread_state, &config);
        if (!PyStatus_Exception(status)) break;
    }
    return status;
}

PyObject* globals_of(void* globals) { return static_cast<PyObject*>(globals); }

// A builtin replaced or deleted (`builtins.len = None`) leaves the interpreter subtly broken for
// every later task. A dict watcher on the builtins namespace notices at no cost per task and
// records it in the interpreter's own state dict, which healthy() reads. Adding new names is
// ordinary (site adds help, exit, ...) and is not recorded.
constexpr const char* builtins_tampered_key = "isolates.builtins_tampered";

int watch_builtins(PyDict_WatchEvent event, PyObject*, PyObject*, PyObject*) {
    if (event == PyDict_EVENT_ADDED || event == PyDict_EVENT_CLONED) return 0;
    PyObject* state = PyInterpreterState_GetDict(PyInterpreterState_Get()); // borrowed
    if (state && PyDict_SetItemString(state, builtins_tampered_key, Py_True) < 0) PyErr_Clear();
    return 0;
}

/// Returns the watcher id, or -1 with a Python error set.
int start_watching_builtins() {
    const int watcher = PyDict_AddWatcher(&watch_builtins);
    PyObject* builtins = PyEval_GetBuiltins(); // borrowed
    if (watcher < 0 || !builtins || PyDict_Watch(watcher, builtins) < 0) return -1;
    return watcher;
}

bool builtins_tampered() {
    PyObject* state = PyInterpreterState_GetDict(PyInterpreterState_Get()); // borrowed
    return state && PyDict_GetItemString(state, builtins_tampered_key) != nullptr;
}

/// Locks `mutex` on a thread attached to an interpreter. Free-threaded CPython may pause every
/// attached thread (stop-the-world) while the holder runs, so a waiter must detach while it
/// waits or both would wait forever; on GIL builds the GIL itself keeps this from blocking.
std::unique_lock<std::mutex> lock_attached(std::mutex& mutex) {
    std::unique_lock lock(mutex, std::try_to_lock);
    if (!lock) {
        Py_BEGIN_ALLOW_THREADS
        lock.lock();
        Py_END_ALLOW_THREADS
    }
    return lock;
}

/// A strong reference to dict[key], or an empty Object (a lookup error is cleared). Strong,
/// because on the free-threaded build another thread of the interpreter may replace the item
/// and free the old one meanwhile.
Object dict_item(PyObject* dict, const char* key) {
#if PY_VERSION_HEX >= 0x030D0000
    PyObject* item = nullptr;
    if (PyDict_GetItemStringRef(dict, key, &item) < 0) PyErr_Clear();
    return Object::steal(item);
#else
    return Object::borrow(PyDict_GetItemString(dict, key));
#endif
}

/// Detaches whatever interpreter this thread has attached, for the life of the scope.
class DetachOther {
public:
    DetachOther() : previous_(py::current_thread_state()) {
        if (previous_) PyEval_SaveThread();
    }
    ~DetachOther() {
        if (previous_) PyEval_RestoreThread(previous_);
    }
    DetachOther(const DetachOther&) = delete;
    DetachOther& operator=(const DetachOther&) = delete;

private:
    PyThreadState* previous_;
};
} // namespace

// --- Active ------------------------------------------------------------------------------------

Interpreter::Active::Active(Interpreter& interpreter) : interpreter_(interpreter) {
    interpreter.check_owner();
    PyThreadState* attached = py::current_thread_state();
    if (attached == interpreter.thread_state_) return; // nested: already ours
    previous_ = attached ? PyEval_SaveThread() : nullptr;
    PyEval_RestoreThread(interpreter.thread_state_);
    outermost_ = true;
    previous_current_ = std::exchange(current_interpreter, &interpreter);
    previous_heap_ = detail::exchange_current_heap(interpreter.heap_);
    interpreter.running_.store(true, std::memory_order_relaxed);
}

Interpreter::Active::~Active() {
    if (!outermost_) return;
    detail::exchange_current_heap(previous_heap_);
    {
        // After this block interrupt() sees running_ false and delivers nothing to this call.
        auto lock = lock_attached(interpreter_.interrupt_mutex_);
        if (interpreter_.interrupt_pending_) {
            // Discard an interrupt that arrived too late to be raised in this call.
            PyThreadState_SetAsyncExc(interpreter_.thread_ident_, nullptr);
            interpreter_.interrupt_pending_ = false;
        }
        interpreter_.interrupt_requested_.store(false, std::memory_order_release);
        interpreter_.running_.store(false, std::memory_order_relaxed);
    }
    current_interpreter = previous_current_;
    PyEval_SaveThread();
    if (previous_) PyEval_RestoreThread(previous_);
}

// --- Life ----------------------------------------------------------------------------------------

Interpreter::Interpreter(const Options& options) : owner_(std::this_thread::get_id()) {
    detail::acquire_interpreter_slot();
    DetachOther detach;
    PyInterpreterConfig config = {};
    config.use_main_obmalloc = 0;
    config.allow_fork = 0;
    config.allow_exec = 0;
    config.allow_threads = 1;
    config.allow_daemon_threads = 0;
    config.check_multi_interp_extensions = 1;
    config.gil = PyInterpreterConfig_OWN_GIL;

    PyThreadState* thread_state = nullptr;
    const PyStatus status = create_interpreter(&thread_state, config);
    if (PyStatus_Exception(status)) {
        detail::release_interpreter_slot();
        throw PythonError("RuntimeError",
                          std::string("cannot create a sub-interpreter: ") +
                              (status.err_msg ? status.err_msg : "unknown error"),
                          {});
    }
    thread_state_ = thread_state;
    state_ = PyThreadState_GetInterpreter(thread_state);
    id_ = PyInterpreterState_GetID(state_);
    thread_ident_ = PyThread_get_thread_ident();
    heap_ = detail::new_heap();
    view_ = detail::InterpreterView::of_current();

    PyObject* main_module = PyImport_AddModule("__main__"); // borrowed
    globals_ = main_module ? Object::borrow(PyModule_GetDict(main_module)).release() : nullptr;
    bool ok = globals_ != nullptr && (builtins_watcher_ = start_watching_builtins()) >= 0;
    for (auto it = options.sys_path.rbegin(); ok && it != options.sys_path.rend(); ++it) {
        PyObject* path = PySys_GetObject("path"); // borrowed
        Object entry = Object::steal(PyUnicode_FromStringAndSize(
            it->data(), static_cast<Py_ssize_t>(it->size())));
        ok = path && entry && PyList_Insert(path, 0, entry.get()) == 0;
    }
    if (!ok) {
        PythonError error = py::fetch_error();
        if (builtins_watcher_ >= 0 && PyDict_ClearWatcher(builtins_watcher_) < 0) PyErr_Clear();
        Py_XDECREF(globals_of(globals_));
        {
            [[maybe_unused]] auto turn = take_lifecycle_turn();
            Py_EndInterpreter(thread_state);
        }
        detail::delete_heap(heap_);
        detail::release_interpreter_slot();
        throw error;
    }
    PyEval_SaveThread();
    ++interpreters_owned_here;
}

Interpreter::~Interpreter() {
    if (std::this_thread::get_id() != owner_) {
        std::fprintf(stderr,
                     "isolates: Interpreter %lld destroyed on a thread that does not own it; "
                     "CPython can only end it on its own thread\n",
                     static_cast<long long>(id_));
        std::abort();
    }
    if (py::current_thread_state() == thread_state_) {
        std::fputs("isolates: Interpreter destroyed while one of its calls is running\n", stderr);
        std::abort();
    }
    std::lock_guard lock(lifecycle_mutex_);
    {
        DetachOther detach;
        PyEval_RestoreThread(thread_state_);
        Py_XDECREF(globals_of(globals_));
        // Finalisation clears the builtins; the watcher must not record that (it would make a
        // new state dict that outlives the interpreter).
        if (PyDict_ClearWatcher(builtins_watcher_) < 0) PyErr_Clear();
        [[maybe_unused]] auto turn = take_lifecycle_turn();
        Py_EndInterpreter(thread_state_); // leaves no thread state attached
    }
    thread_state_ = nullptr;
    detail::delete_heap(heap_); // Values still alive move to the default heap and stay valid
    --interpreters_owned_here;
    detail::release_interpreter_slot();
}

void Interpreter::check_owner() const {
    if (std::this_thread::get_id() != owner_)
        throw UsageError("Interpreter " + std::to_string(id_) +
                         " was called from a thread that does not own it; an interpreter is "
                         "used only by the thread that created it");
}

Interpreter* Interpreter::current() noexcept { return current_interpreter; }
bool Interpreter::current_thread_owns_any() noexcept { return interpreters_owned_here > 0; }

// --- Running code ------------------------------------------------------------------------------

namespace {
Object compile(std::string_view source, int start) {
    // The compiler reads a C string: an embedded NUL would silently cut the source short.
    if (source.find('\0') != std::string_view::npos) {
        PyErr_SetString(PyExc_SyntaxError, "source code string cannot contain null bytes");
        py::throw_error();
    }
    const std::string text(source);
    Object code = Object::steal(Py_CompileString(text.c_str(), "<isolates>", start));
    if (!code) py::throw_error();
    return code;
}

Object resolve(std::string_view target) {
    const auto colon = target.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == target.size())
        throw UsageError("expected a call target 'package.module:qualname', got '" +
                         std::string(target) + "'");
    const std::string module_name(target.substr(0, colon));
    Object name = Object::steal(PyUnicode_FromString(module_name.c_str()));
    if (!name) py::throw_error();
    Object object = Object::steal(PyImport_GetModule(name.get()));
    if (!object) {
        if (PyErr_Occurred()) py::throw_error();
        object = Object::steal(PyImport_Import(name.get()));
        if (!object) py::throw_error();
    }
    std::string_view rest = target.substr(colon + 1);
    while (!rest.empty()) {
        const auto dot = rest.find('.');
        const std::string attribute(rest.substr(0, dot));
        object = Object::steal(PyObject_GetAttrString(object.get(), attribute.c_str()));
        if (!object) py::throw_error();
        rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    }
    return object;
}
} // namespace

void Interpreter::exec(std::string_view source) {
    Active active(*this);
    Object code = compile(source, Py_file_input);
    Object result = Object::steal(PyEval_EvalCode(code.get(), globals_of(globals_),
                                                  globals_of(globals_)));
    if (!result) py::throw_error();
}

Value Interpreter::eval(std::string_view expression) {
    Active active(*this);
    Object code = compile(expression, Py_eval_input);
    Object result = Object::steal(PyEval_EvalCode(code.get(), globals_of(globals_),
                                                  globals_of(globals_)));
    if (!result) py::throw_error();
    return Value::from_python(result.get(), "result");
}

Value Interpreter::call_with(std::string_view target, std::span<const Value> args,
                             std::span<const std::pair<std::string, Value>> kwargs) {
    Active active(*this);
    Object function = resolve(target);
    Object positional = Object::steal(PyTuple_New(static_cast<Py_ssize_t>(args.size())));
    if (!positional) py::throw_error();
    for (std::size_t k = 0; k < args.size(); ++k)
        PyTuple_SET_ITEM(positional.get(), static_cast<Py_ssize_t>(k), args[k].to_python());
    Object keywords;
    if (!kwargs.empty()) {
        keywords = Object::steal(PyDict_New());
        if (!keywords) py::throw_error();
        for (const auto& [name, value] : kwargs) {
            Object item = Object::steal(value.to_python());
            if (PyDict_SetItemString(keywords.get(), name.c_str(), item.get()) < 0)
                py::throw_error();
        }
    }
    Object result = Object::steal(PyObject_Call(function.get(), positional.get(), keywords.get()));
    if (!result) py::throw_error();
    return Value::from_python(result.get(), "result");
}

void Interpreter::import_module(std::string_view name) {
    Active active(*this);
    const std::string module_name(name);
    Object module = Object::steal(PyImport_ImportModule(module_name.c_str()));
    if (!module) py::throw_error();
}

bool Interpreter::healthy() {
    Active active(*this);
    PyObject* modules = PyImport_GetModuleDict(); // borrowed: the interpreter's own dict
    PyObject* sys_modules = PySys_GetObject("modules"); // borrowed, only compared; may be null
    if (!modules || !PyDict_Check(modules) || sys_modules != modules || builtins_tampered())
        return false;
    Object builtins_module = dict_item(modules, "builtins");
    if (!builtins_module || !PyModule_Check(builtins_module.get()) || !dict_item(modules, "sys"))
        return false;
    PyObject* namespaces[] = {PyModule_GetDict(builtins_module.get()), PyEval_GetBuiltins()};
    for (PyObject* names : namespaces) {
        if (!names || !PyDict_Check(names)) return false;
        for (const char* name : {"__import__", "__build_class__", "len", "isinstance", "getattr",
                                 "BaseException", "Exception", "KeyboardInterrupt", "TimeoutError",
                                 "object", "type"}) {
            if (!dict_item(names, name)) return false;
        }
        if (!PyCFunction_Check(dict_item(names, "__import__").get())) return false;
    }
    if (PyErr_Occurred()) PyErr_Clear();
    return true;
}

// --- Interrupts --------------------------------------------------------------------------------

template <class F> void Interpreter::visit_and(F&& work) {
#if PY_VERSION_HEX >= 0x030F0000
    // PEP 788: attaches a thread state of this interpreter (the caller's own when the call comes
    // from Python code running here), restores whatever the thread had attached before, and
    // keeps the interpreter from finalising meanwhile. Fails only once it has begun to end, when
    // no call can be running.
    PyThreadStateToken* token = PyThreadState_EnsureFromView(view_.get());
    if (!token) return;
    work();
    PyThreadState_Release(token);
#else
    if (py::current_thread_state() == thread_state_) {
        work(); // called from Python code running in this very interpreter
        return;
    }
    DetachOther detach;
    // A short-lived thread state of our own for this interpreter, on this thread; the caller
    // holds lifecycle_mutex_, so the interpreter cannot end meanwhile.
    PyThreadState* visitor = PyThreadState_New(state_);
    PyEval_RestoreThread(visitor);
    work();
    PyThreadState_Clear(visitor);
    PyThreadState_DeleteCurrent();
#endif
}

bool Interpreter::interrupt(std::string_view exception) {
#if PY_VERSION_HEX >= 0x030F0000
    if (!running_.load(std::memory_order_relaxed)) return false;
#else
    std::lock_guard lock(lifecycle_mutex_);
    if (!thread_state_ || !running_.load(std::memory_order_relaxed)) return false;
#endif
    const std::string name(exception);
    bool delivered = false;
    bool bad_name = false;
    auto deliver = [&] {
        PyObject* builtins = PyEval_GetBuiltins(); // borrowed
        PyObject* type = builtins ? PyDict_GetItemString(builtins, name.c_str()) : nullptr;
        if (!type || !PyExceptionClass_Check(type)) {
            bad_name = true;
            return;
        }
        // Read running_ again under the mutex the owner holds when it ends a call.
        auto lock = lock_attached(interrupt_mutex_);
        if (!running_.load(std::memory_order_relaxed)) return;
        delivered = PyThreadState_SetAsyncExc(thread_ident_, type) == 1;
        if (delivered) {
            interrupt_pending_ = true;
            interrupt_name_ = name;
            interrupt_requested_.store(true, std::memory_order_release);
        }
    };
    visit_and(deliver);
    if (bad_name)
        throw UsageError("interrupt() needs the name of a built-in exception class, got '" +
                         name + "'");
    if (delivered) {
        // Without the GIL: a call blocked in C++ (a channel's recv) may be waiting for this.
        std::lock_guard wakeup(wakeup_mutex_);
        if (wake_) wake_(wake_context_);
    }
    return delivered;
}

bool Interpreter::raise_interrupt() {
    std::string name;
    {
        auto lock = lock_attached(interrupt_mutex_);
        if (!interrupt_pending_) return false;
        name = std::move(interrupt_name_);
        // Raise it here and now; clear the asynchronous copy so it is not raised a second time.
        PyThreadState_SetAsyncExc(thread_ident_, nullptr);
        interrupt_pending_ = false;
        interrupt_requested_.store(false, std::memory_order_release);
    }
    PyObject* builtins = PyEval_GetBuiltins(); // borrowed
    PyObject* type = builtins ? PyDict_GetItemString(builtins, name.c_str()) : nullptr;
    PyErr_SetNone(type && PyExceptionClass_Check(type) ? type : PyExc_KeyboardInterrupt);
    return true;
}

Interpreter::InterruptWakeup::InterruptWakeup(Interpreter& interpreter, void (*wake)(void*),
                                              void* context)
    : interpreter_(interpreter) {
    interpreter.check_owner();
    std::lock_guard lock(interpreter.wakeup_mutex_);
    interpreter.wake_ = wake;
    interpreter.wake_context_ = context;
}

Interpreter::InterruptWakeup::~InterruptWakeup() {
    std::lock_guard lock(interpreter_.wakeup_mutex_);
    interpreter_.wake_ = nullptr;
    interpreter_.wake_context_ = nullptr;
}

} // namespace isolates
