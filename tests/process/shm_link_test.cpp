// ShmLink: the shared-memory segment a host shares with one worker process (a FrameRing each way
// and a control word). The cross-process cases start tests/channels/shm_link_probe (posix_spawn,
// never a fork of this threaded binary), which echoes frames back.

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <isolates/channels/shared_buffer.h>
#include <isolates/interp/errors.h>
#include "process/detail/shm_link.h"
#include "tests/support/child_process.h"
#include "tests/support/doctest.h"
#include "tests/support/frame_bytes.h"

extern char** environ;

using namespace isolates;
using namespace isolates::detail;
using namespace std::chrono_literals;
using testing::segment_exists;

namespace {

using isolates::testing::frame_bytes;

/// A started shm_link_probe: killed and reaped when the test leaves early.
struct Probe {
    explicit Probe(const std::string& link_name) {
        const std::string path = ISOLATES_SHM_LINK_PROBE;
        char* argv[] = {const_cast<char*>(path.c_str()), const_cast<char*>(link_name.c_str()), nullptr};
        REQUIRE(::posix_spawn(&pid, path.c_str(), nullptr, nullptr, argv, environ) == 0);
    }
    ~Probe() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
    /// Whether it still runs (it is not reaped before).
    bool running() {
        int status = 0;
        if (pid <= 0) return false;
        if (::waitpid(pid, &status, WNOHANG) == 0) return true;
        exit_status = status;
        pid = -1;
        return false;
    }
    /// Its wait status, once it exited.
    int wait_for_exit() {
        if (pid > 0) {
            ::waitpid(pid, &exit_status, 0);
            pid = -1;
        }
        return exit_status;
    }
    pid_t pid = -1;
    int exit_status = -1;
};

RingWait while_running(Probe& probe, std::chrono::seconds limit = 60s) {
    RingWait wait;
    wait.deadline = std::chrono::steady_clock::now() + limit;
    wait.keep_waiting = [&probe] { return probe.running(); };
    wait.poll = 20ms;
    return wait;
}

} // namespace

