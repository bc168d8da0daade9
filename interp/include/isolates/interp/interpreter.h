#pragma once
/// Interpreter: one isolated CPython sub-interpreter (PEP 684: its own GIL and object allocator,
/// plus its own mimalloc heap for the Values it produces), created, used and destroyed by exactly
/// one thread: the one that constructs it. With Options::main_interpreter it drives the process's
/// main interpreter instead, through a thread state of its own.
///
/// Every method except interrupt() must be called on that owning thread and throws UsageError
/// otherwise. The interpreter's GIL is held only while a call runs; between calls it is released,
/// so the owning thread may block, sleep or run C++ without holding up anyone.

#include <array>
#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <isolates/interp/value.h>

struct _ts; // PyThreadState
struct mi_heap_s;

namespace isolates {

namespace detail {
class LookupCache;
struct OsslLibCtx;
}

class Interpreter {
public:
    struct Options {
        /// Extra sys.path entries for this interpreter, placed first.
        std::vector<std::string> sys_path;
        /// Give the interpreter its own OpenSSL 3 library context, the default of the owning
        /// thread while it runs there, so hashlib/ssl in parallel interpreters share no OpenSSL
        /// objects (hashlib.sha256 then scales); Python threads it starts keep the process's.
        /// false shares the process's one, as CPython does. No effect without OpenSSL 3, nor
        /// with main_interpreter (the main interpreter keeps the process's default).
        bool own_openssl_context = true;
        /// Drive the process's main interpreter through a new thread state of its own on the
        /// owning thread instead of creating a sub-interpreter: for extensions that refuse
        /// sub-interpreters (single-phase init, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED).
        /// Shared with everything else on the main interpreter (its GIL, __main__, sys.modules,
        /// sys.path, builtins); id() is 0; the destructor ends only the thread state. At most
        /// one per thread (UsageError otherwise); the Runtime's own thread may own one.
        bool main_interpreter = false;
    };

    /// Creates the interpreter on the calling thread, which becomes its owner.
    /// Throws UsageError without a live Runtime, PythonError if CPython refuses.
    explicit Interpreter(const Options& options);
    Interpreter() : Interpreter(Options{}) {}
    /// Ends the interpreter (waiting for the non-daemon Python threads it started). Must run on
    /// the owning thread: ending it from another thread would hang CPython, so that aborts.
    ~Interpreter();

    Interpreter(const Interpreter&) = delete;
    Interpreter& operator=(const Interpreter&) = delete;

    /// Runs statements in the interpreter's __main__ namespace.
    void exec(std::string_view source);
    /// Evaluates one expression in __main__ and returns its value (NotShareableError if the
    /// result cannot leave the interpreter).
    Value eval(std::string_view expression);
    /// Calls `package.module:qualname` (imported when needed) with positional arguments, each
    /// converted through Value.
    template <class... Args> Value call(std::string_view target, Args&&... args) {
        if constexpr (detail::arguments_convert<Args...>()) {
            const std::array<Value, sizeof...(Args)> values{Value(std::forward<Args>(args))...};
            return call_with(target, values);
        } else {
            return {}; // unreachable: arguments_convert stopped the compilation
        }
    }
    /// call() with Values and keyword arguments.
    Value call_with(std::string_view target, std::span<const Value> args,
                    std::span<const std::pair<std::string, Value>> kwargs = {});
    /// call_with() that drops the result inside the interpreter: nothing of it is converted, so
    /// a result that cannot leave (a module, a socket) is no error.
    void call_void(std::string_view target, std::span<const Value> args,
                   std::span<const std::pair<std::string, Value>> kwargs = {});
    /// What call_each() did: the results of the items before the first failure, in order, as one
    /// tuple, and that failure (nullptr when every item succeeded).
    struct EachResult {
        Value results;
        std::exception_ptr failure;
    };
    /// Calls `package.module:qualname` once per item: `f(item)`, or `f(*item)` with `unpack`
    /// (each item a tuple or list of arguments). The target is resolved once and the loop runs in
    /// C under one hold of the GIL; an item's failure (its PythonError, or NotShareableError for
    /// a result that cannot leave) ends the loop and is returned, not thrown. Throws only when the
    /// target cannot be resolved (UsageError, PythonError). interrupt() stops it at the next
    /// item even when the target is a builtin that runs no bytecode.
    EachResult call_each(std::string_view target, std::span<const Value> items, bool unpack = false);
    /// Imports a module (and keeps it in this interpreter's sys.modules).
    void import_module(std::string_view name);

