#pragma once
// A chunk of a map: consecutive items that travel to a worker as one task, are called there in one
// hold of the GIL (Interpreter::call_each) and come back as one tuple Value. Shared by the map
// join (InterpreterPoolExecutor::map, starmap) and the imap stream.

#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "executor/detail/shared_state.h"
#include "executor/interpreter_pool_executor.h"
#include "interp/value.h"

namespace isolates::detail {

/// What a chunk's state fails with when one of its items failed: the results of the items before
/// it (a tuple) and that item's error, which names its index in the whole input (ItemError, or
/// NotShareableError whose path starts with "item N"). Internal: map and imap unwrap it.
struct ChunkFailure : std::exception {
    ChunkFailure(Value done, std::exception_ptr error) : done(std::move(done)), error(std::move(error)) {}
    const char* what() const noexcept override { return "a chunk of a map had a failing item"; }

    Value done;
    std::exception_ptr error;
};

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
