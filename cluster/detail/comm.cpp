#include "cluster/detail/comm.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <utility>

#include <boost/mpi/status.hpp>

#include "cluster/detail/message_size.h"

namespace isolates::cluster::detail {

namespace {
using Clock = std::chrono::steady_clock;

/// After activity the thread keeps polling (yielding) this long before it starts to sleep: the
/// next message of a busy stream usually comes sooner than a sleep would end.
constexpr auto keep_polling = std::chrono::microseconds(100);
/// Messages received in one round, so that posted sends are not held back by a flood.
constexpr int receive_batch = 64;

/// Sends that were still running when the thread ended (a dead peer never completes one): MPI
/// may read their bytes until it finalises, so they are kept until the process ends.
std::vector<Bytes>& abandoned_sends() {
    static auto* kept = new std::vector<Bytes>();
    return *kept;
}
} // namespace

Comm::Comm(boost::mpi::communicator world, Options options, Handler on_message, SilenceHandler on_silent)
    : world_(std::move(world)), options_(std::move(options)), on_message_(std::move(on_message)),
      on_silent_(std::move(on_silent)), rank_(world_.rank()) {
    const auto now = Clock::now();
    for (int peer : options_.peers) {
        last_heard_[peer] = now;
        last_sent_[peer] = Clock::time_point{}; // a heartbeat goes at once: the peer knows we are up
    }
    thread_ = std::thread([this] { main(); });
}

Comm::~Comm() {
    stop();
    if (thread_.joinable()) thread_.join();
}

void Comm::post(int dest, int tag, Bytes message) {
    check_message_size(message.size(), "a message"); // the senders check first, with a better name
    {
        std::lock_guard lock(mutex_);
        outbox_.push_back(Outgoing{dest, tag, std::move(message)});
    }
    posted_.notify_one();
}

void Comm::stop(std::chrono::milliseconds flush) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        stopping_ = true;
        flush_deadline_ = Clock::now() + flush;
    }
    posted_.notify_one();
}

bool Comm::send_posted() {
    std::deque<Outgoing> batch;
    {
        std::lock_guard lock(mutex_);
        batch.swap(outbox_);
    }
    const auto now = Clock::now();
    for (auto& out : batch) {
        InFlight sent;
        sent.message = std::move(out.message);
        sent.request = world_.isend(out.dest, out.tag, sent.message.data(),
                                    static_cast<int>(sent.message.size()));
        sending_.push_back(std::move(sent));
        last_sent_[out.dest] = now;
    }
    return !batch.empty();
}

bool Comm::complete_sends() {
    const std::size_t before = sending_.size();
    std::erase_if(sending_, [](InFlight& sent) { return sent.request.test().has_value(); });
    return sending_.size() != before;
}

bool Comm::receive_arrived() {
    int received = 0;
    while (received < receive_batch) {
        auto status = world_.iprobe(boost::mpi::any_source, boost::mpi::any_tag);
        if (!status) break;
        const int size = status->count<char>().value_or(0);
        Bytes message(static_cast<std::size_t>(size));
        world_.recv(status->source(), status->tag(), message.data(), size);
        ++received;
        last_heard_[status->source()] = Clock::now();
        if (status->tag() != tag_heartbeat) on_message_(status->source(), status->tag(), std::move(message));
    }
    return received > 0;
}

void Comm::keep_alive() {
    const auto now = Clock::now();
    for (int peer : options_.peers) {
        if (reported_silent_[peer]) continue; // given up: a dead peer would never take more
        if (now - last_sent_[peer] >= options_.heartbeat) post(peer, tag_heartbeat, Bytes(1));
        if (now - last_heard_[peer] >= options_.silence) {
            reported_silent_[peer] = true;
            on_silent_(peer);
        }
    }
}

void Comm::idle(std::chrono::microseconds interval) {
    std::unique_lock lock(mutex_);
    posted_.wait_for(lock, interval, [&] { return !outbox_.empty() || stopping_; });
}

void Comm::main() {
    auto last_activity = Clock::now();
    try {
        for (;;) {
            const bool active = send_posted() | complete_sends() | receive_arrived();
            keep_alive();
            const auto now = Clock::now();
            {
                std::lock_guard lock(mutex_);
                if (stopping_ && outbox_.empty() && (sending_.empty() || now >= flush_deadline_)) break;
            }
            if (active) {
                last_activity = now;
                continue;
            }
            const auto quiet = std::chrono::duration_cast<std::chrono::microseconds>(now - last_activity);
            if (quiet < keep_polling) {
                std::this_thread::yield();
                continue;
            }
            // Sleep about a quarter of the quiet time so far: a fresh lull is polled often, a
            // long one rarely (at most max_poll_interval between looks).
            idle(std::clamp(quiet / 4, std::chrono::microseconds(20), options_.max_poll_interval));
        }
    } catch (const std::exception& e) {
        // An MPI error (Boost.MPI throws for every failed call): nothing more can be said to
        // anyone, so every peer is reported, which fails what waits on them.
        std::fprintf(stderr, "isolates: MPI communication on rank %d failed: %s\n", rank_, e.what());
        for (int peer : options_.peers)
            if (!std::exchange(reported_silent_[peer], true)) on_silent_(peer);
    }
    for (auto& sent : sending_) abandoned_sends().push_back(std::move(sent.message));
    sending_.clear();
}

} // namespace isolates::cluster::detail
