#pragma once
// RemoteWorker: the far side of a pool worker that does not run tasks in its own interpreter but
// sends them as worker-protocol requests to something that runs them in order and answers each
// in order: a worker process (ProcessWorkerHost) or a worker of another MPI rank (cluster/). The
// pool worker's loop (pool_worker_remote.cpp) is written once against this interface.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <isolates/process/worker_protocol.h>

namespace isolates {

class RemoteWorker {
public:
    virtual ~RemoteWorker() = default;

    // The pool worker's thread only.

    enum class Sent {
        sent,  ///< on its way; its reply comes in order
        later, ///< cannot go behind the requests in flight: send it when none are
        gone,  ///< the far side has ended: nothing sent
    };
    /// Numbers (seq) and sends `request`. `behind_others`: requests are in flight. Throws
    /// ConversionError when an argument cannot cross (nothing sent).
    virtual Sent send(worker_protocol::Request& request, bool behind_others) = 0;
    /// The seq the next send() gives its request.
    virtual std::uint64_t next_seq() const noexcept = 0;
    /// The reply to the oldest request in flight, waiting until `deadline`. False when the far
    /// side ended (or was killed) and no reply is left: then end_message() says how.
    virtual bool receive(worker_protocol::Reply& reply,
                         std::chrono::steady_clock::time_point deadline) = 0;
    bool receive(worker_protocol::Reply& reply) {
        return receive(reply, std::chrono::steady_clock::time_point::max());
    }
    /// Why it ended, for the error of the request it was running (after receive() was false).
    virtual std::string end_message() = 0;
    /// Whether it still runs and its last reply said it can run more.
    virtual bool healthy() = 0;

    /// Any thread: asks that request `seq` stop: skipped if not started, else interrupted.
    /// False when `seq` is not in flight.
    virtual bool interrupt(std::uint64_t seq) noexcept = 0;
    /// Any thread: gives up on the request running (past Options::kill_after): receive() then
    /// returns the replies already there, and false after them.
    virtual void kill() noexcept = 0;
};

/// Makes the far side of pool worker `worker` (at start, and to replace one that ended). Throws
/// what stops it (the pool then breaks with its message). Called on that worker's thread.
using RemoteWorkerFactory = std::function<std::unique_ptr<RemoteWorker>(std::size_t worker)>;

} // namespace isolates
