#pragma once
// Not API: an implementation detail, installed only because a public template (when_any() and
// as_completed()) uses it; it may change in any release.
// FanIn: one callback on each of several states, reporting which resolved, that can all be taken
// back at once. when_any() and as_completed() are built on it; taking the callbacks back is what
// lets them be called again and again on long-lived futures without piling callbacks onto them.

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include <isolates/executor/impl/shared_state.h>

namespace isolates::detail {

class FanIn : public std::enable_shared_from_this<FanIn> {
public:
    /// Told that states[index] resolved: on the thread that resolved it (no lock held), or on the
    /// thread of watch() for a state resolved already. May call withdraw().
    using Notify = std::function<void(FanIn& fan_in, std::size_t index)>;

    /// Any thread: calls `notify` once for each of `states` as it resolves, in the order they
    /// resolve, until withdraw(). Does not keep the states alive.
    static std::shared_ptr<FanIn> watch(const std::vector<std::shared_ptr<StateBase>>& states,
                                        Notify notify);

    /// Any thread, notify included: takes back every callback not yet run, so later resolutions
    /// are not reported and the states keep nothing of this fan-in. Idempotent; never blocks on
    /// anything but the states' locks.
    void withdraw() noexcept;

    FanIn(const FanIn&) = delete;
    FanIn& operator=(const FanIn&) = delete;

private:
    explicit FanIn(Notify notify) : notify_(std::move(notify)) {}

    const Notify notify_;
    std::mutex mutex_;
    std::vector<std::pair<std::weak_ptr<StateBase>, CallbackId>> added_; // guarded by mutex_
    bool withdrawn_ = false;                                             // guarded by mutex_
};

} // namespace isolates::detail
