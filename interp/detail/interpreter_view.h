#pragma once
// An owned PEP 788 interpreter view (CPython 3.15+): the interpreter's id, which stays safe to
// hold and to visit through after the interpreter has ended (a visit then simply fails).

struct PyInterpreterView;

namespace isolates::detail {

/// Owns one PyInterpreterView; empty before CPython 3.15, which has no views.
class InterpreterView {
public:
    InterpreterView() = default;
    /// The view of the interpreter whose thread state is attached to this thread (3.15+; empty
    /// before). Throws std::bad_alloc when CPython cannot allocate it.
    static InterpreterView of_current();
    ~InterpreterView();
    InterpreterView(InterpreterView&& other) noexcept;
    InterpreterView& operator=(InterpreterView&& other) noexcept;
    InterpreterView(const InterpreterView&) = delete;
    InterpreterView& operator=(const InterpreterView&) = delete;

    PyInterpreterView* get() const noexcept { return view_; }

private:
    explicit InterpreterView(PyInterpreterView* view) noexcept : view_(view) {}
    PyInterpreterView* view_ = nullptr;
};

} // namespace isolates::detail
