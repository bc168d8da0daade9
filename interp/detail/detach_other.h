#pragma once
// Moving this thread between interpreters: what a thread had attached stays its own.

#include "interp/cpython.h"

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

} // namespace isolates::detail
