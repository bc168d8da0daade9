#pragma once
// CPython 3.12.0 to 3.12.3 only (CPython issue 119213, fixed in 3.12.4). The argument parser
// Argument Clinic makes for a function of an extension module (_pickle.dumps, _hashlib's
// openssl_sha256, ...) is a C static shared by every interpreter, and the tuple of its keyword
// names is built lazily, in the interpreter that first passes it a keyword: a sub-interpreter's
// tuple, from that sub-interpreter's own allocator, kept process-wide. Py_FinalizeEx then drops
// it under the main interpreter, whose tuple free list takes it and, at _PyTuple_Fini, hands it to
// an allocator that never made it: a crash at exit ("free(): invalid pointer", or a segfault).
// Written in C: CPython's internal headers, which hold the list of those parsers, are C only.

#ifdef __cplusplus
extern "C" {
#endif

/// Main interpreter attached, no sub-interpreter left, just before Py_FinalizeEx: on CPython
/// 3.12.0 to 3.12.3, makes immortal every keyword tuple an argument parser built lazily, so
/// Py_FinalizeEx leaves them alone (a few small tuples stay allocated at exit); does nothing on
/// any other version. Returns how many tuples it made immortal.
int isolates_keep_parser_keyword_tuples(void);

#ifdef __cplusplus
}
#endif
