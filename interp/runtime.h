#pragma once
/// Runtime: the process's main CPython interpreter. Make exactly one, before any Interpreter,
/// on the thread that will also destroy it (usually main()).

#include <cstddef>
#include <string>
#include <thread>
#include <vector>

namespace isolates {

class Runtime {
public:
    struct Options {
        /// Extra sys.path entries, placed first, in every interpreter of the process.
        std::vector<std::string> sys_path;
    };

    /// Initialises CPython with an isolated configuration (no environment variables, no user
    /// site, no signal handlers) and releases the main GIL. Throws UsageError when a Runtime
    /// exists or existed before: CPython cannot be initialised twice in one process.
    explicit Runtime(Options options);
    Runtime() : Runtime(Options{}) {}
    /// Waits until every Interpreter is gone, then finalises CPython. Must run on the thread
    /// that made the Runtime; aborts if that thread still owns a live Interpreter (it would wait
    /// for itself forever).
    ~Runtime();

    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    /// True between a Runtime's construction and the start of its destruction.
    static bool alive() noexcept;
    /// "3.13.0", "3.15.0rc2": the CPython this process runs, as sys.version starts.
    static std::string python_version();
    /// Sub-interpreters alive right now.
    static std::size_t live_interpreters() noexcept;

private:
    void* main_thread_state_ = nullptr;
    std::thread::id owner_;
};

} // namespace isolates
