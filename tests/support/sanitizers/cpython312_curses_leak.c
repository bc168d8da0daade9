/* Reproduces, without isolates, the CPython 3.12 leak that lsan_cpython3.12.supp suppresses as
 * `leak:_curses.cpython-312-`: an isolated sub-interpreter runs a single-phase extension's
 * PyInit_* before refusing it (CPython gh-117953, fixed in 3.13), and PyInit__curses keeps the
 * _curses.error type it makes in a C static, so each refused import overwrites (leaks) the type
 * the previous one made. N imports leave N-2 types (1,344 bytes each) unreachable at exit.
 *
 * Not built by meson. Build and run against one CPython (V = 3.12 or 3.13):
 *   P=$(pyenv root)/versions/3.12.1 V=3.12
 *   gcc -g -fsanitize=address tests/support/sanitizers/cpython312_curses_leak.c -o /tmp/curses_leak \
 *       -I$P/include/python$V -L$P/lib -lpython$V -Wl,-rpath,$P/lib
 *   LSAN_OPTIONS=suppressions=$PWD/tests/support/sanitizers/lsan_cpython3.12.supp /tmp/curses_leak 3
 * 3.12.1: "1344 byte(s) leaked in 6 allocation(s)"; 3.13.0: no leak. With
 * ASAN_OPTIONS=fast_unwind_on_malloc=0 the stacks reach PyInit__curses and lsan_cpython3.12.supp
 * suppresses the leak. */
#include <Python.h>
#include <stdio.h>
#include <stdlib.h>

/* One fresh isolated sub-interpreter (the configuration isolates uses) tries `import NAME`. */
static void import_in_fresh_subinterpreter(const char *name) {
    PyInterpreterConfig config = {
        .use_main_obmalloc = 0,
        .allow_fork = 0,
        .allow_exec = 0,
        .allow_threads = 1,
        .allow_daemon_threads = 0,
        .check_multi_interp_extensions = 1,
        .gil = PyInterpreterConfig_OWN_GIL,
    };
    PyThreadState *main_thread_state = PyThreadState_Get();
    PyThreadState *thread_state = NULL;
    PyStatus status = Py_NewInterpreterFromConfig(&thread_state, &config);
    if (PyStatus_Exception(status)) Py_ExitStatusException(status);
    PyObject *module = PyImport_ImportModule(name);
    if (module) {
        printf("%s was imported\n", name);
        Py_DECREF(module);
    } else {
        PyErr_Print(); /* ImportError: module _curses does not support loading in subinterpreters */
    }
    Py_EndInterpreter(thread_state);
    PyThreadState_Swap(main_thread_state);
}

int main(int argc, char **argv) {
    const int imports = argc > 1 ? atoi(argv[1]) : 3;
    const char *name = argc > 2 ? argv[2] : "_curses";
    PyPreConfig preconfig;
    PyPreConfig_InitIsolatedConfig(&preconfig);
    preconfig.allocator = PYMEM_ALLOCATOR_MALLOC; /* as isolates' sanitizer builds: LSan sees objects */
    PyStatus status = Py_PreInitialize(&preconfig);
    if (PyStatus_Exception(status)) Py_ExitStatusException(status);
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) Py_ExitStatusException(status);
    for (int k = 0; k < imports; ++k) import_in_fresh_subinterpreter(name);
    return Py_FinalizeEx() < 0 ? 1 : 0;
}
