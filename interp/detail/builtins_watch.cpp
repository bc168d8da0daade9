#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

#include "interp/detail/builtins_watch.h"

#include <mutex>
#include <utility>

#include "interp/detail/lock_attached.h"

namespace isolates::detail {

namespace {
constexpr const char* tampered_key = "isolates.builtins_tampered";

int on_builtins_change(PyDict_WatchEvent event, PyObject*, PyObject*, PyObject*) {
    if (event == PyDict_EVENT_ADDED || event == PyDict_EVENT_CLONED) return 0;
    PyObject* state = PyInterpreterState_GetDict(PyInterpreterState_Get()); // borrowed
    if (state && PyDict_SetItemString(state, tampered_key, Py_True) < 0) PyErr_Clear();
    return 0;
}

/// The main interpreter's one builtins watcher and its shares: taken attached to the main
/// interpreter, whose Interpreters run on several threads (and without a GIL on the
/// free-threaded build).
struct MainWatcher {
    std::mutex mutex;
    int watcher = -1; // under mutex
    int shares = 0;   // under mutex
};
MainWatcher& main_watcher() {
    static auto* shared = new MainWatcher; // lives forever: no static destruction order to fear
    return *shared;
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

BuiltinsWatch BuiltinsWatch::start_shared() {
    MainWatcher& main = main_watcher();
    auto lock = lock_attached(main.mutex);
    if (main.shares == 0) {
        BuiltinsWatch first = start(); // throws before anything is counted
        main.watcher = std::exchange(first.watcher_, -1);
    }
    ++main.shares;
    BuiltinsWatch share(main.watcher, /*shared=*/true);
    share.key_ = py::Object::steal(PyUnicode_InternFromString(tampered_key));
    if (!share.key_) PyErr_Clear(); // tampered() then says false; the share still counts
    return share;
}

BuiltinsWatch::~BuiltinsWatch() {
    if (watcher_ < 0) return;
    if (shared_) {
        MainWatcher& main = main_watcher();
        auto lock = lock_attached(main.mutex);
        if (--main.shares > 0) return;
        main.watcher = -1;
    }
    if (PyDict_ClearWatcher(watcher_) < 0) PyErr_Clear();
}

BuiltinsWatch::BuiltinsWatch(BuiltinsWatch&& other) noexcept
    : watcher_(std::exchange(other.watcher_, -1)), shared_(other.shared_),
      key_(std::move(other.key_)) {}

BuiltinsWatch& BuiltinsWatch::operator=(BuiltinsWatch&& other) noexcept {
    std::swap(watcher_, other.watcher_); // `other` clears what this held
    std::swap(shared_, other.shared_);
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
