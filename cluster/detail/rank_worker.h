#pragma once
// RankWorker: one client pool worker's far side on a serving rank: requests go (through the Comm
// thread) to one worker of that rank, which runs them in order, and the replies come back in
// order. The rank being given up (silent) ends it, as a process's death ends a ProcessWorkerHost.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

#include <isolates/process/remote_worker.h>
#include "cluster/detail/comm.h"

namespace isolates::cluster::detail {

class ClientLink;

class RankWorker final : public isolates::RemoteWorker {
public:
    RankWorker(ClientLink& link, std::uint32_t id, int rank, std::uint32_t local_worker, std::string where);
    /// Forgets itself in the link.
    ~RankWorker() override;

    using RemoteWorker::receive;
    Sent send(isolates::worker_protocol::Request& request, bool behind_others) override;
    std::uint64_t next_seq() const noexcept override { return next_seq_; }
    /// A reply that cannot be decoded is the oldest request's failure.
    bool receive(isolates::worker_protocol::Reply& reply,
                 std::chrono::steady_clock::time_point deadline) override;
    std::string end_message() override;
    bool healthy() override;
    bool interrupt(std::uint64_t seq) noexcept override;
    /// A remote task cannot be killed from here: the slot is given up instead (the remote
    /// worker goes on until the task returns; the pool worker gets a new slot).
    void kill() noexcept override;

    /// The rank it sends to.
    int rank() const noexcept { return rank_; }

    // The Comm thread.
    /// A reply for this slot arrived.
    void deliver(Bytes&& message);
    /// No more replies will come: `why`.
    void end(std::string why);

private:
    ClientLink& link_;
    const std::uint32_t id_;
    const int rank_;
    const std::uint32_t local_worker_;
    const std::string where_; // "rank 2 (host h) worker 0", for messages

    std::uint64_t next_seq_ = 1;
    std::atomic<std::uint64_t> sent_{0};     // the last seq sent
    std::atomic<std::uint64_t> answered_{0}; // the last seq whose reply was received
    bool healthy_ = true;

    std::mutex mutex_;
    std::condition_variable arrived_;
    std::deque<Bytes> inbox_; // guarded by mutex_
    bool ended_ = false;      // guarded by mutex_
    std::string why_;         // guarded by mutex_
};

} // namespace isolates::cluster::detail