    /// Thread-safe, from any thread: raises the built-in exception `exception` (a subclass of
    /// BaseException, e.g. "KeyboardInterrupt", "TimeoutError") in the call running right now,
    /// as soon as it next executes Python bytecode. Returns false, changing nothing, when no call
    /// is running. A delivery not yet raised when its call ends is discarded, never carried
    /// into the next call. Code blocked in C (time.sleep, a socket) sees it only on return.
    /// Takes the interpreter's GIL briefly; on CPython 3.15+ it holds no lock of ours meanwhile.
    bool interrupt(std::string_view exception = "KeyboardInterrupt");

    /// Whether the interpreter can still run ordinary code: its builtins module and namespace hold
    /// the essential names (`__import__`, `len`, `BaseException`, ...) and sys.modules is the
    /// interpreter's own module dict with `sys` and `builtins` in it. A task may legally break
    /// these (`sys.modules.clear()`, `del builtins.__import__`, `builtins.len = None`: replacing or
    /// deleting any existing builtin counts, adding a new one does not); an executor then
    /// replaces the interpreter. Owning thread only; takes the GIL briefly; never throws a Python error.
    bool healthy();

    /// For C++ code that blocks with the GIL released inside a call of this interpreter (a
    /// channel's recv): while an InterruptWakeup lives, interrupt() calls `wake(context)` from
    /// the interrupting thread right after delivering, so the blocked code can stop waiting,
    /// see its interrupt_flag() set and return to Python through raise_interrupt().
    class InterruptWakeup {
    public:
        /// Owning thread, during a call (GIL held or not).
        InterruptWakeup(Interpreter& interpreter, void (*wake)(void*), void* context);
        ~InterruptWakeup();
        InterruptWakeup(const InterruptWakeup&) = delete;
        InterruptWakeup& operator=(const InterruptWakeup&) = delete;

    private:
        Interpreter& interpreter_;
    };
    /// True while an interrupt delivered to the running call has not been raised yet: the stop
    /// flag for wait loops. Any thread may read it.
    const std::atomic<bool>* interrupt_flag() const noexcept;
    /// Owning thread, GIL held: when an interrupt is waiting, raises it now as the current Python
    /// exception (instead of at the next bytecode) and returns true. An interrupt stays requested
    /// until it is raised this way or its call ends, so code that catches it and blocks again
    /// returns at once.
    bool raise_interrupt();

    /// CPython's id of this interpreter (as in concurrent.interpreters).
    std::int64_t id() const noexcept { return id_; }
    std::thread::id owner() const noexcept { return owner_; }
    /// The interpreter whose call is running on this thread, or nullptr.
    static Interpreter* current() noexcept;
    /// Whether the calling thread owns at least one live Interpreter.
    static bool current_thread_owns_any() noexcept;

    /// RAII for code that uses the CPython API directly (through isolates/interp/cpython.h):
    /// attaches this interpreter to the owning thread and holds its GIL; nestable, and it
    /// detaches any other interpreter attached to the thread until it ends.
    class Active {
    public:
        explicit Active(Interpreter& interpreter);
        ~Active();
        Active(const Active&) = delete;
        Active& operator=(const Active&) = delete;

    private:
        Interpreter& interpreter_;
        // What the thread had before the outermost Active, put back at its end; none owned.
        _ts* previous_ = nullptr;
        Interpreter* previous_current_ = nullptr;
        mi_heap_s* previous_heap_ = nullptr;
        detail::LookupCache* previous_lookup_ = nullptr;
        detail::OsslLibCtx* previous_openssl_ = nullptr;
        bool outermost_ = false;
    };

private:
    struct Impl; // the owners of the interpreter's C handles, in interpreter.cpp
    void check_owner() const;
    /// healthy() without its shortcut; attached.
    bool full_health_check();
    /// call_with() and call_void(): the result converted to a Value, or dropped (None).
    Value call_target(std::string_view target, std::span<const Value> args,
                      std::span<const std::pair<std::string, Value>> kwargs, bool keep_result);

    std::unique_ptr<Impl> impl_;
    std::int64_t id_ = -1;
    std::thread::id owner_;
};

} // namespace isolates
