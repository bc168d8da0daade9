#pragma once
// What Interpreter needs from Runtime: a slot per live interpreter, so that the Runtime
// finalises only after the last one is gone.

namespace isolates::detail {

/// Counts a new interpreter; throws UsageError when no Runtime is alive.
void acquire_interpreter_slot();
/// Uncounts it and wakes a Runtime waiting to finalise.
void release_interpreter_slot() noexcept;

/// Holds one slot for its lifetime.
class InterpreterSlot {
public:
    /// Throws UsageError when no Runtime is alive.
    InterpreterSlot() { acquire_interpreter_slot(); }
    ~InterpreterSlot() { release_interpreter_slot(); }
    InterpreterSlot(const InterpreterSlot&) = delete;
    InterpreterSlot& operator=(const InterpreterSlot&) = delete;
};

} // namespace isolates::detail
