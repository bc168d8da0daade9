#pragma once
// WorkerProcess: the host's side of one process worker. It starts the worker executable, which
// embeds this same libpython and runs what it is sent in its main interpreter (where extensions
// that refuse sub-interpreters load), and talks to it through a shared-memory link: one request
// frame out, one reply frame back. Its calls have Interpreter's names and signatures, so a task
// body runs on either kind of worker.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "channels/detail/shm_link.h"
#include "executor/detail/spawned_process.h"
#include "executor/detail/worker_protocol.h"
#include "interp/interpreter.h"
#include "interp/value.h"

namespace isolates::detail {

class WorkerProcess {
public:
    struct Options {
        std::string executable;
        worker_protocol::InitArgs init;
        std::string init_source;
        /// Bytes of each ring; a larger frame goes through in pieces.
        std::size_t ring_bytes = std::size_t(1) << 20;
        /// For starting CPython, the imports and init_source.
        std::chrono::milliseconds start_timeout{120'000};
    };

    /// Starts the worker and waits until it has run its imports and init_source. Throws
    /// UsageError when the executable cannot be started, the init's PythonError when that
    /// failed, WorkerProcessError when the process died or did not start in time.
    explicit WorkerProcess(const Options& options);
    /// Asks the worker to end and waits up to a second for it, then kills it.
    ~WorkerProcess();
    WorkerProcess(const WorkerProcess&) = delete;
    WorkerProcess& operator=(const WorkerProcess&) = delete;

    // One thread (the pool worker's) makes these calls, one at a time. Each throws what the
    // worker's Interpreter threw (rebuilt: PythonError with its traceback, NotShareableError,
    // ...), ConversionError when an argument cannot cross processes, WorkerProcessError when
    // the process died (or was killed) before it replied.
    Value call_with(std::string_view target, std::span<const Value> args,
                    std::span<const std::pair<std::string, Value>> kwargs = {});
    void call_void(std::string_view target, std::span<const Value> args,
                   std::span<const std::pair<std::string, Value>> kwargs = {});
    Interpreter::EachResult call_each(std::string_view target, std::span<const Value> items,
                                      bool unpack = false);
    void exec(std::string_view source);
    void import_module(std::string_view name);

    /// Any thread: asks the worker to raise KeyboardInterrupt in the call it runs for us now;
    /// false when no call is in flight. Code blocked in C sees it only on return.
    bool interrupt() noexcept;
    /// Any thread: kills the process now (SIGKILL); the call in flight fails with
    /// WorkerProcessError, and so does every later one.
    void kill() noexcept;
    /// The pool worker's thread: whether the process still runs and its interpreter, as its
    /// last reply said, can run the next task.
    bool healthy();
    pid_t pid() const noexcept { return process_.pid(); }

private:
    worker_protocol::Reply round_trip(worker_protocol::Request& request,
                                      std::chrono::steady_clock::time_point deadline =
                                          std::chrono::steady_clock::time_point::max());
    [[noreturn]] void died(std::string_view while_doing);
    RingWait wait_while_alive(std::chrono::steady_clock::time_point deadline);

    ShmLink link_;
    SpawnedProcess process_;
    std::vector<std::byte> frame_;
    std::uint64_t next_seq_ = 1;
    std::atomic<std::uint64_t> in_flight_{0}; // seq of the request awaiting its reply, else 0
    std::atomic<std::uint32_t> interrupts_{0};
    std::atomic<bool> killed_{false};
    bool healthy_ = true;
};

} // namespace isolates::detail
