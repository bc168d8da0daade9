#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

#include "interp/detail/lookup_cache.h"

#include <atomic>

namespace isolates::detail {

namespace {
using py::Object;

/// The most entries kept; past it the cache starts over (a program calling ever new targets).
constexpr std::size_t max_entries = 1024;

/// Changes to watched dicts made on a thread where their interpreter's cache is not the attached
/// one (a Python thread started inside an interpreter), or on an interpreter several caches
/// share (the main one): counted for every cache, which is rare enough not to matter. Bumped inside the watcher callback, before the change it announces.
std::atomic<std::uint64_t> foreign_generation{0};

thread_local LookupCache* attached_cache = nullptr;

/// dict[key] as a strong reference, or an empty Object. On the free-threaded build it reads
/// under the dict's lock, so it never falls between another thread's watcher event and the
/// change that event announces (both happen under that lock).
Object locked_item(PyObject* dict, PyObject* key) {
    PyObject* item = nullptr;
    Py_BEGIN_CRITICAL_SECTION(dict);
#if PY_VERSION_HEX >= 0x030D0000
    if (PyDict_GetItemRef(dict, key, &item) < 0) PyErr_Clear();
#else
    item = PyDict_GetItemWithError(dict, key);
    Py_XINCREF(item);
    if (!item) PyErr_Clear();
#endif
    Py_END_CRITICAL_SECTION();
    return Object::steal(item);
}

Object make_str(std::string_view text) {
    Object s = Object::steal(
        PyUnicode_FromStringAndSize(text.data(), static_cast<Py_ssize_t>(text.size())));
    if (!s) PyErr_Clear();
    return s;
}
} // namespace

LookupCache::LookupCache(bool shared) noexcept : shared_(shared) {
    interpreter_ = PyInterpreterState_Get();
    watcher_ = PyDict_AddWatcher(&LookupCache::on_change);
    if (watcher_ < 0) PyErr_Clear(); // no id left: stay off
    else watch_sys();
}

void LookupCache::watch_sys() noexcept {
    watched_names_.emplace("modules");
    Object sys = Object::steal(PyImport_ImportModule("sys"));
    PyObject* sys_names = sys ? PyModule_GetDict(sys.get()) : nullptr; // borrowed
    if (!sys_names || PyDict_Watch(watcher_, sys_names) < 0 ||
        PyDict_Watch(watcher_, PyImport_GetModuleDict()) < 0) {
        PyErr_Clear();
        close(); // half watched would be wrong for healthy(): off
    }
}

LookupCache::Generation LookupCache::generation() const noexcept {
    return {own_generation_, foreign_generation.load(std::memory_order_seq_cst)};
}

LookupCache::~LookupCache() { close(); }

void LookupCache::close() noexcept {
    entries_.clear();
    if (watcher_ >= 0 && PyDict_ClearWatcher(watcher_) < 0) PyErr_Clear();
    watcher_ = -1;
}

LookupCache* LookupCache::exchange_attached(LookupCache* cache) noexcept {
    return std::exchange(attached_cache, cache);
}

int LookupCache::on_change(PyDict_WatchEvent event, PyObject* dict, PyObject* key, PyObject*) {
    if (event == PyDict_EVENT_ADDED) return 0; // replaces nothing an entry found
    LookupCache* cache = attached_cache;
    if (!cache || cache->interpreter_ != PyInterpreterState_Get() || cache->shared_) {
        foreign_generation.fetch_add(1, std::memory_order_seq_cst);
        return 0;
    }
    // The owning thread: a module namespace's other names do not matter. Only ASCII str keys are
    // compared (no call that could fail or run code here); anything else counts.
    if (key && dict != PyImport_GetModuleDict() && PyUnicode_Check(key) &&
        PyUnicode_IS_ASCII(key)) {
        const std::string_view name(static_cast<const char*>(PyUnicode_DATA(key)),
                                    static_cast<std::size_t>(PyUnicode_GET_LENGTH(key)));
        if (!cache->watched_names_.contains(name)) return 0;
    }
    ++cache->own_generation_;
    return 0;
}

Object LookupCache::find(std::string_view target, Object (*resolve)(std::string_view)) {
    if (watcher_ < 0) return resolve(target);
    // Read before resolving: a change announced from here on makes the new entry stale.
    const Generation now = generation();
    if (auto it = entries_.find(target); it != entries_.end() && it->second.resolved == now)
        return Object::borrow(it->second.function.get());
    Object function = resolve(target);
    remember(target, function, now);
    return function;
}

void LookupCache::remember(std::string_view target, const Object& function,
                           Generation resolved) {
    const auto colon = target.find(':'); // resolve() accepted it, so there is one
    const std::string_view module_name = target.substr(0, colon);
    const std::string_view name = target.substr(colon + 1);
    if (name.find('.') != std::string_view::npos) return;
    Object module_key = make_str(module_name);
    Object name_key = make_str(name);
    if (!module_key || !name_key) return;
    watched_names_.emplace(module_name);
    watched_names_.emplace(name);
    // Watch first (sys.modules is watched from the start), then check that the dicts still hold
    // what resolve() found: a change before the watch shows up in the check, one after it in the
    // count read before resolving.
    PyObject* modules = PyImport_GetModuleDict(); // borrowed
    Object module = locked_item(modules, module_key.get());
    if (!module || !PyModule_CheckExact(module.get())) return;
    PyObject* names = PyModule_GetDict(module.get()); // borrowed, owned by the module
    if (!names || PyDict_Watch(watcher_, names) < 0) {
        PyErr_Clear();
        return;
    }
    if (locked_item(names, name_key.get()).get() != function.get()) return;
    if (entries_.size() >= max_entries) {
        entries_.clear();
        watched_names_.clear();
        watched_names_.emplace("modules");
        watched_names_.emplace(module_name);
        watched_names_.emplace(name);
    }
    entries_.insert_or_assign(std::string(target), Entry{Object::borrow(function.get()), resolved});
}

} // namespace isolates::detail
