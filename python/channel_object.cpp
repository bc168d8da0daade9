// isolates.Channel: the Python face of a Channel endpoint. Blocking calls try once with the GIL
// held (the common, fast case) and release the interpreter's GIL only when they must wait.

#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

#include <atomic>
#include <exception>
#include <memory>
#include <optional>
#include <new>
#include <string>
#include <vector>

#include <isolates/channels/channel.h>
#include <isolates/channels/shared_buffer.h>
#include <isolates/interp/errors.h>
#include <isolates/interp/interpreter.h>
#include "python/detail/module_state.h"

namespace isolates::python {

using py::Object;

namespace {

struct ChannelObject {
    PyObject_HEAD
    Channel channel;
};

Channel& channel_of(PyObject* self) { return reinterpret_cast<ChannelObject*>(self)->channel; }

/// A new isolates.Channel of `type` holding `channel`.
PyObject* wrap(PyTypeObject* type, Channel channel) {
    PyObject* self = type->tp_alloc(type, 0);
    if (!self) return nullptr;
    new (&channel_of(self)) Channel(std::move(channel));
    return self;
}

PyObject* channel_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
    static const char* keywords[] = {"capacity", nullptr};
    PyObject* capacity_object = nullptr;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:Channel", const_cast<char**>(keywords),
                                     &capacity_object))
        return nullptr;
    std::size_t capacity = 1024;
    if (capacity_object == Py_None) {
        capacity = Channel::unbounded;
    } else if (capacity_object) {
        const long long n = PyLong_AsLongLong(capacity_object);
        if (n == -1 && PyErr_Occurred()) return nullptr;
        if (n < 1) {
            PyErr_Format(PyExc_ValueError,
                         "Channel capacity must be at least 1 (or None for unbounded), got %lld", n);
            return nullptr;
        }
        capacity = static_cast<std::size_t>(n);
    }
    ModuleState& module = state_of(type);
    try {
        return wrap(type, Channel(capacity));
    } catch (...) {
        set_error_from_current_exception(module);
        return nullptr;
    }
}

/// Checked before the value is converted, so that a misused endpoint is reported first. The
/// same PermissionError as an EndpointRoleError from C++ (see set_error_from_current_exception).
bool check_role(PyObject* self, bool sending) {
    const Channel& channel = channel_of(self);
    if (sending ? channel.may_send() : channel.may_recv()) return true;
    PyErr_SetString(PyExc_PermissionError, sending ? "send on a receive-only channel endpoint"
                                                   : "recv on a send-only channel endpoint");
    return false;
}

/// Copies a bytes-like object once into a new SharedBuffer; false with a Python error set.
bool copy_into_buffer(PyObject* object, Value& out) {
    Py_buffer view;
    if (PyObject_GetBuffer(object, &view, PyBUF_C_CONTIGUOUS) < 0) return false;
    struct Release { Py_buffer* v; ~Release() { PyBuffer_Release(v); } } release{&view};
    // Another thread of this interpreter may write into a bytearray meanwhile: its writers hold
    // its critical section on the free-threaded build, so the copy does too (a consistent
    // snapshot; nothing on GIL builds). Nothing may be thrown out of the section.
    std::exception_ptr failed;
    Py_BEGIN_CRITICAL_SECTION(object);
    try {
        out = Value(SharedBuffer::copy_of(std::span(static_cast<const std::byte*>(view.buf),
                                                    static_cast<std::size_t>(view.len))));
    } catch (...) {
        failed = std::current_exception();
    }
    Py_END_CRITICAL_SECTION();
    if (failed) std::rethrow_exception(failed);
    return true;
}

/// Converts what is about to be sent; `as_buffer` turns a bytes-like object into a SharedBuffer
/// (one copy now, none on receipt).
bool to_value(const ModuleState& module, PyObject* object, bool as_buffer, Value& out) {
    try {
        if (as_buffer && PyObject_CheckBuffer(object) &&
            Py_TYPE(object)->tp_dealloc != &buffer_dealloc && !PyMemoryView_Check(object)) {
            return copy_into_buffer(object, out);
        }
        if (as_buffer && PyMemoryView_Check(object)) {
            // One of ours crosses as it is; any other memoryview is copied once.
            try {
                out = Value::from_python(object, "value");
                return true;
            } catch (const NotShareableError&) {
                return copy_into_buffer(object, out);
            }
        }
        out = Value::from_python(object, "value");
        return true;
    } catch (...) {
        set_error_from_current_exception(module);
        return false;
    }
}

