#pragma once
/// A host function as the flat core of host modules sees it (HostFunction: names, types,
/// defaults and one type-erased invoke), and the one template that adapts a C++ callable to it.
/// The core (python/host_call.cpp, python/host_module.cpp) parses arguments, turns them into
/// Values and translates errors; the template only converts Values to the callable's parameter
/// types and its result back (nanobind's model: templates stay small).

#include <concepts>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <isolates/interp/errors.h>
#include <isolates/interp/value.h>
#include <isolates/python/host_types.h>

namespace isolates {

class Interpreter;

namespace detail {

/// One parameter as Python sees it. Immutable once its module is registered.
struct HostParameter {
    std::string name;
    std::string type;                   // python_type_name of the C++ parameter
    std::optional<Value> default_value; // used when the caller leaves the argument out
    bool optional = false;              // a std::optional<T>: None is accepted
};

/// The conversion of the Python argument at `index` to its C++ parameter type failed: the core
/// raises TypeError naming the parameter, its type and this message.
class HostArgumentError : public ConversionError {
public:
    HostArgumentError(std::size_t index, const std::string& message)
        : ConversionError(message), index_(index) {}
    std::size_t index() const noexcept { return index_; }

private:
    std::size_t index_;
};

/// What the core hands the adapted callable for one call. Calling thread, GIL held.
class HostCall {
public:
    HostCall(bool release_gil, Interpreter* interpreter) noexcept
        : release_gil_(release_gil), interpreter_(interpreter) {}
    /// Runs body(context) on the calling thread: with the GIL held, or with it released while it
    /// runs when the function was defined with release_gil (exceptions carried across).
    template <class Body> void run(Body& body) const {
        if (!release_gil_) {
            body();
            return;
        }
        run_released(+[](void* context) { (*static_cast<Body*>(context))(); }, &body);
    }
    /// The calling Interpreter, or nullptr (main interpreter, a Python thread it started).
    Interpreter* interpreter() const noexcept { return interpreter_; }

private:
    /// GIL held on entry and on return, released in between (python/host_call.cpp).
    void run_released(void (*body)(void*), void* context) const;

