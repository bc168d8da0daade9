#pragma once
// resolve(): the callable a `package.module:qualname` call target names, looked up in the
// interpreter attached to this thread. Shared by Interpreter::call_with and call_each.

#include <string_view>

#include <isolates/interp/cpython.h>

namespace isolates::detail {

/// Attached (GIL held): the module from sys.modules, imported when missing, then each attribute
/// of `qualname` in turn. Throws UsageError for a target without `module:` and `qualname`,
/// PythonError when the import or an attribute lookup fails.
py::Object resolve(std::string_view target);

} // namespace isolates::detail
