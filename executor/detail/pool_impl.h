#pragma once
// InterpreterPoolExecutor::Impl: a pool's parts (task queues and wake-up, lifecycle, counters,
// timer, workers) and what ties them together: submission, draining, shutdown, destruction.

#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <isolates/executor/interpreter_pool_executor.h>
#include <isolates/interp/runtime_client.h>
#include <isolates/process/remote_worker.h>
#include "executor/detail/pool_counters.h"
#include "executor/detail/pool_imports.h"
#include "executor/detail/pool_lifecycle.h"
#include "executor/detail/pool_worker.h"
#include "executor/detail/task_queues.h"
#include "executor/detail/timeout_report.h"
#include "executor/detail/timer.h"

namespace isolates {

class InterpreterPoolExecutor::Impl {
public:
    /// Starts the workers. Throws UsageError when no Runtime is alive.
    explicit Impl(Options options, RemoteWorkerFactory remote_workers = {});

    /// Any thread: queues `task` (or throws BrokenPoolError / UsageError, dropping it).
    void enqueue(std::unique_ptr<detail::Task> task, const TaskOptions& task_options);
    /// Resolves every queued task with `error` without running it.
    void drain(const std::exception_ptr& error, detail::Outcome outcome);
    /// A worker could not make its interpreter: fails every queued and later task.
    void mark_broken(std::string reason);
    /// See InterpreterPoolExecutor::shutdown.
    void shutdown(bool wait, bool cancel_pending);
    /// Joins the workers after shutdown() (every future is resolved when it returns).
    void join();
    /// The destructor on one of this pool's own workers: see the .cpp.
    static void destroy_from_own_worker(std::unique_ptr<Impl> impl);
    /// A post()ed job threw: nobody holds a future for it, so tell the handler or stderr.
    void report_post_error(const std::exception_ptr& error) const noexcept;
    Stats stats() const;
    /// The BrokenPoolError of a broken pool, with its reason.
    std::exception_ptr broken_error() const;
    /// What a Runtime destroyed before this pool says about it on stderr.
    std::string describe() const;

    const Options options;
    /// Makes process workers' far sides; unset: worker processes (ProcessWorkerHost).
    const RemoteWorkerFactory remote_workers;
    detail::TaskQueues queues;
    detail::PoolLifecycle lifecycle;
    detail::PoolCounters counters;
    detail::PoolImports imports; // import_module's, for interpreters made later
    detail::TimeoutReport timeouts;
    detail::Timer timer;
    std::vector<std::unique_ptr<detail::PoolWorker>> workers;
    // Last, so it unregisters first: a Runtime destroyed before the pool describes and stops it
    // through these members meanwhile.
    RuntimeClient runtime_client;

private:
    std::mutex join_mutex_;
};

} // namespace isolates
