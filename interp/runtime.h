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
