#include "executor/detail/pool_imports.h"

#include <algorithm>

namespace isolates::detail {

void PoolImports::add(const std::string& name) {
    std::lock_guard lock(mutex_);
    if (std::find(names_.begin(), names_.end(), name) == names_.end()) names_.push_back(name);
}

void PoolImports::remove(const std::string& name) {
    std::lock_guard lock(mutex_);
    std::erase(names_, name);
}

std::vector<std::string> PoolImports::names() const {
    std::lock_guard lock(mutex_);
    return names_;
}

} // namespace isolates::detail
