#pragma once
// MapJoin: the result of map() and starmap(), assembled from its chunks. It resolves with every
// chunk's results in input order, or with the failure of the first failing chunk in input order
// (which needs only the chunks before it, so the ones after it are cancelled at once); when the
// result resolves any other way (cancel(), the map's timeout) every chunk not yet done is
// cancelled. The results are joined as the chunks complete: whenever the chunks done from the
// start grow, the thread that completed one moves their items into the result vector (one thread
// at a time), so little is left when the last chunk completes and each chunk's tuple is freed
// early, while the map still runs (its memory is reused for the next chunks' results).

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include <isolates/executor/impl/shared_state.h>
#include <isolates/interp/value.h>

namespace isolates::detail {

class MapJoin : public std::enable_shared_from_this<MapJoin> {
public:
    using Result = SharedState<std::vector<Value>>;

    /// The join and its result state, which cancels the chunks when it resolves otherwise.
    /// `expected_items` (0: unknown) reserves the result vector once.
    static std::shared_ptr<MapJoin> make(std::size_t expected_items);

    /// What the map's future holds.
    const std::shared_ptr<Result>& result() const noexcept { return result_; }
    /// Adds the next chunk in input order (cancelled at once if the result is resolved already).
    void add(std::shared_ptr<SharedState<Value>> chunk, std::size_t items);
    /// Every chunk has been added: the result may now resolve with the values.
    void seal();
    /// Submission failed part-way: cancels the chunks added so far and resolves the result as
    /// cancelled (the caller rethrows to its own caller, who never sees this future).
    void abandon();

private:
    MapJoin() = default;
    void chunk_done(std::size_t index);
    /// Cancels chunks [from, end), without holding the lock (a cancel runs their callbacks).
    void cancel_from(std::size_t from);
    /// Moves the items of the chunks done from the start into values_, unless another thread is
    /// doing it; called with the lock held, which it releases while it moves.
    void join_done_prefix(std::unique_lock<std::mutex>& lock);
    /// Resolves the result if the chunks say how; called with the lock held, resolves after it.
    void try_resolve(std::unique_lock<std::mutex>& lock);

    std::shared_ptr<Result> result_ = std::make_shared<Result>();
    std::mutex mutex_;
    // Chunks [0, joined_) are null: their items are in values_. Guarded by mutex_.
    std::vector<std::shared_ptr<SharedState<Value>>> chunks_;
    std::vector<bool> done_;                                  // guarded by mutex_
    // The results so far, in input order: owned by the joining thread while joining_, else
    // guarded by mutex_.
    std::vector<Value> values_;
    std::size_t items_ = 0;        // items in all chunks; guarded by mutex_
    std::size_t prefix_done_ = 0;  // chunks [0, prefix_done_) are resolved; guarded by mutex_
    std::size_t joined_ = 0;       // chunks [0, joined_) are in values_; guarded by mutex_
    std::size_t first_failed_ = 0; // meaningful when failed_; guarded by mutex_
    bool failed_ = false;          // guarded by mutex_
    bool sealed_ = false;          // guarded by mutex_
    bool joining_ = false;         // a thread moves items into values_; guarded by mutex_
    bool resolving_ = false;       // one thread resolves the result; guarded by mutex_
};

} // namespace isolates::detail
