#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

namespace isolates::py {

namespace {
std::string utf8_of(PyObject* text) {
    Py_ssize_t size = 0;
    const char* data = text ? PyUnicode_AsUTF8AndSize(text, &size) : nullptr;
    if (!data) {
        PyErr_Clear();
        return "<unprintable>";
    }
    return std::string(data, static_cast<std::size_t>(size));
}

std::string format_traceback(PyObject* exception) {
    Object module = Object::steal(PyImport_ImportModule("traceback"));
    Object lines = module ? Object::steal(PyObject_CallMethod(module.get(), "format_exception",
                                                              "O", exception))
                          : Object();
    Object empty = Object::steal(PyUnicode_FromString(""));
    Object joined = lines && empty ? Object::steal(PyUnicode_Join(empty.get(), lines.get()))
                                   : Object();
    if (!joined) {
        PyErr_Clear();
        return {};
    }
    return utf8_of(joined.get());
}

/// The "Traceback (most recent call last): ..." lines of `exception` printed by CPython's C code
/// into an io.StringIO (no line of the exception itself). Runs no bytecode, so an interrupt
/// cannot spoil it: a stopped call may be interrupted again while format_traceback runs (a pool
/// re-interrupts a task until it ends, and the first `import traceback` takes milliseconds).
std::string print_traceback(PyObject* exception) {
    Object tb = Object::steal(PyException_GetTraceback(exception));
    if (!tb) return {};
    Object io = Object::steal(PyImport_ImportModule("io"));
    Object buffer = io ? Object::steal(PyObject_CallMethod(io.get(), "StringIO", nullptr)) : Object();
    Object text = buffer && PyTraceBack_Print(tb.get(), buffer.get()) == 0
                      ? Object::steal(PyObject_CallMethod(buffer.get(), "getvalue", nullptr))
                      : Object();
    if (!text || !PyUnicode_Check(text.get())) {
        PyErr_Clear();
        return {};
    }
    return utf8_of(text.get());
}
} // namespace

std::string type_name(PyTypeObject* type) {
    Object qualname = Object::steal(PyType_GetQualName(type));
    Object module = Object::steal(PyObject_GetAttrString(reinterpret_cast<PyObject*>(type),
                                                         "__module__"));
    if (!module) PyErr_Clear();
    std::string name = utf8_of(qualname.get());
    if (module && PyUnicode_Check(module.get())) {
        std::string mod = utf8_of(module.get());
        if (mod != "builtins" && mod != "__main__") name = mod + "." + name;
    }
    return name;
}

PythonError fetch_error() {
    Object exception = Object::steal(PyErr_GetRaisedException());
    if (!exception) return PythonError("SystemError", "no Python exception was set", {});
    std::string type = py::type_name(Py_TYPE(exception.get()));
    Object text = Object::steal(PyObject_Str(exception.get()));
    if (!text) PyErr_Clear();
    std::string message = text ? utf8_of(text.get()) : "<unprintable>";
    std::string traceback = format_traceback(exception.get());
    if (traceback.empty())
        traceback = print_traceback(exception.get()) + type + (message.empty() ? "" : ": " + message) + "\n";
    return PythonError(std::move(type), std::move(message), std::move(traceback));
}

void throw_error() { throw py::fetch_error(); }

void set_error_from_current_exception() noexcept {
    try {
        throw;
    } catch (const NotShareableError& e) {
        PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const ConversionError& e) {
        PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const PythonError& e) {
        PyErr_Format(PyExc_RuntimeError, "%s: %s", e.type_name().c_str(), e.message().c_str());
    } catch (const std::bad_alloc&) {
        PyErr_NoMemory();
    } catch (const std::exception& e) {
        PyErr_SetString(PyExc_RuntimeError, e.what());
    } catch (...) {
        PyErr_SetString(PyExc_RuntimeError, "unknown C++ exception");
    }
}

} // namespace isolates::py
