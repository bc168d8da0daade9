#pragma once
// Task: one unit of work queued in an InterpreterPoolExecutor. Made by the submitting thread, run
// and deleted by a worker (or resolved without running when cancelled or the pool shuts down).

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/heap.h"
#include "executor/detail/shared_state.h"
#include "interp/interpreter.h"
#include "interp/value.h"

namespace isolates::detail {

class Task {
public:
    virtual ~Task() = default;
    // Made on the submitting thread, freed on a worker: mimalloc does that without a lock.
    static void* operator new(std::size_t bytes) { return base::heap_allocate(bytes); }
    static void operator delete(void* p) noexcept { base::heap_free(p); }
    /// Runs on a worker thread with `in` owned by it; resolves the state with the result or the
    /// exception. Never throws.
    virtual void run(Interpreter& in) noexcept = 0;
    virtual StateBase& state() noexcept = 0;
    virtual std::shared_ptr<StateBase> shared_state() const = 0;

    std::chrono::nanoseconds timeout{0}; // 0: none
};

/// A task resolving a SharedState<T> with what `body(Interpreter&)` returns.
template <class T, class Body> class BodyTask final : public Task {
public:
    BodyTask(std::shared_ptr<SharedState<T>> state, Body body)
        : state_(std::move(state)), body_(std::move(body)) {}
    void run(Interpreter& in) noexcept override {
        resolve_with(*state_, [&]() -> T { return body_(in); });
    }
    StateBase& state() noexcept override { return *state_; }
    std::shared_ptr<StateBase> shared_state() const override { return state_; }

private:
    std::shared_ptr<SharedState<T>> state_;
    Body body_;
};

template <class T, class Body>
std::unique_ptr<Task> make_task(const std::shared_ptr<SharedState<T>>& state, Body body) {
    return std::make_unique<BodyTask<T, Body>>(state, std::move(body));
}

} // namespace isolates::detail
