#pragma once
/// Future<T>: the result of a task that runs elsewhere. Copies share one result (like
/// std::shared_future); every method is thread-safe. A future of InterpreterPoolExecutor always
/// resolves: with a value, with the task's exception (PythonError for Python exceptions), with
/// CancelledError, TimeoutError or BrokenPoolError.

#include <chrono>
#include <concepts>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include <isolates/executor/errors.h>
#include <isolates/executor/impl/fan_in.h>
#include <isolates/executor/impl/format_duration.h>
#include <isolates/executor/impl/shared_state.h>
#include <isolates/interp/errors.h>

namespace isolates {

namespace detail {
/// Owned by the job that runs a continuation: if the job is destroyed without having run (its
/// executor discarded it, e.g. a pool shut down with cancel_pending), the continuation's future
/// resolves as cancelled instead of never.
template <class R> struct DroppedContinuation {
    explicit DroppedContinuation(std::shared_ptr<SharedState<R>> next) : next(std::move(next)) {}
    DroppedContinuation(const DroppedContinuation&) = delete;
    DroppedContinuation& operator=(const DroppedContinuation&) = delete;
    ~DroppedContinuation() {
        next->fail(std::make_exception_ptr(
                       CancelledError("the continuation's executor discarded it without running it")),
                   Outcome::cancelled);
    }
    std::shared_ptr<SharedState<R>> next;
};
} // namespace detail

/// Something that runs `std::function<void()>` jobs: InlineExecutor, ThreadExecutor,
/// InterpreterPoolExecutor, or your own type with a `post` method.
template <class E>
concept Executor = requires(E& e, std::function<void()> job) { e.post(std::move(job)); };

/// Runs a job at once on the posting thread. For then(): the thread that resolves the future (a
/// pool worker after its task, with no GIL held), or the caller of then() if already resolved.
struct InlineExecutor {
    void post(std::function<void()> job) { job(); }
};
/// The process-wide InlineExecutor, then()'s default.
inline InlineExecutor& inline_executor() noexcept {
    static InlineExecutor executor;
    return executor;
}

template <class T> class Future;

namespace detail {
template <class T> struct IsFuture : std::false_type {};
template <class T> struct IsFuture<Future<T>> : std::true_type {};

/// What a continuation `f` of a Future<T> returns: f(Future<T>) if it takes the future (and sees
/// errors), else f(T) (f() for void), which is skipped when the future failed.
template <class F, class T> struct ContinuationResult {
    static auto probe() {
        if constexpr (std::is_invocable_v<F&, Future<T>>) return std::type_identity<std::invoke_result_t<F&, Future<T>>>{};
        else if constexpr (std::is_void_v<T>) return std::type_identity<std::invoke_result_t<F&>>{};
        else return std::type_identity<std::invoke_result_t<F&, const T&>>{};
    }
    using type = typename decltype(probe())::type;
};

/// Runs `compute` and resolves `state` with what it returns or throws. Returns what it threw when
/// that could not resolve `state` (resolved already, by a cancel or a timeout), else nullptr.
template <class R, class Compute>
std::exception_ptr resolve_with(SharedState<R>& state, Compute&& compute) noexcept {
    try {
        if constexpr (std::is_void_v<R>) {
            compute();
            state.set_value();
        } else {
            state.set_value(compute());
        }
    } catch (...) {
        if (!state.fail(std::current_exception())) return std::current_exception();
    }
    return nullptr;
}

/// The states behind futures, for FanIn.
struct FutureAccess {
    template <class T> static std::vector<std::shared_ptr<StateBase>> states(const std::vector<Future<T>>& futures) {
        std::vector<std::shared_ptr<StateBase>> states;
        states.reserve(futures.size());
        for (const auto& future : futures) states.push_back(future.state_);
        return states;
    }
};
} // namespace detail

template <class T> class Future {
public:
    using value_type = T;

    /// An invalid future (valid() is false); every other method needs a valid one.
    Future() = default;
    explicit Future(std::shared_ptr<detail::SharedState<T>> state) : state_(std::move(state)) {
        if (state_) state_->add_future();
    }
    Future(const Future& other) : state_(other.state_) {
        if (state_) state_->add_future();
    }
    Future(Future&& other) noexcept = default;
    Future& operator=(const Future& other) {
        if (this != &other) *this = Future(other);
        return *this;
    }
    Future& operator=(Future&& other) noexcept {
        if (this != &other) {
            drop();
            state_ = std::move(other.state_);
        }
        return *this;
    }
    ~Future() { drop(); }

    bool valid() const noexcept { return state_ != nullptr; }
    /// Resolved (value, exception or cancelled)? Lock-free, never blocks.
    bool ready() const noexcept { return state_->ready(); }
    /// Blocks until resolved.
    void wait() const { state_->wait(); }
    /// Blocks up to `timeout`: std::future_status::ready once resolved, ::timeout if not by then
    /// (never ::deferred). Does not cancel anything.
    template <class Rep, class Period>
    std::future_status wait_for(std::chrono::duration<Rep, Period> timeout) const {
        return wait_until(std::chrono::steady_clock::now() +
                          std::chrono::ceil<std::chrono::steady_clock::duration>(timeout));
    }
    /// wait_for() until a point in time of any clock.
    template <class Clock, class Duration>
    std::future_status wait_until(std::chrono::time_point<Clock, Duration> deadline) const {
        const auto steady = std::chrono::steady_clock::now() +
                            std::chrono::ceil<std::chrono::steady_clock::duration>(deadline - Clock::now());
        return state_->wait_until(steady) ? std::future_status::ready : std::future_status::timeout;
    }
    /// Blocks until resolved, then returns a copy of the value or rethrows the exception.
    /// Never call it on a pool worker for a task queued behind it on the same worker. Throws
    /// UsageError on an invalid future.
    T get() const& {
        if constexpr (std::is_void_v<T>) checked().get();
        else return checked().get();
    }
    /// get() that consumes this future (`pool.submit(...).get()`, `std::move(f).get()`): the value
    /// is moved out, not copied, when no other copy of this future exists (else copied). This
    /// future is invalid afterwards (valid() false; a second get() throws UsageError), whichever
    /// happened, and whether it returns or throws.
    T get() && {
        Future self(std::move(*this)); // its destructor drops this handle, even on a throw
        auto& state = self.checked();
        if constexpr (std::is_void_v<T>) {
            state.get();
        } else {
            state.wait();
            if (state.sole_future()) return state.take();
            return state.get();
        }
    }
    /// get(), waiting at most `timeout`: then throws TimeoutError ("not resolved within 150 ms"),
    /// and the task goes on (ready() stays false; cancel() stops it). Python's result(timeout).
    template <class Rep, class Period> T get_for(std::chrono::duration<Rep, Period> timeout) const {
        if (wait_for(timeout) != std::future_status::ready)
            throw TimeoutError("Future::get_for: not resolved within " +
                               detail::format_duration(timeout) +
                               " (the task goes on; cancel() stops it)");
        return get();
    }
    /// Blocks until resolved, then returns the exception it failed with (CancelledError,
    /// TimeoutError, the task's own, ...), or nullptr when it holds a value. Never throws it.
    std::exception_ptr exception() const {
        state_->wait();
        return state_->outcome() == detail::Outcome::value ? nullptr : state_->error();
    }
    /// Resolves the future with CancelledError unless it is resolved already, and stops the task:
    /// a pending task never runs; a running Python call gets KeyboardInterrupt raised in it. A C++
    /// task (submit of a callable) sees it at its next Python call or by polling
    /// InterpreterPoolExecutor::stop_requested(). Returns whether this call cancelled it.
    bool cancel() const { return state_->cancel(); }
    /// True if resolved by cancel() or shutdown with cancel_pending.
    bool cancelled() const noexcept { return state_->outcome() == detail::Outcome::cancelled; }
    /// True while a pool worker runs the task (not before it starts, nor once it returned).
    bool running() const { return state_->running(); }
    /// Calls `f()` once resolved: on the thread that resolves it, or at once on this thread when
    /// it is resolved already. `f` must not throw; for work that may, use then().
    void on_done(std::function<void()> f) const { state_->on_done(std::move(f)); }

    /// A future of `f` applied to this one's result, run on `executor` once this one resolves
    /// (never on a worker while its GIL is held). `f` takes either `const T&` (skipped, and the
    /// error passed on, if this future failed) or `Future<T>` (always called; it may call get()).
    /// `executor` must outlive the continuation. Cancelling the returned future does not cancel
    /// this one.
    template <class F, Executor E> auto then(F f, E& executor) const {
        using R = typename detail::ContinuationResult<F, T>::type;
        auto next = detail::make_state<R>();
        auto self = *this;
        auto dropped = std::make_shared<detail::DroppedContinuation<R>>(next);
        auto run = [self, next, dropped, f = std::move(f)]() mutable {
            detail::resolve_with(*next, [&]() -> R {
                if constexpr (std::is_invocable_v<F&, Future<T>>) return f(self);
                else if constexpr (std::is_void_v<T>) { self.get(); return f(); }
                else return f(self.state_->get());
            });
        };
        // `dropped` is held here too, so a post() that throws reports its own error, not the
        // discarded job.
        state_->on_done([next, dropped, run = std::move(run), &executor]() mutable {
            if (next->ready()) return; // cancelled meanwhile
            try {
                executor.post(std::move(run));
            } catch (...) {
                next->fail(std::current_exception()); // e.g. a pool that was shut down
            }
        });
        return Future<R>(std::move(next));
    }
    /// then() on the InlineExecutor.
    template <class F> auto then(F f) const { return then(std::move(f), inline_executor()); }

    /// A std::future that resolves with this one (value or exception).
    std::future<T> to_std_future() const {
        auto promise = std::make_shared<std::promise<T>>();
        std::future<T> result = promise->get_future();
        auto self = *this;
        state_->on_done([self, promise] {
            try {
                if constexpr (std::is_void_v<T>) { self.get(); promise->set_value(); }
                else promise->set_value(self.get());
            } catch (...) {
                promise->set_exception(std::current_exception());
            }
        });
        return result;
    }

    /// `co_await future` in a C++20 coroutine: suspends until resolved, then yields get(). The
    /// coroutine resumes on the thread that resolves the future (a pool worker between tasks, no
    /// GIL held), or goes on without suspending if it is resolved already.
    auto operator co_await() const {
        struct Awaiter {
            Future future;
            bool await_ready() const noexcept { return future.ready(); }
            // Not inlined: inlined into the coroutine, its temporaries may live in the coroutine
            // frame, which the resolving thread resumes and reuses while this call is still
            // destroying them (seen by TSan with clang).
            [[gnu::noinline]] bool await_suspend(std::coroutine_handle<> handle) {
                return future.state_->add_callback([handle] { handle.resume(); }) != 0;
            }
            T await_resume() const { return future.get(); }
        };
        return Awaiter{*this};
    }

private:
    template <class U> friend class Future;
    friend struct detail::FutureAccess;

    /// The state; UsageError when this future is invalid.
    detail::SharedState<T>& checked() const {
        if (!state_)
            throw UsageError("get() on an invalid Future: default-constructed, or consumed by an "
                             "earlier get() on an rvalue (std::move(future).get())");
        return *state_;
    }
    void drop() noexcept {
        if (state_) {
            state_->drop_future();
            state_.reset();
        }
    }

    std::shared_ptr<detail::SharedState<T>> state_;
};

/// A future already resolved with `value`.
template <class T> Future<std::decay_t<T>> make_ready_future(T&& value) {
    auto state = detail::make_state<std::decay_t<T>>();
    state->set_value(std::forward<T>(value));
    return Future<std::decay_t<T>>(std::move(state));
}

/// Resolves once every future has: with all values in the given order (Future<void> for
/// void), or with the exception of the first failed future in that order.
template <class T> auto when_all(std::vector<Future<T>> futures) {
    using R = std::conditional_t<std::is_void_v<T>, void, std::vector<T>>;
    auto all = detail::make_state<R>();
    if (futures.empty()) {
        if constexpr (std::is_void_v<T>) all->set_value();
        else all->set_value(R{});
        return Future<R>(all);
    }
    struct Join {
        std::vector<Future<T>> futures;
        std::atomic<std::size_t> left;
    };
    auto join = std::make_shared<Join>(std::move(futures), 0);
    join->left.store(join->futures.size());
    for (auto& future : join->futures) {
        future.on_done([join, all] {
            if (join->left.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
            detail::resolve_with(*all, [&]() -> R {
                if constexpr (std::is_void_v<T>) {
                    for (auto& f : join->futures) f.get();
                } else {
                    R values;
                    values.reserve(join->futures.size());
                    // Each future is consumed: its value moves when the caller kept no copy.
                    for (auto& f : join->futures) values.push_back(std::move(f).get());
                    return values;
                }
            });
            join->futures.clear(); // drop the references early
        });
    }
    return Future<R>(all);
}

/// Resolves with the index of the first future to resolve (with a value or an exception; get()
/// on it tells which), at once if one is resolved already. Then, or when the returned future is
/// cancelled, it takes its callbacks back from the others: erase the winner and call it again on
/// the rest as often as you like, nothing piles up on them. Throws UsageError for an empty vector.
template <class T> Future<std::size_t> when_any(const std::vector<Future<T>>& futures) {
    if (futures.empty()) throw UsageError("when_any of no futures would never resolve");
    auto any = detail::make_state<std::size_t>();
    // Withdraws before resolving: whoever sees `any` resolved sees the others' callbacks gone.
    auto fan_in = detail::FanIn::watch(detail::FutureAccess::states(futures),
                                       [any](detail::FanIn& fan_in, std::size_t index) {
                                           fan_in.withdraw();
                                           any->set_value(index);
                                       });
    any->on_done([weak = std::weak_ptr<detail::FanIn>(fan_in)] {
        if (auto fan_in = weak.lock()) fan_in->withdraw(); // cancelled
    });
    return Future<std::size_t>(any);
}

} // namespace isolates
