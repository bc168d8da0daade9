#pragma once
/// InterpreterPoolExecutor: runs tasks on worker threads that each own one isolated Interpreter,
/// so Python tasks run truly in parallel. Tasks are Python calls ("package.module:function" with
/// Value arguments), Python source, or C++ callables given the worker's Interpreter. Every
/// submission returns a Future that always resolves.
///
/// Scheduling: one shared queue (a Vyukov bounded MPMC ring, with a locked overflow list when it
/// is full) that every worker takes from, plus one small queue per worker for submit_to(); idle
/// workers sleep on an event count, and a submit wakes one only when one sleeps. Timeouts and running-task
/// cancellation go through Interpreter::interrupt().

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <isolates/executor/errors.h>
#include <isolates/executor/future.h>
#include <isolates/executor/impl/callable_chunks.h>
#include <isolates/executor/impl/chunk_source.h>
#include <isolates/executor/impl/item_source.h>
#include <isolates/executor/impl/task.h>
#include <isolates/executor/map_options.h>
#include <isolates/executor/map_stream.h>
#include <isolates/interp/interpreter.h>
#include <isolates/interp/value.h>
#include <isolates/process/remote_worker.h>

namespace isolates {

class InterpreterPoolExecutor {
public:
    /// What runs the tasks.
    enum class WorkerKind {
        /// Threads that each own an isolated sub-interpreter (the default; C++ callables too).
        sub_interpreters,
        /// Worker processes (the same libpython, tasks run in each one's main interpreter), for
        /// extensions that refuse sub-interpreters (numpy, ...). Python targets, source, map and
        /// imports only: a C++ callable (submit(F), map(F, ...)) throws UsageError.
        processes,
        /// `workers` sub-interpreter workers (indices 0 ..) and `process_workers` worker
        /// processes after them: tasks whose target's module is in process_modules go to the
        /// processes, everything else (source, C++ callables) to the sub-interpreters.
        mixed,
    };

    struct Options {
        /// Number of workers; 0 means std::thread::hardware_concurrency().
        std::size_t workers = 0;
        /// Extra sys.path entries of every worker's interpreter, placed first.
        std::vector<std::string> sys_path;
        /// Modules every new interpreter imports, in order.
        std::vector<std::string> init_modules;
        /// Python source every new interpreter runs in __main__ after the imports (define helper
        /// functions here and call them as "__main__:name").
        std::string init_source;
        /// Most tasks queued at once; 0 means unbounded. A submit beyond it blocks until a worker
        /// takes a task (so do not submit from a worker to a full pool).
        std::size_t queue_bound = 0;
        /// Timeout of every task from the moment a worker starts it; zero means none.
        std::chrono::nanoseconds task_timeout{0};
        /// What the destructor does with tasks not yet started: run them (drain) or cancel them.
        bool cancel_pending_on_destroy = false;
        /// After each task, check the interpreter (Interpreter::healthy()) and replace it with a
        /// fresh, re-initialised one when the task broke it.
        bool replace_unhealthy = true;
        /// Give each worker's interpreter its own OpenSSL 3 library context
        /// (Interpreter::Options::own_openssl_context), so hashlib.sha256 scales with workers.
        bool own_openssl_context = true;
        /// See WorkerKind.
        WorkerKind worker_kind = WorkerKind::sub_interpreters;
        /// Mixed pools: how many worker processes (at least 1), beside `workers`.
        std::size_t process_workers = 1;
        /// Mixed pools: modules whose tasks go to a process worker: a target "pkg.mod:f" goes
        /// there when "pkg" or "pkg.mod" is listed (map and imap chunks too).
        std::vector<std::string> process_modules;
        /// Process workers: the executable to start (one whose main() calls
        /// isolates::process_worker_main, see isolates/process/process_worker.h); empty: the
        /// isolates-worker-3.X installed with libisolates.
        std::string worker_executable;
        /// Process workers: how long a task may go on after a cancel or its timeout interrupted
        /// it (code blocked in C does not see the interrupt) before its process is killed and
        /// replaced. The future resolves at once either way.
        std::chrono::milliseconds kill_after{1000};
        /// Process workers: how many queued tasks a worker may send to its process ahead of the
        /// one running (at most 62), so that short tasks follow one another without waiting for
        /// the host. It starts at none, doubles while tasks take under a millisecond, drops to
        /// none after a longer one, and takes no more than a fair part of the queue. 0: one task
        /// at a time (tasks of very uneven length).
        std::size_t process_prefetch = 32;
        /// Called on the worker with the exception a post()ed job threw (post() has no future to
        /// carry it). Unset: the exception's message is written to stderr.
        std::function<void(std::exception_ptr)> on_post_error;
    };

