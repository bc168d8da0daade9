// A test binary's main() (isolates_tests, and channels_tests beside it): it owns the process's
// Python runtime for every test case.
#define DOCTEST_CONFIG_IMPLEMENT
#include "tests/doctest.h"

#include "interp/runtime.h"

int main(int argc, char** argv) {
    isolates::Runtime runtime;
    doctest::Context context(argc, argv);
    return context.run();
}
