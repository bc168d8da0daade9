#pragma once
// What Interpreter and the pool need from Runtime: a slot per live interpreter, so that the
// Runtime finalises only after the last one is gone; the sys.path entries every interpreter
// gets. (Pools register through the public isolates/interp/runtime_client.h.)

#include <string>
#include <vector>

namespace isolates::detail {

/// Counts a new interpreter owned by the calling thread; throws UsageError when no Runtime is
/// alive.
void acquire_interpreter_slot();
/// Uncounts it (on the thread that acquired it) and wakes a Runtime waiting to finalise.
void release_interpreter_slot() noexcept;

/// Holds one slot for its lifetime; made and destroyed on the interpreter's own thread.
class InterpreterSlot {
public:
    /// Throws UsageError when no Runtime is alive.
    InterpreterSlot() { acquire_interpreter_slot(); }
    ~InterpreterSlot() { release_interpreter_slot(); }
    InterpreterSlot(const InterpreterSlot&) = delete;
    InterpreterSlot& operator=(const InterpreterSlot&) = delete;
};

/// The Runtime's sys.path entries (Options::sys_path, then PYTHONPATH's when asked for), which
/// every Interpreter puts in front of its sys.path. Fixed before the first interpreter exists.
const std::vector<std::string>& runtime_sys_path() noexcept;

} // namespace isolates::detail
