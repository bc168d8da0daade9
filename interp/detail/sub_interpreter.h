#pragma once
// The owner of one isolated CPython sub-interpreter and its thread state. CPython's rule: a
// sub-interpreter is created, used and ended through its own thread state on the thread that
// created it (ending it elsewhere hangs shutdown), and PyGILState_* is never used for it.

#include <cstdint>

#include <isolates/interp/cpython.h>
#include "interp/detail/detach_other.h"
#include "interp/detail/openssl_context.h"

namespace isolates::detail {

/// Owns one sub-interpreter (PEP 684: its own GIL and object allocator), the thread state it
/// was created with, and its OpenSSL library context if it has one. Make, attach and destroy it
/// on one thread.
class SubInterpreter {
public:
    /// Creates the interpreter on the calling thread, which must have no thread state attached,
    /// and leaves the new thread state attached. With `own_openssl_context` (and OpenSSL 3
    /// found), a new OpenSSL context is the thread's default while CPython makes it, so what it
    /// imports meanwhile uses it; attach it again with openssl().make_default() around each
    /// call. Throws PythonError when CPython refuses.
    explicit SubInterpreter(bool own_openssl_context);
    /// Ends the interpreter, waiting for the non-daemon threads it started; its own thread
    /// state is attached for that if it is not already (any other is detached meanwhile and
    /// attached again afterwards), and its OpenSSL context is the thread's default meanwhile.
    /// Its Python objects must be gone by then. The OpenSSL context is freed last, once the
    /// thread's previous default is back.
    ~SubInterpreter();
    SubInterpreter(SubInterpreter&& other) noexcept;
    SubInterpreter& operator=(SubInterpreter&& other) noexcept;
    SubInterpreter(const SubInterpreter&) = delete;
    SubInterpreter& operator=(const SubInterpreter&) = delete;

    /// The thread state this interpreter was created with, on its own thread.
    PyThreadState* thread_state() const noexcept { return thread_state_; }
    PyInterpreterState* state() const noexcept;
    /// CPython's id of the interpreter (as in concurrent.interpreters).
    std::int64_t id() const noexcept;
    /// The interpreter's own OpenSSL context, or none (it then shares the thread's default).
    const OpenSslContext& openssl() const noexcept { return openssl_; }

    /// Runs `work` with this interpreter's thread state attached, detaching any other for the
    /// while. `work` must not throw.
    template <class Work> void attached(Work&& work) noexcept {
        if (py::current_thread_state() == thread_state_) {
            work();
            return;
        }
        DetachOther other;
        OpenSslDefault openssl(openssl_);
        PyEval_RestoreThread(thread_state_);
        work();
        PyEval_SaveThread();
    }

private:
    OpenSslContext openssl_; // first: outlives the interpreter
    PyThreadState* thread_state_ = nullptr;
};

} // namespace isolates::detail
