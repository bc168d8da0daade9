// The fakes' main(): tests/support/main.cpp without isolates' Runtime, so no Python.
#include "tests/support/doctest.h"

int main(int argc, char** argv) {
    doctest::Context context(argc, argv);
    return context.run();
}
