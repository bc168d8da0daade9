// process_worker_main: the worker's side of a process worker (process/detail/process_worker_host.h
// is the host's). The main thread makes the Runtime and serves requests one at a time, in order,
// in an Interpreter on the main interpreter (one the host marked to skip is answered unrun); a
// watcher thread turns the host's interrupt requests into KeyboardInterrupt in the call they
// name, and ends the process when the host dies.

#include <isolates/process/process_worker.h>

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

#include <isolates/base/impl/futex.h>
#include <isolates/interp/interpreter.h>
#include <isolates/interp/runtime.h>
#include <isolates/process/worker_protocol.h>
#include "base/shm_segment.h"
#include "process/detail/shm_link.h"
#include "process/detail/spawned_process.h"

namespace isolates {

namespace {

using worker_protocol::Op;
using worker_protocol::Reply;
using worker_protocol::Request;

/// Whether the host still holds the write end of our lifeline.
bool host_alive() noexcept {
    pollfd lifeline{detail::SpawnedProcess::lifeline_fd, POLLIN, 0};
    return ::poll(&lifeline, 1, 0) == 0;
}

/// The host died: nobody will read our replies. Our own shared-memory segments would outlive us
/// (until a later isolates process sweeps them), so remove them first.
[[noreturn]] void end_orphaned() {
    detail::remove_own_segments();
    ::_exit(0);
}

/// What the watcher needs to know of the request being served; `mutex` makes "is seq still
/// running" and the interrupt one step, so an interrupt never lands in the next request.
struct Serving {
    std::mutex mutex;
    Interpreter* interpreter = nullptr; // guarded by mutex
    std::uint64_t seq = 0;              // guarded by mutex
};

/// The watcher thread's loop: sleeps on the control word (waking every 100 ms to check the
/// host), interrupts the request it names.
void watch(detail::ShmLink& link, Serving& serving, const std::atomic<bool>& done) {
    std::uint32_t seen = link.control().load();
    while (!done.load()) {
        base::futex_wait(link.control(), seen, std::chrono::milliseconds(100), /*shared=*/true);
        if (!host_alive()) end_orphaned();
        const std::uint32_t word = link.control().load();
        if (word == seen) continue;
        seen = word;
        std::lock_guard lock(serving.mutex);
        if (serving.interpreter && worker_protocol::interrupts(word, serving.seq))
            serving.interpreter->interrupt("KeyboardInterrupt");
    }
}

detail::RingWait while_host_alive() {
    detail::RingWait wait;
    wait.keep_waiting = host_alive;
    wait.poll = std::chrono::milliseconds(100);
    return wait;
}

/// Sets up the interpreter as the pool asked (init request) and serves until told to stop.
int serve_link(detail::ShmLink& link) {
    std::vector<std::byte> frame;
    if (link.to_worker().receive(frame, while_host_alive()) != detail::RingStatus::ok) return 1;
    Request init = worker_protocol::decode_request(frame);
    if (init.op != Op::init) {
        std::fprintf(stderr, "isolates worker: the first request is not init\n");
        return 3;
    }
    const worker_protocol::InitArgs args = worker_protocol::unpack_init(init.args);

    Runtime::Options runtime_options;
    runtime_options.sys_path = args.runtime_sys_path;
    runtime_options.venv = args.venv;
    std::optional<Runtime> runtime;
    Reply init_reply;
    init_reply.seq = init.seq;
    try {
        runtime.emplace(runtime_options);
    } catch (...) {
        init_reply.error = std::current_exception();
        worker_protocol::encode(init_reply, frame);
        link.to_host().send(frame, while_host_alive());
        return 1;
    }

    Serving serving;
    std::atomic<bool> done{false};
    std::thread watcher([&] { watch(link, serving, done); });
    int status = 0;
    {
        Interpreter::Options options;
        options.main_interpreter = true;
        options.sys_path = args.sys_path;
        std::optional<Interpreter> in;
        try {
            in.emplace(options);
            for (const auto& module : args.init_modules) in->import_module(module);
            if (!init.text.empty()) in->exec(init.text);
        } catch (...) {
            init_reply.error = std::current_exception();
            status = 1;
        }
        worker_protocol::encode(init_reply, frame);
        if (link.to_host().send(frame, while_host_alive()) != detail::RingStatus::ok) status = 1;

        // Replies sent and not yet acknowledged: their Values (shared-memory buffers) live until
        // the host says it decoded them.
        std::deque<Reply> unacknowledged;
        bool healthy = status == 0 && in->healthy(); // as the last request left it
        while (status == 0) {
            if (link.to_worker().receive(frame, while_host_alive()) != detail::RingStatus::ok) break;
            Request request = worker_protocol::decode_request(frame);
            while (!unacknowledged.empty() && unacknowledged.front().seq <= request.ack)
                unacknowledged.pop_front();
            if (request.op == Op::exit) break;
            {
                std::lock_guard lock(serving.mutex);
                serving.interpreter = &*in;
                serving.seq = request.seq;
            }
            // After `serving` names it, so a cancel that comes after this check interrupts it.
            const bool skip = link.skip_slot(request.seq).load() == request.seq || !healthy;
            Reply reply;
            if (skip) {
                reply.seq = request.seq;
                reply.ran = false;
            } else {
                reply = worker_protocol::run(*in, request);
            }
            {
                std::lock_guard lock(serving.mutex);
                serving.interpreter = nullptr;
                serving.seq = 0;
            }
            reply.healthy = healthy = in->healthy();
            worker_protocol::encode(reply, frame);
            if (link.to_host().send(frame, while_host_alive()) != detail::RingStatus::ok) break;
            unacknowledged.push_back(std::move(reply));
        }
    }
    done.store(true);
    base::futex_wake(link.control(), 1, /*shared=*/true);
    watcher.join();
    return status;
}

} // namespace

int process_worker_main(int argc, char** argv) {
    if (argc != 3 || std::string_view(argv[1]) != "--isolates-worker") {
        std::fprintf(stderr,
                     "usage: %s --isolates-worker <link>\n"
                     "  an isolates process worker: InterpreterPoolExecutor starts it; it is not "
                     "run by hand\n",
                     argc > 0 ? argv[0] : "isolates-worker");
        return 2;
    }
    // Ctrl-C in a terminal reaches the whole process group: the host decides what happens to
    // its tasks, and ends us through the lifeline if it dies of it.
    ::signal(SIGINT, SIG_IGN);
    try {
        detail::ShmLink link = detail::ShmLink::open(argv[2]);
        link.remove_name(); // mapped by both sides now: nothing is left behind if both die
        return serve_link(link);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "isolates worker: %s\n", e.what());
        return 1;
    }
}

} // namespace isolates
