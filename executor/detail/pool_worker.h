#pragma once
// PoolWorker: one thread of an InterpreterPoolExecutor and the interpreter it makes, uses and
// destroys, or (process workers) the worker process it starts and drives. It takes tasks from
// the pool's queues, runs them, stops the one running when asked (cancel, timeout, shutdown; a
// process that goes on past Options::kill_after is killed), and replaces its interpreter or
// process when a task broke it. A process worker keeps several short tasks in flight
// (pool_worker_remote.cpp).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <isolates/executor/impl/shared_state.h>
#include <isolates/executor/impl/task.h>
#include <isolates/executor/interpreter_pool_executor.h>

namespace isolates {
class RemoteWorker;
}

namespace isolates::detail {

class PoolWorker final : public Runner {
public:
    /// `in_process`: it drives a worker process instead of a sub-interpreter.
    PoolWorker(InterpreterPoolExecutor::Impl& pool, std::size_t index, bool in_process);
    ~PoolWorker();

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
    static PoolWorker* current() noexcept;

private:
    using Clock = std::chrono::steady_clock;

    void main();
    /// Makes and initialises the interpreter (or starts the worker process); on failure breaks
    /// the pool and returns false.
    bool make_interpreter();
    void execute(Task* raw);
    /// Runs `task` on this thread (in the interpreter, or a process worker's host job): marks it
    /// running, starts its timeout, resolves it.
    void run_here(Task& task);
    /// Starts the timeout of `task` (if it has one) now; its TimeoutError's message.
    std::string start_timeout(Task& task);
    /// After a task: its time, and a timeout's report.
    void task_done(Task& task, Clock::time_point start, const std::string& timeout_what);

    // Process workers (pool_worker_remote.cpp).
    /// A request sent to the worker process and not yet answered.
    struct InFlight {
        std::unique_ptr<Task> task;
        std::shared_ptr<StateBase> state;
        std::uint64_t seq = 0;
        Clock::time_point sent;
        std::string timeout_what;            // its TimeoutError's message, if it has a timeout
        Clock::time_point first_stop{};      // guarded by running_mutex_; {} until stopped
        std::chrono::milliseconds backoff{1}; // guarded by running_mutex_
    };
    /// The loop of a process worker.
    void serve_process();
    /// Sends what the backlog and the queues hold, as far as the window allows.
    void send_more();
    /// Sends `task` (or runs it, a host job); false when it has to wait (it is back in the
    /// backlog) or the process has gone.
    bool start(std::unique_ptr<Task> task);
    /// Takes the next reply and resolves its task; handles the end of the process.
    void receive_one();
    /// The process ended: fails the task it ran, keeps the others for its replacement.
    void process_ended();
    /// Replaces the process (after every task in flight has been dealt with).
    void replace_process();
    /// Interrupts (and past kill_after kills) the process's run of `state`'s task.
    void stop_in_process(StateBase& state) noexcept;
    /// Whether another queued task may be sent ahead now.
    bool may_send_ahead() const;

    InterpreterPoolExecutor::Impl& pool_;
    const std::size_t index_;
    std::thread thread_;
    const bool in_process_;                    // drives a worker process, not an interpreter
    std::unique_ptr<Interpreter> interpreter_; // made, used and destroyed by thread_
    std::unique_ptr<RemoteWorker> process_;    // the same, for a process (or remote) worker
    StateBase* current_ = nullptr;             // the running task's state; thread_ only

    std::mutex running_mutex_;
    std::shared_ptr<StateBase> running_;         // the task running now; guarded by running_mutex_
    std::chrono::milliseconds retry_backoff_{1}; // guarded by running_mutex_
    std::atomic<std::uint64_t> busy_ns_{0};
    std::atomic<int> thread_id_{0}; // relaxed: read only to name the thread in a message

    // Process workers, thread_ only unless marked.
    std::deque<InFlight> in_flight_; // oldest first; changed under running_mutex_
    std::deque<std::unique_ptr<Task>> backlog_; // taken, not sent yet (or put back)
    std::vector<std::unique_ptr<Task>> resend_; // sent, never started: for the next process
    std::size_t window_ = 1;    // requests in flight at most now (1 + tasks sent ahead)
    bool barrier_ = false;      // a task with a timeout is in flight: nothing goes behind it
    Clock::time_point last_reply_{};
};

} // namespace isolates::detail
