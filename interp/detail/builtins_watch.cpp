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
    PyObject* builtins = PyEval_GetBuiltins(); // borrowed
    if (!builtins || PyDict_Watch(watch.watcher_, builtins) < 0) py::throw_error();
    return watch;
}

BuiltinsWatch::~BuiltinsWatch() {
    if (watcher_ >= 0 && PyDict_ClearWatcher(watcher_) < 0) PyErr_Clear();
}

BuiltinsWatch::BuiltinsWatch(BuiltinsWatch&& other) noexcept
    : watcher_(std::exchange(other.watcher_, -1)) {}

BuiltinsWatch& BuiltinsWatch::operator=(BuiltinsWatch&& other) noexcept {
    std::swap(watcher_, other.watcher_); // `other` clears what this held
    return *this;
}

bool BuiltinsWatch::tampered() noexcept {
    PyObject* state = PyInterpreterState_GetDict(PyInterpreterState_Get()); // borrowed
    return state && PyDict_GetItemString(state, tampered_key) != nullptr;
}

} // namespace isolates::detail
