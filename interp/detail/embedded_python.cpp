#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

#include "interp/detail/embedded_python.h"

#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <isolates/interp/errors.h>

namespace isolates::detail {

namespace {
namespace fs = std::filesystem;

/// "3.14" (or "3.14t" on the free-threaded build): the name python3.X carries in bin/.
std::string version_tag() {
    std::string tag = std::to_string(PY_MAJOR_VERSION) + "." + std::to_string(PY_MINOR_VERSION);
#ifdef Py_GIL_DISABLED
    tag += "t";
#endif
    return tag;
}

/// "3.14.7": the libpython loaded, as sys.version starts.
std::string loaded_version() {
    const std::string version = Py_GetVersion();
    return version.substr(0, version.find(' '));
}

bool is_executable_file(const fs::path& path) {
    std::error_code error;
    return fs::is_regular_file(path, error) && ::access(path.c_str(), X_OK) == 0;
}

/// bin/python3.X next to the lib/ folder that holds the loaded libpython3.X.so, or empty.
std::string beside_loaded_libpython() {
    Dl_info info{};
    if (::dladdr(reinterpret_cast<void*>(&Py_Initialize), &info) == 0 || !info.dli_fname)
        return {};
    const fs::path library = info.dli_fname;
    // A libpython linked statically into the program has no install of its own to point at.
    if (library.filename().string().rfind("libpython", 0) != 0) return {};
    std::error_code error;
    const fs::path lib_dir = fs::absolute(library, error).parent_path();
    if (error) return {};
    const fs::path candidate = lib_dir.parent_path() / "bin" / ("python" + version_tag());
    return is_executable_file(candidate) ? candidate.string() : std::string();
}

/// The value of `key` in pyvenv.cfg's `key = value` lines, or empty.
std::string venv_setting(const fs::path& cfg, const std::string& key) {
    std::ifstream in(cfg);
    for (std::string line; std::getline(in, line);) {
        const auto equals = line.find('=');
        if (equals == std::string::npos) continue;
        auto trim = [](std::string s) {
            const auto first = s.find_first_not_of(" \t\r");
            const auto last = s.find_last_not_of(" \t\r");
            return first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
        };
        if (trim(line.substr(0, equals)) == key) return trim(line.substr(equals + 1));
    }
    return {};
}
} // namespace

std::string embedded_python_executable() {
    if (std::string beside = beside_loaded_libpython(); !beside.empty()) return beside;
#ifdef ISOLATES_PYTHON_EXECUTABLE
    if (is_executable_file(ISOLATES_PYTHON_EXECUTABLE)) return ISOLATES_PYTHON_EXECUTABLE;
#endif
    return {};
}

std::string venv_python_executable(const std::string& venv) {
    const fs::path root = venv;
    const fs::path cfg = root / "pyvenv.cfg";
    std::error_code error;
    if (!fs::is_regular_file(cfg, error))
        throw UsageError("Runtime: Options::venv '" + venv +
                         "' is not a virtual environment: expected the folder holding pyvenv.cfg "
                         "(made by `python" + version_tag() + " -m venv`)");
    // "version" (3.11 and older venvs) or "version_info" (newer) names the Python that made it.
    std::string made_by = venv_setting(cfg, "version_info");
    if (made_by.empty()) made_by = venv_setting(cfg, "version");
    const std::string ours = std::to_string(PY_MAJOR_VERSION) + "." + std::to_string(PY_MINOR_VERSION);
    if (made_by.rfind(ours + ".", 0) != 0)
        throw UsageError("Runtime: Options::venv '" + venv + "' was made by Python " +
                         (made_by.empty() ? std::string("of unknown version") : made_by) +
                         "; this process embeds CPython " + loaded_version() +
                         ": expected a venv made by python" + version_tag() + " -m venv");
    for (const std::string& name : {"python" + version_tag(), "python" + ours, std::string("python3"),
                                   std::string("python")}) {
        // Not canonicalised: CPython finds pyvenv.cfg from the venv's own bin/, not the
        // symlink's target.
        const fs::path candidate = fs::absolute(root / "bin" / name, error);
        if (!error && is_executable_file(candidate)) return candidate.string();
    }
    throw UsageError("Runtime: Options::venv '" + venv + "' has no bin/python" + version_tag() +
                     ", bin/python3 or bin/python");
}

} // namespace isolates::detail
