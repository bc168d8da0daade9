#include "executor/interpreter_pool_executor.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <mutex>
#include <queue>
#include <semaphore>
#include <thread>

#include "executor/detail/locked_task_list.h"
#include "executor/detail/task_queue.h"
#include "interp/detail/runtime_state.h"
#include "interp/errors.h"

namespace isolates {

using detail::Outcome;
using detail::StateBase;
using detail::Task;
using Clock = std::chrono::steady_clock;

namespace {
thread_local StateBase* current_task_state = nullptr;
thread_local std::optional<std::size_t> current_worker_index;
thread_local const void* current_pool = nullptr;

/// The exception a running task is interrupted with: a BaseException that `except Exception`
/// does not swallow.
constexpr const char* stop_exception = "KeyboardInterrupt";
} // namespace

// --- Timer: task timeouts and repeated interrupts --------------------------------------------

namespace {
/// One thread that fires, at their deadlines, timeouts (resolve with TimeoutError, then stop the
/// task) and retries (interrupt a task that was asked to stop and still runs).
class Timer {
public:
    enum class Kind { timeout, retry };

    Timer() : thread_([this] { run(); }) {}
    ~Timer() { stop(); }

    void schedule(Clock::time_point when, std::weak_ptr<StateBase> state, Kind kind,
                  std::chrono::milliseconds backoff = {}) {
        bool earliest;
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;
            earliest = entries_.empty() || when < entries_.top().when;
            entries_.push(Entry{when, std::move(state), kind, backoff});
        }
        if (earliest) wake_.notify_one();
    }

    void stop() {
        {
            std::lock_guard lock(mutex_);
            if (stopping_ && !thread_.joinable()) return;
            stopping_ = true;
            entries_ = {};
        }
        wake_.notify_one();
        if (thread_.joinable()) thread_.join();
    }

private:
    struct Entry {
        Clock::time_point when;
        std::weak_ptr<StateBase> state; // a finished task's state is freed before its deadline
        Kind kind;
        std::chrono::milliseconds backoff;
        bool operator>(const Entry& other) const { return when > other.when; }
    };

    void run() {
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
                    state->stop(std::make_exception_ptr(TimeoutError("task timed out")),
                                Outcome::timed_out);
                else
                    state->stop_if_running();
            }
            entry = {};
            lock.lock();
        }
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> entries_; // guarded by mutex_
    bool stopping_ = false;                                                   // guarded by mutex_
    std::thread thread_;
};
} // namespace

// --- Impl and workers ---------------------------------------------------------------------------

class InterpreterPoolExecutor::Impl {
public:
    class Worker final : public detail::Runner {
    public:
        Worker(Impl& pool, std::size_t index) : pool_(pool), index_(index) {}

        void start() { thread_ = std::thread([this] { main(); }); }
        void join() {
            if (thread_.joinable()) thread_.join();
        }
        std::size_t index() const noexcept { return index_; }

        /// detail::Runner: called with the state's mutex held while this worker runs it.
        void stop_running(StateBase& state) noexcept override {
            try {
                interpreter_->interrupt(stop_exception);
            } catch (...) {
                // interrupt() only throws for a bad exception name, and ours is built in.
            }
            // Interrupt again later while the task still runs: the interrupt may land between its
            // Python calls (a C++ task), or the Python code may catch it.
            auto backoff = std::min(std::chrono::milliseconds(50), retry_backoff_ * 2);
            retry_backoff_ = backoff;
            if (&state == running_.get()) pool_.timer_.schedule(Clock::now() + backoff, running_,
                                                                Timer::Kind::retry, backoff);
        }

        /// Cancels the task running now, if any (shutdown with cancel_pending).
        void cancel_running() {
            std::shared_ptr<StateBase> state;
            {
                std::lock_guard lock(running_mutex_);
                state = running_;
            }
            if (state) state->cancel();
        }

        /// Queues a task for this worker only.
        void push_own(Task* task) { own_.push(task); }
        Task* pop_own() { return own_.pop(); }

