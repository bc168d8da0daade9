#pragma once
// SpawnedProcess: one child process started with posix_spawn (never fork: the host has threads),
// holding the only write end of a "lifeline" pipe whose read end the child gets as fd 3, so the
// child sees POLLHUP there the moment this process dies, however it dies.

#include <sys/types.h>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

namespace isolates::detail {

class SpawnedProcess {
public:
    /// The child's descriptor for the read end of its lifeline.
    static constexpr int lifeline_fd = 3;

    /// Starts `executable` with `args` (argv[1]...) and this process's environment. Throws
    /// UsageError naming the executable when it cannot be started (missing, not executable).
    SpawnedProcess(const std::string& executable, const std::vector<std::string>& args);
    /// Kills the child if it still runs (SIGKILL) and reaps it.
    ~SpawnedProcess();
    SpawnedProcess(const SpawnedProcess&) = delete;
    SpawnedProcess& operator=(const SpawnedProcess&) = delete;

    pid_t pid() const noexcept { return pid_; }
    /// Any thread: whether the child still runs; reaps it (recording how it ended) when it ended.
    bool running();
    /// Any thread: SIGKILL, unless it was reaped already (its pid may be someone else's by then).
    void kill() noexcept;
    /// Blocks up to `timeout` for the child to end; true once it has (and is reaped).
    bool wait_for(std::chrono::milliseconds timeout);
    /// How the child ended ("exited with status 3", "was killed by signal 9 (SIGKILL)"); empty
    /// while it runs.
    std::string describe_end() const;

private:
    bool reap(int flags);

    pid_t pid_ = -1;
    int lifeline_ = -1; // the write end; closing it (or dying) tells the child
    mutable std::mutex mutex_;
    bool reaped_ = false; // guarded by mutex_
    int status_ = 0;      // guarded by mutex_; waitpid's status once reaped
};

} // namespace isolates::detail
