#include "executor/detail/timer.h"

namespace isolates::detail {

Timer::Timer() : thread_([this] { run(); }) {}

Timer::~Timer() { stop(); }

void Timer::schedule(Clock::time_point when, std::weak_ptr<StateBase> state, Kind kind,
                     std::exception_ptr error) {
    bool earliest;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        earliest = entries_.empty() || when < entries_.top().when;
        entries_.push(Entry{when, std::move(state), kind, std::move(error)});
    }
    if (earliest) wake_.notify_one();
}

void Timer::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && !thread_.joinable()) return;
        stopping_ = true;
        entries_ = {};
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
}

void Timer::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        if (stopping_) return;
        if (entries_.empty()) {
            wake_.wait(lock);
            continue;
        }
        const auto when = entries_.top().when;
        if (Clock::now() < when) {
            wake_.wait_until(lock, when);
            continue;
        }
        Entry entry = entries_.top();
        entries_.pop();
        lock.unlock();
        if (auto state = entry.state.lock()) {
            if (entry.kind == Kind::timeout)
                state->stop(entry.error, Outcome::timed_out);
            else
                state->stop_if_running();
        }
        entry = {};
        lock.lock();
    }
}

} // namespace isolates::detail
