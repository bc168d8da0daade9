#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

#include "interp/detail/interpreter_view.h"

#include <new>
#include <utility>

namespace isolates::detail {

InterpreterView InterpreterView::of_current() {
#if PY_VERSION_HEX >= 0x030F0000
    PyInterpreterView* view = PyInterpreterView_FromCurrent();
    if (!view) {
        PyErr_Clear();
        throw std::bad_alloc();
    }
    return InterpreterView(view);
#else
    return InterpreterView();
#endif
}

InterpreterView::~InterpreterView() {
#if PY_VERSION_HEX >= 0x030F0000
    if (view_) PyInterpreterView_Close(view_); // needs no thread state
#endif
}

InterpreterView::InterpreterView(InterpreterView&& other) noexcept
    : view_(std::exchange(other.view_, nullptr)) {}

InterpreterView& InterpreterView::operator=(InterpreterView&& other) noexcept {
    std::swap(view_, other.view_); // `other` closes what this held
    return *this;
}

} // namespace isolates::detail