    /// Per-submission options for submit_with().
    struct TaskOptions {
        /// Overrides Options::task_timeout when non-zero.
        std::chrono::nanoseconds timeout{0};
        /// Run on this worker (0 .. size()-1), e.g. where earlier tasks left state; in a mixed
        /// pool, also how source goes to a process worker (indices from Options::workers on).
        std::optional<std::size_t> worker;
    };

    struct Stats {
        std::uint64_t submitted = 0;
        std::uint64_t completed = 0;  ///< resolved with a value
        std::uint64_t failed = 0;     ///< resolved with an exception, timeouts included
        std::uint64_t timed_out = 0;  ///< of which TimeoutError
        std::uint64_t cancelled = 0;
        std::uint64_t replaced_interpreters = 0;
        std::size_t queue_depth = 0;  ///< tasks queued, not yet taken by a worker
        std::vector<std::chrono::nanoseconds> busy; ///< per worker, time spent running tasks
        /// Where the last task that timed out was when the interrupt stopped it: "scorer:score
        /// timed out after 150 ms; the interrupt stopped it here:\nTraceback ...". Recorded by
        /// its worker once the task stopped (after its future resolved), before that worker takes
        /// another task; empty until a task timed out.
        std::string last_timeout_traceback;
    };

    /// Starts the workers, which create and initialise their interpreters in parallel on their own
    /// threads. Returns at once: tasks submitted meanwhile wait in the queue. If a worker's
    /// interpreter cannot be made or initialised, the pool becomes broken (see broken()). Throws
    /// UsageError when no Runtime is alive; a Runtime destroyed before the pool shuts it down.
    explicit InterpreterPoolExecutor(Options options);
    InterpreterPoolExecutor() : InterpreterPoolExecutor(Options{}) {}
    /// A pool of options.workers workers whose tasks go as requests to far sides that
    /// `remote_workers` makes (MpiPoolExecutor: the workers of other MPI ranks); options.worker_kind
    /// must be processes (UsageError otherwise). Everything else as above.
    InterpreterPoolExecutor(Options options, RemoteWorkerFactory remote_workers);
    /// shutdown(true, options.cancel_pending_on_destroy): every future resolves before it returns.
    /// On one of the pool's own workers (the last owner dropped inside a continuation or task) it
    /// cannot wait for itself: it shuts down without waiting and a cleanup thread joins the workers
    /// and frees the pool; the futures still all resolve, and the Runtime waits for that thread.
    ~InterpreterPoolExecutor();
    InterpreterPoolExecutor(const InterpreterPoolExecutor&) = delete;
    InterpreterPoolExecutor& operator=(const InterpreterPoolExecutor&) = delete;

    // --- Submitting (any thread; throws UsageError after shutdown, BrokenPoolError if broken) ---

    /// Calls `package.module:function(args...)` on some worker; each argument goes through Value.
    /// `submit<void>(...)` gives a Future<void> and drops the result inside the worker, so a
    /// result that cannot leave its interpreter (`importlib:import_module` returns a module) is
    /// no error.
    template <class R = Value, class... Args> Future<R> submit(std::string_view target, Args&&... args) {
        return submit_with<R>(TaskOptions{}, target, std::forward<Args>(args)...);
    }
    /// Runs `f(Interpreter&)` on some worker, with that worker's interpreter (owned by the thread
    /// it runs on; its GIL is not held until f calls into it).
    template <class F>
        requires std::invocable<F&, Interpreter&>
    auto submit(F f) { return submit_with(TaskOptions{}, std::move(f)); }
    /// Runs Python statements in some worker's __main__.
    Future<void> submit_source(std::string source) {
        return submit_source_with(TaskOptions{}, std::move(source));
    }
    /// submit() on one chosen worker.
    template <class R = Value, class... Args>
    Future<R> submit_to(std::size_t worker, std::string_view target, Args&&... args) {
        return submit_with<R>(on_worker(worker), target, std::forward<Args>(args)...);
    }
    template <class F>
        requires std::invocable<F&, Interpreter&>
    auto submit_to(std::size_t worker, F f) { return submit_with(on_worker(worker), std::move(f)); }
    Future<void> submit_source_to(std::size_t worker, std::string source) {
        return submit_source_with(on_worker(worker), std::move(source));
    }