        std::chrono::nanoseconds busy() const noexcept {
            return std::chrono::nanoseconds(busy_ns_.load(std::memory_order_relaxed));
        }

    private:
        void main();
        bool make_interpreter();
        Task* take() {
            if (Task* task = pop_own()) return task;
            return pool_.pop_shared();
        }
        void execute(Task* raw);

        Impl& pool_;
        const std::size_t index_;
        std::thread thread_;
        std::unique_ptr<Interpreter> interpreter_; // made, used and destroyed by thread_

        detail::LockedTaskList own_;

        std::mutex running_mutex_;
        std::shared_ptr<StateBase> running_; // the task running now; written under running_mutex_
        std::chrono::milliseconds retry_backoff_{1}; // used under the running state's mutex
        std::atomic<std::uint64_t> busy_ns_{0};
    };

    explicit Impl(Options options) : options_(std::move(options)) {
        if (options_.workers == 0) options_.workers = std::max(1u, std::thread::hardware_concurrency());
        if (options_.queue_bound > 0)
            slots_ = std::make_unique<std::counting_semaphore<>>(
                static_cast<std::ptrdiff_t>(options_.queue_bound));
        workers_.reserve(options_.workers);
        for (std::size_t k = 0; k < options_.workers; ++k)
            workers_.push_back(std::make_unique<Worker>(*this, k));
        for (auto& worker : workers_) worker->start();
    }

    void enqueue(std::unique_ptr<Task> task, const TaskOptions& options) {
        if (options.worker && *options.worker >= workers_.size())
            throw UsageError("submit_to(" + std::to_string(*options.worker) + ") on a pool of " +
                             std::to_string(workers_.size()) + " workers");
        check_accepting();
        if (options.timeout.count() > 0) task->timeout = options.timeout;
        else task->timeout = options_.task_timeout;
        if (slots_) slots_->acquire();
        submitted_.fetch_add(1, std::memory_order_relaxed);
        queued_.fetch_add(1, std::memory_order_relaxed);
        Task* raw = task.release();
        if (options.worker) {
            workers_[*options.worker]->push_own(raw);
            wake(true); // only that worker can take it
        } else {
            push_shared(raw);
            wake(false);
        }
        // A shutdown or breakage may have drained the queues just before our push.
        if (broken_.load() ) drain(broken_error(), Outcome::error);
        else if (cancelling_.load()) drain(shutdown_error(), Outcome::cancelled);
    }

    void check_accepting() const {
        if (broken_.load(std::memory_order_acquire)) throw BrokenPoolError(broken_reason());
        if (stopping_.load(std::memory_order_acquire))
            throw UsageError("InterpreterPoolExecutor: submit after shutdown");
    }

    /// Wakes one sleeping worker (or all). Event count: the seq_cst fence orders our push before
    /// the read of sleepers_, pairing with the sleeper's seq_cst increment before it looks at the
    /// queues again; so either we see it sleeping, or it sees our task (Dekker).
    void wake(bool all) {
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (sleepers_.load(std::memory_order_seq_cst) == 0) return;
        epoch_.fetch_add(1, std::memory_order_seq_cst);
        if (all) epoch_.notify_all();
        else epoch_.notify_one();
    }
    void wake_all() {
        epoch_.fetch_add(1, std::memory_order_seq_cst);
        epoch_.notify_all();
    }

    /// Resolves every queued task with `error` without running it.
    void drain(const std::exception_ptr& error, Outcome outcome) {
        auto dispose = [&](Task* raw) {
            std::unique_ptr<Task> task(raw);
            taken();
            task->state().fail(error, outcome);
            count(task->state());
        };
        while (Task* task = pop_shared()) dispose(task);
        for (auto& worker : workers_)
            while (Task* own = worker->pop_own()) dispose(own);
    }

    /// A task left the queues.
    void taken() {
        queued_.fetch_sub(1, std::memory_order_relaxed);
        if (slots_) slots_->release();
    }

