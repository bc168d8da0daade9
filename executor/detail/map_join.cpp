#include "executor/detail/map_join.h"

#include <utility>

#include "base/huge_pages.h"
#include "executor/detail/chunk.h"

namespace isolates::detail {

namespace {
/// Room for `items` results, on huge pages: the results are written once, in full, and 4 KiB
/// page faults on that fresh memory cost a trivial map more than its calls do.
void reserve_results(std::vector<Value>& values, std::size_t items) {
    if (values.capacity() >= items) return;
    values.reserve(items);
    base::advise_huge_pages(values.data(), values.capacity() * sizeof(Value));
}
} // namespace

std::shared_ptr<MapJoin> MapJoin::make(std::size_t expected_items) {
    std::shared_ptr<MapJoin> join(new MapJoin());
    reserve_results(join->values_, expected_items);
    // Weak: the chunks' callbacks keep the join alive while any chunk is pending; once none is,
    // there is nothing left to cancel.
    join->result_->on_done([weak = std::weak_ptr<MapJoin>(join)] {
        if (auto self = weak.lock(); self && self->result_->outcome() != Outcome::value)
            self->cancel_from(0);
    });
    return join;
}

void MapJoin::add(std::shared_ptr<SharedState<Value>> chunk, std::size_t items) {
    std::size_t index;
    bool resolved;
    {
        std::lock_guard lock(mutex_);
        resolved = resolving_;
        index = chunks_.size();
        if (!resolved) {
            chunks_.push_back(chunk);
            done_.push_back(false);
            items_ += items;
        }
    }
    if (resolved) {
        chunk->cancel(); // the result is decided: this chunk cannot change it
        return;
    }
    // After the push: a result resolved before it is seen here, one resolved after it cancels
    // this chunk with the others.
    if (result_->ready() && result_->outcome() != Outcome::value) chunk->cancel();
    chunk->on_done([self = shared_from_this(), index] { self->chunk_done(index); });
}

void MapJoin::seal() {
    std::unique_lock lock(mutex_);
    sealed_ = true;
    try_resolve(lock);
}

void MapJoin::abandon() {
    result_->fail(std::make_exception_ptr(CancelledError("map: submitting its items failed")),
                  Outcome::cancelled);
}

void MapJoin::chunk_done(std::size_t index) {
    std::unique_lock lock(mutex_);
    if (resolving_) return; // decided: the chunks were released
    done_[index] = true;
    bool cancel_later = false;
    if (chunks_[index]->outcome() != Outcome::value && (!failed_ || index < first_failed_)) {
        // Only the chunks before the first failure can still change the result.
        failed_ = true;
        first_failed_ = index;
        cancel_later = true;
    }
    while (prefix_done_ < done_.size() && done_[prefix_done_]) ++prefix_done_;
    if (cancel_later) {
        lock.unlock();
        cancel_from(index + 1);
        lock.lock();
    }
    join_done_prefix(lock);
    try_resolve(lock);
}

void MapJoin::cancel_from(std::size_t from) {
    std::vector<std::shared_ptr<SharedState<Value>>> later;
    {
        std::lock_guard lock(mutex_);
        for (std::size_t k = from; k < chunks_.size(); ++k)
            if (chunks_[k]) later.push_back(chunks_[k]); // joined ones are null, and done
    }
    // Last first: a worker freed by stopping an earlier chunk must find the later ones already
    // cancelled, or it could start one of them in between.
    for (auto chunk = later.rbegin(); chunk != later.rend(); ++chunk) (*chunk)->cancel();
}

void MapJoin::join_done_prefix(std::unique_lock<std::mutex>& lock) {
    // A failure before the end makes values_ useless; chunks after a failure are never joined,
    // so chunks_[first_failed_] stays for try_resolve.
    while (!joining_ && !resolving_ && !failed_ && joined_ < prefix_done_) {
        joining_ = true;
        const std::size_t end = prefix_done_;
        std::vector<std::shared_ptr<SharedState<Value>>> batch;
        batch.reserve(end - joined_);
        for (std::size_t k = joined_; k < end; ++k) batch.push_back(std::move(chunks_[k]));
        const std::size_t all_items = sealed_ ? items_ : 0;
        lock.unlock();
        reserve_results(values_, all_items);
        for (auto& chunk : batch) {
            // The join is a chunk's only reader: its tuple's items move out, no reference
            // counts, and the tuple is freed now, on this thread.
            chunk->take().move_items_into(values_);
            chunk.reset();
        }
        lock.lock();
        joined_ = end;
        joining_ = false;
    }
}

void MapJoin::try_resolve(std::unique_lock<std::mutex>& lock) {
    if (resolving_) return;
    if (failed_ && prefix_done_ > first_failed_) {
        resolving_ = true;
        const std::exception_ptr error = chunk_error(*chunks_[first_failed_]);
        // Later chunks are cancelled or resolved already; their results are no longer needed.
        // values_ may still be filled by a joining thread: it stays with the join.
        std::vector<std::shared_ptr<SharedState<Value>>> release;
        release.swap(chunks_);
        done_.clear();
        lock.unlock();
        release.clear();
        result_->fail(error);
    } else if (!failed_ && sealed_ && !joining_ && joined_ == chunks_.size()) {
        resolving_ = true;
        std::vector<Value> values = std::move(values_);
        chunks_.clear();
        done_.clear();
        lock.unlock();
        result_->set_value(std::move(values));
    }
}

} // namespace isolates::detail
