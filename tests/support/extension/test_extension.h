#pragma once
// Where the test extension module built by tests/support/extension/meson.build lives, for tests that put
// it on sys.path (the main interpreter's tests, the executor's process-worker tests).

#ifndef ISOLATES_TEST_EXTENSION_DIR
#error "build with tests/support/extension/meson.build's test_extension_args"
#endif

namespace isolates::test {

/// The directory holding isolates_test_refusing.so.
inline constexpr const char* test_extension_dir = ISOLATES_TEST_EXTENSION_DIR;
/// A single-phase-init module: loads in the main interpreter, refused in sub-interpreters.
inline constexpr const char* refusing_module = "isolates_test_refusing";

} // namespace isolates::test
