#include "executor/detail/map_join.h"

#include <utility>

#include "executor/detail/chunk.h"

namespace isolates::detail {

std::shared_ptr<MapJoin> MapJoin::make() {
    std::shared_ptr<MapJoin> join(new MapJoin());
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
    try_resolve(lock);
}

void MapJoin::cancel_from(std::size_t from) {
    std::vector<std::shared_ptr<SharedState<Value>>> later;
    {
        std::lock_guard lock(mutex_);
        if (from < chunks_.size()) later.assign(chunks_.begin() + static_cast<std::ptrdiff_t>(from), chunks_.end());
    }
    for (auto& chunk : later) chunk->cancel();
}

void MapJoin::try_resolve(std::unique_lock<std::mutex>& lock) {
    if (resolving_) return;
    if (failed_ && prefix_done_ > first_failed_) {
        resolving_ = true;
        const std::exception_ptr error = chunk_error(*chunks_[first_failed_]);
        // Later chunks are cancelled or resolved already; their results are no longer needed.
        std::vector<std::shared_ptr<SharedState<Value>>> release;
        release.swap(chunks_);
        done_.clear();
        lock.unlock();
        release.clear();
        result_->fail(error);
    } else if (!failed_ && sealed_ && prefix_done_ == chunks_.size()) {
        resolving_ = true;
        std::vector<std::shared_ptr<SharedState<Value>>> chunks;
        chunks.swap(chunks_);
        done_.clear();
        const std::size_t items = items_;
        lock.unlock();
        std::vector<Value> values;
        values.reserve(items);
        for (auto& chunk : chunks) {
            for (const Value& value : chunk->get().items()) values.push_back(value);
            chunk.reset(); // frees the chunk's tuple early
        }
        result_->set_value(std::move(values));
    }
}

} // namespace isolates::detail
