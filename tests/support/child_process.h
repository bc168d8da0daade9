#pragma once
// Helpers for tests that need a second process (shared-memory segments seen from another process,
// a process that dies without cleaning up, a probe program that needs a fresh CPython).

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "tests/support/doctest.h"

namespace isolates::testing {

/// Whether a POSIX shared-memory segment of that name exists.
inline bool segment_exists(const std::string& name) {
    return std::filesystem::exists("/dev/shm/" + name);
}

/// A forked child and everything it wrote to its output pipe.
struct Child {
    pid_t pid;
    std::string output;
};

/// Forks a child that runs `body(out_fd)` and exits (status 1 if body threw); returns once the
/// child has closed `out_fd` (by returning, or early by closing it itself), with what it wrote.
/// The child is not waited for: wait_for_exit(), or kill it first.
template <class Body> Child fork_child(Body body) {
    int out[2];
    REQUIRE(::pipe(out) == 0);
    // Buffered output would otherwise be written twice, once by the child.
    std::cout.flush();
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(out[0]);
        try {
            body(out[1]);
        } catch (...) {
            ::_exit(1);
        }
        ::_exit(0);
    }
    ::close(out[1]);
    Child child{pid, {}};
    char buffer[4096];
    for (ssize_t n; (n = ::read(out[0], buffer, sizeof buffer)) > 0;)
        child.output.append(buffer, static_cast<std::size_t>(n));
    ::close(out[0]);
    return child;
}

/// Writes all of `text` to `fd` (in a child; errors show as missing output in the parent).
inline void write_all(int fd, const std::string& text) {
    for (std::size_t done = 0; done < text.size();) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

/// What a command printed (stdout and stderr) and its wait status (-1 if it could not start).
struct CommandResult {
    int status = -1;
    std::string output;
};

/// Runs `command` through sh, stderr joined to stdout, under `timeout 120`: a hang fails the
/// test instead of stalling the suite. Returns once the command ended.
inline CommandResult run_command(const std::string& command) {
    const std::string line = "timeout 120 " + command + " 2>&1";
    std::fflush(nullptr);
    CommandResult result;
    FILE* pipe = ::popen(line.c_str(), "r");
    if (!pipe) return result;
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) result.output.append(buffer, n);
    result.status = ::pclose(pipe);
    return result;
}

/// Waits for the child; returns its wait status.
inline int wait_for_exit(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
}

} // namespace isolates::testing
