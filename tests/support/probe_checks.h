#pragma once
// The checks of the probe programs (tests/*_probe.cpp): each prints one line per check, "ok ..."
// or "FAIL ...", for the test case that starts it to match, and the probe exits with
// probe_status(): 0 only when every check held.

#include <cstdio>
#include <string>

#include <isolates/interp/errors.h>

namespace isolates::testing {

/// How many checks of this probe failed so far.
inline int probe_failures = 0;

/// Prints whether `rule` held.
inline void expect(bool held, const char* rule) {
    std::printf("%s %s\n", held ? "ok" : "FAIL", rule);
    if (!held) ++probe_failures;
}

/// Prints `got`, and whether it is `wanted`.
inline void expect(const char* what, const std::string& got, const std::string& wanted) {
    std::printf("%s %s: %s\n", got == wanted ? "ok" : "FAIL", what, got.c_str());
    if (got != wanted) ++probe_failures;
}

/// Runs `action`, which must throw UsageError; prints its message.
inline void expect_usage_error(const char* what, auto&& action) {
    try {
        action();
        std::printf("FAIL %s: no error\n", what);
        ++probe_failures;
    } catch (const UsageError& e) {
        std::printf("ok %s: %s\n", what, e.what());
    }
}

/// The probe's exit status: 0 when every check held, else 1.
inline int probe_status() { return probe_failures == 0 ? 0 : 1; }

} // namespace isolates::testing
