// Calling a host function from Python: the flat, non-template core every host function shares.
// Parses positional and keyword arguments by the function's parameter names, fills in defaults,
// turns each argument into a Value (TypeError naming the parameter when it cannot be), finds the
// calling Interpreter when the function takes one, runs the adapted callable and translates what
// it throws into the matching Python exception.

#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

#include <array>
#include <exception>
#include <span>
#include <string>
#include <vector>

#include <isolates/interp/errors.h>
#include <isolates/interp/interpreter.h>
#include "python/detail/host_registry.h"
#include "python/detail/module_state.h"

namespace isolates {

void detail::HostCall::run_released(void (*body)(void*), void* context) const {
    // Nothing may propagate out of the GIL-free region: the exception is carried across it.
    std::exception_ptr error;
    Py_BEGIN_ALLOW_THREADS
    try {
        body(context);
    } catch (...) {
        error = std::current_exception();
    }
    Py_END_ALLOW_THREADS
    if (error) std::rethrow_exception(error);
}

namespace python {

namespace {

/// Most host functions take few parameters: their arguments live on the stack.
constexpr std::size_t inline_parameters = 6;

/// TypeError for parameter `index` of `f`: names it, its type, and why.
void argument_error(const RegisteredFunction& f, std::size_t index, const char* why) {
    const detail::HostParameter& p = f.function.parameters[index];
    PyErr_Format(PyExc_TypeError, "%s() argument '%s' must be %s: %s", f.qualified_name.c_str(),
                 p.name.c_str(), p.type.c_str(), why);
}

/// The calling Interpreter for a function that takes one; false with an error set when a
/// reference is wanted and there is none.
bool calling_interpreter(const RegisteredFunction& f, Interpreter*& out) {
    out = Interpreter::current();
    // current() names the interpreter whose call this thread runs; Python code on this thread
    // is that interpreter's unless another was attached below it without an Interpreter.
    if (out && out->id() != PyInterpreterState_GetID(PyInterpreterState_Get())) out = nullptr;
    if (out || f.function.interpreter != detail::InterpreterParameter::reference) return true;
    PyErr_Format(PyExc_RuntimeError,
                 "%s() takes the calling isolates::Interpreter, and there is none here: it was "
                 "called from the main interpreter or from a Python thread (only the thread that "
                 "owns an Interpreter runs its calls)",
                 f.qualified_name.c_str());
    return false;
}

/// Sets the Python exception for what a host function threw (inside catch).
void set_host_error() noexcept {
    try {
        throw;
    } catch (...) {
        // The isolates module's exceptions (NotShareableError, ChannelClosed) live in this
        // interpreter's module state; without it, the plain translation.
        if (ModuleState* state = current_state()) set_error_from_current_exception(*state);
        else py::set_error_from_current_exception();
    }
}

} // namespace

PyObject* host_call(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    const auto& f = *static_cast<const RegisteredFunction*>(PyCapsule_GetPointer(self, nullptr));
    const std::size_t n = f.names.size();
    std::array<PyObject*, inline_parameters> given_inline{};
    std::array<Value, inline_parameters> values_inline;
    std::vector<PyObject*> given_heap;
    std::vector<Value> values_heap;
    if (n > inline_parameters) {
        given_heap.resize(n);
        values_heap.resize(n);
    }
    const std::span<PyObject*> given = n > inline_parameters ? std::span(given_heap)
                                                             : std::span(given_inline.data(), n);
    const std::span<Value> values = n > inline_parameters ? std::span(values_heap)
                                                          : std::span(values_inline.data(), n);
    if (!kwnames && nargs == static_cast<Py_ssize_t>(n)) {
        // Every argument given by position, the common case: nothing to match or fill in.
        for (std::size_t k = 0; k < n; ++k) given[k] = args[k];
    } else if (!parse_arguments(f.qualified_name.c_str(), args, nargs, kwnames, f.names, given,
                                f.required, static_cast<Py_ssize_t>(n))) {
        return nullptr;
    }
    for (std::size_t k = 0; k < n; ++k) {
        if (!given[k]) {
            values[k] = *f.function.parameters[k].default_value;
            continue;
        }
        try {
            values[k] = Value::from_python(given[k], f.function.parameters[k].name);
        } catch (const NotShareableError& e) {
            argument_error(f, k, e.what());
            return nullptr;
        } catch (...) {
            set_host_error();
            return nullptr;
        }
    }
    Interpreter* interpreter = nullptr;
    if (f.function.interpreter != detail::InterpreterParameter::none &&
        !calling_interpreter(f, interpreter))
        return nullptr;
    try {
        const detail::HostCall call(f.function.release_gil, interpreter);
        return f.function.invoke(f.function.callable.get(), values, call).to_python();
    } catch (const detail::HostArgumentError& e) {
        argument_error(f, e.index(), e.what());
        return nullptr;
    } catch (...) {
        set_host_error();
        return nullptr;
    }
}

} // namespace python
} // namespace isolates
