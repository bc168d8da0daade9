#pragma once
// Not API: an implementation detail, installed only because a public template
// (InterpreterPoolExecutor::submit) uses it; it may change in any release.
// Task: one unit of work queued in an InterpreterPoolExecutor. Made by the submitting thread, run
// and deleted by a worker (or resolved without running when cancelled or the pool shuts down).

#include <array>
#include <chrono>
#include <concepts>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <isolates/base/impl/heap.h>
#include <isolates/executor/errors.h>
#include <isolates/executor/impl/shared_state.h>
#include <isolates/interp/interpreter.h>
#include <isolates/interp/value.h>
#include <isolates/process/worker_protocol.h>

namespace isolates::detail {

/// A body that runs on a process worker as one request: beside `operator()(Interpreter&)` it has
/// `worker_protocol::Request request() const` (what the worker process runs) and
/// `result(worker_protocol::Reply&&)`, which returns the task's value or throws the reply's error.
template <class Body>
concept SentToProcess = requires(const Body& body, Body& mutable_body, worker_protocol::Reply reply) {
    { body.request() } -> std::same_as<worker_protocol::Request>;
    mutable_body.result(std::move(reply));
};

/// The base of a body that needs no interpreter at all (post() jobs): `operator()()`, which a
/// process worker's own thread runs.
struct RunsOnHost {};

/// Whether a process worker can run a task with this body.
template <class Body>
inline constexpr bool runs_in_process_v = SentToProcess<Body> || std::is_base_of_v<RunsOnHost, Body>;

class Task {
public:
    /// Runs on a worker thread with `in` owned by it; resolves the state with the result or the
    /// exception. Never throws.
    virtual void run(Interpreter& in) noexcept = 0;
    /// Process workers: the request of a SentToProcess body into `request`, true; false for a
    /// body that run_on_host() runs instead.
    virtual bool make_request(worker_protocol::Request& request) const = 0;
    /// Process workers: resolves the state from the reply to make_request()'s request (a reply
    /// made up here carries the error of a request that never got one). Never throws.
    virtual void finish(worker_protocol::Reply&& reply) noexcept = 0;
    /// Process workers: runs a RunsOnHost body on this thread; any other body that is not
    /// SentToProcess (a C++ callable) fails with UsageError. Never throws.
    virtual void run_on_host() noexcept = 0;
    /// Whether a process worker can run the body (SentToProcess or RunsOnHost).
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
    bool make_request(worker_protocol::Request& request) const override {
        if constexpr (SentToProcess<Body>) {
            request = body_->request();
            return true;
        } else {
            (void)request;
            return false;
        }
    }
    void finish(worker_protocol::Reply&& reply) noexcept override {
        if constexpr (SentToProcess<Body>) {
            unreported = resolve_with(state_, [&]() -> T { return body_->result(std::move(reply)); });
        } else {
            unreported = resolve_with(state_, [&]() -> T {
                if (reply.error) std::rethrow_exception(reply.error);
                throw UsageError("a reply for a task that sends no request");
            });
        }
    }
    void run_on_host() noexcept override {
        if constexpr (std::is_base_of_v<RunsOnHost, Body>) {
            unreported = resolve_with(state_, [&]() -> T { return (*body_)(); });
        } else {
            unreported = resolve_with(state_, []() -> T { throw_cannot_run_in_process(); });
        }
    }
    bool runs_in_process() const noexcept override { return runs_in_process_v<Body>; }
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
