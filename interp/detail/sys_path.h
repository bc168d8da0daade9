#pragma once
// Putting entries in front of the attached interpreter's sys.path.

#include <string>
#include <vector>

namespace isolates::detail {

/// Inserts `entries`, in their order, at the front of sys.path of the interpreter attached to
/// this thread; with `skip_present`, leaves out those already in it (the main interpreter's
/// sys.path is shared). Returns false with a Python exception set when that fails.
bool prepend_sys_path(const std::vector<std::string>& entries, bool skip_present = false);

} // namespace isolates::detail
