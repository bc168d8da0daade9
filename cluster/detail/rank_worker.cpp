#include "cluster/detail/rank_worker.h"

#include <exception>
#include <utility>

#include <isolates/interp/errors.h>
#include "cluster/detail/client_link.h"
#include "cluster/detail/frame_header.h"
#include "cluster/detail/message_size.h"

namespace isolates::cluster::detail {

namespace wp = isolates::worker_protocol;

RankWorker::RankWorker(ClientLink& link, std::uint32_t id, int rank, std::uint32_t local_worker,
                   std::string where)
    : link_(link), id_(id), rank_(rank), local_worker_(local_worker), where_(std::move(where)) {}

RankWorker::~RankWorker() { link_.forget(id_); }

RankWorker::Sent RankWorker::send(wp::Request& request, bool /*behind_others*/) {
    {
        std::lock_guard lock(mutex_);
        if (ended_) return Sent::gone;
    }
    request.seq = next_seq_;
    std::vector<std::byte> frame;
    wp::encode(request, frame); // throws ConversionError: nothing sent
    check_message_size(16 + frame.size(), "the task's request"); // throws UsageError: nothing sent
    Bytes message;
    message.reserve(16 + frame.size());
    put_uint(message, id_, 4);
    put_uint(message, local_worker_, 4);
    put_uint(message, request.seq, 8);
    put_frame(message, frame);
    ++next_seq_;
    sent_.store(request.seq); // before it can run: interrupt() must find it in flight
    link_.comm().post(rank_, tag_request, std::move(message));
    return Sent::sent;
}

bool RankWorker::receive(wp::Reply& reply, std::chrono::steady_clock::time_point deadline) {
    Bytes message;
    {
        std::unique_lock lock(mutex_);
        if (!arrived_.wait_until(lock, deadline, [&] { return !inbox_.empty() || ended_; })) return false;
        if (inbox_.empty()) return false; // ended
        message = std::move(inbox_.front());
        inbox_.pop_front();
    }
    const std::uint64_t expected = answered_.load() + 1;
    try {
        std::size_t at = 4; // the slot id, already routed on
        reply = wp::decode_reply(frame_after(message, at));
    } catch (const ConversionError& e) {
        // That task's answer is lost, not the rank: the task fails saying where and why.
        reply = wp::Reply{};
        reply.seq = expected;
        reply.error = std::make_exception_ptr(
            ConversionError("MPI " + where_ + " sent a malformed reply: " + e.what()));
    } catch (...) {
        reply = wp::Reply{};
        reply.seq = expected;
        reply.error = std::current_exception();
    }
    answered_.store(reply.seq);
    healthy_ = reply.healthy;
    return true;
}

std::string RankWorker::end_message() {
    std::lock_guard lock(mutex_);
    return why_;
}

bool RankWorker::healthy() {
    std::lock_guard lock(mutex_);
    return healthy_ && !ended_;
}

bool RankWorker::interrupt(std::uint64_t seq) noexcept {
    if (seq == 0 || seq <= answered_.load() || seq > sent_.load()) return false;
    try {
        Bytes message;
        put_uint(message, id_, 4);
        put_uint(message, seq, 8);
        link_.comm().post(rank_, tag_interrupt, std::move(message));
    } catch (...) {
        return false; // out of memory: the stop is retried
    }
    return true;
}

void RankWorker::kill() noexcept {
    end(where_ + " did not stop its task when asked to (within kill_after); that worker was given "
                 "up (it goes on until the task returns) and this pool worker moved to another slot");
}

void RankWorker::deliver(Bytes&& message) {
    {
        std::lock_guard lock(mutex_);
        if (ended_) return;
        inbox_.push_back(std::move(message));
    }
    arrived_.notify_one();
}

void RankWorker::end(std::string why) {
    {
        std::lock_guard lock(mutex_);
        if (ended_) return;
        ended_ = true;
        why_ = std::move(why);
    }
    arrived_.notify_all();
}

} // namespace isolates::cluster::detail
