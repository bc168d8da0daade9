#pragma once
// Where the process worker executable installed with libisolates is.

#include <string>

namespace isolates::detail {

/// The isolates-worker-3.X built and installed with this libisolates: <libdir>/isolates/ beside
/// the loaded library (installed), else the library's own directory (the build tree). Throws
/// UsageError naming both places when neither holds it.
std::string default_worker_executable();

} // namespace isolates::detail
