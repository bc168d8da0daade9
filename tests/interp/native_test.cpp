// Native values in Python (isolates/interp/native.h): a Shareable's Python form comes from the hook
// registered for its dynamic type, and a type without one fails with a TypeError naming it.

#include <memory>
#include <string>

#include <isolates/interp/errors.h>
#include <isolates/interp/interpreter.h>
#include <isolates/interp/native.h>
#include <isolates/interp/value.h>
#include "tests/support/doctest.h"

using namespace isolates;

namespace {
struct Unregistered final : Shareable {
    std::string_view type_name() const noexcept override { return "unregistered_handle"; }
};

struct Token final : Shareable {
    explicit Token(int id) : id(id) {}
    std::string_view type_name() const noexcept override { return "token"; }
    int id;
};

/// Token's Python form: ('token', id), built through Value so that the test needs no CPython API.
_object* token_to_python(const std::shared_ptr<const Shareable>& object) {
    const auto& token = static_cast<const Token&>(*object);
    return Value::tuple({Value("token"), Value(token.id)}).to_python();
}
_object* other_token_to_python(const std::shared_ptr<const Shareable>&) { return nullptr; }
} // namespace

TEST_SUITE("Native") {

TEST_CASE("Native.a_type_without_a_to_python_hook_is_a_type_error_naming_it") {
    Interpreter in;
    const Value value = Value::native(std::make_shared<Unregistered>());
    try {
        in.call("builtins:repr", value);
        FAIL("expected a PythonError");
    } catch (const PythonError& e) {
        CHECK(e.type_name() == "TypeError");
        CHECK(e.message() == "no Python form registered for native type 'unregistered_handle'");
    }
    // Nested inside a container too, and the interpreter stays usable.
    CHECK_THROWS_WITH_AS(in.call("builtins:repr", Value::list({Value(1), value})),
                         doctest::Contains("TypeError"), PythonError);
    CHECK(in.eval("1 + 1").as_int64() == 2);
}

TEST_CASE("Native.the_hook_registered_for_the_dynamic_type_makes_the_python_form") {
    register_to_python_hook(typeid(Token), &token_to_python);
    register_to_python_hook(typeid(Token), &token_to_python); // the same pair again: a no-op
    CHECK_THROWS_AS(register_to_python_hook(typeid(Token), &other_token_to_python), UsageError);
    Interpreter in;
    const std::shared_ptr<const Shareable> token = std::make_shared<Token>(7);
    CHECK(in.call("builtins:repr", Value::native(token)).as_str() == "('token', 7)");
    CHECK(in.call("builtins:repr", Value::tuple({Value::native(token), Value::native(token)})).as_str() ==
          "(('token', 7), ('token', 7))");
}

} // TEST_SUITE
