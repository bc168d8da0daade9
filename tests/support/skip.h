#pragma once
// Skipping a test case at run time: doctest has no such thing, so a case whose precondition is
// missing (no free-threaded build, no huge pages) calls ISOLATES_SKIP("why") and returns; the
// TAP reporter (tap_reporter.cpp) reports it as `ok N - name # SKIP why`, which meson counts as
// a skip, never as a pass.

#include <string>

namespace isolates::testing {

/// Marks the running test case skipped with `reason` (the test's thread). A case that also
/// failed an assertion is reported as failed.
void skip(std::string reason);

} // namespace isolates::testing

#define ISOLATES_SKIP(reason)                                                                     \
    do {                                                                                          \
        ::isolates::testing::skip(reason);                                                        \
        return;                                                                                   \
    } while (false)
