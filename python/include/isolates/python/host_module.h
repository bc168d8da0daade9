#pragma once
/// HostModule: the C++ program's own functions and constants as a built-in Python module,
/// importable in every interpreter of the process (the main one, every sub-interpreter, pool
/// workers). Define it and register it before the Runtime starts:
///
///     isolates::HostModule("host", "The game's API.")
///         .def("score", &score, "Score of a key.", isolates::arg("key"), isolates::arg("weight") = 1.0)
///         .def("fetch", &fetch, "Blocks on the network.", isolates::arg("url"), isolates::release_gil)
///         .constant("VERSION", 3)
///         .register_module();
///
/// A function runs on the calling thread, concurrently from many interpreters, with the calling
/// interpreter's GIL held (or released while it runs, with release_gil). Its entries are
/// immutable once registered, so interpreters read them without locks.

#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <isolates/interp/value.h>
#include <isolates/python/host_function.h>

namespace isolates {

/// A parameter name, and with `= value` its default: `arg("weight") = 1.0`.
class Arg {
public:
    explicit Arg(std::string name) : name_(std::move(name)) {}
    /// The same parameter with a default, converted through Convert<T> now (any thread).
    template <class T>
        requires(!std::is_same_v<std::remove_cvref_t<T>, Arg>)
    Arg operator=(T&& value) const {
        Arg with(name_);
        with.default_value_ = Value(std::forward<T>(value));
        return with;
    }
    const std::string& name() const noexcept { return name_; }
    const std::optional<Value>& default_value() const noexcept { return default_value_; }

private:
    std::string name_;
    std::optional<Value> default_value_;
};

/// Names a host function's parameter (then callers may pass it by keyword).
inline Arg arg(std::string name) { return Arg(std::move(name)); }

/// Tag for HostModule::def: release the calling interpreter's GIL while the function runs (for
/// functions that block or run long; they must not touch Python meanwhile).
struct ReleaseGil {};
inline constexpr ReleaseGil release_gil{};

class HostModule {
public:
    /// Starts the definition of the built-in module `name` (a Python identifier); any thread.
    explicit HostModule(std::string name, std::string doc = {});
    HostModule(HostModule&&) noexcept;
    HostModule& operator=(HostModule&&) noexcept;
    ~HostModule();

    /// Adds the function `name`: any callable whose parameters and result convert through
    /// Convert<T> (Value, Channel and SharedBuffer included), optionally taking the calling
    /// `Interpreter&` (or `Interpreter*`, nullptr when there is none) first. `extras` are, in
    /// any order: a docstring, one `arg("name")` (with `= default`) per Python parameter, and
    /// `release_gil`. Throws UsageError on a duplicate or invalid name, a wrong number of
    /// names, a default that does not convert, or a required parameter after a defaulted one.
    template <class F, class... Extras> HostModule& def(std::string name, F&& f, Extras&&... extras) {
        detail::HostFunction function = detail::adapt_host_function(std::forward<F>(f));
        function.name = std::move(name);
        std::vector<Arg> names;
        (apply(function, names, std::forward<Extras>(extras)), ...);
        return add(std::move(function), std::move(names));
    }

    /// Adds a constant: a module attribute made from `value` in every interpreter.
    HostModule& constant(std::string name, Value value);

    /// Makes the module importable in every interpreter the Runtime will run. Call before the
    /// Runtime starts (static initialisation or early in main), once per module; afterwards this
    /// builder is empty. Throws UsageError once the Runtime has started, or when `name` is
    /// already a built-in module (another host module, `isolates`, or one of CPython's).
    void register_module();

private:
    struct Definition;

    static void apply(detail::HostFunction& function, std::vector<Arg>&, const char* doc) { function.doc = doc; }
    static void apply(detail::HostFunction& function, std::vector<Arg>&, std::string doc) {
        function.doc = std::move(doc);
    }
    static void apply(detail::HostFunction&, std::vector<Arg>& names, Arg name) {
        names.push_back(std::move(name));
    }
    static void apply(detail::HostFunction& function, std::vector<Arg>&, ReleaseGil) {
        function.release_gil = true;
    }
    /// Checks and names the parameters, then keeps the function (host_module.cpp).
    HostModule& add(detail::HostFunction function, std::vector<Arg> names);

    std::unique_ptr<Definition> definition_;
};

} // namespace isolates
