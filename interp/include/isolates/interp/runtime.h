#pragma once
/// Runtime: the process's main CPython interpreter. Make exactly one, before any Interpreter,
/// on the thread that will also destroy it (usually main()).

#include <cstddef>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace isolates {

class Runtime {
public:
    struct Options {
        /// Extra sys.path entries, in front of the standard library's, in the main interpreter and
        /// every Interpreter and pool worker (each Interpreter's own entries go before them).
        std::vector<std::string> sys_path;
        /// A virtual environment made by this CPython's version (the folder holding pyvenv.cfg):
        /// every interpreter runs as its python would (sys.executable and sys.prefix are the
        /// venv's, its site-packages is on sys.path with its .pth files processed). Empty: none.
        std::string venv;
        /// Also put the PYTHONPATH environment variable's entries in front of sys.path, after
        /// sys_path's (the isolated configuration ignores it otherwise).
        bool use_pythonpath = false;
    };

    /// Initialises CPython with an isolated configuration (no environment variables, no user
    /// site, no signal handlers) as the embedded CPython's own executable (bin/python3.X beside
    /// the loaded libpython), or the venv's, and releases the main GIL. Throws UsageError when
    /// a Runtime exists or existed before (CPython cannot be initialised twice in one process),
    /// or when options.venv is not a virtual environment of this Python version.
    explicit Runtime(Options options);
    Runtime() : Runtime(Options{}) {}
    /// Waits until every Interpreter is gone, then finalises CPython. Pools still alive (declared
    /// before the Runtime) are named on stderr and shut down, cancelling tasks not started and
    /// interrupting running ones; interpreters still alive are named with their threads on
    /// stderr, then waited for. Must run on the thread that made the Runtime; aborts if that
    /// thread still owns a live Interpreter (it would wait for itself forever).
    ~Runtime();

    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    /// The live Runtime's options as it applied them: sys_path with PYTHONPATH's entries (made
    /// absolute) appended when it used them, so use_pythonpath is false. What a process worker
    /// starts its own Runtime with. Throws UsageError when no Runtime is alive.
    static Options options();
    /// True between a Runtime's construction and the start of its destruction.
    static bool alive() noexcept;
    /// "3.13.0", "3.15.0rc2": the CPython this process runs, as sys.version starts.
    static std::string python_version();
    /// Sub-interpreters alive right now (and Holds, which count as one each).
    static std::size_t live_interpreters() noexcept;

    /// Keeps CPython from being finalised while it lives: ~Runtime waits for every Hold as it
    /// waits for every Interpreter. For a thread that must finish its work with CPython still
    /// up after its owner returned (an executor's cleanup thread). Move-only.
    class Hold {
    public:
        /// Throws UsageError when no Runtime is alive.
        Hold();
        Hold(Hold&& other) noexcept : held_(std::exchange(other.held_, false)) {}
        Hold& operator=(Hold&& other) noexcept;
        ~Hold();

    private:
        bool held_ = true;
    };
    /// A Hold, or std::nullopt when no Runtime is alive (it is finalising already, and waits for
    /// what it waits for anyway).
    static std::optional<Hold> try_hold();

private:
    void* main_thread_state_ = nullptr;
    std::thread::id owner_;
};

} // namespace isolates
