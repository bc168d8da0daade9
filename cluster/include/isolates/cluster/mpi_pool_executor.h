#pragma once
/// MpiPoolExecutor: an InterpreterPoolExecutor whose workers are the workers of other MPI ranks,
/// for when one machine's cores are not enough (what mpi4py.futures' MPIPoolExecutor and
/// MPICommExecutor are to Python). SPMD, as mpirun starts programs: every rank runs this same
/// program and makes the executor collectively; on the root rank it is the client, on every other
/// rank its constructor hosts an InterpreterPoolExecutor (sub-interpreters, or worker processes
/// where configured) and serves the client until the client shuts the executor down.
///
///     isolates::MpiEnvironment mpi(argc, argv);   // every rank, first
///     isolates::Runtime runtime;
///     isolates::MpiPoolExecutor cluster(options); // collective
///     if (!cluster.is_client()) return 0;         // served until the client's shutdown
///     auto total = cluster.pool().map("mymod:score", items, {.chunksize = 100}).get();
///
/// On the client, pool() is a full InterpreterPoolExecutor (submit, submit_source, map, starmap,
/// imap, import_module, futures with then/when_all/cancel/timeouts) whose tasks travel as
/// wire-format frames; a worker takes a task when it is free, so work goes to ranks by their free
/// workers. A C++ lambda cannot travel: call a host function (interp/host_module.h) registered
/// on every rank by its Python name ("host:score"). One thread per rank makes every MPI call
/// (nonblocking only, sleeping in growing steps while idle). A serving rank that falls silent
/// (heartbeats) is given up: the task its worker was running fails with WorkerProcessError
/// naming the rank, the tasks queued behind it go to the other ranks.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <isolates/executor/interpreter_pool_executor.h>

namespace isolates {

/// MPI for this process (MPI_Init_thread with MPI_THREAD_SERIALIZED; MPI_Finalize when it is
/// destroyed). Make it first in main() on every rank and let it outlive every MpiPoolExecutor.
/// Throws UsageError when MPI is already initialised or offers less than SERIALIZED.
class MpiEnvironment {
public:
    MpiEnvironment(int& argc, char**& argv);
    ~MpiEnvironment();
    MpiEnvironment(const MpiEnvironment&) = delete;
    MpiEnvironment& operator=(const MpiEnvironment&) = delete;
    /// This process's rank in MPI_COMM_WORLD, and how many ranks there are.
    int rank() const;
    int size() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

class MpiPoolExecutor {
public:
    struct Options {
        /// The pool every serving rank hosts: the root's options apply on every rank (sys_path,
        /// init_modules, init_source, worker_kind, ...); `workers` is per rank (0: that host's
        /// cores). On the client, queue_bound, task_timeout, cancel_pending_on_destroy,
        /// kill_after and process_prefetch (tasks sent ahead to each remote worker) apply.
        InterpreterPoolExecutor::Options pool;
        /// The client rank of MPI_COMM_WORLD.
        int root = 0;
        /// How often a rank with nothing else to send says it is alive.
        std::chrono::milliseconds heartbeat{500};
        /// A rank that sent nothing for this long is given up as dead (or hung).
        std::chrono::milliseconds rank_timeout{3000};
        /// How long the client waits for every rank's pool to start.
        std::chrono::milliseconds start_timeout{120'000};
    };

    struct RankInfo {
        int rank = 0;
        std::string host;
        std::size_t workers = 0; ///< its pool's workers
        bool alive = true;       ///< false once given up
    };

    /// Collective over MPI_COMM_WORLD (every rank calls it). On the root: starts the client
    /// once every other rank's pool started; throws Error naming the rank when one could not
    /// (every rank is then told to end), UsageError without an MpiEnvironment or a Runtime, or
    /// for a root outside the world. Elsewhere: serves until the client shuts down (or falls
    /// silent: then the pool is shut down and this returns too) and returns a non-client.
    explicit MpiPoolExecutor(Options options);
    MpiPoolExecutor() : MpiPoolExecutor(Options{}) {}
    /// shutdown().
    ~MpiPoolExecutor();
    MpiPoolExecutor(const MpiPoolExecutor&) = delete;
    MpiPoolExecutor& operator=(const MpiPoolExecutor&) = delete;

    /// Whether this rank is the client (the root).
    bool is_client() const noexcept;
    /// On a serving rank: false when the client did not start a pool but ended serving
    /// (end_serving()). So a serving rank can serve the client's executors one after another:
    /// `while (isolates::MpiPoolExecutor(options).served()) {}`.
    bool served() const noexcept;
    /// On the client, with no MpiPoolExecutor alive: ends the serving ranks that wait for the
    /// next executor (their constructor returns with served() false). Ranks that do not answer
    /// within options.rank_timeout of heartbeats are not waited for.
    static void end_serving(const Options& options);
    /// The client's pool. Throws UsageError on a serving rank.
    InterpreterPoolExecutor& pool();
    /// The client: every serving rank, in rank order. Empty on a serving rank.
    std::vector<RankInfo> ranks() const;
    /// The client: shuts the pool down (pending tasks still run unless cancel_pending, as
    /// InterpreterPoolExecutor::shutdown), then ends every serving rank and waits for each (a
    /// dead one is not waited for). Idempotent; nothing on a serving rank.
    void shutdown(bool cancel_pending = false);

    class Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace isolates
