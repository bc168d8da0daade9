#include "process/detail/spawned_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

#include <isolates/interp/errors.h>

extern char** environ;

namespace isolates::detail {

namespace {
/// A descriptor closed at the end of scope.
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};
} // namespace

SpawnedProcess::SpawnedProcess(const std::string& executable, const std::vector<std::string>& args) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
        throw UsageError(std::string("cannot make a pipe for a worker process: ") + std::strerror(errno));
    Fd write_end{pipe_fds[1]};
    // dup2 onto lifeline_fd clears close-on-exec only when the two differ: keep the read end off 3.
    Fd read_end{::fcntl(pipe_fds[0], F_DUPFD_CLOEXEC, 10)};
    ::close(pipe_fds[0]);
    if (read_end.fd < 0)
        throw UsageError(std::string("cannot make a pipe for a worker process: ") + std::strerror(errno));

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, read_end.fd, lifeline_fd);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(executable.c_str()));
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    const int error = ::posix_spawn(&pid_, executable.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (error != 0)
        throw UsageError("cannot start the worker process executable '" + executable +
                         "': " + std::strerror(error));
    lifeline_ = std::exchange(write_end.fd, -1);
}

SpawnedProcess::~SpawnedProcess() {
    kill();
    {
        std::lock_guard lock(mutex_);
        if (!reaped_) {
            while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
            }
            reaped_ = true;
        }
    }
    if (lifeline_ >= 0) ::close(lifeline_);
}

bool SpawnedProcess::reap(int flags) {
    std::lock_guard lock(mutex_);
    if (reaped_) return true;
    int status = 0;
    const pid_t got = ::waitpid(pid_, &status, flags);
    if (got == pid_) {
        reaped_ = true;
        status_ = status;
    } else if (got < 0 && errno == ECHILD) {
        reaped_ = true; // someone else reaped it (SIGCHLD ignored): it is gone, how is unknown
        status_ = -1;
    }
    return reaped_;
}

bool SpawnedProcess::running() { return !reap(WNOHANG); }

void SpawnedProcess::kill() noexcept {
    std::lock_guard lock(mutex_);
    if (!reaped_) ::kill(pid_, SIGKILL);
}

bool SpawnedProcess::wait_for(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pause = std::chrono::microseconds(100);
    while (running()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::microseconds(10'000));
    }
    return true;
}

std::string SpawnedProcess::describe_end() const {
    std::lock_guard lock(mutex_);
    if (!reaped_) return {};
    if (status_ == -1) return "ended (reaped by someone else, status unknown)";
    if (WIFEXITED(status_)) return "exited with status " + std::to_string(WEXITSTATUS(status_));
    if (WIFSIGNALED(status_)) {
        const int signal = WTERMSIG(status_);
        const char* abbreviation = ::sigabbrev_np(signal);
        return "was killed by signal " + std::to_string(signal) +
               (abbreviation ? std::string(" (SIG") + abbreviation + ")" : std::string());
    }
    return "ended with wait status " + std::to_string(status_);
}

} // namespace isolates::detail
