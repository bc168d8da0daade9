#pragma once
/// How native shareable objects (SharedBuffer, Channel, your own) cross into and out of Python.
/// Value::to_python asks the hook registered for the Shareable's dynamic type; Value::from_python
/// asks each registered from-Python hook, in registration order, before it gives up with
/// NotShareableError. The Python layer (python/) registers the hooks for channels and buffers.

#include <memory>
#include <typeinfo>

#include <isolates/interp/value.h>

namespace isolates {

/// Returns the Shareable behind `object` when the hook recognises its type, else nullptr.
/// Called with the GIL of the current interpreter held; may throw NotShareableError.
using FromPythonHook = std::shared_ptr<const Shareable> (*)(_object* object);

/// Registers a hook for the life of the process; thread-safe; registering twice is a no-op.
void register_from_python_hook(FromPythonHook hook);

/// Returns a new reference to a fresh Python object for `object`. Called with the GIL of the
/// receiving interpreter held; on failure sets a Python exception and returns nullptr.
using ToPythonHook = _object* (*)(const std::shared_ptr<const Shareable>& object);

/// Registers the hook for Shareables whose dynamic type is `type`, for the life of the process;
/// thread-safe; registering the same pair twice is a no-op, another hook for a type already
/// registered throws UsageError. Without one, Value::to_python of such a Shareable raises
/// TypeError ("no Python form registered for native type '<type_name()>'").
void register_to_python_hook(const std::type_info& type, ToPythonHook hook);

} // namespace isolates
