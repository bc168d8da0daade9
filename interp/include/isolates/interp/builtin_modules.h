#pragma once
/// Built-in extension modules made importable in every interpreter (main and sub-interpreters).
/// Register at static-initialisation time or before the Runtime is made: CPython reads the
/// table of built-in modules once, when it initialises.

struct _object;

namespace isolates {

/// The module's PyInit function: returns its PyModuleDef (multi-phase init, declared safe for
/// per-interpreter GILs with Py_MOD_PER_INTERPRETER_GIL_SUPPORTED).
using ModuleInit = _object* (*)();

/// Adds `name` to the built-in modules. Throws UsageError once the Runtime has started, or when
/// a built-in module of that name exists already (registered here, or one of CPython's own).
/// HostModule (isolates/python/host_module.h) builds such a module from plain C++ functions.
void register_builtin_module(const char* name, ModuleInit init);

} // namespace isolates
