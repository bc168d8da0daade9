#pragma once
// The one place that includes Python.h, with shims over the differences between 3.12 and later.
// Python.h must come before any standard header (its pyconfig.h sets _POSIX_C_SOURCE and
// friends; 3.15 warns when a libc header set them first), so a source file that uses the
// CPython API includes this file first of all.

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

namespace isolates::detail {

/// The thread state attached to this thread, or nullptr; never fails.
inline PyThreadState* current_thread_state() noexcept {
#if PY_VERSION_HEX >= 0x030D0000
    return PyThreadState_GetUnchecked();
#else
    return _PyThreadState_UncheckedGet();
#endif
}

} // namespace isolates::detail
