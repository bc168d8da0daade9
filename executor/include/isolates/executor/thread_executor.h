#pragma once
/// ThreadExecutor: a few plain C++ threads that run posted jobs in order of posting, e.g. as the
/// place where Future::then() continuations run so that pool workers go straight back to Python.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace isolates {

class ThreadExecutor {
public:
    /// Starts `threads` threads (at least one).
    explicit ThreadExecutor(std::size_t threads = 1);
    /// Runs every job already posted, then joins the threads. Must not run on one of them.
    ~ThreadExecutor();
    ThreadExecutor(const ThreadExecutor&) = delete;
    ThreadExecutor& operator=(const ThreadExecutor&) = delete;

    /// Queues a job; any thread; never blocks on a running job. An exception escaping a job ends
    /// the process (std::terminate), as in std::thread.
    void post(std::function<void()> job);

private:
    void run();

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> jobs_; // guarded by mutex_
    bool stopping_ = false;                  // guarded by mutex_
    std::vector<std::thread> threads_;
};

} // namespace isolates
