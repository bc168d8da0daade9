// Interpreter::call_each: one target called on many items in one hold of the GIL, the loop in C.
// This is the work of one chunk of an executor's map: resolving the target and taking the GIL
// once per chunk instead of once per item is what makes small items cheap.

#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

#include <atomic>
#include <cstddef>
#include <vector>

#include <isolates/interp/interpreter.h>
#include "interp/detail/node_builder.h"
#include "interp/detail/resolve.h"

namespace isolates {

using py::Object;

namespace {

/// `function(item)`: a new reference, or nullptr with a Python exception set.
PyObject* call_one(PyObject* function, const Value& item) {
    Object argument = Object::steal(item.to_python());
    // The slot before the argument lets a bound method put `self` there without a copy.
    PyObject* slots[2] = {nullptr, argument.get()};
    return PyObject_Vectorcall(function, slots + 1, 1 | PY_VECTORCALL_ARGUMENTS_OFFSET, nullptr);
}

/// `function(*item)` for a tuple or list Value: a new reference, or nullptr with a Python
/// exception set (TypeError for any other kind).
PyObject* call_unpacked(PyObject* function, const Value& item) {
    if (item.kind() != Kind::tuple && item.kind() != Kind::list) {
        PyErr_Format(PyExc_TypeError, "starmap: each item must be a tuple of arguments, got %s",
                     std::string(kind_name(item.kind())).c_str());
        return nullptr;
    }
    const auto items = item.items();
    // Slot 0 is for PY_VECTORCALL_ARGUMENTS_OFFSET; the Objects own the arguments.
    std::vector<Object> owned;
    owned.reserve(items.size());
    std::vector<PyObject*> slots(items.size() + 1, nullptr);
    for (std::size_t k = 0; k < items.size(); ++k) {
        owned.push_back(Object::steal(items[k].to_python()));
        slots[k + 1] = owned.back().get();
    }
    return PyObject_Vectorcall(function, slots.data() + 1,
                               items.size() | PY_VECTORCALL_ARGUMENTS_OFFSET, nullptr);
}

} // namespace

Interpreter::EachResult Interpreter::call_each(std::string_view target,
                                               std::span<const Value> items, bool unpack) {
    Active active(*this);
    Object function = detail::resolve(target);
    const std::atomic<bool>& interrupted = *interrupt_flag();
    detail::ContainerBuilder results(Kind::tuple, items.size());
    std::exception_ptr failure;
    try {
        for (const Value& item : items) {
            // A builtin target runs no bytecode, where a pending interrupt would be raised: raise
            // it here. Relaxed: the flag is only a hint, raise_interrupt() decides.
            if (interrupted.load(std::memory_order_relaxed) && raise_interrupt()) py::throw_error();
            Object result = Object::steal(unpack ? call_unpacked(function.get(), item)
                                                 : call_one(function.get(), item));
            if (!result) py::throw_error();
            results.add(Value::from_python(result.get(), "result"));
        }
    } catch (...) {
        failure = std::current_exception();
    }
    return {results.finish(), std::move(failure)};
}

} // namespace isolates
