#include "interp/cpython.h" // first: Python.h must come before any standard header

#include "interp/detail/main_thread_state.h"

#include <utility>

#include "interp/errors.h"

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
    auto end = [this] {
        // Clearing runs Python code (thread-local destructors), so it happens attached; deleting
        // the current thread state releases the GIL and leaves none attached.
        PyThreadState_Clear(thread_state_);
        PyThreadState_DeleteCurrent();
    };
    if (py::current_thread_state() == thread_state_) {
        end();
        return;
    }
    DetachOther other;
    PyEval_RestoreThread(thread_state_);
    end();
}

MainThreadState::MainThreadState(MainThreadState&& other) noexcept
    : thread_state_(std::exchange(other.thread_state_, nullptr)) {}

MainThreadState& MainThreadState::operator=(MainThreadState&& other) noexcept {
    std::swap(thread_state_, other.thread_state_); // `other` ends what this held
    return *this;
}

} // namespace isolates::detail
