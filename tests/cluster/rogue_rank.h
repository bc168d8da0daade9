#pragma once
// A serving rank that speaks the cluster's protocol without a pool and misbehaves on cue, for the
// client's tests of malformed messages (mpi_main.cpp runs it on rank 2 when given
// --isolates-rogue-rank-2). It says it has one worker on host "rogue" and answers each request by
// its target:
//   "__main__:garbage_reply"    a reply naming the right slot whose frame is garbage
//   "__main__:truncated_reply"  a message too short to name any slot
//   anything else               a good reply holding the target's name
// It ends on the first shutdown it is sent (answering it) or when the client falls silent.

#include <isolates/cluster/mpi_pool_executor.h>

namespace isolates::test {

/// Serves as the rogue rank until told to end; returns the process's exit status (0).
int serve_as_rogue(const MpiPoolExecutor::Options& options);

} // namespace isolates::test
