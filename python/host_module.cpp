// HostModule's flat core: checking and describing functions as they are defined, the registry
// of host modules, and the one multi-phase module definition that makes each of them in every
// interpreter (its name, from the import's spec, picks the registered definition).

#include <isolates/interp/cpython.h> // first: Python.h must come before any standard header

#include <isolates/python/host_module.h>

#include <cctype>
#include <mutex>
#include <set>

#include <isolates/interp/builtin_modules.h>
#include <isolates/interp/errors.h>
#include "python/detail/host_registry.h"

namespace isolates {

using py::Object;
using python::RegisteredFunction;
using python::RegisteredModule;

struct HostModule::Definition {
    RegisteredModule module;
    std::set<std::string, std::less<>> names; // functions and constants
};

namespace {

bool is_identifier(std::string_view name) {
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    return true;
}

/// `(key, weight=1.0)` for __text_signature__, or "" when a default has no literal form.
std::string text_signature(const detail::HostFunction& f) {
    std::string text = f.name + "(";
    for (std::size_t k = 0; k < f.parameters.size(); ++k) {
        const detail::HostParameter& p = f.parameters[k];
        text += (k ? ", " : "") + p.name;
        if (p.default_value) {
            const std::string repr = p.default_value->repr();
            if (repr.starts_with("<")) return {};
            text += "=" + repr;
        }
    }
    return text + ")";
}

/// `score(key: str, weight: float = 1.0) -> float`, the first line of the docstring.
std::string typed_signature(const detail::HostFunction& f) {
    std::string text = f.name + "(";
    for (std::size_t k = 0; k < f.parameters.size(); ++k) {
        const detail::HostParameter& p = f.parameters[k];
        text += (k ? ", " : "") + p.name + ": " + p.type;
        if (p.default_value) text += " = " + p.default_value->repr();
    }
    return text + ") -> " + f.result_type;
}

std::mutex registry_mutex;
/// Every registered module, for the life of the process (interpreters may call into them until
/// the very end, so they are never freed).
std::vector<const RegisteredModule*>& registry() {
    static auto* modules = new std::vector<const RegisteredModule*>();
    return *modules;
}

struct HostModuleState {
    const RegisteredModule* definition = nullptr;
};

int host_module_exec(PyObject* module) {
    Object name = Object::steal(PyModule_GetNameObject(module));
    const char* utf8 = name ? PyUnicode_AsUTF8(name.get()) : nullptr;
    if (!utf8) return -1;
    const RegisteredModule* definition = python::find_host_module(utf8);
    if (!definition) {
        PyErr_Format(PyExc_ImportError, "isolates: no host module '%s' is registered", utf8);
        return -1;
    }
    static_cast<HostModuleState*>(PyModule_GetState(module))->definition = definition;
    if (!definition->doc.empty() && PyModule_SetDocString(module, definition->doc.c_str()) < 0) return -1;
    for (const auto& function : definition->functions) {
        // The capsule is the function's `self`: it names its entry, which outlives every interpreter.
        Object self = Object::steal(PyCapsule_New(function.get(), nullptr, nullptr));
        if (!self) return -1;
        Object callable = Object::steal(PyCMethod_New(&function->method, self.get(), name.get(), nullptr));
        if (!callable || PyModule_AddObjectRef(module, function->function.name.c_str(), callable.get()) < 0)
            return -1;
    }
    for (const auto& [constant, value] : definition->constants) {
        try {
            Object object = Object::steal(value.to_python());
            if (PyModule_AddObjectRef(module, constant.c_str(), object.get()) < 0) return -1;
        } catch (...) {
            py::set_error_from_current_exception();
            return -1;
        }
    }
    return 0;
}

PyModuleDef_Slot host_module_slots[] = {
    {Py_mod_exec, reinterpret_cast<void*>(host_module_exec)},
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#if PY_VERSION_HEX >= 0x030D0000
    // Entries are immutable and each call converts its own arguments: nothing leans on a GIL.
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, nullptr},
};

/// One definition for every host module; module_exec finds which one by the module's name.
PyModuleDef host_module_def = {
    PyModuleDef_HEAD_INIT,
    "isolates host module",
    nullptr,
    sizeof(HostModuleState),
    nullptr,
    host_module_slots,
    nullptr,
    nullptr,
    nullptr,
};

PyObject* init_host_module() { return PyModuleDef_Init(&host_module_def); }

} // namespace

const RegisteredModule* python::find_host_module(std::string_view name) {
    std::lock_guard lock(registry_mutex);
    for (const RegisteredModule* module : registry())
        if (module->name == name) return module;
    return nullptr;
}

