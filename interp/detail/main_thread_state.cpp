#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

#include "interp/detail/main_thread_state.h"

#include <utility>

#include <isolates/interp/errors.h>

namespace isolates::detail {

MainThreadState::MainThreadState()
    : thread_state_(PyThreadState_New(PyInterpreterState_Main())) {
    if (!thread_state_)
        throw PythonError("MemoryError",
                          "cannot make a thread state of the main interpreter", {});
    PyEval_RestoreThread(thread_state_);
}

MainThreadState::~MainThreadState() {
    if (!thread_state_) return;
    run_attached(thread_state_, [this] {
        // Clearing runs Python code (thread-local destructors), so it happens attached; deleting
        // the current thread state releases the GIL and leaves none attached.
        PyThreadState_Clear(thread_state_);
        PyThreadState_DeleteCurrent();
    }, /*ends_it=*/true);
}

MainThreadState::MainThreadState(MainThreadState&& other) noexcept
    : thread_state_(std::exchange(other.thread_state_, nullptr)) {}

MainThreadState& MainThreadState::operator=(MainThreadState&& other) noexcept {
    std::swap(thread_state_, other.thread_state_); // `other` ends what this held
    return *this;
}

} // namespace isolates::detail