    /// Counts a task by how it was resolved, once, when the pool is done with it.
    void count(const StateBase& state) {
        switch (state.outcome()) {
        case Outcome::value: completed_.fetch_add(1, std::memory_order_relaxed); break;
        case Outcome::timed_out:
            timed_out_.fetch_add(1, std::memory_order_relaxed);
            failed_.fetch_add(1, std::memory_order_relaxed);
            break;
        case Outcome::error: failed_.fetch_add(1, std::memory_order_relaxed); break;
        case Outcome::cancelled: cancelled_.fetch_add(1, std::memory_order_relaxed); break;
        case Outcome::pending: break;
        }
    }

    void mark_broken(std::string reason) {
        {
            std::lock_guard lock(state_mutex_);
            if (broken_reason_.empty()) broken_reason_ = std::move(reason);
        }
        broken_.store(true, std::memory_order_seq_cst);
        started_changed_.notify_all();
        drain(broken_error(), Outcome::error);
        wake_all();
    }
    std::string broken_reason() const {
        std::lock_guard lock(state_mutex_);
        return broken_reason_;
    }
    std::exception_ptr broken_error() const {
        return std::make_exception_ptr(BrokenPoolError(broken_reason()));
    }
    static std::exception_ptr shutdown_error() {
        return std::make_exception_ptr(CancelledError("cancelled by shutdown of the pool"));
    }

    void worker_started() {
        {
            std::lock_guard lock(state_mutex_);
            ++started_;
        }
        started_changed_.notify_all();
    }
    void wait_until_started() {
        std::unique_lock lock(state_mutex_);
        started_changed_.wait(lock, [&] { return started_ == workers_.size() || broken_.load(); });
        if (broken_.load()) throw BrokenPoolError(broken_reason_);
    }

    void shutdown(bool wait, bool cancel_pending) {
        const bool on_own_worker = current_pool == this;
        if (wait && on_own_worker)
            throw UsageError("InterpreterPoolExecutor: shutdown(wait=true) from one of its own "
                             "workers would wait for itself; use shutdown(false) there");
        stopping_.store(true, std::memory_order_seq_cst);
        if (cancel_pending) {
            cancelling_.store(true, std::memory_order_seq_cst);
            drain(shutdown_error(), Outcome::cancelled);
            for (auto& worker : workers_) {
                // The caller's own task is the one asking; it ends when the caller returns.
                if (on_own_worker && worker->index() == *current_worker_index) continue;
                worker->cancel_running();
            }
        }
        wake_all();
        if (wait) join();
    }

    /// Joins the workers after shutdown() (every future is resolved when it returns).
    void join() {
        std::lock_guard lock(join_mutex_);
        for (auto& worker : workers_) worker->join();
        timer_.stop();
        // Anything a racing submit pushed after the workers left.
        drain(shutdown_error(), Outcome::cancelled);
    }

    /// The destructor on one of this pool's own workers (the last owner dropped inside a
    /// continuation or task): that thread cannot join itself, so a cleanup thread joins every
    /// worker, the caller's included once its task returns, and then frees the pool. It holds a
    /// Runtime slot meanwhile, so the Runtime finalises only after it.
    static void destroy_from_own_worker(std::unique_ptr<Impl> impl) {
        impl->shutdown(false, impl->options_.cancel_pending_on_destroy);
        bool holds_slot = true;
        try {
            detail::acquire_interpreter_slot();
        } catch (const UsageError&) {
            holds_slot = false; // the Runtime is finalising already; it waits for our workers
        }
        std::thread([impl = std::move(impl), holds_slot]() mutable {
            impl->join();
            impl.reset();
            if (holds_slot) detail::release_interpreter_slot();
        }).detach();
    }

