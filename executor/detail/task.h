#pragma once
// Task: one unit of work queued in an InterpreterPoolExecutor. Made by the submitting thread, run
// and deleted by a worker (or resolved without running when cancelled or the pool shuts down).

#include <array>
#include <chrono>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/heap.h"
#include "executor/detail/shared_state.h"
#include "interp/interpreter.h"
#include "interp/value.h"

namespace isolates::detail {

class WorkerProcess;

/// The base of a task body that runs on a process worker too: it has
/// `operator()(WorkerProcess&)` beside `operator()(Interpreter&)` (both through the same calls).
/// A body without it (a user's C++ callable) runs on sub-interpreter workers only.
struct RunsInProcess {};

/// A body made of one generic callable `f(auto& in)` that runs on either kind of worker.
template <class F> struct OnEitherWorker : RunsInProcess {
    explicit OnEitherWorker(F function) : f(std::move(function)) {}
    F f;
    decltype(auto) operator()(Interpreter& in) { return f(in); }
    decltype(auto) operator()(WorkerProcess& process) { return f(process); }
};
template <class F> OnEitherWorker(F) -> OnEitherWorker<F>;

class Task {
public:
    /// Runs on a worker thread with `in` owned by it; resolves the state with the result or the
    /// exception. Never throws.
    virtual void run(Interpreter& in) noexcept = 0;
    /// run() on a process worker; a body that cannot (not RunsInProcess) fails with UsageError.
    virtual void run(WorkerProcess& process) noexcept = 0;
    /// Whether run(WorkerProcess&) can run the body.
    virtual bool runs_in_process() const noexcept = 0;
    virtual StateBase& state() noexcept = 0;
    virtual std::shared_ptr<StateBase> shared_state() const = 0;
    /// What the task runs, for messages ("scorer:score"); empty when it has no name (a C++
    /// callable, Python source). Only before run() returns.
    virtual std::string name() const { return {}; }

    /// `delete task` (a std::unique_ptr<Task>) ends the queue's or the worker's ownership: a
    /// task made with its state in one block (make_state_task) lets go of that block, which
    /// lives on while a Future holds it.
    static void operator delete(Task* task, std::destroying_delete_t) noexcept { task->dispose(); }

    std::chrono::nanoseconds timeout{0}; // 0: none
    /// What run() threw after the state had been resolved by a cancel or a timeout (the
    /// KeyboardInterrupt that stopped it, with where it was), else nullptr.
    std::exception_ptr unreported;

    virtual ~Task() = default; // run by dispose() only

protected:
    /// What `delete` does; called once.
    virtual void dispose() noexcept = 0;
};

/// Throws the UsageError of a C++ callable given to a process worker.
[[noreturn]] void throw_cannot_run_in_process();

/// A SharedState<T> and the task that resolves it with `body(Interpreter&)`, in one mimalloc
/// block with their reference counts: one allocation per submission. The task holds the block
/// until it is deleted (run, drained or dropped), and destroys `body` then, so arguments do not
/// live on with the Future.
template <class T, class Body> class StateTask final : public Task {
public:
    explicit StateTask(Body body) : body_(std::in_place, std::move(body)) {}
    void run(Interpreter& in) noexcept override {
        unreported = resolve_with(state_, [&]() -> T { return (*body_)(in); });
    }
    void run(WorkerProcess& process) noexcept override {
        if constexpr (std::is_base_of_v<RunsInProcess, Body>) {
            unreported = resolve_with(state_, [&]() -> T { return (*body_)(process); });
        } else {
            (void)process;
            unreported = resolve_with(state_, []() -> T { throw_cannot_run_in_process(); });
        }
    }
    bool runs_in_process() const noexcept override { return std::is_base_of_v<RunsInProcess, Body>; }
    StateBase& state() noexcept override { return state_; }
    std::shared_ptr<StateBase> shared_state() const override {
        return std::shared_ptr<StateBase>(self_, const_cast<SharedState<T>*>(&state_));
    }
    /// The body's `name()`, if it has one.
    std::string name() const override {
        if constexpr (requires(const Body& body) { std::string(body.name()); })
            return std::string(body_->name());
        else
            return {};
    }

    /// The state (for the Future) and the task (for the queue).
    static std::pair<std::shared_ptr<SharedState<T>>, std::unique_ptr<Task>> make(Body body) {
        auto block = std::allocate_shared<StateTask>(base::HeapAllocator<StateTask>(),
                                                     std::move(body));
        block->self_ = block;
        std::shared_ptr<SharedState<T>> state(block, &block->state_);
        return {std::move(state), std::unique_ptr<Task>(block.get())};
    }

private:
    void dispose() noexcept override {
        body_.reset();
        std::shared_ptr<void> self = std::move(self_); // may free this block as it goes
    }

    SharedState<T> state_;
    std::optional<Body> body_;
    std::shared_ptr<void> self_; // the task's hold on its own block, until dispose()
};

template <class T, class Body> auto make_state_task(Body body) {
    return StateTask<T, Body>::make(std::move(body));
}

} // namespace isolates::detail
