#pragma once
// Not API: an implementation detail, installed only because a public template
// (InterpreterPoolExecutor::map) uses it; it may change in any release.
// ChunkSource: one map's input cut into chunks, each made into a task that the map queues and
// joins (InterpreterPoolExecutor::map_chunks). A Python target's chunks (pool_map.cpp) and a C++
// callable's (callable_chunks.h) are its two kinds; both resolve a chunk with its results as one
// tuple Value, or fail it with a ChunkFailure naming the failing item.

#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <utility>

#include <isolates/executor/impl/shared_state.h>
#include <isolates/executor/impl/task.h>
#include <isolates/interp/value.h>

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

/// Item `index`'s failure as the map reports it: a PythonError becomes an ItemError, a
/// NotShareableError's path starts with "item N"; any other exception is kept as is.
std::exception_ptr item_failure(const std::exception_ptr& failure, std::size_t index);

/// On a pool worker running a chunk: whether cancel() or a timeout asked it to stop.
bool chunk_stop_requested() noexcept;

class ChunkSource {
public:
    /// The next chunk: its state, the task that resolves it (not queued yet) and its item count.
    struct Chunk {
        std::shared_ptr<SharedState<Value>> state;
        std::unique_ptr<Task> task; // null: the input had no item left
        std::size_t items = 0;
        bool more = false; // the input may have more items after this chunk
    };

    virtual ~ChunkSource() = default;
    /// On the mapping thread: pulls up to `chunksize` items, the first being item `first` of the
    /// input, into one task. Rethrows what the input or a conversion throws.
    virtual Chunk next(std::size_t first, std::size_t chunksize) = 0;
    /// How many items the whole input holds when it knows (a sized range), else 0; before the
    /// first next(). Only a hint for reserving memory.
    virtual std::size_t size_hint() const = 0;
    /// What the map calls, as its timeout message names it ("module:function").
    virtual std::string target_name() const = 0;
};

} // namespace isolates::detail
