#pragma once
// Noticing a task that breaks the builtins (`builtins.len = None`), which leaves the interpreter
// subtly broken for every later task: a CPython dict watcher on the builtins namespace records it
// in the interpreter's own state dict at no cost per task, and Interpreter::healthy() reads it.
// Adding new names is ordinary (site adds help, exit, ...) and is not recorded.

#include <isolates/interp/cpython.h>

namespace isolates::detail {

/// Owns the dict watcher of one interpreter's builtins. Make it and destroy it with that
/// interpreter attached, before the interpreter ends: finalisation clears the builtins, which
/// the watcher must not record (it would make a state dict that outlives the interpreter).
class BuiltinsWatch {
public:
    BuiltinsWatch() noexcept = default;
    /// Starts watching the attached interpreter's builtins. Throws PythonError.
    static BuiltinsWatch start();
    /// With the main interpreter attached: a share of its one watcher, started by the first
    /// share and cleared by the last, so Interpreters on the main interpreter take one dict
    /// watcher id between them (CPython has 8 per interpreter). Throws PythonError.
    static BuiltinsWatch start_shared();
    ~BuiltinsWatch();
    BuiltinsWatch(BuiltinsWatch&& other) noexcept;
    BuiltinsWatch& operator=(BuiltinsWatch&& other) noexcept;
    BuiltinsWatch(const BuiltinsWatch&) = delete;
    BuiltinsWatch& operator=(const BuiltinsWatch&) = delete;

    /// With its interpreter attached: whether a builtin was replaced or deleted since start();
    /// never fails.
    bool tampered() const noexcept;

private:
    explicit BuiltinsWatch(int watcher, bool shared = false) noexcept
        : watcher_(watcher), shared_(shared) {}
    int watcher_ = -1; // CPython's dict watcher id, per interpreter
    bool shared_ = false; // a share of the main interpreter's watcher
    py::Object key_;   // the state dict's key, made once (a lookup then hashes nothing)
};

} // namespace isolates::detail