    /// submit() with a timeout and/or a worker.
    template <class R = Value, class... Args>
    Future<R> submit_with(const TaskOptions& options, std::string_view target, Args&&... args) {
        static_assert(std::is_same_v<R, Value> || std::is_void_v<R>,
                      "submit<R>: R is Value (the default: the call's result) or void (the result "
                      "is dropped in the worker); convert a Value with as<T>()");
        if constexpr (detail::arguments_convert<Args...>()) {
            std::vector<Value> values{Value(std::forward<Args>(args))...};
            if constexpr (std::is_void_v<R>) return submit_call_void(options, std::string(target), std::move(values));
            else return submit_call(options, std::string(target), std::move(values));
        } else {
            return {}; // unreachable: arguments_convert stopped the compilation
        }
    }
    template <class F>
        requires std::invocable<F&, Interpreter&>
    auto submit_with(const TaskOptions& options, F f) {
        using R = std::invoke_result_t<F&, Interpreter&>;
        auto [state, task] = detail::make_state_task<R>(std::move(f));
        enqueue(std::move(task), options);
        return Future<R>(std::move(state));
    }
    Future<void> submit_source_with(const TaskOptions& options, std::string source);
    /// Calls `target` with Values (and keyword arguments).
    Future<Value> submit_call(const TaskOptions& options, std::string target,
                              std::vector<Value> args,
                              std::vector<std::pair<std::string, Value>> kwargs = {});
    /// submit_call() whose result is dropped in the worker (Interpreter::call_void): the future
    /// resolves when the call returned, whatever it returned.
    Future<void> submit_call_void(const TaskOptions& options, std::string target,
                                  std::vector<Value> args,
                                  std::vector<std::pair<std::string, Value>> kwargs = {});

    /// Calls `target(item)` for every item of `items` (each through Value), spread over the
    /// workers in tasks of options.chunksize items (see MapOptions). The items are read, and the
    /// chunks submitted, before it returns. The future holds the results in input order; or the
    /// failure of the first failing item in input order (an ItemError naming its index, the
    /// chunks after it cancelled at once); or TimeoutError past options.timeout. Cancelling it
    /// cancels every chunk not yet done. Throws UsageError for chunksize 0, and what submit()
    /// throws (the chunks already submitted are then cancelled).
    template <std::ranges::input_range R>
    Future<std::vector<Value>> map(std::string_view target, R&& items, const MapOptions& options = {}) {
        if constexpr (detail::arguments_convert<std::ranges::range_reference_t<R>>()) {
            auto source = detail::borrowed_source(items);
            return map_items(target, source, false, options);
        } else {
            return {}; // unreachable: arguments_convert stopped the compilation
        }
    }
    /// map() of a C++ callable: `f(in, item)` for every item, on the workers, `in` being the
    /// worker's Interpreter and `item` a copy of the input's item (all copied before map returns).
    /// f is called as const on several workers at once and returns anything Value converts (or
    /// void: None). Chunks, options, result order, ItemError (for a PythonError f lets out),
    /// cancellation (checked between items too) and timeout are map()'s; another exception of f
    /// fails the future as it is. Any thread; returns once every chunk is queued (blocking only
    /// at Options::queue_bound); throws what map() throws.
    template <class F, std::ranges::input_range R>
        requires std::invocable<const F&, Interpreter&, const std::ranges::range_value_t<R>&>
    Future<std::vector<Value>> map(F f, R&& items, const MapOptions& options = {}) {
        using Result = std::invoke_result_t<const F&, Interpreter&, const std::ranges::range_value_t<R>&>;
        constexpr bool converts = std::is_void_v<Result> || IntoValue<Result>;
        static_assert(converts, "map(f, items): f must return void or a type that converts to "
                                "isolates::Value (see isolates/interp/convert.h)");
        if constexpr (converts) {
            using View = std::ranges::ref_view<std::remove_reference_t<R>>;
            detail::CallableChunks<F, View> chunks(std::move(f), View(items));
            return map_chunks(chunks, options);
        } else {
            return {}; // unreachable: the static_assert stopped the compilation
        }
    }
    /// map() calling `target(*item)`: each item a tuple of arguments (a Value tuple or list,
    /// std::tuple, std::pair, std::vector<Value>, ...); any other item throws UsageError naming it.
    template <std::ranges::input_range R>
    Future<std::vector<Value>> starmap(std::string_view target, R&& items, const MapOptions& options = {}) {
        if constexpr (detail::arguments_convert<std::ranges::range_reference_t<R>>()) {
            auto source = detail::borrowed_source(items);
            return map_items(target, source, true, options);
        } else {
            return {}; // unreachable: arguments_convert stopped the compilation
        }
    }
    /// Calls `target(item)` for the items of `items` as the returned stream is consumed (a C++
    /// input range of Values): in input order, or as chunks complete with options.ordered false,
    /// with at most options.buffersize chunks in flight, so an endless or huge input works. The
    /// input is pulled on the consuming thread; an rvalue range is moved into the stream, an
    /// lvalue one must outlive it, and so must the pool. An item's failure is thrown when the
    /// iteration reaches it, and ends the stream; destroying the stream cancels what has not run.
    template <std::ranges::input_range R>
        requires std::ranges::viewable_range<R>
    MapStream imap(std::string_view target, R&& items, MapOptions options = {}) {
        static_assert(detail::arguments_convert<std::ranges::range_reference_t<R>>());
        using Source = detail::RangeSource<std::views::all_t<R>>;
        return imap_items(target, std::make_unique<Source>(std::views::all(std::forward<R>(items))),
                          options);
    }

