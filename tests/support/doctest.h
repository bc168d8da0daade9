#pragma once
// Debian installs <doctest/doctest.h>; the meson wrap exposes <doctest.h>.
#if __has_include(<doctest/doctest.h>)
#include <doctest/doctest.h>
#else
#include <doctest.h>
#endif
