// Two passing cases, one failing, one skipped: 2 passed, 1 failed, 1 skipped.
#include "tests/support/doctest.h"
#include "tests/support/skip.h"

TEST_CASE("Mixed.passes") { CHECK(1 + 1 == 2); }

TEST_CASE("Mixed.passes too") { CHECK(2 + 2 == 4); }

TEST_CASE("Mixed.fails") { CHECK(1 + 1 == 3); }

TEST_CASE("Mixed.skips") { ISOLATES_SKIP("a precondition is missing"); }
