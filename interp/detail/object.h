#pragma once
// Object: the one owner of a PyObject reference. Taking ownership is spelled at the call site:
// Object::steal(new_reference) or Object::borrow(borrowed_reference). Like every PyObject*, an
// Object lives and dies under its own interpreter's GIL.

#include "interp/detail/python.h"

#include <utility>

namespace isolates::detail {

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

} // namespace isolates::detail
