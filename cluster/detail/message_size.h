#pragma once
// The largest message one MPI send carries: MPI counts bytes in an int, so a message of 2 GiB or
// more would be cut short (wrapped) by the cast. Every message is checked against it before it is
// posted, by its size alone (nothing is allocated or sent for a refused one).

#include <climits>
#include <cstddef>
#include <string>

#include <isolates/interp/errors.h>

namespace isolates::cluster::detail {

/// Bytes of the largest message one send carries (INT_MAX, 2 GiB - 1).
inline constexpr std::size_t max_message_bytes = INT_MAX;

/// Throws UsageError saying so when a message of `bytes` bytes (its header included) is too
/// large for one MPI send; `what` names it ("the task's request"). Allocates nothing otherwise.
inline void check_message_size(std::size_t bytes, const char* what) {
    if (bytes <= max_message_bytes) return;
    throw UsageError(std::string("MpiPoolExecutor: ") + what + " is " + std::to_string(bytes) +
                     " bytes; a message between MPI ranks must stay under 2 GiB (MPI counts in "
                     "int): send large data another way (a shared file, or in parts)");
}

} // namespace isolates::cluster::detail
