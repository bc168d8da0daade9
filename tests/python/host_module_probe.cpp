// host_module_probe: HostModule rules that need a process of their own, since CPython
// initialises only once per process: registration refused for a name CPython or another module
// has, a host module in the main interpreter (where no isolates::Interpreter exists) and in a
// sub-interpreter, registration refused once the Runtime runs. Run by
// HostModule.main_interpreter_and_registration_in_a_fresh_process; prints one line per check and
// exits 0 only when every check held.

#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

#include <cstdio>
#include <string>

#include <isolates.h>
#include "tests/support/probe_checks.h"

using namespace isolates;
using namespace isolates::testing;

namespace {
/// Runs `source` in the main interpreter's __main__ and returns str(result).
std::string in_main_interpreter(const char* source, const char* expression) {
    const PyGILState_STATE gil = PyGILState_Ensure();
    std::string text = "<error>";
    {
        PyObject* globals = PyModule_GetDict(PyImport_AddModule("__main__")); // borrowed
        py::Object ran = py::Object::steal(PyRun_String(source, Py_file_input, globals, globals));
        py::Object result = ran ? py::Object::steal(PyRun_String(expression, Py_eval_input, globals, globals))
                                : py::Object();
        const char* utf8 = result && PyUnicode_Check(result.get()) ? PyUnicode_AsUTF8(result.get()) : nullptr;
        if (utf8) text = utf8;
        else PyErr_Print();
    }
    PyGILState_Release(gil);
    return text;
}
} // namespace

int main() {
    expect_usage_error("name of a CPython module", [] { HostModule("sys").register_module(); });
    HostModule("probe_host")
        .def("seven", [] { return 7; })
        .def("has_interpreter", [](Interpreter* in) { return in != nullptr; })
        .def("interpreter_id", [](Interpreter& in) { return in.id(); })
        .register_module();
    expect_usage_error("second module of one name", [] { HostModule("probe_host").register_module(); });
    {
        Runtime runtime;
        const char* source =
            "import probe_host\n"
            "try:\n"
            "    probe_host.interpreter_id()\n"
            "    error = 'none'\n"
            "except RuntimeError as e:\n"
            "    error = 'RuntimeError' if 'there is none here' in str(e) else repr(e)\n";
        const char* expression = "f'{probe_host.seven()} {probe_host.has_interpreter()} {error}'";
        expect("main interpreter", in_main_interpreter(source, expression), "7 False RuntimeError");
        {
            Interpreter in;
            in.exec("import probe_host");
            expect("sub-interpreter",
                   in.eval("f'{probe_host.seven()} {probe_host.interpreter_id() == " +
                           std::to_string(in.id()) + "}'").as<std::string>(),
                   "7 True");
        }
        expect_usage_error("after the Runtime started", [] { HostModule("too_late").register_module(); });
    }
    return probe_status();
}
