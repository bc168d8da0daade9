// Convert<T> for the standard containers beyond vector and map (isolates/interp/convert_containers.h), and
// the concepts that make a type without a conversion fail to compile where it is used.

#include <array>
#include <cstddef>
#include <deque>
#include <forward_list>
#include <list>
#include <map>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <unordered_set>
#include <vector>

#include <isolates/executor/interpreter_pool_executor.h>
#include <isolates/interp/errors.h>
#include <isolates/interp/interpreter.h>
#include <isolates/interp/value.h>
#include "tests/support/doctest.h"

using namespace isolates;
using namespace std::string_literals;

namespace {
struct NoConversion {};

// What converts, and what fails to compile: every line could be false.
static_assert(IntoValue<std::set<std::string>> && FromValue<std::set<std::string>>);
static_assert(IntoValue<std::unordered_set<int>> && FromValue<std::unordered_set<int>>);
static_assert(IntoValue<std::deque<double>> && FromValue<std::list<std::vector<int>>>);
static_assert(IntoValue<std::array<int, 3>> && FromValue<std::array<std::byte, 4>>);
static_assert(IntoValue<std::span<const int>> && !FromValue<std::span<const int>>); // a view: one way
static_assert(IntoValue<Value> && FromValue<Value>);
static_assert(!IntoValue<NoConversion> && !FromValue<NoConversion>);
// A container converts only when its items do, so the error is at the use, not deep inside.
static_assert(!IntoValue<std::vector<NoConversion>> && !FromValue<std::vector<NoConversion>>);
static_assert(!IntoValue<std::map<int, NoConversion>> && !FromValue<std::set<NoConversion>>);
static_assert(!IntoValue<std::tuple<int, NoConversion>> && !IntoValue<std::array<NoConversion, 2>>);
static_assert(!FromValue<std::string_view*> && !FromValue<const char*>);
// The pool's and the interpreter's variadic calls take exactly what converts.
static_assert(std::is_constructible_v<Value, std::forward_list<int>>);
static_assert(!std::is_constructible_v<Value, NoConversion>);
} // namespace

TEST_SUITE("Value.containers") {

TEST_CASE("Value.standard_sequences_are_lists") {
    const std::deque<int> d{1, 2, 3};
    const std::list<std::string> l{"a", "b"};
    const std::forward_list<double> f{0.5, 1.5, 2.5};
    CHECK(Value(d) == Value::list({1, 2, 3}));
    CHECK(Value(l) == Value::list({"a"s, "b"s}));
    CHECK(Value(f) == Value::list({0.5, 1.5, 2.5}));
    CHECK(Value(d).as<std::deque<int>>() == d);
    CHECK(Value(l).as<std::list<std::string>>() == l);
    CHECK(Value(f).as<std::forward_list<double>>() == f); // in order
    CHECK(Value::tuple({4, 5}).as<std::deque<int>>() == std::deque<int>{4, 5});
    CHECK_THROWS_WITH_AS(Value::list({1, "x"s}).as<std::list<int>>(), "[1]: expected int, got str 'x'",
                         ConversionError);
    CHECK_THROWS_WITH_AS(Value(3).as<std::forward_list<int>>(), "expected a list or tuple, got int",
                         ConversionError);
}

TEST_CASE("Value.arrays_are_tuples_of_their_length") {
    const std::array<int, 3> a{7, 8, 9};
    CHECK(Value(a) == Value::tuple({7, 8, 9}));
    CHECK(Value(a).as<std::array<int, 3>>() == a);
    CHECK(Value::list({1, 2}).as<std::array<long, 2>>() == std::array<long, 2>{1, 2});
    CHECK_THROWS_WITH_AS((Value(a).as<std::array<int, 2>>()),
                         "expected a tuple or list of 2 items, got tuple of 3 items", ConversionError);
    CHECK_THROWS_WITH_AS((Value::tuple({1, "x"s}).as<std::array<int, 2>>()), "[1]: expected int, got str 'x'",
                         ConversionError);
    // Bytes of a fixed length.
    const std::array<std::byte, 2> b{std::byte{0}, std::byte{0xff}};
    CHECK(Value(b) == Value::bytes("\x00\xff"s));
    CHECK((Value(b).as<std::array<std::byte, 2>>()) == b);
    CHECK_THROWS_WITH_AS((Value(b).as<std::array<std::byte, 3>>()), "expected bytes of length 3, got 2",
                         ConversionError);
}

TEST_CASE("Value.spans_are_copied_into_lists_or_bytes") {
    int numbers[] = {3, 1, 4};
    CHECK(Value(std::span<int>(numbers)) == Value::list({3, 1, 4}));
    CHECK(Value(std::span<const int, 3>(numbers)) == Value::list({3, 1, 4}));
    const std::vector<std::byte> raw{std::byte{'h'}, std::byte{'i'}};
    CHECK(Value(std::span<const std::byte>(raw)) == Value::bytes("hi"s));
    std::byte writable[] = {std::byte{1}};
    CHECK(Value(std::span<std::byte>(writable)).kind() == Kind::bytes);
}

TEST_CASE("Value.sets_are_python_sets") {
    const std::set<int> s{3, 1, 2};
    const std::unordered_set<std::string> u{"x", "y"};
    CHECK(Value(s).kind() == Kind::set);
    CHECK(Value(s) == Value::set({1, 2, 3}));
    CHECK(Value(u) == Value::set({"y"s, "x"s}));
    CHECK(Value(s).as<std::set<int>>() == s);
    CHECK(Value(u).as<std::unordered_set<std::string>>() == u);
    // Back from a frozenset, or a list whose duplicates merge; items are checked.
    CHECK(Value::frozenset({5, 6}).as<std::set<int>>() == std::set<int>{5, 6});
    CHECK(Value::list({1, 1, 2}).as<std::set<int>>() == std::set<int>{1, 2});
    CHECK_THROWS_WITH_AS(Value::set({"a"s}).as<std::set<int>>(), "[0]: expected int, got str 'a'",
                         ConversionError);
    CHECK_THROWS_AS(Value::dict({}).as<std::set<int>>(), ConversionError);
    // Set items that are containers themselves: tuples (hashable in Python).
    const std::set<std::tuple<int, int>> points{{1, 2}, {3, 4}};
    CHECK(Value(points).as<std::set<std::tuple<int, int>>>() == points);
}

} // TEST_SUITE

TEST_SUITE("Value.containers.python") {

TEST_CASE("Value.standard_containers_reach_python_as_its_types") {
    Interpreter in;
    in.exec("def kinds(*xs):\n    return tuple(type(x).__name__ for x in xs)\n");
    const std::set<int> s{2, 1};
    const std::array<int, 2> a{1, 2};
    const std::deque<int> d{1};
    const std::array<std::byte, 1> b{std::byte{7}};
    CHECK(in.call("__main__:kinds", s, a, d, b) == Value::tuple({"set"s, "tuple"s, "list"s, "bytes"s}));
    CHECK(in.call("builtins:sorted", s) == Value::list({1, 2}));
    CHECK(in.eval("{1, 2} | frozenset({3})").as<std::set<int>>() == std::set<int>{1, 2, 3});
    CHECK(in.eval("{'a', 'b'}").as<std::unordered_set<std::string>>() == std::unordered_set<std::string>{"a", "b"});
}

} // TEST_SUITE
