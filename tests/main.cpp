// The one test binary's main(): it owns the process's Python runtime for every test case.
#define DOCTEST_CONFIG_IMPLEMENT
#include "tests/doctest.h"

#include "interp/runtime.h"

int main(int argc, char** argv) {
    isolates::Runtime runtime;
    doctest::Context context(argc, argv);
    return context.run();
}
