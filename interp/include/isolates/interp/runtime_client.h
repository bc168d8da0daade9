#pragma once
// RuntimeClient: how a layer above interp/ (the pool) registers with the Runtime, so that a
// Runtime destroyed before it names it and shuts it down instead of waiting for it silently.

#include <functional>
#include <string>

namespace isolates {

namespace detail {
struct RuntimeClients;
}

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
    friend struct detail::RuntimeClients;
    std::function<std::string()> describe_;
    std::function<void()> stop_;
    bool stopped_ = false; // guarded by the registry's mutex
};

} // namespace isolates
