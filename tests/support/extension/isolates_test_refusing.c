/* isolates_test_refusing: a test extension module that refuses sub-interpreters, as numpy >= 2.4
 * and every single-phase-init module do. Single-phase init (PyInit_ returns PyModule_Create's
 * module, no Py_mod_multiple_interpreters slot), so CPython refuses it in an isolated
 * sub-interpreter ("module isolates_test_refusing does not support loading in subinterpreters")
 * and loads it in the main interpreter. Built by tests/support/extension/meson.build, never installed.
 *
 *   bump() -> int           counts calls in this process (one process-wide state)
 *   pid() -> int            the process id
 *   block_in_c(seconds)     releases the GIL and sleeps in C, ignoring every interrupt: a C call
 *                           that outlives its timeout, for fault tests
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <math.h>
#include <time.h>
#include <unistd.h>

/* Process-global on purpose: a single-phase module's state is the process's. Atomic, as
 * Interpreters on several threads may call it (and there is no GIL on the free-threaded build). */
static long bump_count = 0;

static PyObject* bump(PyObject* self, PyObject* unused) {
    (void)self;
    (void)unused;
    return PyLong_FromLong(__atomic_add_fetch(&bump_count, 1, __ATOMIC_SEQ_CST));
}

static PyObject* pid(PyObject* self, PyObject* unused) {
    (void)self;
    (void)unused;
    return PyLong_FromLong((long)getpid());
}

static PyObject* block_in_c(PyObject* self, PyObject* arg) {
    (void)self;
    const double seconds = PyFloat_AsDouble(arg);
    if (seconds == -1.0 && PyErr_Occurred()) return NULL;
    if (!(seconds >= 0.0) || !isfinite(seconds)) {
        PyErr_SetString(PyExc_ValueError, "block_in_c() needs a finite number of seconds >= 0");
        return NULL;
    }
    struct timespec left;
    left.tv_sec = (time_t)seconds;
    left.tv_nsec = (long)((seconds - (double)left.tv_sec) * 1e9);
    Py_BEGIN_ALLOW_THREADS
    /* A signal only shortens one nanosleep: sleep again for what is left. */
    while (nanosleep(&left, &left) != 0 && errno == EINTR) {
    }
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"bump", bump, METH_NOARGS, "bump() -> int: counts calls in this process"},
    {"pid", pid, METH_NOARGS, "pid() -> int: the process id"},
    {"block_in_c", block_in_c, METH_O,
     "block_in_c(seconds): sleeps in C with the GIL released, ignoring interrupts"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "isolates_test_refusing",
    "A single-phase-init test module that refuses sub-interpreters.",
    -1, /* process-global state: no per-interpreter copy */
    methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit_isolates_test_refusing(void) {
    PyObject* m = PyModule_Create(&module);
#ifdef Py_GIL_DISABLED
    /* The free-threaded build re-enables the GIL for a module that does not say otherwise; this
     * one keeps no Python state between calls (its counter is atomic). */
    if (m && PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#endif
    return m;
}
