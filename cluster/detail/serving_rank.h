#pragma once
// A serving rank of an MpiPoolExecutor: it waits for the client's pool options, starts its own
// InterpreterPoolExecutor with them, says how many workers it has, then relays every request to
// the worker it names (so each client slot's requests run in order) and sends each reply back,
// until the client says to shut down or falls silent.

#include <boost/mpi/communicator.hpp>

#include <isolates/cluster/mpi_pool_executor.h>

namespace isolates::cluster::detail {

/// Serves the client `options.root` until it ends. Never throws for what the client sends (a
/// failure goes back to it); a pool that cannot start is reported to the client. False when the
/// client ended without configuring a pool (MpiPoolExecutor::end_serving).
bool serve_rank(boost::mpi::communicator world, const MpiPoolExecutor::Options& options);

} // namespace isolates::cluster::detail
