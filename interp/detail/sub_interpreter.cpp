#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

#include "interp/detail/sub_interpreter.h"

#include <mutex>
#include <string>
#include <utility>

#include <isolates/interp/errors.h>

namespace isolates::detail {

namespace {
#if PY_VERSION_HEX < 0x030D0000
// CPython 3.12 crashes when two interpreters initialise or finalise at the same time (shared
// runtime state that 3.13 made safe), so 3.12 takes turns.
std::mutex lifecycle_turns;
using LifecycleTurn = std::unique_lock<std::mutex>;
LifecycleTurn take_lifecycle_turn() { return LifecycleTurn(lifecycle_turns); }
#else
struct LifecycleTurn {};
LifecycleTurn take_lifecycle_turn() { return {}; }
#endif

// Creating interpreters on several threads at once now and then fails under load with "Failed to
// import encodings module" (CPython issues 128381 and 131485, seen here once on 3.13.0 in ~20
// full test runs). A failed creation leaves nothing behind, so try again, one retrying thread at
// a time, before reporting it.
std::mutex creation_retries;
PyStatus create_interpreter(PyThreadState** thread_state, const PyInterpreterConfig& config) {
    constexpr int attempts = 3;
    PyStatus status;
    for (int attempt = 0; attempt < attempts; ++attempt) {
        std::unique_lock<std::mutex> one_at_a_time(creation_retries, std::defer_lock);
        if (attempt > 0) one_at_a_time.lock();
        [[maybe_unused]] auto turn = take_lifecycle_turn();
        status = Py_NewInterpreterFromConfig(thread_state, &config);
        if (!PyStatus_Exception(status)) break;
    }
    return status;
}
} // namespace

SubInterpreter::SubInterpreter(bool own_openssl_context)
    : openssl_(own_openssl_context ? OpenSslContext::make() : OpenSslContext()) {
    PyInterpreterConfig config = {};
    config.use_main_obmalloc = 0;
    config.allow_fork = 0;
    config.allow_exec = 0;
    config.allow_threads = 1;
    config.allow_daemon_threads = 0;
    config.check_multi_interp_extensions = 1;
    config.gil = PyInterpreterConfig_OWN_GIL;
    OpenSslDefault openssl(openssl_);
    const PyStatus status = create_interpreter(&thread_state_, config);
    if (PyStatus_Exception(status))
        throw PythonError("RuntimeError",
                          std::string("cannot create a sub-interpreter: ") +
                              (status.err_msg ? status.err_msg : "unknown error"),
                          {});
}

SubInterpreter::~SubInterpreter() {
    if (!thread_state_) return;
    run_attached(thread_state_, [this] {
        OpenSslDefault openssl(openssl_); // atexit handlers and finalizers run Python code
        [[maybe_unused]] auto turn = take_lifecycle_turn();
        Py_EndInterpreter(thread_state_); // leaves no thread state attached
    }, /*ends_it=*/true);
}

SubInterpreter::SubInterpreter(SubInterpreter&& other) noexcept
    : openssl_(std::move(other.openssl_)),
      thread_state_(std::exchange(other.thread_state_, nullptr)) {}

SubInterpreter& SubInterpreter::operator=(SubInterpreter&& other) noexcept {
    std::swap(openssl_, other.openssl_); // `other` ends what this held
    std::swap(thread_state_, other.thread_state_);
    return *this;
}

PyInterpreterState* SubInterpreter::state() const noexcept {
    return PyThreadState_GetInterpreter(thread_state_);
}

std::int64_t SubInterpreter::id() const noexcept { return PyInterpreterState_GetID(state()); }

} // namespace isolates::detail
