#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

#include "interp/detail/interrupter.h"

#include <isolates/interp/errors.h>
#include "interp/detail/detach_other.h"
#include "interp/detail/lock_attached.h"

namespace isolates::detail {

namespace {
/// The built-in exception class named `name` in the attached interpreter (borrowed), or nullptr.
PyObject* builtin_exception(const std::string& name) {
    PyObject* builtins = PyEval_GetBuiltins(); // borrowed
    PyObject* type = builtins ? PyDict_GetItemString(builtins, name.c_str()) : nullptr;
    return type && PyExceptionClass_Check(type) ? type : nullptr;
}
} // namespace

void Interrupter::open([[maybe_unused]] PyThreadState* own) {
    thread_ident_ = PyThread_get_thread_ident();
#if PY_VERSION_HEX >= 0x030F0000
    view_ = InterpreterView::of_current();
#else
    own_ = own;
#endif
}

void Interrupter::call_begins() noexcept { running_.store(true, std::memory_order_relaxed); }

void Interrupter::call_ends() noexcept {
    // After this interrupt() sees running_ false and delivers nothing to this call.
    auto lock = lock_attached(delivery_mutex_);
    if (pending_) {
        // Discard an interrupt that arrived too late to be raised in this call.
        PyThreadState_SetAsyncExc(thread_ident_, nullptr);
        pending_ = false;
    }
    requested_.store(false, std::memory_order_release);
    running_.store(false, std::memory_order_relaxed);
}

template <class Work> void Interrupter::visit(Work&& work) {
#if PY_VERSION_HEX >= 0x030F0000
    // PEP 788: attaches a thread state of this interpreter (the caller's own when the call comes
    // from Python code running here), restores whatever the thread had attached before, and
    // keeps the interpreter from finalising meanwhile. Fails only once it has begun to end, when
    // no call can be running.
    PyThreadStateToken* token = PyThreadState_EnsureFromView(view_.get());
    if (!token) return;
    work();
    PyThreadState_Release(token);
#else
    if (py::current_thread_state() == own_) {
        work(); // called from Python code running in this very interpreter
        return;
    }
    DetachOther other;
    // A short-lived thread state of our own for this interpreter, on this thread; the caller
    // counts as a visitor, so the interpreter cannot end meanwhile.
    PyThreadState* visitor = PyThreadState_New(PyThreadState_GetInterpreter(own_));
    PyEval_RestoreThread(visitor);
    work();
    PyThreadState_Clear(visitor);
    PyThreadState_DeleteCurrent();
#endif
}

bool Interrupter::interrupt(std::string_view exception) {
    {
        std::lock_guard lock(lifecycle_mutex_);
        if (closed_ || !running_.load(std::memory_order_relaxed)) return false;
        ++visitors_;
    }
    // The last thing this call does to the Interrupter, whatever happens below (close() may
    // destroy it as soon as the count drops).
    struct VisitorGone {
        Interrupter& self;
        ~VisitorGone() {
            std::lock_guard lock(self.lifecycle_mutex_);
            if (--self.visitors_ == 0 && self.closed_) self.visitors_gone_.notify_all();
        }
    } visitor_gone{*this};
    const std::string name(exception);
    bool delivered = false;
    bool bad_name = false;
    visit([&] {
        PyObject* type = builtin_exception(name);
        if (!type) {
            bad_name = true;
            return;
        }
        // Read running_ again under the mutex the owner holds when it ends a call.
        auto lock = lock_attached(delivery_mutex_);
        if (!running_.load(std::memory_order_relaxed)) return;
        delivered = PyThreadState_SetAsyncExc(thread_ident_, type) == 1;
        if (delivered) {
            pending_ = true;
            pending_name_ = name;
            requested_.store(true, std::memory_order_release);
        }
    });
    if (bad_name)
        throw UsageError("interrupt() needs the name of a built-in exception class, got '" +
                         name + "'");
    if (delivered) {
        // Without the GIL: a call blocked in C++ (a channel's recv) may be waiting for this.
        std::lock_guard wakeup(wakeup_mutex_);
        if (wake_) wake_(wake_context_);
    }
    return delivered;
}

bool Interrupter::raise_pending() {
    std::string name;
    {
        auto lock = lock_attached(delivery_mutex_);
        if (!pending_) return false;
        name = std::move(pending_name_);
        // Raise it here and now; clear the asynchronous copy so it is not raised a second time.
        PyThreadState_SetAsyncExc(thread_ident_, nullptr);
        pending_ = false;
        requested_.store(false, std::memory_order_release);
    }
    PyObject* type = builtin_exception(name);
    PyErr_SetNone(type ? type : PyExc_KeyboardInterrupt);
    return true;
}

void Interrupter::set_wakeup(void (*wake)(void*), void* context) noexcept {
    std::lock_guard lock(wakeup_mutex_);
    wake_ = wake;
    wake_context_ = context;
}

void Interrupter::close() noexcept {
    std::unique_lock lock(lifecycle_mutex_);
    closed_ = true;
    visitors_gone_.wait(lock, [&] { return visitors_ == 0; });
}

} // namespace isolates::detail
