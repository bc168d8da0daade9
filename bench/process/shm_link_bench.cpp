// Round-trip latency of a small frame between two processes over a process link (ShmLink: a
// FrameRing each way in shared memory, shared futexes), beside the reference a link could have
// been: a pair of pipes between the same two processes. Both sides awake (one round trip right
// after the other) is the case the rings are built for; the echo process is this program,
// started again with --echo (posix_spawn).
//
// usage: shm_link_bench --json FILE --python PYTHON_EXE [--quick|--smoke] [--frame BYTES]
//                       [--trips N] [--repeats R]
// prints a table; medians over R repeats of N round trips each (20,000 x 9 by default), the link's
// repeats first, then the pipes'. --python is accepted for bench/run_all.sh: the reference here
// is the pipes, not a CPython.

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "bench/command_line.h"
#include "bench/figures.h"
#include "process/detail/shm_link.h"

extern char** environ;

using namespace isolates::detail;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int pipe_in = 3, pipe_out = 4; // the echo process's pipe ends

bool read_all(int fd, std::byte* bytes, std::size_t size) {
    for (std::size_t done = 0; done < size;) {
        const ssize_t n = ::read(fd, bytes + done, size - done);
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

bool write_all(int fd, const std::byte* bytes, std::size_t size) {
    for (std::size_t done = 0; done < size;) {
        const ssize_t n = ::write(fd, bytes + done, size - done);
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

/// The echo process: frames from the link back until it closes, then `frame_size`-byte
/// messages from the pipe back until it ends.
int echo(const std::string& name, std::size_t frame_size) {
    ShmLink link = ShmLink::open(name);
    link.remove_name();
    std::vector<std::byte> frame;
    while (link.to_worker().receive(frame) == RingStatus::ok)
        if (link.to_host().send(frame) != RingStatus::ok) break;
    frame.resize(frame_size);
    while (read_all(pipe_in, frame.data(), frame_size) && write_all(pipe_out, frame.data(), frame_size)) {}
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    // The echo process is this program started again; it never sees the common command line.
    if (argc == 4 && std::string(argv[1]) == "--echo") return echo(argv[2], std::strtoul(argv[3], nullptr, 10));
    std::string frame_text = "64", trips_text, repeats_text;
    const auto line = isolates::bench::parse_command_line(
        argc, argv, {{"--frame", &frame_text}, {"--trips", &trips_text}, {"--repeats", &repeats_text}});
    if (!line) return 2;
    const std::size_t frame_size = std::strtoul(frame_text.c_str(), nullptr, 10);
    const int trips = trips_text.empty() ? line->sized(20000, 5000, 200) : std::atoi(trips_text.c_str());
    const int repeats = repeats_text.empty() ? line->sized(9, 5, 3) : std::atoi(repeats_text.c_str());
    if (frame_size == 0 || trips <= 0 || repeats <= 0) {
        std::fprintf(stderr, "%s: --frame, --trips and --repeats take positive numbers\n", argv[0]);
        return 2;
    }
    const std::string json_path = line->json_path;

    ShmLink link = ShmLink::create(1 << 16);
    int to_echo[2], from_echo[2];
    if (::pipe(to_echo) != 0 || ::pipe(from_echo) != 0) return 1;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_echo[0], pipe_in);
    posix_spawn_file_actions_adddup2(&actions, from_echo[1], pipe_out);
    const std::string self = "/proc/self/exe", size_text = std::to_string(frame_size);
    char* child_argv[] = {const_cast<char*>(self.c_str()), const_cast<char*>("--echo"),
                          const_cast<char*>(link.name().c_str()), const_cast<char*>(size_text.c_str()), nullptr};
    pid_t pid = 0;
    if (::posix_spawn(&pid, self.c_str(), &actions, nullptr, child_argv, environ) != 0) return 1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(to_echo[0]);
    ::close(from_echo[1]);

    std::vector<std::byte> out(frame_size, std::byte{0x5a}), in;
    auto shm_trips = [&] {
        const auto start = Clock::now();
        for (int i = 0; i < trips; ++i)
            if (link.to_worker().send(out) != RingStatus::ok || link.to_host().receive(in) != RingStatus::ok) std::exit(1);
        return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / trips;
    };
    // The pipe reference can only run once the echo process has left the link: the two are
    // measured in turn, the link's repeats first, the pipe's after.
    std::vector<double> shm, pipe;
    shm_trips(); // warm-up: the echo process has mapped the link, pages are touched
    for (int r = 0; r < repeats; ++r) shm.push_back(shm_trips());
    link.to_worker().close();
    in.resize(frame_size);
    auto pipe_trips = [&] {
        const auto start = Clock::now();
        for (int i = 0; i < trips; ++i)
            if (!write_all(to_echo[1], out.data(), frame_size) || !read_all(from_echo[0], in.data(), frame_size)) std::exit(1);
        return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / trips;
    };
    pipe_trips();
    for (int r = 0; r < repeats; ++r) pipe.push_back(pipe_trips());
    ::close(to_echo[1]);
    ::close(from_echo[0]);
    ::waitpid(pid, nullptr, 0);

    isolates::bench::Figures figures;
    const double shm_median = figures.add("shm_link_round_trip_us", shm);
    const double pipe_median = figures.add("pipe_round_trip_us", pipe);
    figures.note("pipe_round_trip_us", "measured after the link's rounds, not interleaved: the echo "
                                       "process serves the pipes once it has left the link");
    std::printf("%-44s %10s %14s\n", "round trip host -> process -> host", "median", "min-max");
    std::printf("%-44s %10.2f %14s\n", ("ShmLink, " + size_text + "-byte frame (us)").c_str(), shm_median,
                figures.spread_text("shm_link_round_trip_us", "%.2f").c_str());
    std::printf("%-44s %10.2f %14s\n", ("two pipes, " + size_text + "-byte message (us)").c_str(), pipe_median,
                figures.spread_text("pipe_round_trip_us", "%.2f").c_str());
    std::printf("(%d repeats of %d round trips each; the pipes %s)%s\n", repeats, trips,
                figures.note_of("pipe_round_trip_us").c_str(), line->title_note());
    if (!json_path.empty()) {
        std::ofstream json(json_path);
        figures.write_json(json, "none (no CPython in this program)");
        json.close();
        if (!json) {
            std::fprintf(stderr, "cannot write %s\n", json_path.c_str());
            return 1;
        }
    }
    return 0;
}
