// One passing case, then a case that crashes: the reporter's `Bail out!` must name it.
#include <csignal>

#include "tests/support/doctest.h"

TEST_CASE("Crash.passes first") { CHECK(true); }

TEST_CASE("Crash.segfaults") { std::raise(SIGSEGV); }