PyObject* to_python(const ModuleState& module, const Value& value) {
    try {
        return value.to_python();
    } catch (...) {
        set_error_from_current_exception(module);
        return nullptr;
    }
}

void wake_channel(void* channel) { static_cast<const Channel*>(channel)->wake_waiters(); }
void wake_every_select(void*) { wake_selects(); }

/// Lets Interpreter::interrupt() wake a call of its interpreter blocked on `channel`: the wait
/// loop stops when the interpreter's interrupt flag turns true, and the call raises the interrupt.
class InterruptibleWait {
public:
    InterruptibleWait(void (*wake)(void*), void* context) : interpreter_(Interpreter::current()) {
        if (interpreter_) wakeup_.emplace(*interpreter_, wake, context);
    }
    const std::atomic<bool>* stop() const noexcept {
        return interpreter_ ? interpreter_->interrupt_flag() : nullptr;
    }
    /// GIL held, after the wait: raises the interrupt that ended it, if one did.
    bool raised_interrupt() const { return interpreter_ && interpreter_->raise_interrupt(); }

private:
    Interpreter* interpreter_;
    std::optional<Interpreter::InterruptWakeup> wakeup_;
};

/// send(value, timeout=None, *, as_buffer=False)
PyObject* channel_send(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    static const char* const names[] = {"value", "timeout", "as_buffer"};
    PyObject* parsed[3] = {};
    if (!parse_arguments("send", args, nargs, kwnames, names, parsed, 1, 2)) return nullptr;
    if (!check_role(self, true)) return nullptr;
    const ModuleState& module = state_of(Py_TYPE(self));
    Deadline deadline;
    bool zero = false;
    if (!parse_timeout(parsed[1], deadline, zero)) return nullptr;
    const int as_buffer = parsed[2] ? PyObject_IsTrue(parsed[2]) : 0;
    if (as_buffer < 0) return nullptr;
    Value value;
    if (!to_value(module, parsed[0], as_buffer, value)) return nullptr;
    Channel& channel = channel_of(self);
    SendStatus status = SendStatus::full;
    // Nothing may propagate out of the GIL-free region: the exception is carried across it.
    std::exception_ptr error;
    try {
        // try_send drops what it could not send: it gets a copy (one reference count), and
        // `value` stays for the wait below.
        status = channel.try_send(Value(value));
    } catch (...) {
        error = std::current_exception();
    }
    if (!error && status == SendStatus::full && !zero) {
        InterruptibleWait wait(&wake_channel, &channel);
        Py_BEGIN_ALLOW_THREADS
        try {
            status = channel.send_until(value, deadline, wait.stop());
        } catch (...) {
            error = std::current_exception();
        }
        Py_END_ALLOW_THREADS
        if (!error && status == SendStatus::full && wait.raised_interrupt()) return nullptr;
    }
    if (error) {
        set_error_from(module, error);
        return nullptr;
    }
    switch (status) {
    case SendStatus::sent: Py_RETURN_NONE;
    case SendStatus::full:
        PyErr_SetString(module.channel_full.get(), "channel is full (timed out waiting for space)");
        return nullptr;
    case SendStatus::closed: break;
    }
    PyErr_SetString(module.channel_closed.get(), "send on a closed channel");
    return nullptr;
}

/// try_send(value, *, as_buffer=False)
PyObject* channel_try_send(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                           PyObject* kwnames) {
    static const char* const names[] = {"value", "as_buffer"};
    PyObject* parsed[2] = {};
    if (!parse_arguments("try_send", args, nargs, kwnames, names, parsed, 1, 1)) return nullptr;
    if (!check_role(self, true)) return nullptr;
    const ModuleState& module = state_of(Py_TYPE(self));
    const int as_buffer = parsed[1] ? PyObject_IsTrue(parsed[1]) : 0;
    if (as_buffer < 0) return nullptr;
    Value value;
    if (!to_value(module, parsed[0], as_buffer, value)) return nullptr;
    SendStatus status;
    try {
        status = channel_of(self).try_send(std::move(value));
    } catch (...) {
        set_error_from_current_exception(module);
        return nullptr;
    }
    if (status == SendStatus::sent) Py_RETURN_NONE;
    if (status == SendStatus::full)
        PyErr_SetString(module.channel_full.get(), "channel is full");
    else
        PyErr_SetString(module.channel_closed.get(), "send on a closed channel");
    return nullptr;
}

