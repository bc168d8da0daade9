#pragma once
// Not API: an implementation detail, installed only because a public template (Future) uses it; it
// may change in any release.
// SharedState: what a Future and the code that resolves it share. Resolved exactly once (a value,
// an exception, cancelled or timed out); the first resolution wins and later ones are ignored,
// which is how cancel() and timeouts race safely with a task that finishes anyway.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <isolates/base/impl/heap.h>
#include <isolates/executor/errors.h>

namespace isolates::detail {

/// How a state was resolved.
enum class Outcome : unsigned char { pending, value, error, cancelled, timed_out };

/// Told once how a state was resolved, before the state is seen resolved by anyone (so a pool's
/// stats() read after get() returned counts that task).
class OutcomeCounter {
public:
    /// Called under the state's mutex, on the resolving thread: must be quick and not block.
    virtual void count(Outcome outcome) noexcept = 0;

protected:
    ~OutcomeCounter() = default;
};

/// Names one callback added to one state, to take it back with remove_callback(); 0 names none.
using CallbackId = std::uint64_t;

/// Whoever runs a task right now and can stop it (a pool worker). A stop holds the runner while
/// it asks (hold() under the state's mutex, release() after), so the runner neither starts
/// another task nor goes away meanwhile, yet no lock is held while it stops the task (which may
/// take the running interpreter's GIL).
class Runner {
public:
    /// Asks the task of `state` to stop; called between hold() and release(), no lock held.
    virtual void stop_running(class StateBase& state) noexcept = 0;

    /// Under the running state's mutex: pins the runner to its task until release().
    void hold() noexcept {
        // Relaxed: the state's mutex orders it before end_running() and so before
        // wait_until_released().
        holds_.fetch_add(1, std::memory_order_relaxed);
    }
    /// Ends a hold; the last access to the runner.
    void release() noexcept {
        // Release pairs with wait_until_released's acquire: the stop's work is done before the
        // runner moves on.
        holds_.fetch_sub(1, std::memory_order_release);
    }
    /// The runner, after end_running(): waits until no stop holds it any more. A stop is brief
    /// (one interrupt of an interpreter whose call has ended), so it yields rather than sleeps,
    /// and release() need not touch the runner after its decrement.
    void wait_until_released() const noexcept {
        while (holds_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
    }

protected:
    ~Runner() = default;

private:
    std::atomic<int> holds_{0};
};

/// The type-independent part of a future's shared state. Every method is thread-safe.
class StateBase {
public:
    StateBase() = default;
    StateBase(const StateBase&) = delete;
    StateBase& operator=(const StateBase&) = delete;
    virtual ~StateBase() = default;

    /// Lock-free.
    bool ready() const noexcept { return outcome_.load(std::memory_order_acquire) != Outcome::pending; }
    Outcome outcome() const noexcept { return outcome_.load(std::memory_order_acquire); }
    /// Whether cancel() or a timeout asked the task to stop (lock-free).
    bool stop_requested() const noexcept { return stop_requested_.load(std::memory_order_relaxed); }

    /// Blocks until resolved.
    void wait() const {
        if (ready()) return;
        std::unique_lock lock(mutex_);
        ++waiters_;
        cv_.wait(lock, [&] { return ready(); });
        --waiters_;
    }
    /// Blocks until resolved or `deadline`; returns ready().
    bool wait_until(std::chrono::steady_clock::time_point deadline) const {
        if (ready()) return true;
        std::unique_lock lock(mutex_);
        ++waiters_;
        const bool done = cv_.wait_until(lock, deadline, [&] { return ready(); });
        --waiters_;
        return done;
    }

    /// Calls `f` once the state is resolved, on the thread that resolves it; returns its id, or 0
    /// (and does not keep `f`) when it is resolved already.
    CallbackId add_callback(std::function<void()> f) {
        std::lock_guard lock(mutex_);
        if (ready()) return 0;
        callbacks_.push_back(Callback{++last_callback_id_, std::move(f)});
        return last_callback_id_;
    }
    /// Takes back a callback of add_callback() that has not been run yet (it is destroyed here);
    /// false when it ran, is running, or `id` is not one of this state's.
    bool remove_callback(CallbackId id) {
        std::function<void()> removed; // destroyed after the lock: it may own other states
        std::lock_guard lock(mutex_);
        for (auto it = callbacks_.begin(); it != callbacks_.end(); ++it) {
            if (it->id != id) continue;
            removed = std::move(it->f);
            callbacks_.erase(it);
            return true;
        }
        return false;
    }
    /// Callbacks waiting for the state to resolve (what remove_callback() keeps bounded).
    std::size_t callback_count() const {
        std::lock_guard lock(mutex_);
        return callbacks_.size();
    }
    /// Calls `f` once resolved: later on the resolving thread, or now on this one.
    void on_done(std::function<void()> f) {
        if (!add_callback(f)) f();
    }

    /// Resolves with an exception. Returns false if it was resolved already.
    bool fail(std::exception_ptr error, Outcome outcome = Outcome::error) {
        return complete([&] { error_ = std::move(error); }, outcome);
    }

