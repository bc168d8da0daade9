// The `isolates` built-in module: multi-phase initialisation, declared safe for per-interpreter
// GILs, its heap types and exceptions kept in module state (one set per interpreter, nothing
// static). Registered as a built-in when libisolates loads, so every interpreter can import it.

#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

#include <cmath>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#include <isolates/channels/channel.h>
#include <isolates/channels/shared_buffer.h>
#include <isolates/executor/errors.h>
#include <isolates/interp/builtin_modules.h>
#include <isolates/interp/errors.h>
#include <isolates/interp/native.h>
#include "python/detail/module_state.h"

namespace isolates::python {

using py::Object;

ModuleState& state_of(PyTypeObject* type) {
    return *static_cast<ModuleState*>(PyType_GetModuleState(type));
}

ModuleState* current_state() {
    Object name = Object::steal(PyUnicode_FromString("isolates"));
    if (!name) return nullptr;
    Object module = Object::steal(PyImport_GetModule(name.get()));
    if (!module) {
        if (PyErr_Occurred()) return nullptr;
        module = Object::steal(PyImport_Import(name.get()));
        if (!module) return nullptr;
    }
    void* state = PyModule_GetState(module.get());
    if (!state) {
        PyErr_SetString(PyExc_RuntimeError, "sys.modules['isolates'] is not the isolates module");
        return nullptr;
    }
    // The module stays alive through sys.modules and through every type it made.
    return static_cast<ModuleState*>(state);
}

namespace {
/// A new reference to the built-in exception class called `name` (`KeyError`), or nullptr
/// (no error set) when there is none.
PyObject* builtin_exception(const std::string& name) {
    if (name.find('.') != std::string::npos) return nullptr;
    Object builtins = Object::steal(PyImport_ImportModule("builtins"));
    Object type = builtins ? Object::steal(PyObject_GetAttrString(builtins.get(), name.c_str())) : Object();
    if (!type || !PyExceptionClass_Check(type.get())) {
        PyErr_Clear();
        return nullptr;
    }
    return type.release();
}
} // namespace

void set_error_from_current_exception(const ModuleState& state) noexcept {
    try {
        throw;
    } catch (const NotShareableError& e) {
        PyErr_SetString(state.not_shareable.get(), e.what());
    } catch (const ChannelClosed& e) {
        PyErr_SetString(state.channel_closed.get(), e.what());
    } catch (const EndpointRoleError& e) {
        PyErr_SetString(PyExc_PermissionError, e.what());
    } catch (const UsageError& e) {
        PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const PythonError& e) {
        // Python code called from C++ raised: the same built-in exception again, else RuntimeError.
        PyObject* type = builtin_exception(e.type_name());
        if (type) PyErr_SetString(type, e.message().c_str());
        else PyErr_Format(PyExc_RuntimeError, "%s: %s", e.type_name().c_str(), e.message().c_str());
        Py_XDECREF(type);
    } catch (const TimeoutError& e) {
        PyErr_SetString(PyExc_TimeoutError, e.what());
    } catch (const std::invalid_argument& e) {
        PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const std::domain_error& e) {
        PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const std::out_of_range& e) {
        PyErr_SetString(PyExc_IndexError, e.what());
    } catch (const std::overflow_error& e) {
        PyErr_SetString(PyExc_OverflowError, e.what());
    } catch (...) {
        py::set_error_from_current_exception();
    }
}

void set_error_from(const ModuleState& state, const std::exception_ptr& error) noexcept {
    try {
        std::rethrow_exception(error);
    } catch (...) {
        set_error_from_current_exception(state);
    }
}

bool parse_timeout(PyObject* timeout, Deadline& deadline, bool& is_zero) {
    deadline.reset();
    is_zero = false;
    if (!timeout || timeout == Py_None) return true;
    const double seconds = PyFloat_AsDouble(timeout);
    if (seconds == -1.0 && PyErr_Occurred()) return false;
    if (std::isnan(seconds) || seconds < 0) {
        PyErr_SetString(PyExc_ValueError, "timeout must be None or a number of seconds >= 0");
        return false;
    }
    if (seconds == 0) {
        is_zero = true;
        deadline = std::chrono::steady_clock::now();
        return true;
    }
    if (seconds > 1e9) return true; // beyond thirty years: wait forever
    deadline = std::chrono::steady_clock::now() +
               std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                   std::chrono::duration<double>(seconds));
    return true;
}

bool parse_arguments(const char* function, PyObject* const* args, Py_ssize_t nargs,
                     PyObject* kwnames, std::span<const char* const> names,
                     std::span<PyObject*> out, Py_ssize_t required, Py_ssize_t max_positional) {
    if (nargs > max_positional) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %zd positional arguments (%zd given)",
                     function, max_positional, nargs);
        return false;
    }
    for (Py_ssize_t k = 0; k < nargs; ++k) out[static_cast<std::size_t>(k)] = args[k];
    const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; ++k) {
        const char* key = PyUnicode_AsUTF8(PyTuple_GET_ITEM(kwnames, k));
        if (!key) return false;
        std::size_t slot = names.size();
        for (std::size_t n = 0; n < names.size(); ++n)
            if (std::strcmp(key, names[n]) == 0) slot = n;
        if (slot == names.size()) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%s'", function, key);
            return false;
        }
        if (out[slot]) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", function, key);
            return false;
        }
        out[slot] = args[nargs + k];
    }
    for (Py_ssize_t k = 0; k < required; ++k)
        if (!out[static_cast<std::size_t>(k)]) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", function,
                         names[static_cast<std::size_t>(k)]);
            return false;
        }
    return true;
}