/// Receives with the GIL released while waiting; nullptr and an exception on empty/closed
/// unless `stop_on_closed` (iteration), which returns nullptr without an exception.
PyObject* receive(PyObject* self, const Deadline& deadline, bool zero, bool stop_on_closed) {
    if (!check_role(self, false)) return nullptr;
    const ModuleState& module = state_of(Py_TYPE(self));
    Channel& channel = channel_of(self);
    Value value;
    // After check_role neither call can throw: the role is the only thing they check.
    RecvStatus status = channel.try_recv(value);
    if (status == RecvStatus::empty && !zero) {
        InterruptibleWait wait(&wake_channel, &channel);
        Py_BEGIN_ALLOW_THREADS
        status = channel.recv_until(value, deadline, wait.stop());
        Py_END_ALLOW_THREADS
        if (status == RecvStatus::empty && wait.raised_interrupt()) return nullptr;
    }
    switch (status) {
    case RecvStatus::received: return to_python(module, value);
    case RecvStatus::empty:
        PyErr_SetString(module.channel_empty.get(),
                        zero ? "channel is empty" : "channel is empty (timed out waiting for a value)");
        return nullptr;
    case RecvStatus::closed: break;
    }
    if (!stop_on_closed)
        PyErr_SetString(module.channel_closed.get(),
                        "recv on a closed channel: it is closed and every value has been received");
    return nullptr;
}

/// recv(timeout=None)
PyObject* channel_recv(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    static const char* const names[] = {"timeout"};
    PyObject* parsed[1] = {};
    if (nargs == 0 && !kwnames) return receive(self, std::nullopt, false, false);
    if (!parse_arguments("recv", args, nargs, kwnames, names, parsed, 0, 1)) return nullptr;
    Deadline deadline;
    bool zero = false;
    if (!parse_timeout(parsed[0], deadline, zero)) return nullptr;
    return receive(self, deadline, zero, false);
}

PyObject* channel_try_recv(PyObject* self, PyObject*) {
    return receive(self, std::nullopt, true, false);
}

PyObject* channel_iternext(PyObject* self) { return receive(self, std::nullopt, false, true); }

PyObject* channel_close(PyObject* self, PyObject*) {
    return PyBool_FromLong(channel_of(self).close());
}

PyObject* channel_enter(PyObject* self, PyObject*) { return Py_NewRef(self); }

PyObject* channel_exit(PyObject* self, PyObject* const*, Py_ssize_t) {
    channel_of(self).close();
    Py_RETURN_FALSE;
}

/// Runs `make` (sender() or receiver(), which allocate) and wraps the endpoint it returns.
template <class F> PyObject* endpoint_of(PyObject* self, F make) {
    try {
        return wrap(Py_TYPE(self), make(channel_of(self)));
    } catch (...) {
        set_error_from_current_exception(state_of(Py_TYPE(self)));
        return nullptr;
    }
}
PyObject* channel_sender(PyObject* self, PyObject*) {
    return endpoint_of(self, [](const Channel& c) { return c.sender(); });
}
PyObject* channel_receiver(PyObject* self, PyObject*) {
    return endpoint_of(self, [](const Channel& c) { return c.receiver(); });
}

Py_ssize_t channel_length(PyObject* self) { return static_cast<Py_ssize_t>(channel_of(self).size()); }

PyObject* channel_repr(PyObject* self) {
    const Channel& channel = channel_of(self);
    const std::size_t capacity = channel.capacity();
    const bool both = channel.may_send() && channel.may_recv();
    const std::string text =
        std::string("<isolates.Channel ") +
        (both ? "" : channel.may_send() ? "sender " : "receiver ") +
        "capacity=" + (capacity == Channel::unbounded ? "None" : std::to_string(capacity)) +
        " len=" + std::to_string(channel.size()) + (channel.closed() ? " closed" : "") + ">";
    return PyUnicode_FromString(text.c_str());
}

PyObject* channel_richcompare(PyObject* self, PyObject* other, int op) {
    if ((op != Py_EQ && op != Py_NE) || Py_TYPE(other)->tp_dealloc != &channel_dealloc)
        Py_RETURN_NOTIMPLEMENTED;
    const bool same = channel_of(self) == channel_of(other);
    return PyBool_FromLong(op == Py_EQ ? same : !same);
}

