#include "cluster/detail/client_link.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include <isolates/executor/impl/format_duration.h>
#include <isolates/interp/errors.h>
#include <isolates/interp/wire.h>
#include "cluster/detail/frame_header.h"
#include "cluster/detail/pool_config.h"
#include "cluster/detail/rank_worker.h"

namespace isolates::cluster::detail {

namespace {
using Clock = std::chrono::steady_clock;

std::vector<int> serving_ranks(const boost::mpi::communicator& world, int root) {
    std::vector<int> ranks;
    for (int rank = 0; rank < world.size(); ++rank)
        if (rank != root) ranks.push_back(rank);
    return ranks;
}

std::string describe(const MpiPoolExecutor::RankInfo& info) {
    return "rank " + std::to_string(info.rank) + (info.host.empty() ? "" : " (host " + info.host + ")");
}
} // namespace

ClientLink::ClientLink(boost::mpi::communicator world, const MpiPoolExecutor::Options& options, NoPool)
    : rank_timeout_(options.rank_timeout) {
    const std::vector<int> peers = serving_ranks(world, options.root);
    if (peers.empty())
        throw UsageError("MpiPoolExecutor: MPI_COMM_WORLD has no rank besides the client to serve "
                         "(start it with mpirun -n 2 or more)");
    for (int rank : peers) {
        Rank entry;
        entry.info.rank = rank;
        ranks_.push_back(std::move(entry));
    }
    Comm::Options comm_options;
    comm_options.peers = peers;
    comm_options.heartbeat = options.heartbeat;
    comm_options.silence = options.rank_timeout;
    comm_ = std::make_unique<Comm>(
        std::move(world), comm_options,
        [this](int source, int tag, Bytes&& message) { on_message(source, tag, std::move(message)); },
        [this](int rank) { on_silent(rank); });
}

ClientLink::ClientLink(boost::mpi::communicator world, const MpiPoolExecutor::Options& options)
    : ClientLink(world, options, NoPool{}) {
    const Bytes config = encode_pool_config(options.pool);
    for (const Rank& rank : ranks_) comm_->post(rank.info.rank, tag_config, config);
    std::unique_lock lock(mutex_);
    const auto deadline = Clock::now() + options.start_timeout;
    const auto settled = [&] {
        return std::all_of(ranks_.begin(), ranks_.end(),
                           [](const Rank& r) { return r.ready || !r.failure.empty(); });
    };
    changed_.wait_until(lock, deadline, settled);
    for (auto& rank : ranks_)
        if (!rank.ready && rank.failure.empty())
            rank.failure = "did not start its pool within " +
                           isolates::detail::format_duration(options.start_timeout);
    if (const std::string why = failures(); !why.empty()) {
        lock.unlock();
        shutdown();
        throw Error("MpiPoolExecutor: " + why);
    }
    std::size_t total = 0;
    for (const auto& rank : ranks_) total += rank.info.workers;
    first_made_.assign(total, false);
}

ClientLink::~ClientLink() { shutdown(); }

std::size_t ClientLink::total_workers() const {
    std::lock_guard lock(mutex_);
    return first_made_.size();
}

std::string ClientLink::failures() const {
    std::string list;
    for (const auto& rank : ranks_)
        if (!rank.failure.empty()) list += (list.empty() ? "" : "; ") + describe(rank.info) + " " + rank.failure;
    return list;
}

ClientLink::Rank* ClientLink::find(int rank) {
    for (auto& r : ranks_)
        if (r.info.rank == rank) return &r;
    return nullptr;
}

std::unique_ptr<isolates::RemoteWorker> ClientLink::make_slot(std::size_t worker) {
    std::lock_guard lock(mutex_);
    Rank* chosen = nullptr;
    std::size_t local = 0;
    if (worker < first_made_.size() && !first_made_[worker]) {
        first_made_[worker] = true;
        std::size_t offset = 0;
        for (auto& rank : ranks_) {
            if (worker < offset + rank.info.workers) {
                chosen = &rank;
                local = worker - offset;
                break;
            }
            offset += rank.info.workers;
        }
        if (chosen && !chosen->info.alive) chosen = nullptr; // died before the pool started
    }
    if (!chosen) {
        // A replacement: the live rank with the fewest slots per worker, and there its worker
        // with the fewest slots.
        for (auto& rank : ranks_) {
            if (!rank.info.alive || rank.info.workers == 0) continue;
            if (!chosen || rank.slots * chosen->info.workers < chosen->slots * rank.info.workers)
                chosen = &rank;
        }
        if (!chosen) throw Error("MpiPoolExecutor: no serving rank is left (" + failures() + ")");
        local = chosen->slots % chosen->info.workers;
    }
    ++chosen->slots;
    const std::uint32_t id = next_slot_id_++;
    auto slot = std::make_unique<RankWorker>(*this, id, chosen->info.rank, static_cast<std::uint32_t>(local),
                                           describe(chosen->info) + " worker " + std::to_string(local));
    slots_[id] = slot.get();
    return slot;
}

void ClientLink::forget(std::uint32_t id) {
    std::lock_guard lock(mutex_);
    slots_.erase(id);
}

std::vector<MpiPoolExecutor::RankInfo> ClientLink::ranks() const {
    std::lock_guard lock(mutex_);
    std::vector<MpiPoolExecutor::RankInfo> infos;
    for (const auto& rank : ranks_) infos.push_back(rank.info);
    return infos;
}

void ClientLink::on_message(int source, int tag, Bytes&& message) {
    std::lock_guard lock(mutex_);
    Rank* rank = find(source);
    if (!rank) return;
    try {
        if (tag == tag_reply) {
            std::size_t at = 0;
            const auto id = static_cast<std::uint32_t>(get_uint(message, at, 4));
            if (auto it = slots_.find(id); it != slots_.end()) it->second->deliver(std::move(message));
        } else if (tag == tag_ready) {
            // (workers, host) or (None, why it could not start)
            const Value ready = wire::decode(std::as_bytes(std::span(message)));
            if (ready[0].is_none()) {
                rank->failure = "could not start its pool: " + ready[1].as<std::string>();
            } else {
                rank->info.workers = static_cast<std::size_t>(ready[0].as<std::int64_t>());
                rank->info.host = ready[1].as<std::string>();
                rank->ready = true;
            }
            changed_.notify_all();
        } else if (tag == tag_done) {
            rank->done = true;
            changed_.notify_all();
        }
    } catch (const std::exception& e) {
        // A message no working rank sends (too short to name its slot, a ready that is not the
        // tuple): nothing it says can be trusted or routed, so the rank is given up now, failing
        // what waits on it, rather than left to hang them.
        give_up(*rank, std::string("sent a malformed message (") + e.what() + ")");
    }
}

void ClientLink::on_silent(int silent) {
    std::lock_guard lock(mutex_);
    if (Rank* rank = find(silent))
        give_up(*rank, "sent nothing for " + isolates::detail::format_duration(rank_timeout_) +
                           ": it died or hangs");
}

void ClientLink::give_up(Rank& rank, const std::string& failure) {
    if (!rank.info.alive) return;
    rank.info.alive = false;
    rank.failure = failure;
    const std::string why = "MPI " + describe(rank.info) + " " + rank.failure;
    std::fprintf(stderr, "isolates: %s: given up\n", why.c_str());
    for (auto& entry : slots_) {
        RankWorker* slot = entry.second;
        if (slot->rank() == rank.info.rank) slot->end(why);
    }
    changed_.notify_all();
}

void ClientLink::shutdown() {
    std::unique_lock lock(mutex_);
    if (shut_down_) return;
    shut_down_ = true;
    for (const auto& rank : ranks_)
        if (rank.info.alive) comm_->post(rank.info.rank, tag_shutdown, Bytes(1));
    changed_.wait(lock, [&] {
        return std::all_of(ranks_.begin(), ranks_.end(),
                           [](const Rank& r) { return r.done || !r.info.alive; });
    });
    lock.unlock();
    comm_->stop();
}

} // namespace isolates::cluster::detail
