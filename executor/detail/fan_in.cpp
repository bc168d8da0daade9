#include <isolates/executor/impl/fan_in.h>

namespace isolates::detail {

std::shared_ptr<FanIn> FanIn::watch(const std::vector<std::shared_ptr<StateBase>>& states,
                                    Notify notify) {
    std::shared_ptr<FanIn> fan_in(new FanIn(std::move(notify)));
    {
        std::lock_guard lock(fan_in->mutex_);
        fan_in->added_.reserve(states.size());
    }
    for (std::size_t index = 0; index < states.size(); ++index) {
        CallbackId id;
        {
            // One state at a time: a notify that withdraws meanwhile gets in between, and the
            // states after it are not watched at all.
            std::lock_guard lock(fan_in->mutex_);
            if (fan_in->withdrawn_) break;
            id = states[index]->add_callback([fan_in, index] { fan_in->notify_(*fan_in, index); });
            if (id != 0) fan_in->added_.emplace_back(states[index], id);
        }
        if (id == 0) fan_in->notify_(*fan_in, index); // resolved already: now, without the lock
    }
    return fan_in;
}

void FanIn::withdraw() noexcept {
    std::lock_guard lock(mutex_);
    withdrawn_ = true;
    // Each removed callback held a reference to this fan-in; the caller holds another (a notify
    // runs inside one of the callbacks, the other callers own it), so it outlives this loop.
    for (auto& [weak, id] : added_)
        if (auto state = weak.lock()) state->remove_callback(id);
    added_.clear();
}

} // namespace isolates::detail