HostModule::HostModule(std::string name, std::string doc) : definition_(std::make_unique<Definition>()) {
    if (!is_identifier(name))
        throw UsageError("HostModule: '" + name + "' is not a valid module name (a Python identifier)");
    definition_->module.name = std::move(name);
    definition_->module.doc = std::move(doc);
}

HostModule::HostModule(HostModule&&) noexcept = default;
HostModule& HostModule::operator=(HostModule&&) noexcept = default;
HostModule::~HostModule() = default;

HostModule& HostModule::add(detail::HostFunction function, std::vector<Arg> names) {
    if (!definition_) throw UsageError("HostModule: def() after register_module()");
    const std::string qualified = definition_->module.name + "." + function.name;
    if (!is_identifier(function.name))
        throw UsageError("HostModule: '" + function.name + "' is not a valid function name");
    if (definition_->names.contains(function.name))
        throw UsageError("HostModule: " + qualified + " is defined twice");
    if (function.release_gil && function.interpreter != detail::InterpreterParameter::none)
        throw UsageError("HostModule: " + qualified +
                         " takes the calling Interpreter but releases the GIL; a function that "
                         "may call back into Python must keep it");
    auto& parameters = function.parameters;
    if (!names.empty() && names.size() != parameters.size())
        throw UsageError("HostModule: " + qualified + " has " + std::to_string(parameters.size()) +
                         " parameters but " + std::to_string(names.size()) + " names were given");
    std::set<std::string, std::less<>> seen;
    for (std::size_t k = 0; k < parameters.size(); ++k) {
        detail::HostParameter& p = parameters[k];
        p.name = names.empty() ? "arg" + std::to_string(k) : names[k].name();
        if (!is_identifier(p.name) || !seen.insert(p.name).second)
            throw UsageError("HostModule: " + qualified + ": parameter name '" + p.name +
                             "' is invalid or given twice");
        if (!names.empty() && names[k].default_value()) {
            try {
                function.check(k, *names[k].default_value());
            } catch (const ConversionError& e) {
                throw UsageError("HostModule: " + qualified + ": the default of '" + p.name +
                                 "' does not convert to " + p.type + ": " + e.what());
            }
            p.default_value = names[k].default_value();
        }
    }
    // A std::optional parameter defaults to None when every parameter after it has a default.
    for (std::size_t k = parameters.size(); k-- > 0;) {
        if (parameters[k].default_value) continue;
        if (!parameters[k].optional) break;
        parameters[k].default_value = Value();
    }
    Py_ssize_t required = 0;
    for (std::size_t k = 0; k < parameters.size(); ++k) {
        if (!parameters[k].default_value) {
            if (static_cast<Py_ssize_t>(k) != required)
                throw UsageError("HostModule: " + qualified + ": parameter '" + parameters[k].name +
                                 "' has no default but follows one that has");
            ++required;
        }
    }

    auto entry = std::make_unique<RegisteredFunction>();
    const std::string text = text_signature(function);
    entry->doc = (text.empty() ? "" : text + "\n--\n\n") + typed_signature(function) +
                 (function.doc.empty() ? "" : "\n\n" + function.doc);
    entry->qualified_name = qualified;
    entry->required = required;
    definition_->names.insert(function.name);
    entry->function = std::move(function);
    for (const detail::HostParameter& p : entry->function.parameters) entry->names.push_back(p.name.c_str());
    entry->method = PyMethodDef{
        entry->function.name.c_str(),
        reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&python::host_call)),
        METH_FASTCALL | METH_KEYWORDS,
        entry->doc.c_str(),
    };
    definition_->module.functions.push_back(std::move(entry));
    return *this;
}

HostModule& HostModule::constant(std::string name, Value value) {
    if (!definition_) throw UsageError("HostModule: constant() after register_module()");
    if (!is_identifier(name))
        throw UsageError("HostModule: '" + name + "' is not a valid constant name");
    if (!definition_->names.insert(name).second)
        throw UsageError("HostModule: " + definition_->module.name + "." + name + " is defined twice");
    definition_->module.constants.emplace_back(std::move(name), std::move(value));
    return *this;
}

void HostModule::register_module() {
    if (!definition_) throw UsageError("HostModule: register_module() called twice");
    std::lock_guard lock(registry_mutex);
    // register_builtin_module refuses a name taken, or a Runtime already started; only then is
    // the definition kept (it is never freed: interpreters use it until the process ends).
    register_builtin_module(definition_->module.name.c_str(), &init_host_module);
    registry().push_back(&definition_.release()->module);
}

} // namespace isolates
