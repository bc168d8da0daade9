#pragma once
// The owner of one thread state of the process's main interpreter, for an Interpreter that drives
// the main interpreter (Interpreter::Options::main_interpreter) instead of a sub-interpreter of
// its own. Extensions that refuse sub-interpreters (single-phase init, or a module declaring
// Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED) load there. CPython's rule is the same as for a
// sub-interpreter: the thread state is made, used, cleared and deleted on one thread, through
// PyThreadState_New / PyEval_RestoreThread, never PyGILState_*. The main interpreter itself is
// the Runtime's: only Py_FinalizeEx ends it.

#include <cstdint>

#include <utility>

#include <isolates/interp/cpython.h>
#include "interp/detail/detach_other.h"
#include "interp/detail/openssl_context.h"

namespace isolates::detail {

/// Owns one thread state of the main interpreter, made on the calling thread. Make, attach and
/// destroy it on one thread. The main interpreter has one GIL (on GIL builds), so several of
/// these on several threads take turns on it.
class MainThreadState {
public:
    /// Makes a new thread state of the main interpreter on the calling thread, which must have
    /// no thread state attached, and leaves it attached. Throws PythonError (MemoryError) when
    /// CPython cannot allocate it.
    MainThreadState();
    /// Clears and deletes the thread state on this thread: attached for that if it is not
    /// already (any other is detached meanwhile and attached again afterwards), and the GIL
    /// released at the end. Python threads it started keep running: they are the main
    /// interpreter's, which Py_FinalizeEx waits for.
    ~MainThreadState();
    MainThreadState(MainThreadState&& other) noexcept;
    MainThreadState& operator=(MainThreadState&& other) noexcept;
    MainThreadState(const MainThreadState&) = delete;
    MainThreadState& operator=(const MainThreadState&) = delete;

    PyThreadState* thread_state() const noexcept { return thread_state_; }
    PyInterpreterState* state() const noexcept { return PyInterpreterState_Main(); }
    /// 0: CPython's id of the main interpreter.
    std::int64_t id() const noexcept { return PyInterpreterState_GetID(state()); }
    /// None: the main interpreter keeps the process's default OpenSSL context, as plain CPython.
    const OpenSslContext& openssl() const noexcept { return no_openssl_; }

    /// Runs `work` with this thread state attached, detaching any other for the while. `work`
    /// must not throw.
    template <class Work> void attached(Work&& work) noexcept {
        run_attached(thread_state_, std::forward<Work>(work));
    }

private:
    PyThreadState* thread_state_ = nullptr;
    OpenSslContext no_openssl_;
};

} // namespace isolates::detail
