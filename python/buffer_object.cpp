// isolates.SharedBuffer: read-only bytes shared without copying. A received buffer arrives as a
// memoryview over an isolates.SharedBuffer object, which keeps the bytes alive.

#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>

#include <isolates/channels/shared_buffer.h>
#include <isolates/interp/errors.h>
#include "python/detail/module_state.h"

namespace isolates::python {

using py::Object;

namespace {

struct BufferObject {
    PyObject_HEAD
    SharedBuffer buffer;
};

BufferObject* as_buffer(PyObject* self) { return reinterpret_cast<BufferObject*>(self); }

PyObject* wrap(PyTypeObject* type, SharedBuffer buffer) {
    PyObject* self = type->tp_alloc(type, 0);
    if (!self) return nullptr;
    new (&as_buffer(self)->buffer) SharedBuffer(std::move(buffer));
    return self;
}

/// Copies are released without the GIL past this size, so other threads of the interpreter run.
constexpr Py_ssize_t copy_without_gil_from = 1 << 20;

PyObject* buffer_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
    static const char* keywords[] = {"data", "shared_memory", nullptr};
    Py_buffer view;
    int shared_memory = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*|$p:SharedBuffer", const_cast<char**>(keywords),
                                     &view, &shared_memory))
        return nullptr;
    struct Release { Py_buffer* v; ~Release() { PyBuffer_Release(v); } } release{&view};
    const ModuleState& module = state_of(type);
    const auto storage = shared_memory ? SharedBuffer::Storage::shared_memory : SharedBuffer::Storage::process;
    const std::span<const std::byte> bytes(static_cast<const std::byte*>(view.buf),
                                           static_cast<std::size_t>(view.len));
    SharedBuffer buffer;
    std::exception_ptr error;
    // The exported view pins the source's memory, so it can be read without the GIL.
    if (view.len >= copy_without_gil_from) {
        Py_BEGIN_ALLOW_THREADS
        try {
            buffer = SharedBuffer::copy_of(bytes, storage);
        } catch (...) {
            error = std::current_exception();
        }
        Py_END_ALLOW_THREADS
    } else {
        try {
            buffer = SharedBuffer::copy_of(bytes, storage);
        } catch (...) {
            error = std::current_exception();
        }
    }
    if (error) {
        set_error_from(module, error);
        return nullptr;
    }
    return wrap(type, std::move(buffer));
}

PyObject* buffer_open(PyObject* cls, PyObject* name) {
    const char* text = PyUnicode_AsUTF8(name);
    if (!text) return nullptr;
    PyTypeObject* type = reinterpret_cast<PyTypeObject*>(cls);
    try {
        return wrap(type, SharedBuffer::open_shared(text));
    } catch (...) {
        set_error_from_current_exception(state_of(type));
        return nullptr;
    }
}

int buffer_getbuffer(PyObject* self, Py_buffer* view, int flags) {
    const SharedBuffer& buffer = as_buffer(self)->buffer;
    return PyBuffer_FillInfo(view, self, const_cast<std::byte*>(buffer.data()),
                             static_cast<Py_ssize_t>(buffer.size()), /*readonly=*/1, flags);
}

Py_ssize_t buffer_length(PyObject* self) {
    return static_cast<Py_ssize_t>(as_buffer(self)->buffer.size());
}

PyObject* buffer_repr(PyObject* self) {
    const SharedBuffer& buffer = as_buffer(self)->buffer;
    std::string text = "<isolates.SharedBuffer " + std::to_string(buffer.size()) + " bytes";
    if (!buffer.name().empty()) text += " in shared memory '" + buffer.name() + "'";
    text += ">";
    return PyUnicode_FromString(text.c_str());
}

PyObject* get_name(PyObject* self, void*) {
    const std::string& name = as_buffer(self)->buffer.name();
    if (name.empty()) Py_RETURN_NONE;
    return PyUnicode_FromStringAndSize(name.data(), static_cast<Py_ssize_t>(name.size()));
}

PyObject* get_shared_memory(PyObject* self, void*) {
    return PyBool_FromLong(as_buffer(self)->buffer.storage() == SharedBuffer::Storage::shared_memory);
}

