#pragma once
/// How native shareable objects (SharedBuffer, Channel, your own) come back out of Python.
/// Value::to_python asks the Shareable itself; Value::from_python asks each registered hook, in
/// registration order, before it gives up with NotShareableError.

#include <memory>

#include "interp/value.h"

namespace isolates {

/// Returns the Shareable behind `object` when the hook recognises its type, else nullptr.
/// Called with the GIL of the current interpreter held; may throw NotShareableError.
using FromPythonHook = std::shared_ptr<const Shareable> (*)(_object* object);

/// Registers a hook for the life of the process; thread-safe; registering twice is a no-op.
void register_from_python_hook(FromPythonHook hook);

} // namespace isolates