    bool release_gil_;
    Interpreter* interpreter_;
};

/// Converts the Values of one call (one per Python parameter, defaults filled in) and calls the
/// callable; returns its result as a Value. Calling thread, GIL held.
using HostInvoke = Value (*)(const void* callable, std::span<const Value> args, const HostCall& call);
/// Throws HostArgumentError when `value` does not convert to the type of Python parameter `index`.
using HostCheck = void (*)(std::size_t index, const Value& value);

/// Whether and how a callable takes the calling Interpreter (as its first parameter).
enum class InterpreterParameter { none, reference, pointer };

/// A C++ callable adapted for Python: what the core needs to call it from any interpreter.
struct HostFunction {
    std::string name;
    std::string doc;
    std::vector<HostParameter> parameters; // Python-visible ones, in order
    std::string result_type;
    InterpreterParameter interpreter = InterpreterParameter::none;
    bool release_gil = false;
    std::shared_ptr<const void> callable;
    HostInvoke invoke = nullptr;
    HostCheck check = nullptr;
};

/// R(A...) of a function pointer or of a functor's (non-overloaded) operator().
template <class F> struct SignatureOf : SignatureOf<decltype(&F::operator())> {};
template <class R, class... A> struct SignatureOf<R (*)(A...)> { using type = R(A...); };
template <class R, class... A> struct SignatureOf<R (*)(A...) noexcept> { using type = R(A...); };
template <class C, class R, class... A> struct SignatureOf<R (C::*)(A...) const> { using type = R(A...); };
template <class C, class R, class... A> struct SignatureOf<R (C::*)(A...) const noexcept> {
    using type = R(A...);
};
template <class C, class R, class... A> struct SignatureOf<R (C::*)(A...)> {
    static_assert(sizeof(C) == 0, "a host function runs concurrently in many interpreters: its "
                                  "callable must be callable as const (no mutable lambda)");
};
template <class C, class R, class... A> struct SignatureOf<R (C::*)(A...) noexcept>
    : SignatureOf<R (C::*)(A...)> {};

template <class T> constexpr InterpreterParameter interpreter_parameter() {
    if constexpr (std::is_same_v<T, Interpreter&>) return InterpreterParameter::reference;
    else if constexpr (std::is_same_v<T, Interpreter*>) return InterpreterParameter::pointer;
    else return InterpreterParameter::none;
}

template <class T> struct IsOptional : std::false_type {};
template <class T> struct IsOptional<std::optional<T>> : std::true_type {};

/// A parameter type Convert<T> can produce from a Value.
template <class P>
concept HostParameterType = requires(const Value& v) {
    { Convert<std::remove_cvref_t<P>>::from_value(v) } -> std::convertible_to<std::remove_cvref_t<P>>;
};

template <class P> std::remove_cvref_t<P> convert_argument(const Value& value, std::size_t index) {
    try {
        return Convert<std::remove_cvref_t<P>>::from_value(value);
    } catch (const ConversionError& e) {
        throw HostArgumentError(index, e.what());
    }
}

template <class F, class Signature> struct HostAdapter;

/// The callable F with parameters `Lead..., Args...`, where Lead is the Interpreter parameter
/// (none or one) and Args are what Python passes.
template <class F, class R, class... A> struct HostAdapter<F, R(A...)> {
    template <class... P> struct Split {
        using Lead = std::tuple<>;
        using Args = std::tuple<P...>;
    };
    template <class First, class... Rest>
        requires(interpreter_parameter<First>() != InterpreterParameter::none)
    struct Split<First, Rest...> {
        using Lead = std::tuple<First>;
        using Args = std::tuple<Rest...>;
    };
    using Lead = typename Split<A...>::Lead;
    using Args = typename Split<A...>::Args;
    template <class... L> static constexpr InterpreterParameter lead_kind(std::tuple<L...>*) {
        if constexpr (sizeof...(L) == 0) return InterpreterParameter::none;
        else return interpreter_parameter<L...>();
    }
    static constexpr InterpreterParameter takes_interpreter = lead_kind(static_cast<Lead*>(nullptr));

    template <class... P> static void check_parameters(std::tuple<P...>*) {
        static_assert((HostParameterType<P> && ...),
                      "every parameter of a host function needs Convert<T>::from_value "
                      "(isolates/interp/convert.h), or is the calling Interpreter& as the first one");
        static_assert(((!std::is_lvalue_reference_v<P> ||
                        std::is_const_v<std::remove_reference_t<P>>) && ...),
                      "host function parameters are values or const references");
    }

    template <class... P> static std::vector<HostParameter> parameters(std::tuple<P...>*) {
        return {HostParameter{{}, python_type_name<P>(), std::nullopt,
                              IsOptional<std::remove_cvref_t<P>>::value}...};
    }

    template <class... P> static void check(std::size_t index, const Value& value, std::tuple<P...>*) {
        using Check = void (*)(const Value&, std::size_t);
        static constexpr Check checks[] = {
            +[](const Value& v, std::size_t i) { (void)convert_argument<P>(v, i); }..., nullptr};
        checks[index](value, index);
    }

    template <class... P> static Value call(const F& f, std::span<const Value> args, const HostCall& call,
                                            std::tuple<P...>*) {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            // Braced initialisation converts left to right, so the first bad argument is reported.
            std::tuple<std::remove_cvref_t<P>...> converted{convert_argument<P>(args[I], I)...};
            Value result;
            auto body = [&] {
                auto invoke = [&](auto&&... lead) -> decltype(auto) {
                    return std::invoke(f, lead..., std::forward<P>(std::get<I>(converted))...);
                };
                auto run = [&](auto&&... lead) {
                    if constexpr (std::is_void_v<R>) invoke(lead...);
                    else result = Convert<std::remove_cvref_t<R>>::to_value(invoke(lead...));
                };
                if constexpr (takes_interpreter == InterpreterParameter::reference) run(*call.interpreter());
                else if constexpr (takes_interpreter == InterpreterParameter::pointer) run(call.interpreter());
                else run();
            };
            call.run(body);
            return result;
        }(std::index_sequence_for<P...>{});
    }

    static Value invoke(const void* callable, std::span<const Value> args, const HostCall& host_call) {
        return call(*static_cast<const F*>(callable), args, host_call, static_cast<Args*>(nullptr));
    }
    static void check_one(std::size_t index, const Value& value) {
        check(index, value, static_cast<Args*>(nullptr));
    }

    static HostFunction adapt(F f) {
        check_parameters(static_cast<Args*>(nullptr));
        HostFunction function;
        function.parameters = parameters(static_cast<Args*>(nullptr));
        function.result_type = python_type_name<R>();
        function.interpreter = takes_interpreter;
        function.callable = std::make_shared<const F>(std::move(f));
        function.invoke = &invoke;
        function.check = &check_one;
        return function;
    }
};

/// Adapts any callable whose parameters and result convert through Convert<T>.
template <class F> HostFunction adapt_host_function(F&& f) {
    using Callable = std::decay_t<F>;
    return HostAdapter<Callable, typename SignatureOf<Callable>::type>::adapt(std::forward<F>(f));
}

} // namespace detail
} // namespace isolates
