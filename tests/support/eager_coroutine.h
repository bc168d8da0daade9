#pragma once
// Eager: the smallest coroutine type, for tests that co_await futures. It starts at once and
// runs to its end on whichever thread resumes it; the coroutine body records its own result.

#include <coroutine>
#include <exception>

namespace isolates::testing {

struct Eager {
    struct promise_type {
        Eager get_return_object() { return {}; }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() {}
        void unhandled_exception() { std::terminate(); }
    };
};

} // namespace isolates::testing
