#include <isolates/executor/interpreter_pool_executor.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include <isolates/interp/runtime.h>
#include <isolates/process/process_worker.h>
#include <isolates/process/worker_protocol.h>
#include "executor/detail/pool_impl.h"

namespace isolates {

using detail::Outcome;
using detail::Task;
using detail::PoolWorker;

namespace {
using WorkerKind = InterpreterPoolExecutor::WorkerKind;

/// The pool's sub-interpreter workers, or its processes when that is all it has.
std::size_t first_kind_count(const InterpreterPoolExecutor::Options& options) {
    return options.workers > 0 ? options.workers : std::max(1u, std::thread::hardware_concurrency());
}

/// A mixed pool's worker processes (after the others); 0 for other pools.
std::size_t routed_count(const InterpreterPoolExecutor::Options& options) {
    if (options.worker_kind != WorkerKind::mixed) return 0;
    if (options.process_workers == 0)
        throw UsageError("InterpreterPoolExecutor: a mixed pool needs process_workers >= 1");
    return options.process_workers;
}

std::size_t worker_count(const InterpreterPoolExecutor::Options& options) {
    return first_kind_count(options) + routed_count(options);
}

/// `options`, once checked where no other function does.
InterpreterPoolExecutor::Options checked(InterpreterPoolExecutor::Options options) {
    if (options.process_prefetch > max_process_prefetch)
        throw UsageError("InterpreterPoolExecutor: process_prefetch is at most " +
                         std::to_string(max_process_prefetch) + ", not " +
                         std::to_string(options.process_prefetch));
    return options;
}

/// Whether a mixed pool sends `task` to a process worker: its target's module, or a package
/// holding it, is in `modules`.
bool routes_to_process(const detail::Task& task, const std::vector<std::string>& modules) {
    if (modules.empty() || !task.runs_in_process()) return false;
    const std::string name = task.name(); // "pkg.mod:f", "pkg.mod:f (chunk of items ...)"
    const auto colon = name.find(':');
    if (colon == std::string::npos) return false;
    const std::string_view module = std::string_view(name).substr(0, colon);
    for (const auto& listed : modules)
        if (module == listed || (module.starts_with(listed) && module.size() > listed.size() &&
                                 module[listed.size()] == '.'))
            return true;
    return false;
}

std::exception_ptr shutdown_error() {
    return std::make_exception_ptr(CancelledError("cancelled by shutdown of the pool"));
}

/// A submit_call task: `target(*args, **kwargs)`, named after its target in timeout messages.
/// `Op::call_void` drops the result in the worker (submit_call_void).
template <worker_protocol::Op op> struct CallBody {
    using Result = std::conditional_t<op == worker_protocol::Op::call, Value, void>;
    std::string target;
    std::vector<Value> args;
    std::vector<std::pair<std::string, Value>> kwargs;

    Result operator()(Interpreter& in) const {
        if constexpr (op == worker_protocol::Op::call) return in.call_with(target, args, kwargs);
        else in.call_void(target, args, kwargs);
    }
    worker_protocol::Request request() const {
        return worker_protocol::make_request(op, target, args, kwargs);
    }
    Result result(worker_protocol::Reply&& reply) const {
        Value value = worker_protocol::value_or_throw(std::move(reply));
        if constexpr (op == worker_protocol::Op::call) return value;
    }
    const std::string& name() const noexcept { return target; }
};

/// A submit_source task: statements run in __main__.
struct SourceBody {
    std::string source;
    void operator()(Interpreter& in) const { in.exec(source); }
    worker_protocol::Request request() const {
        return worker_protocol::make_request(worker_protocol::Op::exec, source);
    }
    void result(worker_protocol::Reply&& reply) const {
        worker_protocol::value_or_throw(std::move(reply));
    }
};

/// A relayed worker-protocol request: run as it is, answered with its reply as it is.
struct RelayBody {
    worker_protocol::Request relayed;
    worker_protocol::Reply operator()(Interpreter& in) const {
        return worker_protocol::run(in, relayed);
    }
    worker_protocol::Request request() const { return relayed; }
    worker_protocol::Reply result(worker_protocol::Reply&& reply) const {
        return std::move(reply);
    }
    const std::string& name() const noexcept { return relayed.text; }
};

/// A post()ed job: C++ that needs no interpreter; its exception goes to the pool's report.
struct PostBody : detail::RunsOnHost {
    std::function<void()> job;
    const InterpreterPoolExecutor::Impl* pool;
    void operator()(Interpreter&) const { (*this)(); }
    void operator()() const {
        try {
            job();
        } catch (...) {
            pool->report_post_error(std::current_exception());
            throw; // and counted as failed in stats()
        }
    }
};

/// The pool whose worker calls this, or nullptr.
const InterpreterPoolExecutor::Impl* current_pool() noexcept {
    const PoolWorker* worker = PoolWorker::current();
    return worker ? &worker->pool() : nullptr;
}
} // namespace

// --- Impl ---------------------------------------------------------------------------------------

namespace {
std::vector<std::unique_ptr<PoolWorker>> make_workers(InterpreterPoolExecutor::Impl& pool) {
    const std::size_t first = first_kind_count(pool.options), count = worker_count(pool.options);
    std::vector<std::unique_ptr<PoolWorker>> workers;
    workers.reserve(count);
    for (std::size_t k = 0; k < count; ++k) {
        const bool in_process = pool.options.worker_kind == WorkerKind::processes ||
                                (pool.options.worker_kind == WorkerKind::mixed && k >= first);
        workers.push_back(std::make_unique<PoolWorker>(pool, k, in_process));
    }
    return workers;
}
} // namespace

// The workers exist (not started) before the pool registers with the Runtime, which may stop
// it from then on; a pool without a Runtime throws here, before any thread starts.
InterpreterPoolExecutor::Impl::Impl(Options options_in, RemoteWorkerFactory remote_workers_in)
    : options(checked(std::move(options_in))), remote_workers(std::move(remote_workers_in)),
      queues(worker_count(options), options.queue_bound, routed_count(options)),
      lifecycle(worker_count(options)), workers(make_workers(*this)),
      runtime_client("InterpreterPoolExecutor", [this] { return describe(); },
                     [this] { shutdown(false, true); }) {
    for (auto& worker : workers) worker->start();
}

void InterpreterPoolExecutor::Impl::enqueue(std::unique_ptr<Task> task,
                                            const TaskOptions& task_options) {
    if (task_options.worker && *task_options.worker >= workers.size())
        throw UsageError("submit_to(" + std::to_string(*task_options.worker) + ") on a pool of " +
                         std::to_string(workers.size()) + " workers");
    lifecycle.check_accepting();
    const bool routed = options.worker_kind == WorkerKind::mixed && !task_options.worker &&
                        routes_to_process(*task, options.process_modules);
    if (!task->runs_in_process() &&
        (options.worker_kind == WorkerKind::processes ||
         (task_options.worker && workers[*task_options.worker]->in_process())))
        detail::throw_cannot_run_in_process();
    task->timeout = task_options.timeout.count() > 0 ? task_options.timeout : options.task_timeout;
    queues.reserve();
    counters.submitted.fetch_add(1, std::memory_order_relaxed);
    task->state().count_into(counters);
    if (task_options.worker) queues.push_own(*task_options.worker, task.release());
    else if (routed) queues.push_routed(task.release());
    else queues.push_shared(task.release());
    // A shutdown or breakage may have drained the queues just before our push.
    if (lifecycle.broken()) drain(broken_error(), Outcome::error);
    else if (lifecycle.cancelling()) drain(shutdown_error(), Outcome::cancelled);
}

void InterpreterPoolExecutor::Impl::drain(const std::exception_ptr& error, Outcome outcome) {
    while (Task* raw = queues.take_any()) {
        std::unique_ptr<Task> task(raw);
        task->state().fail(error, outcome);
    }
}

void InterpreterPoolExecutor::Impl::mark_broken(std::string reason) {
    lifecycle.break_with(std::move(reason));
    drain(broken_error(), Outcome::error);
    queues.wake_all();
}

std::exception_ptr InterpreterPoolExecutor::Impl::broken_error() const {
    return std::make_exception_ptr(BrokenPoolError(lifecycle.broken_reason()));
}

void InterpreterPoolExecutor::Impl::shutdown(bool wait, bool cancel_pending) {
    const PoolWorker* caller = PoolWorker::current();
    const bool on_own_worker = caller && &caller->pool() == this;
    if (wait && on_own_worker)
        throw UsageError("InterpreterPoolExecutor: shutdown(wait=true) from one of its own "
                         "workers would wait for itself; use shutdown(false) there");
    lifecycle.stop(cancel_pending);
    if (cancel_pending) {
        drain(shutdown_error(), Outcome::cancelled);
        for (auto& worker : workers) {
            // The caller's own task is the one asking; it ends when the caller returns.
            if (worker.get() == caller) continue;
            worker->cancel_running();
        }
    }
    queues.wake_all();
    if (wait) join();
}

void InterpreterPoolExecutor::Impl::join() {
    std::lock_guard lock(join_mutex_);
    for (auto& worker : workers) worker->join();
    timer.stop();
    // Anything a racing submit pushed after the workers left.
    drain(shutdown_error(), Outcome::cancelled);
}

/// The destructor on one of this pool's own workers (the last owner dropped inside a continuation
/// or task): that thread cannot join itself, so a cleanup thread joins every worker, the caller's
/// included once its task returns, and then frees the pool. It holds a Runtime slot meanwhile, so
/// the Runtime finalises only after it.
void InterpreterPoolExecutor::Impl::destroy_from_own_worker(std::unique_ptr<Impl> impl) {
    impl->shutdown(false, impl->options.cancel_pending_on_destroy);
    std::optional<Runtime::Hold> hold = Runtime::try_hold();
    std::thread([impl = std::move(impl), hold = std::move(hold)]() mutable {
        impl->join();
        impl.reset();
        hold.reset();
    }).detach();
}

void InterpreterPoolExecutor::Impl::report_post_error(const std::exception_ptr& error) const noexcept {
    if (options.on_post_error) {
        try {
            options.on_post_error(error);
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

std::string InterpreterPoolExecutor::Impl::describe() const {
    std::string threads;
    for (const auto& worker : workers)
        if (const int thread = worker->thread_id(); thread != 0)
            threads += (threads.empty() ? "" : ", ") + std::to_string(thread);
    const std::size_t queued = queues.depth();
    return "InterpreterPoolExecutor of " + std::to_string(workers.size()) +
           (workers.size() == 1 ? " worker (thread " : " workers (threads ") +
           (threads.empty() ? std::string("not started") : threads) + "), " +
           std::to_string(queued) + (queued == 1 ? " task queued" : " tasks queued");
}

InterpreterPoolExecutor::Stats InterpreterPoolExecutor::Impl::stats() const {
    Stats s;
    s.submitted = counters.submitted.load(std::memory_order_relaxed);
    s.completed = counters.completed.load(std::memory_order_relaxed);
    s.failed = counters.failed.load(std::memory_order_relaxed);
    s.timed_out = counters.timed_out.load(std::memory_order_relaxed);
    s.cancelled = counters.cancelled.load(std::memory_order_relaxed);
    s.replaced_interpreters = counters.replaced_interpreters.load(std::memory_order_relaxed);
    s.queue_depth = queues.depth();
    s.last_timeout_traceback = timeouts.last();
    for (auto& worker : workers) s.busy.push_back(worker->busy());
    return s;
}

// --- Public API ---------------------------------------------------------------------------------

InterpreterPoolExecutor::InterpreterPoolExecutor(Options options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

InterpreterPoolExecutor::InterpreterPoolExecutor(Options options,
                                                 RemoteWorkerFactory remote_workers) {
    if (options.worker_kind != WorkerKind::processes)
        throw UsageError("InterpreterPoolExecutor: a pool of remote workers needs worker_kind "
                         "processes");
    if (!remote_workers) throw UsageError("InterpreterPoolExecutor: no remote_workers factory");
    impl_ = std::make_unique<Impl>(std::move(options), std::move(remote_workers));
}

InterpreterPoolExecutor::~InterpreterPoolExecutor() {
    if (current_pool() == impl_.get()) Impl::destroy_from_own_worker(std::move(impl_));
    else impl_->shutdown(true, impl_->options.cancel_pending_on_destroy);
}

void InterpreterPoolExecutor::enqueue(std::unique_ptr<detail::Task> task, const TaskOptions& options) {
    impl_->enqueue(std::move(task), options);
}

Future<void> InterpreterPoolExecutor::submit_source_with(const TaskOptions& options,
                                                         std::string source) {
    auto [state, task] = detail::make_state_task<void>(SourceBody{std::move(source)});
    enqueue(std::move(task), options);
    return Future<void>(std::move(state));
}

Future<worker_protocol::Reply>
InterpreterPoolExecutor::submit_request(const TaskOptions& options,
                                        worker_protocol::Request request) {
    using worker_protocol::Op;
    if (request.op == Op::init || request.op == Op::exit)
        throw UsageError("submit_request: an init or exit request is not a task");
    auto [state, task] = detail::make_state_task<worker_protocol::Reply>(RelayBody{std::move(request)});
    enqueue(std::move(task), options);
    return Future<worker_protocol::Reply>(std::move(state));
}

Future<Value> InterpreterPoolExecutor::submit_call(const TaskOptions& options, std::string target,
                                                   std::vector<Value> args,
                                                   std::vector<std::pair<std::string, Value>> kwargs) {
    auto [state, task] = detail::make_state_task<Value>(CallBody<worker_protocol::Op::call>{
        std::move(target), std::move(args), std::move(kwargs)});
    enqueue(std::move(task), options);
    return Future<Value>(std::move(state));
}

Future<void> InterpreterPoolExecutor::submit_call_void(const TaskOptions& options, std::string target,
                                                     std::vector<Value> args,
                                                     std::vector<std::pair<std::string, Value>> kwargs) {
    auto [state, task] = detail::make_state_task<void>(CallBody<worker_protocol::Op::call_void>{
        std::move(target), std::move(args), std::move(kwargs)});
    enqueue(std::move(task), options);
    return Future<void>(std::move(state));
}

void InterpreterPoolExecutor::post(std::function<void()> job) {
    // The Impl, not this object: a job may destroy the pool's last owner (see the destructor).
    // A job is C++ that needs no interpreter: a process worker's thread runs it itself.
    auto [state, task] = detail::make_state_task<void>(PostBody{{}, std::move(job), impl_.get()});
    enqueue(std::move(task), {});
}

void InterpreterPoolExecutor::shutdown(bool wait, bool cancel_pending) {
    impl_->shutdown(wait, cancel_pending);
}

void InterpreterPoolExecutor::wait_until_started() { impl_->lifecycle.wait_until_started(); }
std::size_t InterpreterPoolExecutor::size() const noexcept { return impl_->workers.size(); }
bool InterpreterPoolExecutor::broken() const noexcept { return impl_->lifecycle.broken(); }
std::string InterpreterPoolExecutor::broken_reason() const { return impl_->lifecycle.broken_reason(); }
InterpreterPoolExecutor::Stats InterpreterPoolExecutor::stats() const { return impl_->stats(); }

bool InterpreterPoolExecutor::stop_requested() noexcept {
    const PoolWorker* worker = PoolWorker::current();
    return worker && worker->stop_requested();
}
std::optional<std::size_t> InterpreterPoolExecutor::current_worker() noexcept {
    const PoolWorker* worker = PoolWorker::current();
    if (!worker) return std::nullopt;
    return worker->index();
}

} // namespace isolates
