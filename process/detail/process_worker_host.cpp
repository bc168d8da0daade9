#include "process/detail/process_worker_host.h"

#include <isolates/base/impl/futex.h>
#include <isolates/process/errors.h>

namespace isolates::detail {

using worker_protocol::Op;
using worker_protocol::Reply;
using worker_protocol::Request;
using Clock = std::chrono::steady_clock;

ProcessWorkerHost::ProcessWorkerHost(const Options& options)
    : link_(ShmLink::create(options.ring_bytes)),
      process_(options.executable.empty() ? default_worker_executable() : options.executable,
               {"--isolates-worker", link_.name()}),
      // Requests queued behind others stay small enough that all of them fit in the ring at
      // once: the host never blocks sending while the worker blocks sending it a reply.
      pipelined_frame_limit_(link_.to_worker().capacity() / (2 * ShmLink::skip_slots)) {
    Request init;
    init.op = Op::init;
    init.text = options.init_source;
    init.args = worker_protocol::pack(options.init);
    Reply reply = start(init, Clock::now() + options.start_timeout);
    if (reply.error) std::rethrow_exception(reply.error);
}

ProcessWorkerHost::~ProcessWorkerHost() {
    if (!killed_.load() && process_.running()) {
        Request exit;
        exit.op = Op::exit;
        encode(exit, frame_);
        link_.to_worker().send(frame_, wait_while_alive(Clock::now() + std::chrono::seconds(1)));
    }
    link_.to_worker().close();
    if (!process_.wait_for(std::chrono::seconds(1))) process_.kill();
    // ~SpawnedProcess reaps it.
}

RingWait ProcessWorkerHost::wait_while_alive(Clock::time_point deadline) {
    RingWait wait;
    wait.deadline = deadline;
    wait.keep_waiting = [this] { return !killed_.load(std::memory_order_relaxed) && process_.running(); };
    wait.poll = std::chrono::milliseconds(20);
    return wait;
}

Reply ProcessWorkerHost::start(Request& init, Clock::time_point deadline) {
    init.seq = next_seq_++;
    sent_.store(init.seq);
    encode(init, frame_);
    Reply reply;
    if (link_.to_worker().send(frame_, wait_while_alive(deadline)) == RingStatus::ok &&
        receive(reply, deadline))
        return reply;
    if (failure_.empty()) failure_ = "while it started";
    throw WorkerProcessError(end_message());
}

ProcessWorkerHost::Sent ProcessWorkerHost::send(Request& request, bool behind_others) {
    if (killed_.load() || !process_.running()) return Sent::gone;
    request.seq = next_seq_;
    request.ack = answered_.load(std::memory_order_relaxed);
    encode(request, frame_); // throws ConversionError for what cannot cross: nothing sent
    if (behind_others && frame_.size() > pipelined_frame_limit_) return Sent::later;
    ++next_seq_;
    sent_.store(request.seq); // before it can run: interrupt() must find it in flight
    if (link_.to_worker().send(frame_, wait_while_alive()) != RingStatus::ok) return Sent::gone;
    return Sent::sent;
}

bool ProcessWorkerHost::receive(Reply& reply, Clock::time_point deadline) {
    if (link_.to_host().receive(frame_, wait_while_alive(deadline)) != RingStatus::ok) return false;
    try {
        reply = worker_protocol::decode_reply(frame_);
    } catch (const ConversionError& e) {
        failure_ = std::string("after a malformed reply (") + e.what() + ")";
        kill();
        return false;
    }
    if (reply.seq != answered_.load() + 1) {
        failure_ = "after a reply to another request";
        kill();
        return false;
    }
    answered_.store(reply.seq);
    healthy_ = reply.healthy;
    return true;
}

void ProcessWorkerHost::give_up() noexcept {
    killed_.store(true);
    // Wakes the pool worker's thread if it sleeps in the rings.
    link_.to_worker().close();
    link_.to_host().close();
}

std::string ProcessWorkerHost::end_message() {
    give_up();
    if (!process_.wait_for(std::chrono::milliseconds(200))) {
        process_.kill();
        process_.wait_for(std::chrono::seconds(5));
    }
    const std::string how = process_.describe_end();
    return "worker process " + std::to_string(process_.pid()) + " " +
           (how.empty() ? std::string("stopped answering") : how) + " " +
           (failure_.empty() ? std::string("before it replied") : failure_);
}

bool ProcessWorkerHost::healthy() { return healthy_ && !killed_.load() && process_.running(); }

bool ProcessWorkerHost::interrupt(std::uint64_t seq) noexcept {
    if (seq == 0 || seq <= answered_.load() || seq > sent_.load()) return false;
    link_.skip_slot(seq).store(seq);
    link_.control().store(worker_protocol::interrupt_word(seq, interrupts_.fetch_add(1) + 1));
    base::futex_wake(link_.control(), 1, /*shared=*/true);
    return true;
}

void ProcessWorkerHost::kill() noexcept {
    process_.kill();
    give_up();
}

} // namespace isolates::detail

namespace isolates {

std::unique_ptr<RemoteWorker> start_process_worker(const ProcessWorkerOptions& options) {
    return std::make_unique<detail::ProcessWorkerHost>(options);
}

} // namespace isolates
