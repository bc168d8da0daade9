// A worker executable that speaks the worker protocol without Python, answering each request as
// its target says, so tests can make a process worker misbehave on cue. Started by the pool
// (Options::worker_executable) as `scripted_worker --isolates-worker LINK`:
//   init                the usual reply (nothing runs)
//   "scripted:echo"     its first argument back (None without one)
//   "scripted:garbage"  bytes that are no reply frame
//   "scripted:truncated" the first half of a good reply's frame
//   "scripted:wrong_seq" a good reply numbered for a request not sent yet
// Exits 0 on an exit request or a closed link, 3 when its host went away.

#include <unistd.h>

#include <cstdio>
#include <exception>
#include <string_view>
#include <vector>

#include <isolates/process/worker_protocol.h>
#include "process/detail/shm_link.h"
#include "tests/support/far_end_link.h"

using namespace isolates;
using namespace isolates::detail;

namespace {

/// The frame that answers `request` as its target asks.
std::vector<std::byte> answer(const worker_protocol::Request& request) {
    worker_protocol::Reply reply;
    reply.seq = request.seq;
    std::vector<std::byte> frame;
    if (request.text == "scripted:garbage") {
        const std::string_view text = "not a reply frame";
        for (char c : text) frame.push_back(static_cast<std::byte>(c));
        return frame;
    }
    if (request.text == "scripted:wrong_seq") reply.seq += 5;
    if (request.op == worker_protocol::Op::call && !request.args.empty()) reply.value = request.args[0];
    worker_protocol::encode(reply, frame);
    if (request.text == "scripted:truncated") frame.resize(frame.size() / 2);
    return frame;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 3 || std::string_view(argv[1]) != "--isolates-worker") {
        std::fprintf(stderr, "usage: %s --isolates-worker LINK\n", argv[0]);
        return 2;
    }
    try {
        ShmLink link = isolates::test::open_far_end(argv[2]);
        RingWait wait = isolates::test::while_host_lives();
        std::vector<std::byte> frame;
        for (;;) {
            const RingStatus got = link.to_worker().receive(frame, wait);
            if (got == RingStatus::closed) return 0;
            if (got != RingStatus::ok) return 3;
            const worker_protocol::Request request = worker_protocol::decode_request(frame);
            if (request.op == worker_protocol::Op::exit) return 0;
            const RingStatus sent = link.to_host().send(answer(request), wait);
            if (sent == RingStatus::closed) return 0;
            if (sent != RingStatus::ok) return 3;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "scripted_worker: %s\n", e.what());
        return 1;
    }
}
