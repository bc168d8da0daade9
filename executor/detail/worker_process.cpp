#include "executor/detail/worker_process.h"

#include "base/futex.h"
#include "executor/errors.h"

namespace isolates::detail {

using worker_protocol::Op;
using worker_protocol::Reply;
using worker_protocol::Request;
using Clock = std::chrono::steady_clock;

WorkerProcess::WorkerProcess(const Options& options)
    : link_(ShmLink::create(options.ring_bytes)),
      process_(options.executable, {"--isolates-worker", link_.name()}) {
    Request init;
    init.op = Op::init;
    init.text = options.init_source;
    init.args = worker_protocol::pack(options.init);
    Reply reply = round_trip(init, Clock::now() + options.start_timeout);
    if (reply.error) std::rethrow_exception(reply.error);
}

WorkerProcess::~WorkerProcess() {
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

RingWait WorkerProcess::wait_while_alive(Clock::time_point deadline) {
    RingWait wait;
    wait.deadline = deadline;
    wait.keep_waiting = [this] { return !killed_.load(std::memory_order_relaxed) && process_.running(); };
    wait.poll = std::chrono::milliseconds(20);
    return wait;
}

void WorkerProcess::died(std::string_view while_doing) {
    killed_.store(true);
    link_.to_worker().close();
    link_.to_host().close();
    if (!process_.wait_for(std::chrono::milliseconds(200))) {
        process_.kill();
        process_.wait_for(std::chrono::seconds(5));
    }
    const std::string how = process_.describe_end();
    throw WorkerProcessError("worker process " + std::to_string(process_.pid()) + " " +
                             (how.empty() ? std::string("stopped answering") : how) + " " +
                             std::string(while_doing));
}

Reply WorkerProcess::round_trip(Request& request, Clock::time_point deadline) {
    const std::string_view doing = request.op == Op::init ? "while it started" : "before it replied";
    if (killed_.load() || !process_.running()) died(doing);
    request.seq = next_seq_++;
    encode(request, frame_); // throws ConversionError for what cannot cross: nothing sent
    in_flight_.store(request.seq);
    struct Clear {
        std::atomic<std::uint64_t>& in_flight;
        ~Clear() { in_flight.store(0); }
    } clear{in_flight_};
    if (link_.to_worker().send(frame_, wait_while_alive(deadline)) != RingStatus::ok) died(doing);
    if (link_.to_host().receive(frame_, wait_while_alive(deadline)) != RingStatus::ok) died(doing);
    Reply reply;
    try {
        reply = worker_protocol::decode_reply(frame_);
    } catch (const ConversionError& e) {
        process_.kill();
        died(std::string("after a malformed reply (") + e.what() + ")");
    }
    if (reply.seq != request.seq) {
        process_.kill();
        died("after a reply to another request");
    }
    healthy_ = reply.healthy;
    return reply;
}

namespace {
Request call_request(Op op, std::string_view target, std::span<const Value> args,
                     std::span<const std::pair<std::string, Value>> kwargs) {
    Request request;
    request.op = op;
    request.text = target;
    request.args.assign(args.begin(), args.end());
    request.kwargs.assign(kwargs.begin(), kwargs.end());
    return request;
}
} // namespace

Value WorkerProcess::call_with(std::string_view target, std::span<const Value> args,
                               std::span<const std::pair<std::string, Value>> kwargs) {
    Request request = call_request(Op::call, target, args, kwargs);
    Reply reply = round_trip(request);
    if (reply.error) std::rethrow_exception(reply.error);
    return std::move(reply.value);
}

void WorkerProcess::call_void(std::string_view target, std::span<const Value> args,
                              std::span<const std::pair<std::string, Value>> kwargs) {
    Request request = call_request(Op::call_void, target, args, kwargs);
    if (Reply reply = round_trip(request); reply.error) std::rethrow_exception(reply.error);
}

Interpreter::EachResult WorkerProcess::call_each(std::string_view target, std::span<const Value> items,
                                                 bool unpack) {
    Request request = call_request(Op::call_each, target, items, {});
    request.flag = unpack;
    Reply reply = round_trip(request);
    // None: the call itself failed (the target cannot be resolved); a tuple: the items' results
    // before the failing item, if one failed.
    if (reply.value.is_none() && reply.error) std::rethrow_exception(reply.error);
    return {std::move(reply.value), reply.error};
}

void WorkerProcess::exec(std::string_view source) {
    Request request = call_request(Op::exec, source, {}, {});
    if (Reply reply = round_trip(request); reply.error) std::rethrow_exception(reply.error);
}

void WorkerProcess::import_module(std::string_view name) {
    Request request = call_request(Op::import_module, name, {}, {});
    if (Reply reply = round_trip(request); reply.error) std::rethrow_exception(reply.error);
}

bool WorkerProcess::interrupt() noexcept {
    const std::uint64_t seq = in_flight_.load();
    if (seq == 0) return false;
    link_.control().store(worker_protocol::interrupt_word(seq, interrupts_.fetch_add(1) + 1));
    base::futex_wake(link_.control(), 1, /*shared=*/true);
    return true;
}

void WorkerProcess::kill() noexcept {
    killed_.store(true);
    process_.kill();
    // Wakes the pool worker's thread if it sleeps in the rings.
    link_.to_worker().close();
    link_.to_host().close();
}

bool WorkerProcess::healthy() { return healthy_ && !killed_.load() && process_.running(); }

} // namespace isolates::detail
