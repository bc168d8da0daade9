#pragma once
// LookupCache: what `package.module:function` call targets resolve to in one interpreter, so a
// call does not look its module up in sys.modules and its function up in the module (making
// strings for both) every time. An entry is used only while nothing it depends on changed: a
// CPython dict watcher (PyDict_AddWatcher, 3.12+) on sys.modules and on the namespace of each cached
// function's module counts every entry replaced or deleted there (a rebound `mod.f = g`, a
// `del mod.f`, importlib.reload re-running the module's code in the same namespace, `exec`
// redefining a `__main__` function, a module replaced in or removed from sys.modules) and every
// clear; an entry made before the latest such change is resolved again. Adding a name is not
// counted: it replaces nothing a cached entry found.
//
// Only `module:name` targets whose module is a plain module and whose function sits in its
// namespace are cached: a dotted name reaches through objects (classes) no dict watcher sees, a
// module subclass or a module __getattr__ may answer differently each time.
//
// Several Interpreters may share one interpreter (the main one, each through a thread state of
// its own): a watcher callback cannot tell which of their watchers it runs for, so there every
// counted change is counted for every cache, as a foreign one.
//
// The same count tells Interpreter::healthy() whether sys.modules or sys.modules' binding in sys
// changed since its last full check (both are watched from the start).

#include <isolates/interp/cpython.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace isolates::detail {

class LookupCache {
public:
    /// With the interpreter attached: starts watching. Without a dict watcher id left (CPython
    /// has 8 per interpreter, some taken by CPython itself; we take 2, this and BuiltinsWatch,
    /// whose one watcher the Interpreters on the main interpreter share)
    /// the cache stays off and find() always resolves. `shared`: other Interpreters use the same
    /// interpreter (the main one).
    explicit LookupCache(bool shared = false) noexcept;
    /// close().
    ~LookupCache();
    LookupCache(const LookupCache&) = delete;
    LookupCache& operator=(const LookupCache&) = delete;

    /// With the interpreter attached: drops every entry and the watcher; idempotent.
    void close() noexcept;

    /// With the interpreter attached, on its owning thread: what `target` resolves to, from the
    /// cache while still valid, else `resolve(target)` (whose errors propagate), remembered when
    /// it can be watched.
    py::Object find(std::string_view target, py::Object (*resolve)(std::string_view));

    /// Changes counted so far; equal values mean no watched dict changed in between.
    struct Generation {
        std::uint64_t own = 0;
        std::uint64_t foreign = 0;
        bool operator==(const Generation&) const = default;
    };
    /// Owning thread, attached: the count now.
    Generation generation() const noexcept;
    /// Whether changes are counted at all (false without a watcher id).
    bool watching() const noexcept { return watcher_ >= 0; }

    /// The owning thread, as it attaches an interpreter (Interpreter::Active): makes `cache` the
    /// one whose changes this thread counts without atomics; returns the previous one.
    static LookupCache* exchange_attached(LookupCache* cache) noexcept;

private:
    struct Entry {
        py::Object function;
        Generation resolved; // the count before it was resolved
    };
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };

    static int on_change(PyDict_WatchEvent event, PyObject* dict, PyObject* key, PyObject* value);
    void remember(std::string_view target, const py::Object& function, Generation resolved);
    void watch_sys() noexcept;

    int watcher_ = -1; // CPython's dict watcher id, per interpreter; -1: off
    PyInterpreterState* interpreter_ = nullptr;
    bool shared_ = false; // other caches watch the same interpreter's dicts
    // Changes seen on the owning thread while this cache was attached there. Only that thread
    // reads or writes it (changes on other threads count in a process-wide atomic instead).
    std::uint64_t own_generation_ = 0;
    std::unordered_map<std::string, Entry, Hash, std::equal_to<>> entries_;
    // The names looked up in watched module namespaces: on the owning thread, a change to any
    // other name there is not counted (a function rebinding its module's globals every call
    // keeps its entry).
    std::unordered_set<std::string, Hash, std::equal_to<>> watched_names_;
};

} // namespace isolates::detail
