#pragma once
// The python program the Runtime tells CPython it is: the CPython this library embeds, so that
// sys.executable starts the same Python (subprocess, multiprocessing's spawn) and the search for
// sys.prefix starts from its install, not from whatever `python3` comes first on PATH.

#include <string>

namespace isolates::detail {

/// The embedded CPython's executable: bin/python3.X (python3.Xt when free-threaded) beside the
/// lib/ folder of the libpython loaded in this process (found with dladdr), else the one recorded
/// when isolates was configured; empty when neither exists. Any thread, before or after
/// initialisation.
std::string embedded_python_executable();

/// The python of the virtual environment `venv` (the folder holding pyvenv.cfg): bin/python3.X,
/// python3 or python, the first that exists. Throws UsageError when `venv` has no pyvenv.cfg,
/// no python, or was made by another minor version of Python than the one embedded.
std::string venv_python_executable(const std::string& venv);

} // namespace isolates::detail