    /// Resolves as cancelled (CancelledError) and stops the task if it is running. Returns false
    /// if the state was resolved already.
    bool cancel() { return stop(std::make_exception_ptr(CancelledError("task cancelled")),
                               Outcome::cancelled); }
    /// Resolves with `error` and stops the running task: cancel() and timeouts.
    bool stop(std::exception_ptr error, Outcome outcome) {
        stop_requested_.store(true, std::memory_order_relaxed);
        if (!fail(std::move(error), outcome)) return false;
        stop_if_running();
        return true;
    }
    /// Asks the runner, if any, to stop the task (it may retry later on its own). Holds no lock
    /// while the runner stops it.
    void stop_if_running() noexcept {
        Runner* runner;
        {
            std::lock_guard lock(mutex_);
            runner = runner_;
            if (!runner) return;
            runner->hold();
        }
        runner->stop_running(*this);
        runner->release();
    }

    /// Reports this state's outcome to `counter` when it resolves (or now, if it has). Once.
    void count_into(OutcomeCounter& counter) noexcept {
        std::lock_guard lock(mutex_);
        if (ready()) counter.count(outcome());
        else counter_ = &counter;
    }

    /// The runner starts the task; false (and no runner recorded) if resolved already.
    bool begin_running(Runner* runner) {
        std::lock_guard lock(mutex_);
        if (ready()) return false;
        runner_ = runner;
        return true;
    }
    /// The runner is done with the task; after this returns no new stop reaches it (wait for the
    /// ones in flight with Runner::wait_until_released).
    void end_running() noexcept {
        std::lock_guard lock(mutex_);
        runner_ = nullptr;
    }
    bool running() const {
        std::lock_guard lock(mutex_);
        return runner_ != nullptr;
    }

    /// The exception it was resolved with, or nullptr. Only after ready().
    std::exception_ptr error() const noexcept { return error_; }

    /// A Future handle to this state was made (Future counts its handles; see sole_future()).
    void add_future() noexcept {
        // Relaxed: a handle is made from one that exists (or by the code that made the state,
        // before it hands the future out), so the count cannot rise from 1 behind a sole owner.
        futures_.fetch_add(1, std::memory_order_relaxed);
    }
    /// A Future handle to this state went away.
    void drop_future() noexcept {
        // Release pairs with sole_future's acquire: what a handle read of the value is done
        // before the last remaining handle moves the value out.
        futures_.fetch_sub(1, std::memory_order_release);
    }
    /// Whether the caller's Future is the only handle left, so no other can read the value.
    bool sole_future() const noexcept { return futures_.load(std::memory_order_acquire) == 1; }

protected:
    /// Runs `store` and resolves, unless resolved already; then runs the callbacks outside the
    /// lock.
    template <class Store> bool complete(Store&& store, Outcome outcome) {
        std::vector<Callback> callbacks;
        {
            std::lock_guard lock(mutex_);
            if (ready()) return false;
            store();
            if (counter_) counter_->count(outcome); // before anyone can see it resolved
            // release: a reader that sees the outcome also sees the value or error stored above.
            outcome_.store(outcome, std::memory_order_release);
            callbacks.swap(callbacks_);
            if (waiters_ > 0) cv_.notify_all();
        }
        for (auto& callback : callbacks) callback.f();
        return true;
    }

private:
    struct Callback {
        CallbackId id;
        std::function<void()> f;
    };

    mutable std::mutex mutex_;
    mutable std::condition_variable cv_;
    mutable int waiters_ = 0;                       // guarded by mutex_
    std::atomic<Outcome> outcome_{Outcome::pending}; // written under mutex_, read anywhere
    std::atomic<bool> stop_requested_{false};
    std::atomic<std::uint32_t> futures_{0};        // Future handles alive
    std::exception_ptr error_;                      // written once, before outcome_
    std::vector<Callback> callbacks_;               // guarded by mutex_
    CallbackId last_callback_id_ = 0;               // guarded by mutex_
    Runner* runner_ = nullptr;                      // guarded by mutex_
    OutcomeCounter* counter_ = nullptr;             // guarded by mutex_
};

/// The shared state of a Future<T>.
template <class T> class SharedState : public StateBase {
public:
    using Stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

    /// Resolves with a value; false if resolved already.
    template <class... A> bool set_value(A&&... value) {
        return complete([&] { value_.emplace(std::forward<A>(value)...); }, Outcome::value);
    }
    /// Waits, then returns the value or rethrows the exception.
    const Stored& get() const {
        wait();
        if (outcome() != Outcome::value) std::rethrow_exception(error());
        return *value_;
    }
    /// Waits, then moves the value out or rethrows the exception. For the value's last reader
    /// only (a sole Future, a map joining its chunks): the stored value is moved-from afterwards.
    Stored take() {
        wait();
        if (outcome() != Outcome::value) std::rethrow_exception(error());
        return std::move(*value_);
    }

private:
    std::optional<Stored> value_; // written once, before the outcome
};

/// A new SharedState<T>, in one mimalloc block with its reference counts (see HeapAllocator).
template <class T> std::shared_ptr<SharedState<T>> make_state() {
    return std::allocate_shared<SharedState<T>>(base::HeapAllocator<SharedState<T>>());
}

} // namespace isolates::detail
