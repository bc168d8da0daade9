#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

#include <isolates/interp/interpreter.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <variant>

#include <isolates/base/impl/heap.h>
#include <isolates/interp/errors.h>
#include "interp/detail/builtins_watch.h"
#include "interp/detail/detach_other.h"
#include "interp/detail/interrupter.h"
#include "interp/detail/lookup_cache.h"
#include "interp/detail/main_thread_state.h"
#include "interp/detail/resolve.h"
#include "interp/detail/runtime_state.h"
#include "interp/detail/sub_interpreter.h"
#include "interp/detail/sys_path.h"

namespace isolates {

using py::Object;
using detail::resolve;

namespace {
thread_local Interpreter* current_interpreter = nullptr;
thread_local int interpreters_owned_here = 0;
thread_local bool owns_main_here = false; // an Interpreter on the main interpreter

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
} // namespace

// --- Impl --------------------------------------------------------------------------------------

/// One owner per C handle, declared in the order they are made; members are destroyed in reverse,
/// so a constructor that throws half-way frees exactly what it made, and teardown is written
/// once. The constructor runs, and ends, with the new interpreter attached; ~Impl lets go of the
/// Python objects attached too, before `interpreter` ends it. All on the owning thread.
struct Interpreter::Impl {
    detail::InterpreterSlot slot;     // counted by the Runtime, which ends only after the last
    base::UniqueHeap heap;          // for Values made here; deleted after the interpreter ends
    detail::Interrupter interrupter;  // other threads may be in interrupt() until it is closed
    // A sub-interpreter of its own, or a thread state of the main interpreter; same interface.
    std::variant<detail::SubInterpreter, detail::MainThreadState> interpreter;
    Object globals;                   // __main__.__dict__
    detail::BuiltinsWatch builtins_watch;
    detail::LookupCache lookup;       // call targets; its entries go before the interpreter ends
    // The lookup count when healthy() last checked in full and passed.
    std::optional<detail::LookupCache::Generation> healthy_at;

