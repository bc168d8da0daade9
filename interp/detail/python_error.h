#pragma once
// Turning the Python exception raised in the current interpreter into a C++ PythonError.

#include "interp/detail/python.h"

#include <string>

#include "interp/errors.h"

namespace isolates::detail {

/// Takes the raised exception (GIL held, PyErr_Occurred() true) and copies its type, message and
/// formatted traceback into a PythonError. Clears the Python error indicator.
PythonError fetch_python_error();

/// Throws fetch_python_error(). Use right after a CPython call reported failure.
[[noreturn]] void throw_python_error();

/// Qualified type name as Python prints it: `ValueError`, `json.decoder.JSONDecodeError`.
std::string type_name_of(PyTypeObject* type);

/// Sets the matching Python exception for a C++ exception in flight (inside catch).
void set_python_error_from_current_exception() noexcept;

} // namespace isolates::detail
