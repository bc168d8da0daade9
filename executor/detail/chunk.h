#pragma once
// A chunk of a map: consecutive items that travel to a worker as one task, are called there in one
// hold of the GIL (Interpreter::call_each) and come back as one tuple Value. Shared by the map
// join (InterpreterPoolExecutor::map, starmap) and the imap stream.

#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <isolates/executor/impl/chunk_source.h>
#include <isolates/executor/impl/shared_state.h>
#include <isolates/executor/impl/task.h>
#include <isolates/executor/interpreter_pool_executor.h>
#include <isolates/interp/value.h>

namespace isolates::detail {

/// One chunk's state and task, not queued yet: the task resolves the state with the results of
/// `items` (whose first is item `first` of the input) as one tuple, or fails it as below.
std::pair<std::shared_ptr<SharedState<Value>>, std::unique_ptr<Task>>
make_chunk_task(std::shared_ptr<const std::string> target, std::vector<Value> items,
                std::size_t first, bool unpack);

/// One chunk's task, queued on `pool`: its state resolves with the results of `items` (whose
/// first is item `first` of the input) as one tuple, or fails with a ChunkFailure, or with the
/// chunk's own error (the target cannot be resolved, cancelled, timed out, broken pool). Throws
/// what enqueue throws (UsageError after shutdown, BrokenPoolError).
std::shared_ptr<SharedState<Value>> submit_chunk(InterpreterPoolExecutor::Impl& pool,
                                                 std::shared_ptr<const std::string> target,
                                                 std::vector<Value> items, std::size_t first,
                                                 bool unpack);

/// The error a failed chunk stands for in the map's result: a ChunkFailure's item error, or the
/// chunk's own error as is.
std::exception_ptr chunk_error(const StateBase& chunk);

/// Pulls the next chunk (up to `chunksize` items) from `items` into `out` (cleared first);
/// returns false once the input is over. With `unpack` (starmap) checks that each item is a
/// tuple or list of arguments (UsageError naming the item otherwise); `first` is the index of
/// the chunk's first item, for that message.
bool pull_chunk(ItemSource& items, std::size_t chunksize, bool unpack, std::size_t first,
                std::vector<Value>& out);

/// Throws UsageError when `options` cannot be used (chunksize 0, negative timeout).
void check_map_options(const MapOptions& options);

} // namespace isolates::detail
