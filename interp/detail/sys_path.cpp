#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

#include "interp/detail/sys_path.h"

namespace isolates::detail {

bool prepend_sys_path(const std::vector<std::string>& entries, bool skip_present) {
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
        PyObject* path = PySys_GetObject("path"); // borrowed
        py::Object entry = py::Object::steal(
            PyUnicode_FromStringAndSize(it->data(), static_cast<Py_ssize_t>(it->size())));
        if (!path) PyErr_SetString(PyExc_RuntimeError, "sys.path is missing");
        if (!path || !entry) return false;
        if (skip_present) {
            const int present = PySequence_Contains(path, entry.get());
            if (present < 0) return false;
            if (present == 1) continue;
        }
        if (PyList_Insert(path, 0, entry.get()) < 0) return false;
    }
    return true;
}

} // namespace isolates::detail
