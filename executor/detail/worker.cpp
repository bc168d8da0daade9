#include "executor/detail/worker.h"

#include <unistd.h>

#include <algorithm>

#include "executor/detail/format_duration.h"
#include "executor/detail/pool_impl.h"

namespace isolates::detail {

namespace {
using Clock = std::chrono::steady_clock;

thread_local Worker* this_thread_worker = nullptr;

/// The exception a running task is interrupted with: a BaseException that `except Exception`
/// does not swallow.
constexpr const char* stop_exception = "KeyboardInterrupt";
} // namespace

Worker* Worker::current() noexcept { return this_thread_worker; }

void Worker::start() { thread_ = std::thread([this] { main(); }); }

void Worker::join() {
    if (thread_.joinable()) thread_.join();
}

void Worker::stop_running(StateBase& state) noexcept {
    // Held (see Runner): the task still runs or has only just ended, so interpreter_ is the one
    // it runs in, and a late delivery is discarded by the interpreter when the call has ended.
    try {
        interpreter_->interrupt(stop_exception);
    } catch (...) {
        // interrupt() only throws for a bad exception name, and ours is built in.
    }
    // Interrupt again later while the task still runs: the interrupt may land between its Python
    // calls (a C++ task), or the Python code may catch it.
    std::shared_ptr<StateBase> running;
    std::chrono::milliseconds backoff;
    {
        std::lock_guard lock(running_mutex_);
        if (&state != running_.get()) return;
        retry_backoff_ = backoff = std::min(std::chrono::milliseconds(50), retry_backoff_ * 2);
        running = running_;
    }
    pool_.timer.schedule(Clock::now() + backoff, running, Timer::Kind::retry);
}

void Worker::cancel_running() {
    std::shared_ptr<StateBase> state;
    {
        std::lock_guard lock(running_mutex_);
        state = running_;
    }
    if (state) state->cancel();
}

bool Worker::make_interpreter() {
    const auto& options = pool_.options;
    try {
        Interpreter::Options interpreter_options;
        interpreter_options.sys_path = options.sys_path;
        interpreter_options.own_openssl_context = options.own_openssl_context;
        interpreter_ = std::make_unique<Interpreter>(interpreter_options);
        for (const auto& module : options.init_modules) interpreter_->import_module(module);
        for (const auto& module : pool_.imports.names()) interpreter_->import_module(module);
        if (!options.init_source.empty()) interpreter_->exec(options.init_source);
        return true;
    } catch (const std::exception& e) {
        interpreter_.reset();
        pool_.mark_broken("worker " + std::to_string(index_) +
                          " could not initialise its interpreter: " + e.what());
        return false;
    }
}

void Worker::main() {
    this_thread_worker = this;
    thread_id_.store(static_cast<int>(::gettid()), std::memory_order_relaxed);
    if (!make_interpreter()) return;
    pool_.lifecycle.worker_started();
    const auto stop = [&] { return pool_.lifecycle.stopping() || pool_.lifecycle.broken(); };
    while (!pool_.lifecycle.broken()) {
        if (Task* task = pool_.queues.take_or_sleep(index_, stop)) {
            execute(task);
            if (!interpreter_) break; // could not be replaced: the pool is broken
        } else if (stop()) {
            break; // nothing queued: a stopping pool runs every task queued before it stopped
        }
    }
    interpreter_.reset(); // on this thread, as CPython requires
}

void Worker::execute(Task* raw) {
    std::unique_ptr<Task> task(raw);
    StateBase& state = task->state();
    {
        std::lock_guard lock(running_mutex_);
        running_ = task->shared_state();
        retry_backoff_ = std::chrono::milliseconds(1);
    }
    if (state.begin_running(this)) {
        current_ = &state;
        std::string timeout_what; // the TimeoutError's message, when the task has a timeout
        if (task->timeout.count() > 0) {
            const std::string name = task->name();
            timeout_what = (name.empty() ? std::string("task") : name) + " timed out after " +
                           format_duration(task->timeout);
            pool_.timer.schedule(Clock::now() + task->timeout, task->shared_state(),
                                 Timer::Kind::timeout,
                                 std::make_exception_ptr(TimeoutError(timeout_what)));
        }
        const auto start = Clock::now();
        task->run(*interpreter_);
        if (state.outcome() == Outcome::timed_out)
            pool_.timeouts.record(timeout_what, task->unreported);
        state.end_running();
        wait_until_released(); // no stop of this task reaches the next one
        busy_ns_.fetch_add(static_cast<std::uint64_t>(
                               std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   Clock::now() - start).count()),
                           std::memory_order_relaxed);
        current_ = nullptr;
    }
    {
        std::lock_guard lock(running_mutex_);
        running_.reset();
    }
    task.reset();
    if (pool_.options.replace_unhealthy && !interpreter_->healthy()) {
        interpreter_.reset();
        pool_.counters.replaced_interpreters.fetch_add(1, std::memory_order_relaxed);
        make_interpreter();
    }
}

} // namespace isolates::detail
