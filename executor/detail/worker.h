#pragma once
// Worker: one thread of an InterpreterPoolExecutor and the interpreter it makes, uses and
// destroys. It takes tasks from the pool's queues, runs them, stops the one running when asked
// (cancel, timeout, shutdown), and replaces its interpreter when a task broke it.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <thread>

#include "executor/detail/shared_state.h"
#include "executor/interpreter_pool_executor.h"

namespace isolates::detail {

class Worker final : public Runner {
public:
    Worker(InterpreterPoolExecutor::Impl& pool, std::size_t index) : pool_(pool), index_(index) {}

    /// Starts the thread (once).
    void start();
    /// Waits for the thread to end (after the pool stopped or broke).
    void join();
    std::size_t index() const noexcept { return index_; }
    InterpreterPoolExecutor::Impl& pool() const noexcept { return pool_; }

    /// Runner: interrupts the running task's Python, and again later while it still runs.
    void stop_running(StateBase& state) noexcept override;
    /// Any thread: cancels the task running now, if any (shutdown with cancel_pending).
    void cancel_running();

    /// Time spent running tasks.
    std::chrono::nanoseconds busy() const noexcept {
        return std::chrono::nanoseconds(busy_ns_.load(std::memory_order_relaxed));
    }
    /// On this worker's thread, while a task runs: whether it was asked to stop.
    bool stop_requested() const noexcept { return current_ && current_->stop_requested(); }

    /// Its thread's id as the kernel numbers it (gettid), 0 before the thread runs.
    int thread_id() const noexcept { return thread_id_.load(std::memory_order_relaxed); }
    /// The worker whose thread calls this, or nullptr on any other thread.
    static Worker* current() noexcept;

private:
    void main();
    /// Makes and initialises the interpreter; on failure breaks the pool and returns false.
    bool make_interpreter();
    void execute(Task* raw);

    InterpreterPoolExecutor::Impl& pool_;
    const std::size_t index_;
    std::thread thread_;
    std::unique_ptr<Interpreter> interpreter_; // made, used and destroyed by thread_
    StateBase* current_ = nullptr;             // the running task's state; thread_ only

    std::mutex running_mutex_;
    std::shared_ptr<StateBase> running_;         // the task running now; guarded by running_mutex_
    std::chrono::milliseconds retry_backoff_{1}; // guarded by running_mutex_
    std::atomic<std::uint64_t> busy_ns_{0};
    std::atomic<int> thread_id_{0}; // relaxed: read only to name the thread in a message
};

} // namespace isolates::detail
