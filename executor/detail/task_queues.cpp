#include "executor/detail/task_queues.h"

namespace isolates::detail {

void LockedTaskList::push(Task* task) {
    std::lock_guard lock(mutex_);
    tasks_.push_back(task);
    size_.fetch_add(1, std::memory_order_release);
}

Task* LockedTaskList::pop() {
    // Acquire pairs with push's release; the lock below orders the deque itself.
    if (empty()) return nullptr;
    std::lock_guard lock(mutex_);
    if (tasks_.empty()) return nullptr;
    Task* task = tasks_.front();
    tasks_.pop_front();
    size_.fetch_sub(1, std::memory_order_release);
    return task;
}

TaskQueues::TaskQueues(std::size_t workers, std::size_t bound, std::size_t routed_workers)
    : own_(workers), first_routed_(workers - routed_workers) {
    if (bound > 0)
        slots_ = std::make_unique<std::counting_semaphore<>>(static_cast<std::ptrdiff_t>(bound));
}

void TaskQueues::reserve() {
    if (slots_) slots_->acquire();
    queued_.fetch_add(1, std::memory_order_relaxed);
}

void TaskQueues::push_shared(Task* task) {
    // Once anything overflowed, later tasks go there too until it drains, roughly keeping
    // submission order.
    if (!overflow_.empty() || !ring_.try_push(task)) overflow_.push(task);
    idle_.notify_one();
}

void TaskQueues::push_routed(Task* task) {
    routed_.push(task);
    routed_idle_.notify_one();
}

void TaskQueues::push_own(std::size_t index, Task* task) {
    own_[index].push(task);
    idle_for(index).notify_all();
}

Task* TaskQueues::take(std::size_t index) {
    if (Task* task = own_[index].pop()) return taken(task);
    Task* task = nullptr;
    if (index >= first_routed_) return (task = routed_.pop()) ? taken(task) : nullptr;
    if (ring_.try_pop(task)) return taken(task);
    if ((task = overflow_.pop())) return taken(task);
    return nullptr;
}

Task* TaskQueues::take_any() {
    Task* task = nullptr;
    if (ring_.try_pop(task)) return taken(task);
    if ((task = overflow_.pop())) return taken(task);
    if ((task = routed_.pop())) return taken(task);
    for (auto& own : own_)
        if ((task = own.pop())) return taken(task);
    return nullptr;
}

std::size_t TaskQueues::depth() const noexcept {
    const auto queued = queued_.load(std::memory_order_relaxed);
    return queued > 0 ? static_cast<std::size_t>(queued) : 0;
}

Task* TaskQueues::taken(Task* task) {
    queued_.fetch_sub(1, std::memory_order_relaxed);
    if (slots_) slots_->release();
    return task;
}

} // namespace isolates::detail
