// The registry of native-type hooks (isolates/interp/native.h). Registration is rare and takes a mutex;
// conversion reads the tables on every native value without one, so each table is a fixed array
// of atomics published by its count.

#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>

#include <isolates/interp/errors.h>
#include <isolates/interp/native.h>
#include "interp/detail/native_hooks.h"

namespace isolates {

namespace {
/// Few native types exist (channels, buffers, a user's own): a short table scanned in order.
constexpr std::size_t max_hooks = 16;

// Everything below is constant-initialised, so hooks may be registered from static
// initialisers of other files, in any order.
std::mutex registry_mutex;

std::atomic<FromPythonHook> from_hooks[max_hooks];
std::atomic<std::size_t> from_count{0};

struct ToPythonEntry {
    std::atomic<const std::type_info*> type;
    std::atomic<ToPythonHook> hook;
};
ToPythonEntry to_hooks[max_hooks];
std::atomic<std::size_t> to_count{0};

// Entries are written (relaxed) before the count is stored with release; readers load the
// count with acquire, so every entry below the count they see is complete. Entries never change
// once published.
} // namespace

void register_from_python_hook(FromPythonHook hook) {
    std::lock_guard lock(registry_mutex);
    const std::size_t n = from_count.load(std::memory_order_relaxed);
    for (std::size_t k = 0; k < n; ++k)
        if (from_hooks[k].load(std::memory_order_relaxed) == hook) return;
    if (n == max_hooks) throw UsageError("too many native from-Python hooks registered");
    from_hooks[n].store(hook, std::memory_order_relaxed);
    from_count.store(n + 1, std::memory_order_release);
}

void register_to_python_hook(const std::type_info& type, ToPythonHook hook) {
    std::lock_guard lock(registry_mutex);
    const std::size_t n = to_count.load(std::memory_order_relaxed);
    for (std::size_t k = 0; k < n; ++k) {
        if (*to_hooks[k].type.load(std::memory_order_relaxed) != type) continue;
        if (to_hooks[k].hook.load(std::memory_order_relaxed) == hook) return;
        throw UsageError(std::string("a to-Python hook for native type ") + type.name() +
                         " is already registered");
    }
    if (n == max_hooks) throw UsageError("too many native to-Python hooks registered");
    to_hooks[n].type.store(&type, std::memory_order_relaxed);
    to_hooks[n].hook.store(hook, std::memory_order_relaxed);
    to_count.store(n + 1, std::memory_order_release);
}

namespace detail {

std::shared_ptr<const Shareable> native_from_python(_object* object) {
    const std::size_t n = from_count.load(std::memory_order_acquire);
    for (std::size_t k = 0; k < n; ++k)
        if (auto shareable = from_hooks[k].load(std::memory_order_relaxed)(object)) return shareable;
    return nullptr;
}

_object* native_to_python(const std::shared_ptr<const Shareable>& object) {
    const Shareable& shareable = *object;
    const std::type_info& type = typeid(shareable);
    const std::size_t n = to_count.load(std::memory_order_acquire);
    for (std::size_t k = 0; k < n; ++k)
        if (*to_hooks[k].type.load(std::memory_order_relaxed) == type)
            return to_hooks[k].hook.load(std::memory_order_relaxed)(object);
    const std::string name(object->type_name());
    PyErr_Format(PyExc_TypeError, "no Python form registered for native type '%s'", name.c_str());
    return nullptr;
}

} // namespace detail

} // namespace isolates
