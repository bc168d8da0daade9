#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

#include "interp/detail/libcrypto.h"

#include <dlfcn.h>

#include <atomic>

namespace isolates::detail {

namespace {
// Written once by find_libcrypto() before any sub-interpreter exists, read by every interpreter
// thread afterwards: release/acquire publishes the filled struct with the pointer.
Libcrypto found;
std::atomic<const Libcrypto*> published{nullptr};
std::string missing = "not looked for: no Runtime has started";

/// The file importlib would load `_hashlib` from, "built-in" when it is compiled into libpython,
/// or "" with `why` set. Main interpreter attached; imports importlib.util, not _hashlib.
std::string hashlib_origin(std::string& why) {
    auto fail = [&](const char* reason) {
        PyErr_Clear();
        why = reason;
        return std::string();
    };
    py::Object util = py::Object::steal(PyImport_ImportModule("importlib.util"));
    if (!util) return fail("importlib.util could not be imported");
    py::Object spec =
        py::Object::steal(PyObject_CallMethod(util.get(), "find_spec", "s", "_hashlib"));
    if (!spec) return fail("importlib.util.find_spec('_hashlib') raised");
    if (spec.get() == Py_None) return fail("this CPython has no _hashlib module (built without OpenSSL)");
    py::Object origin = py::Object::steal(PyObject_GetAttrString(spec.get(), "origin"));
    const char* text = origin && PyUnicode_Check(origin.get()) ? PyUnicode_AsUTF8(origin.get())
                                                               : nullptr;
    if (!text) return fail("the module spec of _hashlib has no origin");
    return text;
}

template <class Function> bool resolve(void* handle, const char* name, Function& function) {
    function = reinterpret_cast<Function>(dlsym(handle, name));
    return function != nullptr;
}
} // namespace

void* Libcrypto::symbol(const char* name) const noexcept { return dlsym(handle, name); }

void find_libcrypto() noexcept {
    if (published.load(std::memory_order_acquire)) return;
    std::string why;
    const std::string origin = hashlib_origin(why);
    if (origin.empty()) {
        missing = why;
        return;
    }
    // Why dlopen _hashlib itself rather than libcrypto by soname: the dynamic linker then picks
    // the libcrypto _hashlib really binds to, honouring its RPATH/RUNPATH (a CPython built
    // against its own OpenSSL), and dlsym on that handle searches its dependencies. RTLD_LAZY:
    // nothing of _hashlib runs (PyInit is not called); RTLD_LOCAL: its symbols stay private.
    // Never closed: the functions are used until the process ends, and CPython loads the same
    // file when an interpreter imports hashlib. Built into libpython: the process's global scope.
    void* handle = origin == "built-in" ? dlopen(nullptr, RTLD_LAZY)
                                        : dlopen(origin.c_str(), RTLD_LAZY | RTLD_LOCAL);
    if (!handle) {
        const char* error = dlerror();
        missing = "cannot load " + origin + ": " + (error ? error : "unknown error");
        return;
    }
    found.handle = handle;
    // OSSL_LIB_CTX_* appeared in OpenSSL 3.0: their absence means 1.1.1, LibreSSL or BoringSSL.
    const bool complete =
        resolve(handle, "OSSL_LIB_CTX_new", found.lib_ctx_new) &&
        resolve(handle, "OSSL_LIB_CTX_free", found.lib_ctx_free) &&
        resolve(handle, "OSSL_LIB_CTX_set0_default", found.lib_ctx_set0_default) &&
        resolve(handle, "CONF_modules_load_file_ex", found.conf_modules_load_file_ex) &&
        resolve(handle, "ERR_set_mark", found.err_set_mark) &&
        resolve(handle, "ERR_pop_to_mark", found.err_pop_to_mark);
    if (!complete) {
        missing = origin + " is not linked against OpenSSL 3 (no OSSL_LIB_CTX functions)";
        return;
    }
    Dl_info info{};
    found.path = dladdr(reinterpret_cast<void*>(found.lib_ctx_new), &info) && info.dli_fname
                     ? info.dli_fname
                     : origin;
    missing.clear();
    published.store(&found, std::memory_order_release);
}

const Libcrypto* libcrypto() noexcept { return published.load(std::memory_order_acquire); }

const std::string& libcrypto_missing() noexcept { return missing; }

} // namespace isolates::detail
