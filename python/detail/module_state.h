#pragma once
// The `isolates` built-in module's per-interpreter state and the helpers its objects share.
// This folder is the one place outside interp/ that uses the CPython API: it is the Python face
// of channels/, built on their public C++ API only. Every function here runs with the current
// interpreter's GIL held.

#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

#include <exception>
#include <memory>
#include <span>

#include <isolates/channels/channel.h>
#include <isolates/interp/value.h>

namespace isolates::python {

/// Heap types and exceptions, one set per interpreter (module state, never static).
struct ModuleState {
    py::Object channel_type;
    py::Object buffer_type;
    py::Object channel_error;
    py::Object channel_closed;
    py::Object channel_empty;
    py::Object channel_full;
    py::Object not_shareable;
};

/// The state of the module that defined `type` (one of our heap types).
ModuleState& state_of(PyTypeObject* type);
/// The state of this interpreter's `isolates` module, importing it if needed; nullptr with a
/// Python exception set on failure.
ModuleState* current_state();

/// Sets the Python exception for the C++ exception in flight (call inside catch): the module's
/// ChannelClosed and NotShareableError, PermissionError for EndpointRoleError, ValueError for
/// any other UsageError, a PythonError as the built-in exception of its type (else
/// RuntimeError), TimeoutError, ValueError for std::invalid_argument and std::domain_error,
/// IndexError for std::out_of_range, OverflowError for std::overflow_error, else
/// py::set_error_from_current_exception (MemoryError, RuntimeError with what()).
void set_error_from_current_exception(const ModuleState& state) noexcept;
/// The same for an exception carried out of a GIL-free region.
void set_error_from(const ModuleState& state, const std::exception_ptr& error) noexcept;

/// Parses a `timeout` argument (None or seconds as int/float >= 0) into a deadline; false with
/// ValueError/TypeError set when invalid. `deadline` stays nullopt for None; `is_zero` is set for 0.
bool parse_timeout(PyObject* timeout, Deadline& deadline, bool& is_zero);

/// Fast-call argument parsing: fills `out` (borrowed, nullptr when absent) from positional and
/// keyword arguments named `names`; the first `required` are mandatory and at most
/// `max_positional` may be positional. False with TypeError set on bad arguments.
bool parse_arguments(const char* function, PyObject* const* args, Py_ssize_t nargs,
                     PyObject* kwnames, std::span<const char* const> names,
                     std::span<PyObject*> out, Py_ssize_t required, Py_ssize_t max_positional);

/// Type specs and the dealloc functions that identify our objects in any interpreter (heap
/// types differ per interpreter; their C functions do not).
PyType_Spec* channel_type_spec();
PyType_Spec* buffer_type_spec();
void channel_dealloc(PyObject* self);
void buffer_dealloc(PyObject* self);

/// The native-type hooks (isolates/interp/native.h) for channel endpoints and buffers: an isolates.Channel
/// or SharedBuffer (or a memoryview over one) of any interpreter in, the Shareable out; and back,
/// an isolates.Channel or a read-only memoryview over an isolates.SharedBuffer of the current
/// interpreter's module. Registered with the module (module.cpp).
std::shared_ptr<const Shareable> channel_from_python(_object* object);
_object* channel_to_python(const std::shared_ptr<const Shareable>& object);
std::shared_ptr<const Shareable> buffer_from_python(_object* object);
_object* buffer_to_python(const std::shared_ptr<const Shareable>& object);

/// Module-level `select`.
PyObject* select_function(PyObject* module, PyObject* const* args, Py_ssize_t nargs,
                          PyObject* kwnames);

} // namespace isolates::python