Py_hash_t channel_hash(PyObject* self) {
    const auto hash = static_cast<Py_hash_t>(channel_of(self).hash());
    return hash == -1 ? -2 : hash; // -1 means "error" to CPython
}

PyObject* get_closed(PyObject* self, void*) { return PyBool_FromLong(channel_of(self).closed()); }
PyObject* get_capacity(PyObject* self, void*) {
    const std::size_t capacity = channel_of(self).capacity();
    if (capacity == Channel::unbounded) Py_RETURN_NONE;
    return PyLong_FromSize_t(capacity);
}
PyObject* get_senders(PyObject* self, void*) { return PyLong_FromSize_t(channel_of(self).sender_count()); }
PyObject* get_receivers(PyObject* self, void*) {
    return PyLong_FromSize_t(channel_of(self).receiver_count());
}
PyObject* get_may_send(PyObject* self, void*) { return PyBool_FromLong(channel_of(self).may_send()); }
PyObject* get_may_recv(PyObject* self, void*) { return PyBool_FromLong(channel_of(self).may_recv()); }

PyMethodDef channel_methods[] = {
    {"send", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(channel_send)),
     METH_FASTCALL | METH_KEYWORDS,
     "send(value, timeout=None, *, as_buffer=False)\n--\n\n"
     "Sends a shareable value, waiting while the channel is full (with the GIL released).\n"
     "timeout: None waits forever, else seconds (float, any precision); raises ChannelFull\n"
     "when it expires. Raises ChannelClosed once the channel is closed and NotShareableError\n"
     "for values that cannot cross interpreters. as_buffer=True sends a bytes-like object as a\n"
     "SharedBuffer: copied once now, received as a read-only memoryview without copying."},
    {"recv", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(channel_recv)),
     METH_FASTCALL | METH_KEYWORDS,
     "recv(timeout=None)\n--\n\n"
     "Receives the next value, waiting while the channel is empty (with the GIL released).\n"
     "Raises ChannelEmpty when the timeout (seconds) expires and ChannelClosed when the channel\n"
     "is closed and drained."},
    {"try_send", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(channel_try_send)),
     METH_FASTCALL | METH_KEYWORDS,
     "try_send(value, *, as_buffer=False)\n--\n\n"
     "Sends without waiting; raises ChannelFull when full, ChannelClosed when closed."},
    {"try_recv", channel_try_recv, METH_NOARGS,
     "try_recv()\n--\n\n"
     "Receives without waiting; raises ChannelEmpty when empty, ChannelClosed when closed and\n"
     "drained."},
    {"close", channel_close, METH_NOARGS,
     "close()\n--\n\n"
     "Closes the channel: sends fail from now on, receivers drain what is left, every blocked\n"
     "call wakes. Returns True for the call that closed it."},
    {"sender", channel_sender, METH_NOARGS,
     "sender()\n--\n\n"
     "A send-only endpoint of this channel. When every endpoint that may send is gone, the\n"
     "channel closes itself."},
    {"receiver", channel_receiver, METH_NOARGS,
     "receiver()\n--\n\n"
     "A receive-only endpoint of this channel. When every endpoint that may receive is gone,\n"
     "the channel closes itself."},
    {"__enter__", channel_enter, METH_NOARGS, "Returns the channel itself."},
    {"__exit__", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(channel_exit)),
     METH_FASTCALL, "Closes the channel."},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef channel_getset[] = {
    {"closed", get_closed, nullptr, "Whether close() was called (values may remain to drain).",
     nullptr},
    {"capacity", get_capacity, nullptr, "The most values the channel holds; None when unbounded.",
     nullptr},
    {"sender_count", get_senders, nullptr, "Endpoints alive that may send, in any interpreter.",
     nullptr},
    {"receiver_count", get_receivers, nullptr,
     "Endpoints alive that may receive, in any interpreter.", nullptr},
    {"may_send", get_may_send, nullptr, "Whether this endpoint may send.", nullptr},
    {"may_recv", get_may_recv, nullptr, "Whether this endpoint may receive.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot channel_slots[] = {
    {Py_tp_doc, const_cast<char*>(
        "Channel(capacity=1024)\n--\n\n"
        "A lock-free multi-producer multi-consumer channel of shareable values, usable from every\n"
        "interpreter and from C++. capacity: the most values it holds (None: unbounded).\n"
        "A Channel is itself shareable: send it, pass it or return it to another interpreter\n"
        "and it arrives as a working handle to the same channel. Iterating receives until the\n"
        "channel is closed; `with` closes it on exit; len() is the number of values queued.")},
    {Py_tp_new, reinterpret_cast<void*>(channel_new)},
    {Py_tp_dealloc, reinterpret_cast<void*>(channel_dealloc)},
    {Py_tp_methods, channel_methods},
    {Py_tp_getset, channel_getset},
    {Py_tp_iter, reinterpret_cast<void*>(PyObject_SelfIter)},
    {Py_tp_iternext, reinterpret_cast<void*>(channel_iternext)},
    {Py_mp_length, reinterpret_cast<void*>(channel_length)},
    {Py_tp_repr, reinterpret_cast<void*>(channel_repr)},
    {Py_tp_richcompare, reinterpret_cast<void*>(channel_richcompare)},
    {Py_tp_hash, reinterpret_cast<void*>(channel_hash)},
    {0, nullptr},
};

PyType_Spec channel_spec = {
    "isolates.Channel", sizeof(ChannelObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    channel_slots,
};

} // namespace

void channel_dealloc(PyObject* self) {
    PyTypeObject* type = Py_TYPE(self);
    channel_of(self).~Channel();
    type->tp_free(self);
    Py_DECREF(type);
}

PyType_Spec* channel_type_spec() { return &channel_spec; }

std::shared_ptr<const Shareable> channel_from_python(_object* object) {
    if (Py_TYPE(object)->tp_dealloc != &channel_dealloc) return nullptr;
    return channel_of(object).shareable();
}

_object* channel_to_python(const std::shared_ptr<const Shareable>& object) {
    std::optional<Channel> channel = Channel::from_shareable(object);
    if (!channel) {
        PyErr_SetString(PyExc_SystemError, "isolates: the Channel hook got another native type");
        return nullptr;
    }
    ModuleState* state = current_state();
    if (!state) return nullptr;
    return wrap(reinterpret_cast<PyTypeObject*>(state->channel_type.get()), *std::move(channel));
}

PyObject* select_function(PyObject* module, PyObject* const* args, Py_ssize_t nargs,
                          PyObject* kwnames) {
    static const char* const names[] = {"channels", "timeout"};
    PyObject* parsed[2] = {};
    if (!parse_arguments("select", args, nargs, kwnames, names, parsed, 1, 2)) return nullptr;
    const ModuleState& state = *static_cast<ModuleState*>(PyModule_GetState(module));
    Deadline deadline;
    bool zero = false;
    if (!parse_timeout(parsed[1], deadline, zero)) return nullptr;
    Object sequence = Object::steal(PySequence_Fast(parsed[0], "select: channels must be a sequence"));
    if (!sequence) return nullptr;
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(sequence.get());
    std::vector<Channel> channels;
    channels.reserve(static_cast<std::size_t>(n));
    for (Py_ssize_t k = 0; k < n; ++k) {
        PyObject* item = PySequence_Fast_GET_ITEM(sequence.get(), k);
        if (Py_TYPE(item)->tp_dealloc != &channel_dealloc) {
            PyErr_Format(PyExc_TypeError, "select: item %zd is a %s, not an isolates.Channel", k,
                         Py_TYPE(item)->tp_name);
            return nullptr;
        }
        channels.push_back(channel_of(item));
    }
    std::optional<std::chrono::nanoseconds> timeout;
    if (deadline) timeout = std::max(std::chrono::nanoseconds(0), *deadline - std::chrono::steady_clock::now());
    std::optional<Selected> selected;
    // The wait runs without the GIL; exceptions are carried out of the GIL-free region.
    std::exception_ptr error;
    InterruptibleWait wait(&wake_every_select, nullptr);
    Py_BEGIN_ALLOW_THREADS
    try {
        selected = select(channels, timeout, wait.stop());
    } catch (...) {
        error = std::current_exception();
    }
    Py_END_ALLOW_THREADS
    if (!error && !selected && wait.raised_interrupt()) return nullptr;
    if (error) {
        set_error_from(state, error);
        return nullptr;
    }
    if (!selected) {
        PyErr_SetString(state.channel_empty.get(), "select timed out: no channel had a value");
        return nullptr;
    }
    Object value = Object::steal(to_python(state, selected->value));
    if (!value) return nullptr;
    return Py_BuildValue("(nO)", static_cast<Py_ssize_t>(selected->index), value.get());
}

} // namespace isolates::python