PyMethodDef buffer_methods[] = {
    {"open", buffer_open, METH_O | METH_CLASS,
     "open(name)\n--\n\n"
     "Maps, read-only, a shared-memory SharedBuffer that another process created (see name)."},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef buffer_getset[] = {
    {"name", get_name, nullptr,
     "The shared-memory segment's name, for SharedBuffer.open in another process; None when "
     "the bytes live in this process's memory.", nullptr},
    {"shared_memory", get_shared_memory, nullptr, "Whether the bytes live in shared memory.",
     nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot buffer_slots[] = {
    {Py_tp_doc, const_cast<char*>(
        "SharedBuffer(data, *, shared_memory=False)\n--\n\n"
        "Immutable bytes shared between interpreters (and processes) without copying: `data`\n"
        "(any bytes-like object) is copied once, here. Supports the buffer protocol read-only:\n"
        "memoryview(buf), bytes(buf), len(buf). Sent through a Channel it arrives as a read-only\n"
        "memoryview that keeps the bytes alive however long it is held. shared_memory=True puts\n"
        "the bytes in a POSIX shared-memory segment that another process can map with\n"
        "SharedBuffer.open(buf.name).")},
    {Py_tp_new, reinterpret_cast<void*>(buffer_new)},
    {Py_tp_dealloc, reinterpret_cast<void*>(buffer_dealloc)},
    {Py_tp_methods, buffer_methods},
    {Py_tp_getset, buffer_getset},
    {Py_bf_getbuffer, reinterpret_cast<void*>(buffer_getbuffer)},
    {Py_mp_length, reinterpret_cast<void*>(buffer_length)},
    {Py_tp_repr, reinterpret_cast<void*>(buffer_repr)},
    {0, nullptr},
};

PyType_Spec buffer_spec = {
    "isolates.SharedBuffer", sizeof(BufferObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE, buffer_slots,
};

} // namespace

void buffer_dealloc(PyObject* self) {
    PyTypeObject* type = Py_TYPE(self);
    as_buffer(self)->buffer.~SharedBuffer();
    type->tp_free(self);
    Py_DECREF(type);
}

PyType_Spec* buffer_type_spec() { return &buffer_spec; }

std::shared_ptr<const Shareable> buffer_from_python(_object* object) {
    if (Py_TYPE(object)->tp_dealloc == &buffer_dealloc) return as_buffer(object)->buffer.shareable();
    if (!PyMemoryView_Check(object)) return nullptr;
    PyObject* base = PyMemoryView_GET_BUFFER(object)->obj;
    if (!base || Py_TYPE(base)->tp_dealloc != &buffer_dealloc) return nullptr;
    // Exporting checks the view is still alive (not released) and contiguous.
    Py_buffer view;
    if (PyObject_GetBuffer(object, &view, PyBUF_C_CONTIGUOUS) < 0) {
        PyErr_Clear();
        throw NotShareableError("memoryview", "", "released or not contiguous");
    }
    struct Release { Py_buffer* v; ~Release() { PyBuffer_Release(v); } } release{&view};
    const SharedBuffer& buffer = as_buffer(base)->buffer;
    const auto* start = static_cast<const std::byte*>(view.buf);
    const std::size_t offset = static_cast<std::size_t>(start - buffer.data());
    if (start < buffer.data() || offset + static_cast<std::size_t>(view.len) > buffer.size())
        throw NotShareableError("memoryview", "", "not within its SharedBuffer");
    if (offset == 0 && static_cast<std::size_t>(view.len) == buffer.size()) return buffer.shareable();
    return buffer.slice(offset, static_cast<std::size_t>(view.len)).shareable();
}

_object* buffer_to_python(const std::shared_ptr<const Shareable>& object) {
    std::optional<SharedBuffer> buffer = SharedBuffer::from_shareable(object);
    if (!buffer) {
        PyErr_SetString(PyExc_SystemError, "isolates: the SharedBuffer hook got another native type");
        return nullptr;
    }
    ModuleState* state = current_state();
    if (!state) return nullptr;
    Object wrapped = Object::steal(
        wrap(reinterpret_cast<PyTypeObject*>(state->buffer_type.get()), *std::move(buffer)));
    if (!wrapped) return nullptr;
    return PyMemoryView_FromObject(wrapped.get());
}

} // namespace isolates::python
