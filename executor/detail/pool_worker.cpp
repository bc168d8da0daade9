#include "executor/detail/pool_worker.h"

#include <unistd.h>

#include <algorithm>

#include <isolates/executor/impl/format_duration.h>
#include <isolates/interp/runtime.h>
#include <isolates/process/process_worker.h>
#include "executor/detail/pool_impl.h"

namespace isolates::detail {

namespace {
using Clock = std::chrono::steady_clock;

thread_local PoolWorker* this_thread_worker = nullptr;

/// The exception a running task is interrupted with: a BaseException that `except Exception`
/// does not swallow.
constexpr const char* stop_exception = "KeyboardInterrupt";
} // namespace

void throw_cannot_run_in_process() {
    throw UsageError("a C++ callable cannot run on a process worker (it would need this process's "
                     "memory); submit a Python target or source, or use sub-interpreter workers");
}

PoolWorker::PoolWorker(InterpreterPoolExecutor::Impl& pool, std::size_t index, bool in_process)
    : pool_(pool), index_(index), in_process_(in_process) {}

PoolWorker::~PoolWorker() = default;

PoolWorker* PoolWorker::current() noexcept { return this_thread_worker; }

void PoolWorker::start() { thread_ = std::thread([this] { main(); }); }

void PoolWorker::join() {
    if (thread_.joinable()) thread_.join();
}

void PoolWorker::stop_running(StateBase& state) noexcept {
    if (in_process_) return stop_in_process(state);
    // Held (see Runner): the task still runs or has only just ended, so interpreter_ is the one
    // it runs in, and a late delivery is discarded when the call has ended.
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

void PoolWorker::cancel_running() {
    std::vector<std::shared_ptr<StateBase>> states;
    {
        std::lock_guard lock(running_mutex_);
        if (running_) states.push_back(running_);
        for (const auto& request : in_flight_) states.push_back(request.state);
    }
    // Last first: the process must not start a request sent ahead while the one before it stops.
    for (auto state = states.rbegin(); state != states.rend(); ++state) (*state)->cancel();
}

bool PoolWorker::make_interpreter() {
    const auto& options = pool_.options;
    try {
        if (in_process_ && pool_.remote_workers) {
            process_ = pool_.remote_workers(index_);
            return true;
        }
        if (in_process_) {
            ProcessWorkerOptions process_options;
            process_options.executable = options.worker_executable;
            const Runtime::Options runtime = Runtime::options();
            process_options.init.runtime_sys_path = runtime.sys_path;
            process_options.init.venv = runtime.venv;
            process_options.init.sys_path = options.sys_path;
            process_options.init.init_modules = options.init_modules;
            for (const auto& module : pool_.imports.names())
                process_options.init.init_modules.push_back(module);
            process_options.init_source = options.init_source;
            process_ = start_process_worker(process_options);
            return true;
        }
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
        process_.reset();
        pool_.mark_broken("worker " + std::to_string(index_) + " could not initialise its " +
                          (in_process_ ? "process: " : "interpreter: ") + e.what());
        return false;
    }
}

void PoolWorker::main() {
    this_thread_worker = this;
    thread_id_.store(static_cast<int>(::gettid()), std::memory_order_relaxed);
    if (!make_interpreter()) return;
    pool_.lifecycle.worker_started();
    if (in_process_) {
        serve_process();
        process_.reset(); // on this thread, as CPython requires
        return;
    }
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

std::string PoolWorker::start_timeout(Task& task) {
    if (task.timeout.count() <= 0) return {};
    const std::string name = task.name();
    std::string what = (name.empty() ? std::string("task") : name) + " timed out after " +
                       format_duration(task.timeout);
    pool_.timer.schedule(Clock::now() + task.timeout, task.shared_state(), Timer::Kind::timeout,
                         std::make_exception_ptr(TimeoutError(what)));
    return what;
}

void PoolWorker::task_done(Task& task, Clock::time_point start, const std::string& timeout_what) {
    StateBase& state = task.state();
    if (state.outcome() == Outcome::timed_out) pool_.timeouts.record(timeout_what, task.unreported);
    state.end_running();
    wait_until_released(); // no stop of this task reaches the next one
    busy_ns_.fetch_add(static_cast<std::uint64_t>(
                           std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start)
                               .count()),
                       std::memory_order_relaxed);
}

void PoolWorker::execute(Task* raw) {
    std::unique_ptr<Task> task(raw);
    run_here(*task);
    task.reset();
    if (pool_.options.replace_unhealthy && !interpreter_->healthy()) {
        interpreter_.reset();
        pool_.counters.replaced_interpreters.fetch_add(1, std::memory_order_relaxed);
        make_interpreter();
    }
}

void PoolWorker::run_here(Task& task) {
    StateBase& state = task.state();
    {
        std::lock_guard lock(running_mutex_);
        running_ = task.shared_state();
        retry_backoff_ = std::chrono::milliseconds(1);
    }
    if (state.begin_running(this)) {
        current_ = &state;
        const std::string timeout_what = start_timeout(task);
        const auto start = Clock::now();
        if (interpreter_) task.run(*interpreter_);
        else task.run_on_host();
        task_done(task, start, timeout_what);
        current_ = nullptr;
    }
    std::lock_guard lock(running_mutex_);
    running_.reset();
}

} // namespace isolates::detail
