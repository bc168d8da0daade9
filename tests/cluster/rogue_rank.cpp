#include "tests/cluster/rogue_rank.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/mpi/communicator.hpp>

#include <isolates/interp/value.h>
#include <isolates/interp/wire.h>
#include <isolates/process/worker_protocol.h>
#include "cluster/detail/comm.h"
#include "cluster/detail/frame_header.h"

namespace isolates::test {

namespace {
namespace cd = isolates::cluster::detail;

/// The answer to one tag_request message, as rogue_rank.h lists.
cd::Bytes answer(const cd::Bytes& message) {
    std::size_t at = 0;
    const auto slot = cd::get_uint(message, at, 4);
    cd::get_uint(message, at, 4); // the local worker: there is one
    const auto seq = cd::get_uint(message, at, 8);
    const worker_protocol::Request request = worker_protocol::decode_request(cd::frame_after(message, at));
    if (request.text == "__main__:truncated_reply") return cd::Bytes{'\x01', '\x02'};
    cd::Bytes out;
    cd::put_uint(out, slot, 4);
    if (request.text == "__main__:garbage_reply") {
        for (char c : std::string_view("not a reply frame")) out.push_back(c);
        return out;
    }
    worker_protocol::Reply reply;
    reply.seq = seq;
    reply.value = Value::str(request.text);
    std::vector<std::byte> frame;
    worker_protocol::encode(reply, frame);
    cd::put_frame(out, frame);
    return out;
}
} // namespace

int serve_as_rogue(const MpiPoolExecutor::Options& options) {
    std::mutex mutex;
    std::condition_variable arrived;
    std::deque<std::pair<int, cd::Bytes>> inbox; // guarded by mutex
    bool client_silent = false;                   // guarded by mutex
    cd::Comm::Options comm_options;
    comm_options.peers = {options.root};
    comm_options.heartbeat = options.heartbeat;
    comm_options.silence = options.rank_timeout;
    cd::Comm comm(
        boost::mpi::communicator(), comm_options,
        [&](int, int tag, cd::Bytes&& message) {
            std::lock_guard lock(mutex);
            inbox.emplace_back(tag, std::move(message));
            arrived.notify_one();
        },
        [&](int) {
            std::lock_guard lock(mutex);
            client_silent = true;
            arrived.notify_one();
        });
    for (;;) {
        std::pair<int, cd::Bytes> next;
        {
            std::unique_lock lock(mutex);
            arrived.wait(lock, [&] { return !inbox.empty() || client_silent; });
            if (inbox.empty()) break;
            next = std::move(inbox.front());
            inbox.pop_front();
        }
        const auto& [tag, message] = next;
        if (tag == cd::tag_config) {
            cd::Bytes ready;
            cd::put_frame(ready, wire::encode(Value::tuple({Value::integer(1), Value::str("rogue")})));
            comm.post(options.root, cd::tag_ready, std::move(ready));
        } else if (tag == cd::tag_request) {
            comm.post(options.root, cd::tag_reply, answer(message));
        } else if (tag == cd::tag_shutdown) {
            comm.post(options.root, cd::tag_done, cd::Bytes(1));
            break;
        }
    }
    comm.stop();
    return 0;
}

} // namespace isolates::test