namespace {

/// Adds a new exception class `isolates.<name>` to the module; false on failure.
bool add_exception(PyObject* module, Object& slot, const char* name, PyObject* base, const char* doc) {
    const std::string qualified = std::string("isolates.") + name;
    slot = Object::steal(PyErr_NewExceptionWithDoc(qualified.c_str(), doc, base, nullptr));
    return slot && PyModule_AddObjectRef(module, name, slot.get()) == 0;
}

int module_exec(PyObject* module) {
    ModuleState& state = *new (PyModule_GetState(module)) ModuleState{};
    state.channel_type = Object::steal(PyType_FromModuleAndSpec(module, channel_type_spec(), nullptr));
    if (!state.channel_type || PyModule_AddObjectRef(module, "Channel", state.channel_type.get()) < 0)
        return -1;
    state.buffer_type = Object::steal(PyType_FromModuleAndSpec(module, buffer_type_spec(), nullptr));
    if (!state.buffer_type || PyModule_AddObjectRef(module, "SharedBuffer", state.buffer_type.get()) < 0)
        return -1;
    if (!add_exception(module, state.channel_error, "ChannelError", PyExc_Exception,
                       "Base of the errors a Channel raises.") ||
        !add_exception(module, state.channel_closed, "ChannelClosed", state.channel_error.get(),
                       "Sending on a closed channel, or receiving from one that is closed and "
                       "drained.") ||
        !add_exception(module, state.channel_empty, "ChannelEmpty", state.channel_error.get(),
                       "try_recv found no value, or recv/select timed out.") ||
        !add_exception(module, state.channel_full, "ChannelFull", state.channel_error.get(),
                       "try_send found no room, or send timed out.") ||
        !add_exception(module, state.not_shareable, "NotShareableError", PyExc_TypeError,
                       "A value that cannot cross between interpreters; the message says which "
                       "part of it and why."))
        return -1;
    return 0;
}

int module_traverse(PyObject* module, visitproc visit, void* arg) {
    ModuleState* state = static_cast<ModuleState*>(PyModule_GetState(module));
    if (!state) return 0;
    for (const Object* o : {&state->channel_type, &state->buffer_type, &state->channel_error,
                            &state->channel_closed, &state->channel_empty, &state->channel_full,
                            &state->not_shareable})
        Py_VISIT(o->get());
    return 0;
}

int module_clear(PyObject* module) {
    if (ModuleState* state = static_cast<ModuleState*>(PyModule_GetState(module))) *state = ModuleState{};
    return 0;
}

void module_free(void* module) {
    if (ModuleState* state = static_cast<ModuleState*>(PyModule_GetState(static_cast<PyObject*>(module))))
        state->~ModuleState();
}

PyMethodDef module_methods[] = {
    {"select", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(select_function)),
     METH_FASTCALL | METH_KEYWORDS,
     "select(channels, timeout=None)\n--\n\n"
     "Receives from whichever of `channels` has a value first and returns (index, value).\n"
     "Waits with the GIL released; raises ChannelEmpty when the timeout (seconds) expires\n"
     "and ChannelClosed when every channel is closed and drained (closed ones are skipped).\n"
     "Channels are scanned from a rotating start, so a busy channel does not starve others."},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, reinterpret_cast<void*>(module_exec)},
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#if PY_VERSION_HEX >= 0x030D0000
    // Nothing here leans on a GIL: Values are snapshots taken under each container's critical
    // section, channels are thread-safe. Without this the free-threaded build turns its GIL on.
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, nullptr},
};

PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "isolates",
    "Channels and shared buffers between isolated interpreters and C++ threads.\n\n"
    "Channel: a lock-free multi-producer multi-consumer channel of shareable values; select:\n"
    "receive from the first ready channel; SharedBuffer: immutable bytes shared without copying.\n"
    "Every object here works in every interpreter of the process and can be passed between them.",
    sizeof(ModuleState),
    module_methods,
    module_slots,
    module_traverse,
    module_clear,
    module_free,
};

PyObject* init_module() { return PyModuleDef_Init(&module_def); }

// Static registration: runs when libisolates loads, before main() can make the Runtime. The
// hooks come with the module: channels and buffers have a Python form wherever it is importable.
const bool registered = [] {
    register_builtin_module("isolates", &init_module);
    register_from_python_hook(&channel_from_python);
    register_from_python_hook(&buffer_from_python);
    register_to_python_hook(Channel::shareable_type(), &channel_to_python);
    register_to_python_hook(SharedBuffer::shareable_type(), &buffer_to_python);
    return true;
}();

} // namespace

} // namespace isolates::python
