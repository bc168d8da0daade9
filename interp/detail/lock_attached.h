#pragma once
// Taking a mutex of ours on a thread attached to an interpreter.

#include <mutex>

#include <isolates/interp/cpython.h>

namespace isolates::detail {

/// Locks `mutex` on a thread attached to an interpreter. Free-threaded CPython may pause every
/// attached thread (stop-the-world) while the holder runs, so a waiter must detach while it
/// waits or both would wait forever; on GIL builds the GIL itself keeps this from blocking.
inline std::unique_lock<std::mutex> lock_attached(std::mutex& mutex) {
    std::unique_lock lock(mutex, std::try_to_lock);
    if (!lock) {
        Py_BEGIN_ALLOW_THREADS
        lock.lock();
        Py_END_ALLOW_THREADS
    }
    return lock;
}

} // namespace isolates::detail
