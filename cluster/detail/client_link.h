#pragma once
// ClientLink: the client rank's side of an MpiPoolExecutor below the pool: the Comm thread, what
// each serving rank said (its workers, its host, alive or given up), and the remote worker slots
// (RankWorker) the pool's workers drive, to which the replies are routed. It starts the serving
// ranks' pools, makes slots for the pool (spreading replacements over the live ranks) and ends
// the serving ranks at shutdown.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <isolates/cluster/mpi_pool_executor.h>
#include <isolates/process/remote_worker.h>
#include "cluster/detail/comm.h"

namespace isolates::cluster::detail {

class RankWorker;

class ClientLink {
public:
    /// Starts the Comm thread, sends every other rank the pool options and waits until each
    /// started its pool. Throws Error naming a rank that could not (or did not answer in time);
    /// every rank has then been told to end.
    ClientLink(boost::mpi::communicator world, const MpiPoolExecutor::Options& options);
    /// The Comm thread only, no pool started: for MpiPoolExecutor::end_serving(), whose
    /// shutdown() ends the ranks waiting for a client.
    struct NoPool {};
    ClientLink(boost::mpi::communicator world, const MpiPoolExecutor::Options& options, NoPool);
    /// shutdown().
    ~ClientLink();

    /// Workers over all serving ranks.
    std::size_t total_workers() const;
    /// The factory of the client pool's far sides: pool worker k first gets its own remote
    /// worker (ranks in order, each rank's workers in order); a replacement goes to the live rank
    /// with the fewest slots per worker. Throws Error when no rank is left.
    std::unique_ptr<isolates::RemoteWorker> make_slot(std::size_t worker);
    std::vector<MpiPoolExecutor::RankInfo> ranks() const;
    /// Tells every live rank to end and waits until each has (or was given up). Idempotent.
    void shutdown();

    // For RankWorker.
    Comm& comm() { return *comm_; }
    /// Forgets slot `id` (replies for it are dropped from now on).
    void forget(std::uint32_t id);

private:
    struct Rank {
        MpiPoolExecutor::RankInfo info;
        bool ready = false;
        bool done = false;
        std::string failure; // why it could not start, or why it was given up
        std::size_t slots = 0;
    };
    void on_message(int source, int tag, Bytes&& message);
    void on_silent(int rank);
    /// Marks `rank` dead with `failure` and ends its slots (their tasks fail with why). Call
    /// with mutex_ held; once per rank.
    void give_up(Rank& rank, const std::string& failure);
    Rank* find(int rank);
    /// "rank N (host h) why; ..." for every rank with a failure. Call with mutex_ held.
    std::string failures() const;

    const std::chrono::milliseconds rank_timeout_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<Rank> ranks_;                 // every rank but the client, in order
    std::map<std::uint32_t, RankWorker*> slots_; // live slots by id
    std::vector<bool> first_made_;            // per pool worker: its first slot was made
    std::uint32_t next_slot_id_ = 1;
    bool shut_down_ = false;
    std::unique_ptr<Comm> comm_; // last: its thread calls the handlers above until it is gone
};

} // namespace isolates::cluster::detail