    /// A post()ed job threw: nobody holds a future for it, so tell the handler or stderr.
    void report_post_error(const std::exception_ptr& error) const noexcept {
        if (options_.on_post_error) {
            try {
                options_.on_post_error(error);
                return;
            } catch (...) {
                // A throwing handler: fall back to stderr rather than lose the report.
            }
        }
        std::string message;
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            message = e.what();
        } catch (...) {
            message = "an exception of a type not derived from std::exception";
        }
        std::fprintf(stderr, "isolates: a job posted to an InterpreterPoolExecutor threw: %s\n",
                     message.c_str());
    }

    Stats stats() const {
        Stats s;
        s.submitted = submitted_.load(std::memory_order_relaxed);
        s.completed = completed_.load(std::memory_order_relaxed);
        s.failed = failed_.load(std::memory_order_relaxed);
        s.timed_out = timed_out_.load(std::memory_order_relaxed);
        s.cancelled = cancelled_.load(std::memory_order_relaxed);
        s.replaced_interpreters = replaced_.load(std::memory_order_relaxed);
        const auto queued = queued_.load(std::memory_order_relaxed);
        s.queue_depth = queued > 0 ? static_cast<std::size_t>(queued) : 0;
        for (auto& worker : workers_) s.busy.push_back(worker->busy());
        return s;
    }

    Options options_;
    std::vector<std::unique_ptr<Worker>> workers_;
    /// The shared queue: the ring, then (only when the ring was full) the overflow list.
    void push_shared(Task* task) {
        // Once anything overflowed, later tasks go there too until it drains, roughly keeping
        // submission order.
        if (overflow_.empty() && ring_.try_push(task)) return;
        overflow_.push(task);
    }
    Task* pop_shared() {
        if (Task* task = ring_.try_pop()) return task;
        return overflow_.pop();
    }

    // Owning raw pointers: a task is deleted by whoever pops it.
    detail::TaskQueue ring_{8192};
    detail::LockedTaskList overflow_;
    std::unique_ptr<std::counting_semaphore<>> slots_; // queue_bound, when set
    Timer timer_;

    std::atomic<std::uint32_t> epoch_{0};
    std::atomic<int> sleepers_{0};
    std::atomic<bool> stopping_{false};
    std::atomic<bool> cancelling_{false};
    std::atomic<bool> broken_{false};

    mutable std::mutex state_mutex_;
    std::condition_variable started_changed_;
    std::string broken_reason_;  // guarded by state_mutex_
    std::size_t started_ = 0;    // guarded by state_mutex_
    std::mutex join_mutex_;

    std::atomic<std::uint64_t> submitted_{0}, completed_{0}, failed_{0}, timed_out_{0},
        cancelled_{0}, replaced_{0};
    std::atomic<std::int64_t> queued_{0};
};

bool InterpreterPoolExecutor::Impl::Worker::make_interpreter() {
    try {
        Interpreter::Options options;
        options.sys_path = pool_.options_.sys_path;
        interpreter_ = std::make_unique<Interpreter>(options);
        for (const auto& module : pool_.options_.init_modules) interpreter_->import_module(module);
        if (!pool_.options_.init_source.empty()) interpreter_->exec(pool_.options_.init_source);
        return true;
    } catch (const std::exception& e) {
        interpreter_.reset();
        pool_.mark_broken("worker " + std::to_string(index_) +
                          " could not initialise its interpreter: " + e.what());
        return false;
    }
}

void InterpreterPoolExecutor::Impl::Worker::main() {
    current_worker_index = index_;
    current_pool = &pool_;
    if (!make_interpreter()) return;
    pool_.worker_started();
    for (;;) {
        if (pool_.broken_.load(std::memory_order_acquire)) break;
        if (Task* task = take()) {
            execute(task);
            if (!interpreter_) break; // could not be replaced: the pool is broken
            continue;
        }
        if (pool_.stopping_.load(std::memory_order_acquire)) break;
        pool_.sleepers_.fetch_add(1, std::memory_order_seq_cst);
        const auto epoch = pool_.epoch_.load(std::memory_order_seq_cst);
        Task* task = take();
        if (task || pool_.stopping_.load() || pool_.broken_.load()) {
            pool_.sleepers_.fetch_sub(1, std::memory_order_relaxed);
            if (task) {
                execute(task);
                if (!interpreter_) break;
            }
            continue;
        }
        pool_.epoch_.wait(epoch, std::memory_order_seq_cst);
        pool_.sleepers_.fetch_sub(1, std::memory_order_relaxed);
    }
    interpreter_.reset(); // on this thread, as CPython requires
}

