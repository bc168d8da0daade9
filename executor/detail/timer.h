#pragma once
// Timer: the pool's one thread that fires, at their deadlines, task timeouts (resolve with
// TimeoutError, then stop the task) and retries (interrupt again a task that was asked to stop
// and still runs).

#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

#include <isolates/executor/impl/shared_state.h>

namespace isolates::detail {

class Timer {
public:
    enum class Kind { timeout, retry };
    using Clock = std::chrono::steady_clock;

    /// Starts the timer thread.
    Timer();
    /// stop().
    ~Timer();
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    /// Any thread: fires `kind` for `state` at `when`, unless the state is gone by then; a timeout
    /// resolves it with `error` (required: a TimeoutError naming the target and the limit). Ignored after
    /// stop().
    void schedule(Clock::time_point when, std::weak_ptr<StateBase> state, Kind kind,
                  std::exception_ptr error = nullptr);
    /// Drops every entry and joins the thread; idempotent.
    void stop();

private:
    struct Entry {
        Clock::time_point when;
        std::weak_ptr<StateBase> state; // a finished task's state is freed before its deadline
        Kind kind;
        std::exception_ptr error; // a timeout's
        bool operator>(const Entry& other) const { return when > other.when; }
    };

    void run();

    std::mutex mutex_;
    std::condition_variable wake_;
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> entries_; // guarded by mutex_
    bool stopping_ = false;                                                   // guarded by mutex_
    std::thread thread_;
};

} // namespace isolates::detail
