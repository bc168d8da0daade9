#include "interp/cpython.h" // first: Python.h must come before any standard header

#include "interp/detail/builtins_watch.h"

#include <utility>

namespace isolates::detail {

namespace {
constexpr const char* tampered_key = "isolates.builtins_tampered";

int on_builtins_change(PyDict_WatchEvent event, PyObject*, PyObject*, PyObject*) {
    if (event == PyDict_EVENT_ADDED || event == PyDict_EVENT_CLONED) return 0;
    PyObject* state = PyInterpreterState_GetDict(PyInterpreterState_Get()); // borrowed
    if (state && PyDict_SetItemString(state, tampered_key, Py_True) < 0) PyErr_Clear();
    return 0;
}
} // namespace

BuiltinsWatch BuiltinsWatch::start() {
    BuiltinsWatch watch(PyDict_AddWatcher(&on_builtins_change));
    if (watch.watcher_ < 0) py::throw_error();
    watch.key_ = py::Object::steal(PyUnicode_InternFromString(tampered_key));
    if (!watch.key_) py::throw_error();
    PyObject* builtins = PyEval_GetBuiltins(); // borrowed
    if (!builtins || PyDict_Watch(watch.watcher_, builtins) < 0) py::throw_error();
    return watch;
}

BuiltinsWatch::~BuiltinsWatch() {
    if (watcher_ >= 0 && PyDict_ClearWatcher(watcher_) < 0) PyErr_Clear();
}

BuiltinsWatch::BuiltinsWatch(BuiltinsWatch&& other) noexcept
    : watcher_(std::exchange(other.watcher_, -1)), key_(std::move(other.key_)) {}

BuiltinsWatch& BuiltinsWatch::operator=(BuiltinsWatch&& other) noexcept {
    std::swap(watcher_, other.watcher_); // `other` clears what this held
    std::swap(key_, other.key_);
    return *this;
}

bool BuiltinsWatch::tampered() const noexcept {
    PyObject* state = PyInterpreterState_GetDict(PyInterpreterState_Get()); // borrowed
    if (!state || !key_) return false;
    const int found = PyDict_Contains(state, key_.get());
    if (found < 0) PyErr_Clear();
    return found == 1;
}

} // namespace isolates::detail
