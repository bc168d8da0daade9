/* See keyword_tuples_312.h. Built only against CPython 3.12 (interp/meson.build). */
#define Py_BUILD_CORE 1 /* for _PyRuntime's layout: internal/pycore_runtime.h */
#include <Python.h>
#include "internal/pycore_runtime.h"

#include "interp/detail/keyword_tuples_312.h"

int isolates_keep_parser_keyword_tuples(void) {
#if PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x030C0400
    /* The headers decide the layout read here; the libpython loaded decides whether the bug is
     * there: from 3.12.4 on, CPython builds these tuples under the main interpreter itself. */
    if (Py_Version >= 0x030C0400) return 0;
    /* The list of every initialised parser (getargs.c), prepended to under
     * _PyRuntime.getargs.mutex by whichever interpreter initialises one. No lock is taken: every
     * sub-interpreter has ended and the caller holds the main interpreter's GIL, so no thread
     * can be initialising a parser. initialized == 1: the parser built (owns) its tuple; -1:
     * the tuple is a static one of CPython's. */
    int kept = 0;
    for (struct _PyArg_Parser* parser = _PyRuntime.getargs.static_parsers; parser;
         parser = parser->next) {
        if (parser->initialized != 1 || !parser->kwtuple) continue;
        /* Which allocator made a tuple cannot be asked, so the main interpreter's own tuples
         * are kept too. Immortal rather than detached: main-interpreter code run by
         * Py_FinalizeEx (atexit, finalizers) may still parse keywords with it. */
        Py_SET_REFCNT(parser->kwtuple, _Py_IMMORTAL_REFCNT);
        ++kept;
    }
    return kept;
#else
    return 0;
#endif
}
