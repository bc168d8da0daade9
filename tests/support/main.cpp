// Every test program's main(): it owns the process's Python runtime for every test case. meson
// runs the programs with --reporters=tap (tests/support/tap_reporter.cpp).
#define DOCTEST_CONFIG_IMPLEMENT
#include "tests/support/doctest.h"

#include <isolates/interp/runtime.h>

int main(int argc, char** argv) {
    isolates::Runtime runtime;
    doctest::Context context(argc, argv);
    return context.run();
}
