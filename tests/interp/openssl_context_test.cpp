// One OpenSSL library context per interpreter (interp/detail/openssl_context.h): each interpreter
// fetches its own EVP_MD on its own thread and hashes correctly, teardown frees the context,
// the option off shares OpenSSL's default again, and pool workers get one each.

#include <cstdint>
#include <filesystem>
#include <latch>
#include <string>
#include <thread>

#include <isolates/executor/interpreter_pool_executor.h>
#include <isolates/interp/interpreter.h>
#include "interp/detail/libcrypto.h"
#include "interp/detail/openssl_context.h"
#include "tests/support/doctest.h"
#include "tests/support/skip.h"

using namespace isolates;
using detail::OpenSslContext;

namespace {
constexpr const char* abc_sha256 =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr const char* hash_abc = "__import__('hashlib').sha256(b'abc').hexdigest()";

/// What OpenSSL hands the calling thread: its default library context and the EVP_MD that
/// EVP_MD_fetch(NULL, "SHA256", NULL) returns there (as _hashlib fetches it).
struct Fetched {
    std::uintptr_t context = 0;
    std::uintptr_t sha256 = 0;
};

Fetched fetch_here() {
    const detail::Libcrypto& crypto = *detail::libcrypto();
    using Fetch = void* (*)(detail::OsslLibCtx*, const char*, const char*);
    using Free = void (*)(void*);
    const auto fetch = reinterpret_cast<Fetch>(crypto.symbol("EVP_MD_fetch"));
    const auto release = reinterpret_cast<Free>(crypto.symbol("EVP_MD_free"));
    REQUIRE((fetch && release));
    void* md = fetch(nullptr, "SHA256", nullptr);
    Fetched fetched{reinterpret_cast<std::uintptr_t>(crypto.lib_ctx_set0_default(nullptr)),
                    reinterpret_cast<std::uintptr_t>(md)};
    release(md); // the context's method store keeps it: the address stays that EVP_MD's
    return fetched;
}

/// The same inside a call of `in` (on its owning thread).
Fetched fetch_in(Interpreter& in) {
    Interpreter::Active active(in);
    return fetch_here();
}

/// Why this process has no OpenSSL 3 to test, or "" when it has one.
std::string no_openssl3() {
    if (detail::libcrypto()) return "";
    return "no OpenSSL 3 behind _hashlib: " + detail::libcrypto_missing();
}

} // namespace

