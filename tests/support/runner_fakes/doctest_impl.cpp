// doctest's implementation for the fakes, without a main(): the MPI fake has its own.
#define DOCTEST_CONFIG_IMPLEMENT
#include "tests/support/doctest.h"
