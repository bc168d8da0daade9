#pragma once
// PoolImports: the modules InterpreterPoolExecutor::import_module added after the pool started,
// which every interpreter a worker makes from then on imports after Options::init_modules.

#include <mutex>
#include <string>
#include <vector>

namespace isolates::detail {

class PoolImports {
public:
    /// Any thread: later interpreters import `name` too (once, however often it is added).
    void add(const std::string& name);
    /// Any thread: later interpreters no longer import `name`.
    void remove(const std::string& name);
    /// Any thread: the modules to import, in the order they were first added.
    std::vector<std::string> names() const;

private:
    mutable std::mutex mutex_;
    std::vector<std::string> names_; // guarded by mutex_
};

} // namespace isolates::detail
