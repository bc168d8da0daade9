#pragma once
/// The CPython API for code that must touch it beside the interpreters themselves: the Python
/// layer (python/) and your own native types (isolates/interp/native.h). Include this header first of all
/// in such a file: Python.h must come before any standard header (its pyconfig.h sets
/// _POSIX_C_SOURCE and friends; 3.15 warns when a libc header set them first).
/// Everything here runs on a thread attached to an interpreter (its GIL held, or attached on the
/// free-threaded build), and every PyObject* is owned by a py::Object.

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#if PY_VERSION_HEX < 0x030C0000
#error "isolates needs CPython >= 3.12 (per-interpreter GIL)"
#endif

// Per-object locks of the free-threaded build (3.13+); on GIL builds (and 3.12, which has no
// such macros) a critical section is just a block, as the GIL already excludes other threads.
#ifndef Py_BEGIN_CRITICAL_SECTION
#define Py_BEGIN_CRITICAL_SECTION(op) {
#define Py_END_CRITICAL_SECTION() }
#endif

#include <string>
#include <utility>

#include <isolates/interp/errors.h>

namespace isolates::py {

/// The one owner of a PyObject reference. Taking ownership is spelled at the call site:
/// Object::steal(new_reference) or Object::borrow(borrowed_reference). Like every PyObject*, an
/// Object lives and dies under its own interpreter's GIL.
class Object {
public:
    Object() noexcept = default;
    static Object steal(PyObject* p) noexcept { return Object(p); }
    static Object borrow(PyObject* p) noexcept {
        Py_XINCREF(p);
        return Object(p);
    }

    Object(Object&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
    Object& operator=(Object&& other) noexcept {
        Object old(std::exchange(p_, std::exchange(other.p_, nullptr)));
        return *this;
    }
    Object(const Object&) = delete;
    Object& operator=(const Object&) = delete;
    ~Object() { Py_XDECREF(p_); }

    PyObject* get() const noexcept { return p_; }
    /// Hands the reference to the caller.
    PyObject* release() noexcept { return std::exchange(p_, nullptr); }
    explicit operator bool() const noexcept { return p_ != nullptr; }

private:
    explicit Object(PyObject* p) noexcept : p_(p) {}
    PyObject* p_ = nullptr;
};

/// The thread state attached to this thread, or nullptr; never fails.
inline PyThreadState* current_thread_state() noexcept {
#if PY_VERSION_HEX >= 0x030D0000
    return PyThreadState_GetUnchecked();
#else
    return _PyThreadState_UncheckedGet();
#endif
}

/// Takes the raised exception (PyErr_Occurred() true) and copies its type, message and formatted
/// traceback into a PythonError. Clears the Python error indicator.
PythonError fetch_error();

/// Throws fetch_error(). Use right after a CPython call reported failure.
[[noreturn]] void throw_error();

/// Qualified type name as Python prints it: `ValueError`, `json.decoder.JSONDecodeError`.
std::string type_name(PyTypeObject* type);

/// Sets the matching Python exception for a C++ exception in flight (inside catch): TypeError
/// for NotShareableError, ValueError for ConversionError, MemoryError, else RuntimeError.
void set_error_from_current_exception() noexcept;

} // namespace isolates::py