    explicit Impl(const Options& options);
    ~Impl();
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    bool on_main() const noexcept {
        return std::holds_alternative<detail::MainThreadState>(interpreter);
    }
    PyThreadState* thread_state() const noexcept {
        return std::visit([](const auto& owner) { return owner.thread_state(); }, interpreter);
    }
    std::int64_t id() const noexcept {
        return std::visit([](const auto& owner) { return owner.id(); }, interpreter);
    }
    const detail::OpenSslContext& openssl() const noexcept {
        return std::visit([](const auto& owner) -> const detail::OpenSslContext& {
            return owner.openssl();
        }, interpreter);
    }
    template <class Work> void attached(Work&& work) noexcept {
        std::visit([&](auto& owner) { owner.attached(work); }, interpreter);
    }
};

namespace {
Object main_globals() {
    PyObject* main_module = PyImport_AddModule("__main__"); // borrowed
    Object globals = main_module ? Object::borrow(PyModule_GetDict(main_module)) : Object();
    if (!globals) py::throw_error();
    return globals;
}

std::variant<detail::SubInterpreter, detail::MainThreadState> make_interpreter(
    const Interpreter::Options& options) {
    if (options.main_interpreter) return detail::MainThreadState();
    return detail::SubInterpreter(options.own_openssl_context);
}
} // namespace

Interpreter::Impl::Impl(const Options& options)
    : interpreter(make_interpreter(options)),
      globals(main_globals()),
      builtins_watch(on_main() ? detail::BuiltinsWatch::start_shared()
                               : detail::BuiltinsWatch::start()),
      lookup(/*shared=*/on_main()) {
    if (on_main()) {
        // The Runtime put its entries into the main interpreter's sys.path already; this
        // Interpreter's go in front once (sys.path is shared: they stay after it ends).
        if (!detail::prepend_sys_path(options.sys_path, /*skip_present=*/true))
            py::throw_error();
    } else if (!detail::prepend_sys_path(detail::runtime_sys_path()) ||
               !detail::prepend_sys_path(options.sys_path)) {
        // The Runtime's entries, then this interpreter's in front of them.
        py::throw_error();
    }
    interrupter.open(thread_state());
}

Interpreter::Impl::~Impl() {
    // From here on interrupt() visits no more; then the Python objects go while the interpreter
    // is attached. The watcher goes before finalisation clears the builtins (see BuiltinsWatch).
    interrupter.close();
    attached([this] {
        globals = Object();
        builtins_watch = detail::BuiltinsWatch();
        lookup.close();
    });
}

// --- Active ------------------------------------------------------------------------------------

Interpreter::Active::Active(Interpreter& interpreter) : interpreter_(interpreter) {
    interpreter.check_owner();
    Impl& impl = *interpreter.impl_;
    PyThreadState* attached = py::current_thread_state();
    if (attached == impl.thread_state()) return; // nested: already ours
    previous_ = attached ? PyEval_SaveThread() : nullptr;
    PyEval_RestoreThread(impl.thread_state());
    outermost_ = true;
    previous_current_ = std::exchange(current_interpreter, &interpreter);
    previous_heap_ = base::exchange_current_heap(impl.heap.get());
    previous_lookup_ = detail::LookupCache::exchange_attached(&impl.lookup);
    previous_openssl_ = impl.openssl().make_default();
    impl.interrupter.call_begins();
}

Interpreter::Active::~Active() {
    if (!outermost_) return;
    detail::OpenSslContext::restore_default(previous_openssl_);
    base::exchange_current_heap(previous_heap_);
    detail::LookupCache::exchange_attached(previous_lookup_);
    interpreter_.impl_->interrupter.call_ends();
    current_interpreter = previous_current_;
    PyEval_SaveThread();
    if (previous_) PyEval_RestoreThread(previous_);
}

// --- Life ----------------------------------------------------------------------------------------

Interpreter::Interpreter(const Options& options) : owner_(std::this_thread::get_id()) {
    // Interrupts reach a call through its thread's id (PyThreadState_SetAsyncExc), which must
    // name one thread state of the main interpreter: the newest one there is ours.
    if (options.main_interpreter && owns_main_here)
        throw UsageError("this thread already owns an Interpreter on the main interpreter; a "
                         "thread may own only one (use it for every call)");
    detail::DetachOther other;
    impl_ = std::make_unique<Impl>(options);
    id_ = impl_->id();
    PyEval_SaveThread();
    ++interpreters_owned_here;
    if (options.main_interpreter) owns_main_here = true;
}

Interpreter::~Interpreter() {
    if (std::this_thread::get_id() != owner_) {
        std::fprintf(stderr,
                     "isolates: Interpreter %lld destroyed on a thread that does not own it; "
                     "CPython can only end it on its own thread\n",
                     static_cast<long long>(id_));
        std::abort();
    }
    if (py::current_thread_state() == impl_->thread_state()) {
        std::fputs("isolates: Interpreter destroyed while one of its calls is running\n", stderr);
        std::abort();
    }
    if (impl_->on_main()) owns_main_here = false;
    impl_.reset();
    --interpreters_owned_here;
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
} // namespace

Object detail::resolve(std::string_view target) {
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

void Interpreter::exec(std::string_view source) {
    Active active(*this);
    Object code = compile(source, Py_file_input);
    Object result = Object::steal(PyEval_EvalCode(code.get(), impl_->globals.get(),
                                                  impl_->globals.get()));
    if (!result) py::throw_error();
}

Value Interpreter::eval(std::string_view expression) {
    Active active(*this);
    Object code = compile(expression, Py_eval_input);
    Object result = Object::steal(PyEval_EvalCode(code.get(), impl_->globals.get(),
                                                  impl_->globals.get()));
    if (!result) py::throw_error();
    return Value::from_python(result.get(), "result");
}

Value Interpreter::call_with(std::string_view target, std::span<const Value> args,
                             std::span<const std::pair<std::string, Value>> kwargs) {
    return call_target(target, args, kwargs, true);
}

void Interpreter::call_void(std::string_view target, std::span<const Value> args,
                            std::span<const std::pair<std::string, Value>> kwargs) {
    call_target(target, args, kwargs, false);
}

Value Interpreter::call_target(std::string_view target, std::span<const Value> args,
                               std::span<const std::pair<std::string, Value>> kwargs,
                               bool keep_result) {
    Active active(*this);
    Object function = impl_->lookup.find(target, &resolve);
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
    if (!keep_result) return Value();
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
    if (impl_->builtins_watch.tampered()) return false;
    // The rest reads sys.modules, its binding in sys and the builtins: while none of them
    // changed since a full check passed, it would pass again.
    const auto now = impl_->lookup.generation();
    if (impl_->lookup.watching() && impl_->healthy_at == now) return true;
    if (!full_health_check()) return false;
    impl_->healthy_at = now;
    return true;
}

bool Interpreter::full_health_check() {
    PyObject* modules = PyImport_GetModuleDict(); // borrowed: the interpreter's own dict
    PyObject* sys_modules = PySys_GetObject("modules"); // borrowed, only compared; may be null
    if (!modules || !PyDict_Check(modules) || sys_modules != modules) return false;
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

bool Interpreter::interrupt(std::string_view exception) {
    return impl_->interrupter.interrupt(exception);
}

bool Interpreter::raise_interrupt() { return impl_->interrupter.raise_pending(); }

const std::atomic<bool>* Interpreter::interrupt_flag() const noexcept {
    return &impl_->interrupter.requested();
}

Interpreter::InterruptWakeup::InterruptWakeup(Interpreter& interpreter, void (*wake)(void*),
                                              void* context)
    : interpreter_(interpreter) {
    interpreter.check_owner();
    interpreter.impl_->interrupter.set_wakeup(wake, context);
}

Interpreter::InterruptWakeup::~InterruptWakeup() {
    interpreter_.impl_->interrupter.set_wakeup(nullptr, nullptr);
}

} // namespace isolates