    /// Runs a worker-protocol request (call, call_void, call_each, exec or import_module) as a
    /// task; the future resolves with its reply, the request's own failure inside it (a cancel
    /// before it started: CancelledError). For executors that relay requests from elsewhere
    /// (MpiPoolExecutor's serving ranks). Throws what submit() throws.
    Future<worker_protocol::Reply> submit_request(const TaskOptions& options,
                                                          worker_protocol::Request request);

    /// Imports module `name` on every worker now (each runs it as its next task, before shared
    /// ones) and in every interpreter a worker makes later (the replacement of one a task broke).
    /// Resolves when every worker has it; fails with a WorkerError (the import's PythonError and
    /// which worker) when one could not, and then later interpreters do not import it. Any
    /// thread, does not wait for the imports; throws what submit() throws.
    Future<void> import_module(std::string name);

    /// Executor interface (e.g. for Future::then): runs `job` on some worker, outside any Python
    /// call. An exception it throws goes to Options::on_post_error. A job not yet started when the
    /// pool shuts down with cancel_pending is destroyed without running (then() continuations
    /// resolve as cancelled then).
    void post(std::function<void()> job);

    // --- Life ---------------------------------------------------------------------------------

    /// Stops accepting tasks. cancel_pending: tasks not yet started resolve with CancelledError
    /// now; otherwise they still run. Running tasks finish either way. wait: also joins the
    /// workers (every future is resolved when it returns). Idempotent. On one of the pool's own
    /// workers only wait=false is allowed (it would wait for itself): UsageError otherwise.
    void shutdown(bool wait = true, bool cancel_pending = false);
    /// Blocks until every worker has its interpreter ready (not needed before submitting).
    /// Throws BrokenPoolError if the pool is broken.
    void wait_until_started();

    std::size_t size() const noexcept;
    /// True once a worker could not create or initialise an interpreter; submissions then throw
    /// BrokenPoolError and queued tasks resolve with it.
    bool broken() const noexcept;
    /// Why it is broken (empty if it is not).
    std::string broken_reason() const;
    /// Counters; a consistent snapshot of each, not of all together. A task is counted before
    /// its future resolves: read after get() returned, it is in.
    Stats stats() const;

    /// On a worker thread running a task: whether cancel() or a timeout asked that task to stop
    /// (for long C++ tasks to poll). False elsewhere.
    static bool stop_requested() noexcept;
    /// On a worker thread: its index in the pool; otherwise std::nullopt.
    static std::optional<std::size_t> current_worker() noexcept;

    class Impl;

private:
    static TaskOptions on_worker(std::size_t worker) {
        TaskOptions options;
        options.worker = worker;
        return options;
    }
    void enqueue(std::unique_ptr<detail::Task> task, const TaskOptions& options);
    Future<std::vector<Value>> map_items(std::string_view target, detail::ItemSource& items,
                                         bool unpack, const MapOptions& options);
    /// Queues every chunk of `chunks` and joins their results (map, starmap, map of a callable).
    Future<std::vector<Value>> map_chunks(detail::ChunkSource& chunks, const MapOptions& options);
    MapStream imap_items(std::string_view target, std::unique_ptr<detail::ItemSource> items,
                         const MapOptions& options);

    std::unique_ptr<Impl> impl_;
};

} // namespace isolates