void InterpreterPoolExecutor::Impl::Worker::execute(Task* raw) {
    std::unique_ptr<Task> task(raw);
    pool_.taken();
    StateBase& state = task->state();
    {
        std::lock_guard lock(running_mutex_);
        running_ = task->shared_state();
    }
    retry_backoff_ = std::chrono::milliseconds(1);
    if (state.begin_running(this)) {
        current_task_state = &state;
        if (task->timeout.count() > 0)
            pool_.timer_.schedule(Clock::now() + task->timeout, running_, Timer::Kind::timeout);
        const auto start = Clock::now();
        task->run(*interpreter_);
        state.end_running();
        busy_ns_.fetch_add(static_cast<std::uint64_t>(
                               std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   Clock::now() - start).count()),
                           std::memory_order_relaxed);
        current_task_state = nullptr;
    }
    {
        std::lock_guard lock(running_mutex_);
        running_.reset();
    }
    pool_.count(state);
    task.reset();
    if (pool_.options_.replace_unhealthy && !interpreter_->healthy()) {
        interpreter_.reset();
        pool_.replaced_.fetch_add(1, std::memory_order_relaxed);
        make_interpreter();
    }
}

// --- Public API ---------------------------------------------------------------------------------

InterpreterPoolExecutor::InterpreterPoolExecutor(Options options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

InterpreterPoolExecutor::~InterpreterPoolExecutor() {
    if (current_pool == impl_.get()) Impl::destroy_from_own_worker(std::move(impl_));
    else impl_->shutdown(true, impl_->options_.cancel_pending_on_destroy);
}

void InterpreterPoolExecutor::enqueue(std::unique_ptr<detail::Task> task, const TaskOptions& options) {
    impl_->enqueue(std::move(task), options);
}

Future<void> InterpreterPoolExecutor::submit_source_with(const TaskOptions& options,
                                                         std::string source) {
    auto state = std::make_shared<detail::SharedState<void>>();
    enqueue(detail::make_task(state, [source = std::move(source)](Interpreter& in) {
                in.exec(source);
            }),
            options);
    return Future<void>(std::move(state));
}

Future<Value> InterpreterPoolExecutor::submit_call(const TaskOptions& options, std::string target,
                                                   std::vector<Value> args,
                                                   std::vector<std::pair<std::string, Value>> kwargs) {
    auto state = std::make_shared<detail::SharedState<Value>>();
    enqueue(detail::make_task(state,
                              [target = std::move(target), args = std::move(args),
                               kwargs = std::move(kwargs)](Interpreter& in) {
                                  return in.call_with(target, args, kwargs);
                              }),
            options);
    return Future<Value>(std::move(state));
}

void InterpreterPoolExecutor::post(std::function<void()> job) {
    auto state = std::make_shared<detail::SharedState<void>>();
    // The Impl, not this object: a job may destroy the pool's last owner (see the destructor).
    enqueue(detail::make_task(state,
                              [job = std::move(job), pool = impl_.get()](Interpreter&) {
                                  try {
                                      job();
                                  } catch (...) {
                                      pool->report_post_error(std::current_exception());
                                      throw; // and counted as failed in stats()
                                  }
                              }),
            {});
}

void InterpreterPoolExecutor::shutdown(bool wait, bool cancel_pending) {
    impl_->shutdown(wait, cancel_pending);
}

void InterpreterPoolExecutor::wait_until_started() { impl_->wait_until_started(); }
std::size_t InterpreterPoolExecutor::size() const noexcept { return impl_->workers_.size(); }
bool InterpreterPoolExecutor::broken() const noexcept { return impl_->broken_.load(); }
std::string InterpreterPoolExecutor::broken_reason() const { return impl_->broken_reason(); }
InterpreterPoolExecutor::Stats InterpreterPoolExecutor::stats() const { return impl_->stats(); }

bool InterpreterPoolExecutor::stop_requested() noexcept {
    return current_task_state && current_task_state->stop_requested();
}
std::optional<std::size_t> InterpreterPoolExecutor::current_worker() noexcept {
    return current_worker_index;
}

} // namespace isolates
