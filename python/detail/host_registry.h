#pragma once
// The registered host modules, as the flat core of python/ keeps them: each function's
// PyMethodDef, its parameter names for argument parsing and its docstring with the signature.
// Written only before the Runtime starts (registration is refused after), then read without
// locks by every interpreter. Not installed.

#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <isolates/interp/value.h>
#include <isolates/python/host_function.h>

namespace isolates::python {

/// One function of a registered host module. Never moved once made: `method` and `names` point
/// into its own strings.
struct RegisteredFunction {
    detail::HostFunction function;
    std::string qualified_name;      // "host.score", for error messages
    std::string doc;                 // text signature, typed signature, docstring
    std::vector<const char*> names;  // parameter names, for parse_arguments
    Py_ssize_t required = 0;         // parameters before the first one with a default
    PyMethodDef method{};
};

/// A registered host module.
struct RegisteredModule {
    std::string name;
    std::string doc;
    std::vector<std::unique_ptr<RegisteredFunction>> functions;
    std::vector<std::pair<std::string, Value>> constants;
};

/// The host module registered as `name`, or nullptr. Any thread.
const RegisteredModule* find_host_module(std::string_view name);

/// The C function behind every host function (METH_FASTCALL | METH_KEYWORDS): `self` is a
/// capsule holding its RegisteredFunction. Calling thread, GIL held.
PyObject* host_call(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames);

} // namespace isolates::python
