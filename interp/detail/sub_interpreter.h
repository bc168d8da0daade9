#pragma once
// The owner of one isolated CPython sub-interpreter and its thread state. CPython's rule: a
// sub-interpreter is created, used and ended through its own thread state on the thread that
// created it (ending it elsewhere hangs shutdown), and PyGILState_* is never used for it.

#include <cstdint>

#include "interp/cpython.h"
#include "interp/detail/detach_other.h"

namespace isolates::detail {

/// Owns one sub-interpreter (PEP 684: its own GIL and object allocator) and the thread state it
/// was created with. Make, attach and destroy it on one thread.
class SubInterpreter {
public:
    /// Creates the interpreter on the calling thread, which must have no thread state attached,
    /// and leaves the new thread state attached. Throws PythonError when CPython refuses.
    SubInterpreter();
    /// Ends the interpreter, waiting for the non-daemon threads it started; its own thread
    /// state is attached for that if it is not already (any other is detached meanwhile and
    /// attached again afterwards). Its Python objects must be gone by then.
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

    /// Runs `work` with this interpreter's thread state attached, detaching any other for the
    /// while. `work` must not throw.
    template <class Work> void attached(Work&& work) noexcept {
        if (py::current_thread_state() == thread_state_) {
            work();
            return;
        }
        DetachOther other;
        PyEval_RestoreThread(thread_state_);
        work();
        PyEval_SaveThread();
    }

private:
    PyThreadState* thread_state_ = nullptr;
};

} // namespace isolates::detail
