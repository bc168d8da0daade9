#pragma once
// ProcessWorkerHost: the host's side of one process worker. It starts the worker executable, which
// embeds this same libpython and runs what it is sent in its main interpreter (where extensions
// that refuse sub-interpreters load), and talks to it through a shared-memory link: request
// frames out, reply frames back, in order. Several requests may be in flight at once (the pool
// worker sends short tasks ahead so the process never waits for the host between them).

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <isolates/interp/interpreter.h>
#include <isolates/interp/value.h>
#include <isolates/process/process_worker.h>
#include <isolates/process/remote_worker.h>
#include <isolates/process/worker_protocol.h>
#include "process/detail/shm_link.h"
#include "process/detail/spawned_process.h"

namespace isolates::detail {

// The requests in flight on a link stay fewer than its skip slots, so no two share one.
static_assert(max_process_prefetch == ShmLink::skip_slots - 2);

class ProcessWorkerHost final : public RemoteWorker {
public:
    using Options = ProcessWorkerOptions;

    /// Starts the worker and waits until it has run its imports and init_source. Throws
    /// UsageError when the executable cannot be started, the init's PythonError when that
    /// failed, WorkerProcessError when the process died or did not start in time.
    explicit ProcessWorkerHost(const Options& options);
    /// Asks the worker to end and waits up to a second for it, then kills it.
    ~ProcessWorkerHost();
    ProcessWorkerHost(const ProcessWorkerHost&) = delete;
    ProcessWorkerHost& operator=(const ProcessWorkerHost&) = delete;

    // The pool worker's thread only.

    using RemoteWorker::receive;
    /// Numbers (seq), acknowledges the replies received so far (ack), encodes and sends
    /// `request`; a request too large to queue behind those in flight is `later`.
    Sent send(worker_protocol::Request& request, bool behind_others) override;
    std::uint64_t next_seq() const noexcept override { return next_seq_; }
    /// Waits while the process runs; false also for a malformed reply.
    bool receive(worker_protocol::Reply& reply, std::chrono::steady_clock::time_point deadline) override;
    /// "worker process 123 was killed by signal 9 (SIGKILL)". Waits a moment for the process to end.
    std::string end_message() override;
    bool healthy() override;
    /// Interrupt: KeyboardInterrupt in the process (code blocked in C sees it only on return).
    bool interrupt(std::uint64_t seq) noexcept override;
    /// Kills the process now (SIGKILL).
    void kill() noexcept override;
    pid_t pid() const noexcept { return process_.pid(); }

private:
    /// The init request's round trip (the constructor); throws WorkerProcessError on death.
    worker_protocol::Reply start(worker_protocol::Request& init, std::chrono::steady_clock::time_point deadline);
    /// No more requests or replies: closes both rings (waking a wait in them).
    void give_up() noexcept;
    RingWait wait_while_alive(std::chrono::steady_clock::time_point deadline =
                                  std::chrono::steady_clock::time_point::max());

    ShmLink link_;
    SpawnedProcess process_;
    std::vector<std::byte> frame_;
    std::size_t pipelined_frame_limit_; // larger requests go only when none are in flight
    std::uint64_t next_seq_ = 1;
    std::atomic<std::uint64_t> sent_{0};     // the last seq sent
    std::atomic<std::uint64_t> answered_{0}; // the last seq whose reply was received
    std::atomic<std::uint32_t> interrupts_{0};
    std::atomic<bool> killed_{false};
    std::string failure_; // why receive() gave up on a live process (a malformed reply)
    bool healthy_ = true;
};

} // namespace isolates::detail