TEST_SUITE("ShmLink") {

TEST_CASE("ShmLink.create_open_and_remove_name" * doctest::timeout(30)) {
    std::string name;
    {
        ShmLink host = ShmLink::create(4096);
        name = host.name();
        CHECK(name.starts_with("isolates-" + std::to_string(::getpid()) + "-"));
        CHECK(name.size() >= std::string("isolates-1-").size() + 32);
        struct stat info {};
        REQUIRE(::stat(("/dev/shm/" + name).c_str(), &info) == 0);
        CHECK((info.st_mode & 0777) == 0600);
        CHECK(host.to_worker().capacity() == 4096);

        ShmLink worker = ShmLink::open(name);
        CHECK(worker.name() == name);
        const auto hello = frame_bytes(1, 100);
        std::vector<std::byte> frame;
        REQUIRE(host.to_worker().send(hello) == RingStatus::ok);
        REQUIRE(worker.to_worker().receive(frame) == RingStatus::ok);
        CHECK(frame == hello);
        REQUIRE(worker.to_host().send(frame_bytes(2, 4000)) == RingStatus::ok);
        REQUIRE(host.to_host().receive(frame) == RingStatus::ok);
        CHECK(frame == frame_bytes(2, 4000));
        host.control().fetch_add(1);
        CHECK(worker.control().load() == 1);

        worker.remove_name();
        CHECK_FALSE(segment_exists(name));
        worker.remove_name(); // idempotent
        REQUIRE(host.to_worker().send(hello) == RingStatus::ok); // the mappings still work
        REQUIRE(worker.to_worker().receive(frame) == RingStatus::ok);
        CHECK(frame == hello);

        ShmLink moved = std::move(host);
        CHECK(moved.name() == name);
        { const ShmLink gone = std::move(worker); } // destroying one end closes both rings for the other
        CHECK(moved.to_host().closed());
        CHECK(moved.to_worker().send(hello) == RingStatus::closed);
    }
    {
        ShmLink host = ShmLink::create(100);
        name = host.name();
        CHECK(segment_exists(name));
    }
    CHECK_FALSE(segment_exists(name)); // the creator removes its name
}

TEST_CASE("ShmLink.open_refuses_a_missing_name_and_a_segment_that_is_not_a_link" * doctest::timeout(30)) {
    CHECK_THROWS_WITH_AS(ShmLink::open("isolates-1-0123456789abcdef0123456789abcdef"),
                         doctest::Contains("isolates-1-0123456789abcdef0123456789abcdef"), UsageError);
    CHECK_THROWS_AS(ShmLink::open("not-ours"), UsageError);
    CHECK_THROWS_AS(ShmLink::open("isolates-1-../etc"), UsageError);
    const SharedBuffer buffer = SharedBuffer::copy_of(std::string(4096, 'x'), SharedBuffer::Storage::shared_memory);
    CHECK_THROWS_WITH_AS(ShmLink::open(buffer.name()), doctest::Contains("is not a process link"), UsageError);
    const SharedBuffer tiny = SharedBuffer::copy_of(std::string_view("x"), SharedBuffer::Storage::shared_memory);
    CHECK_THROWS_WITH_AS(ShmLink::open(tiny.name()), doctest::Contains("is not a process link"), UsageError);
}

TEST_CASE("ShmLink.frames_make_a_round_trip_through_another_process" * doctest::timeout(120)) {
    ShmLink link = ShmLink::create(4096);
    Probe probe(link.name());
    std::vector<std::byte> frame;
    const std::vector<std::size_t> sizes = {0, 1, 17, 4088, 4096, 40000, 3, 100000, 64};
    for (int round = 0; round < 20; ++round) {
        for (std::size_t i = 0; i < sizes.size(); ++i) {
            const auto sent = frame_bytes(round * 100 + i, sizes[i]);
            REQUIRE(link.to_worker().send(sent, while_running(probe)) == RingStatus::ok);
            REQUIRE(link.to_host().receive(frame, while_running(probe)) == RingStatus::ok);
            REQUIRE(frame == sent);
        }
        if (round == 0) CHECK_FALSE(segment_exists(link.name())); // the probe removed the name
    }
    // Many small frames in flight at once, both ways (the probe sleeps and wakes on its futexes).
    std::thread sender([&] {
        for (int i = 0; i < 2000; ++i)
            if (link.to_worker().send(frame_bytes(i, i % 300), while_running(probe)) != RingStatus::ok) return;
    });
    int bad = 0;
    for (int i = 0; i < 2000; ++i)
        if (link.to_host().receive(frame, while_running(probe)) != RingStatus::ok || frame != frame_bytes(i, i % 300)) {
            ++bad;
            break;
        }
    sender.join();
    CHECK(bad == 0);
    link.to_worker().close();
    const int status = probe.wait_for_exit();
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("ShmLink.a_killed_peer_is_noticed_by_keep_waiting_not_waited_for" * doctest::timeout(60)) {
    ShmLink link = ShmLink::create(4096);
    Probe probe(link.name());
    std::vector<std::byte> frame;
    REQUIRE(link.to_worker().send(frame_bytes(0, 10), while_running(probe)) == RingStatus::ok);
    REQUIRE(link.to_host().receive(frame, while_running(probe)) == RingStatus::ok);
    ::kill(probe.pid, SIGKILL); // asleep in receive, or between calls: either way gone at once
    const auto start = std::chrono::steady_clock::now();
    CHECK(link.to_host().receive(frame, while_running(probe)) == RingStatus::gave_up);
    CHECK(std::chrono::steady_clock::now() - start < 10s);
    // A sender on a ring nobody empties gives up the same way.
    RingStatus sent = RingStatus::ok;
    for (int i = 0; i < 100 && sent == RingStatus::ok; ++i) sent = link.to_worker().send(frame_bytes(i, 1000), while_running(probe));
    CHECK(sent == RingStatus::gave_up);
    CHECK(WIFSIGNALED(probe.wait_for_exit()));
}

} // TEST_SUITE
