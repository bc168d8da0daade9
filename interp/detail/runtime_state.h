#pragma once
// What Interpreter and the pool need from Runtime: a slot per live interpreter, so that the
// Runtime finalises only after the last one is gone; the sys.path entries every interpreter
// gets; and the registration of pools, so that a Runtime destroyed before a pool names it and
// shuts it down instead of waiting for it silently.

#include <functional>
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

/// Something that keeps interpreters alive on threads of its own (a pool), registered with the
/// Runtime for its lifetime. A Runtime destroyed while it is registered writes describe() to
/// stderr and calls stop() (on the Runtime's thread; stop must not wait for the interpreters).
/// Unregistering waits while the Runtime is describing or stopping clients.
class RuntimeClient {
public:
    /// Throws UsageError, starting with `what`, when no Runtime is alive.
    RuntimeClient(const std::string& what, std::function<std::string()> describe,
                  std::function<void()> stop);
    ~RuntimeClient();
    RuntimeClient(const RuntimeClient&) = delete;
    RuntimeClient& operator=(const RuntimeClient&) = delete;

private:
    friend struct RuntimeClients;
    std::function<std::string()> describe_;
    std::function<void()> stop_;
    bool stopped_ = false; // guarded by the registry's mutex
};

} // namespace isolates::detail
