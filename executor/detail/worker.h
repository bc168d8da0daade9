#pragma once
// Worker: one thread of an InterpreterPoolExecutor and the interpreter it makes, uses and
// destroys, or (process workers) the worker process it starts and drives. It takes tasks from
// the pool's queues, runs them, stops the one running when asked (cancel, timeout, shutdown; a
// process that goes on past Options::kill_after is killed), and replaces its interpreter or
// process when a task broke it.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <thread>

#include "executor/detail/shared_state.h"
#include "executor/interpreter_pool_executor.h"

namespace isolates::detail {

class WorkerProcess;

class Worker final : public Runner {
public:
    /// `in_process`: it drives a worker process instead of a sub-interpreter.
    Worker(InterpreterPoolExecutor::Impl& pool, std::size_t index, bool in_process);
    ~Worker();

    /// Starts the thread (once).
    void start();
    /// Waits for the thread to end (after the pool stopped or broke).
    void join();
    std::size_t index() const noexcept { return index_; }
    /// Whether it drives a worker process (else a sub-interpreter).
    bool in_process() const noexcept { return in_process_; }
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
    /// Makes and initialises the interpreter (or starts the worker process); on failure breaks
    /// the pool and returns false.
    bool make_interpreter();
    /// Whether what runs tasks is still fit to (checks after each task).
    bool healthy();
    void execute(Task* raw);

    InterpreterPoolExecutor::Impl& pool_;
    const std::size_t index_;
    std::thread thread_;
    const bool in_process_;                    // drives a worker process, not an interpreter
    std::unique_ptr<Interpreter> interpreter_; // made, used and destroyed by thread_
    std::unique_ptr<WorkerProcess> process_;   // the same, for a process worker
    StateBase* current_ = nullptr;             // the running task's state; thread_ only

    std::mutex running_mutex_;
    std::shared_ptr<StateBase> running_;         // the task running now; guarded by running_mutex_
    std::chrono::milliseconds retry_backoff_{1}; // guarded by running_mutex_
    std::chrono::steady_clock::time_point first_stop_{}; // guarded by running_mutex_; {} if none
    std::atomic<std::uint64_t> busy_ns_{0};
    std::atomic<int> thread_id_{0}; // relaxed: read only to name the thread in a message
};

} // namespace isolates::detail
