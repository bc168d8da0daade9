#pragma once
/// MapOptions: how InterpreterPoolExecutor::map, starmap and imap cut their input into tasks and
/// hand back the results (chunksize, timeout and buffersize as in concurrent.futures and
/// mpi4py.futures).

#include <chrono>
#include <cstddef>

namespace isolates {

struct MapOptions {
    /// Items per task: a chunk travels to a worker as one task, runs there in one hold of the GIL
    /// (the target resolved once, the loop in C) and comes back as one Value. At least 1;
    /// 0 throws UsageError.
    std::size_t chunksize = 1;
    /// Counted from the call of map/starmap/imap; zero means none. map: the future fails with
    /// TimeoutError when it passes, and the chunks not yet done are cancelled. imap: a result not
    /// there by then throws TimeoutError from the iteration, and the stream ends.
    std::chrono::nanoseconds timeout{0};
    /// imap only: results in input order (true), or as chunks complete.
    bool ordered = true;
    /// imap only: most chunks in flight (submitted and not yet fully consumed, the one being
    /// iterated included), so at most buffersize * chunksize items are pulled from the input ahead
    /// of the consumer. 0 means 4 per worker of the pool.
    std::size_t buffersize = 0;
};

} // namespace isolates
