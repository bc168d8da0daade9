#pragma once
// Interpreter::interrupt() and its machinery: delivering an exception from any thread into the
// call running in one interpreter, waking a call blocked in C++ for it, and making sure that a
// delivery never lands in a later call.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>

#include <isolates/interp/cpython.h>
#include "interp/detail/interpreter_view.h"

namespace isolates::detail {

/// The interrupt state of one Interpreter. It outlives the sub-interpreter: made before it,
/// opened once it exists, closed before it ends and destroyed after, since interrupt() may come
/// from another thread meanwhile. Until open() and after close(), interrupt() returns false.
class Interrupter {
public:
    Interrupter() = default;
    Interrupter(const Interrupter&) = delete;
    Interrupter& operator=(const Interrupter&) = delete;

    /// Owning thread, once, with `own` (the interpreter's thread state) attached. Throws
    /// std::bad_alloc.
    void open(PyThreadState* own);

    /// Owning thread, attached: the outermost scope of a call begins.
    void call_begins() noexcept;
    /// Owning thread, attached: the call ends. An interrupt not raised yet is discarded, and
    /// interrupt() delivers nothing more to this call.
    void call_ends() noexcept;

    /// Any thread: Interpreter::interrupt().
    bool interrupt(std::string_view exception);
    /// Owning thread, attached: Interpreter::raise_interrupt().
    bool raise_pending();
    /// Set while a delivered interrupt waits to be raised; any thread may read it.
    const std::atomic<bool>& requested() const noexcept { return requested_; }
    /// Owning thread: who interrupt() wakes after delivering (nullptr: nobody).
    void set_wakeup(void (*wake)(void*), void* context) noexcept;

    /// Owning thread, detached, once, before the interpreter ends: from now on interrupt()
    /// returns false without visiting it; returns after any visit in progress.
    void close() noexcept;

private:
    template <class Work> void visit(Work&& work);

    unsigned long thread_ident_ = 0; // the owning thread, as PyThreadState_SetAsyncExc names it
#if PY_VERSION_HEX >= 0x030F0000
    // A visit goes through a view (PEP 788), which holds off the interpreter's finalisation
    // without a lock of ours, and fails once it has begun.
    InterpreterView view_;
#else
    PyThreadState* own_ = nullptr; // not owned: the interpreter's thread state
#endif
    // interrupt() counts itself a visitor for as long as it uses this object, and close() waits
    // until no visitor is left: so neither this object nor (before 3.15, where no view holds it
    // off) the interpreter can end under a visit. The mutex guards the count only: no lock of
    // ours is held while a visit waits for the interpreter's GIL.
    std::mutex lifecycle_mutex_;
    std::condition_variable visitors_gone_;
    int visitors_ = 0;    // under lifecycle_mutex_
    bool closed_ = false; // under lifecycle_mutex_
    // Orders a delivery against the end of a call. The GIL did that on GIL builds; the
    // free-threaded build has none, so it is a mutex, taken attached (see lock_attached).
    std::mutex delivery_mutex_;
    std::atomic<bool> running_{false}; // set to false only under delivery_mutex_
    bool pending_ = false;             // under delivery_mutex_
    std::string pending_name_;         // the exception of the pending interrupt; ditto
    // Readable without the GIL by a call blocked in C++; see Interpreter::InterruptWakeup.
    std::atomic<bool> requested_{false};
    std::mutex wakeup_mutex_; // never held while waiting for the GIL
    void (*wake_)(void*) = nullptr;
    void* wake_context_ = nullptr;
};

} // namespace isolates::detail