TEST_SUITE("OpenSslContext") {

TEST_CASE("OpenSslContext.finds_the_libcrypto_of_hashlib") {
    if (const std::string why = no_openssl3(); !why.empty()) ISOLATES_SKIP(why);
    CHECK(detail::libcrypto_missing().empty());
    CHECK(detail::libcrypto()->path.find("libcrypto") != std::string::npos);
    // A file mapped in the process once _hashlib is imported (maps name files without symlinks).
    Interpreter in;
    in.exec("import _hashlib");
    const std::string maps(in.eval("open('/proc/self/maps').read()").as_str());
    CHECK(maps.find(std::filesystem::canonical(detail::libcrypto()->path).string()) !=
          std::string::npos);
}

TEST_CASE("OpenSslContext.two_interpreters_on_two_threads_hold_distinct_EVP_MDs" *
          doctest::timeout(120)) {
    if (const std::string why = no_openssl3(); !why.empty()) ISOLATES_SKIP(why);
    const Fetched shared = fetch_here(); // this thread keeps the process default
    Fetched fetched[2];
    std::string digests[2];
    std::latch both_fetched(2), checked(1);
    auto run = [&](int k) {
        Interpreter in;
        digests[k] = in.eval(hash_abc).as_str();
        fetched[k] = fetch_in(in);
        both_fetched.arrive_and_wait(); // both interpreters alive while the other fetches
        checked.wait();
    };
    std::thread first(run, 0), second(run, 1);
    both_fetched.wait();
    CHECK(fetched[0].sha256 != fetched[1].sha256);
    CHECK(fetched[0].context != fetched[1].context);
    for (const Fetched& own : fetched) {
        CHECK(own.sha256 != shared.sha256);
        CHECK(own.context != shared.context);
    }
    checked.count_down();
    first.join();
    second.join();
    CHECK(digests[0] == abc_sha256);
    CHECK(digests[1] == abc_sha256);
    CHECK(fetch_here().context == shared.context);
}

TEST_CASE("OpenSslContext.teardown_frees_the_context_and_restores_the_default") {
    if (const std::string why = no_openssl3(); !why.empty()) ISOLATES_SKIP(why);
    const auto before = OpenSslContext::live();
    const Fetched outside = fetch_here();
    {
        Interpreter in;
        CHECK(OpenSslContext::live() == before + 1);
        CHECK(in.eval(hash_abc).as_str() == abc_sha256);
        in.exec("import ssl\ncontext = ssl.create_default_context()\n");
        // A Python thread it starts keeps the process's default context, and hashes correctly
        // with _hashlib's digests cached from either context.
        in.exec("import hashlib, threading\n"
                "out = []\n"
                "t = threading.Thread(target=lambda: out.append("
                "hashlib.sha256(b'abc').hexdigest() + hashlib.sha512(b'abc').hexdigest()))\n"
                "t.start(); t.join()\n");
        CHECK(in.eval("out[0][:64]").as_str() == abc_sha256);
        CHECK(in.eval("out[0][64:] == hashlib.sha512(b'abc').hexdigest()").as_bool());
        CHECK(fetch_in(in).context != outside.context);
        CHECK(fetch_here().context == outside.context); // between calls: the thread's own again
    }
    CHECK(OpenSslContext::live() == before);
    CHECK(fetch_here().sha256 == outside.sha256);
}

TEST_CASE("OpenSslContext.nested_interpreters_each_use_their_own") {
    if (const std::string why = no_openssl3(); !why.empty()) ISOLATES_SKIP(why);
    Interpreter a;
    Interpreter b;
    const Fetched in_a = fetch_in(a);
    Fetched in_b_inside_a;
    {
        Interpreter::Active active(a);
        in_b_inside_a = fetch_in(b);
        CHECK(fetch_here().context == in_a.context); // a's again once b's call ended
    }
    CHECK(in_a.context != in_b_inside_a.context);
    CHECK(in_a.sha256 != in_b_inside_a.sha256);
}

TEST_CASE("OpenSslContext.option_off_shares_the_process_default") {
    if (const std::string why = no_openssl3(); !why.empty()) ISOLATES_SKIP(why);
    const auto before = OpenSslContext::live();
    const Fetched outside = fetch_here();
    Interpreter::Options options;
    options.own_openssl_context = false;
    Interpreter in(options);
    CHECK(OpenSslContext::live() == before);
    CHECK(in.eval(hash_abc).as_str() == abc_sha256);
    const Fetched inside = fetch_in(in);
    CHECK(inside.context == outside.context);
    CHECK(inside.sha256 == outside.sha256);
}

TEST_CASE("OpenSslContext.pool_workers_get_one_each" * doctest::timeout(120)) {
    if (const std::string why = no_openssl3(); !why.empty()) ISOLATES_SKIP(why);
    const Fetched outside = fetch_here();
    for (const bool own : {true, false}) {
        CAPTURE(own);
        InterpreterPoolExecutor::Options options;
        options.workers = 2;
        options.own_openssl_context = own;
        InterpreterPoolExecutor pool(options);
        auto fetch = [](Interpreter& in) {
            const Fetched fetched = fetch_in(in);
            return Value::list({static_cast<std::int64_t>(fetched.context),
                                static_cast<std::int64_t>(fetched.sha256),
                                in.eval(hash_abc)});
        };
        // Both workers' interpreters stay alive until the pool is destroyed.
        const Value first = pool.submit_to(0, fetch).get();
        const Value second = pool.submit_to(1, fetch).get();
        CHECK(first[2].as_str() == abc_sha256);
        CHECK(second[2].as_str() == abc_sha256);
        const auto context = [](const Value& v) { return static_cast<std::uintptr_t>(v[0].as_int64()); };
        const auto sha256 = [](const Value& v) { return static_cast<std::uintptr_t>(v[1].as_int64()); };
        if (own) {
            CHECK(context(first) != context(second));
            CHECK(sha256(first) != sha256(second));
            CHECK(sha256(first) != outside.sha256);
        } else {
            CHECK(context(first) == outside.context);
            CHECK(sha256(first) == outside.sha256);
            CHECK(sha256(second) == outside.sha256);
        }
    }
}

} // TEST_SUITE
