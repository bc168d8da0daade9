#pragma once
// Moving this thread between interpreters: what a thread had attached stays its own.

#include <isolates/interp/cpython.h>

namespace isolates::detail {

/// Detaches whatever thread state this thread has attached, for the life of the scope, and
/// attaches it again at the end (which the scope must leave with no thread state attached).
class DetachOther {
public:
    DetachOther() noexcept : previous_(py::current_thread_state()) {
        if (previous_) PyEval_SaveThread();
    }
    ~DetachOther() {
        if (previous_) PyEval_RestoreThread(previous_);
    }
    DetachOther(const DetachOther&) = delete;
    DetachOther& operator=(const DetachOther&) = delete;

private:
    PyThreadState* previous_; // not owned: the thread state of some interpreter's running call
};

/// Runs `work` with `thread_state` (this thread's own) attached: at once when it is already,
/// else detaching any other for the while and, when `work` returns, detaching `thread_state`
/// again unless `ends_it` (work ended the thread state, leaving none attached). `work` must not
/// throw.
template <class Work>
void run_attached(PyThreadState* thread_state, Work&& work, bool ends_it = false) noexcept {
    if (py::current_thread_state() == thread_state) {
        work();
        return;
    }
    DetachOther other;
    PyEval_RestoreThread(thread_state);
    work();
    if (!ends_it) PyEval_SaveThread();
}

} // namespace isolates::detail
