#include "executor/detail/map_stream_state.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "executor/detail/chunk.h"
#include "executor/detail/pool_impl.h"

namespace isolates::detail {

namespace {
using Clock = std::chrono::steady_clock;

std::size_t default_buffersize(const InterpreterPoolExecutor::Impl& pool) {
    return 4 * pool.workers.size();
}
} // namespace

MapStreamState::MapStreamState(InterpreterPoolExecutor::Impl& pool, std::string target,
                               std::unique_ptr<ItemSource> items, const MapOptions& options,
                               bool unpack)
    : pool_(pool), target_(std::make_shared<const std::string>(std::move(target))),
      items_(std::move(items)), chunksize_(options.chunksize),
      buffersize_(options.buffersize > 0 ? options.buffersize : default_buffersize(pool)),
      ordered_(options.ordered), unpack_(unpack),
      deadline_(options.timeout.count() > 0 ? base::Deadline(Clock::now() + options.timeout)
                                            : std::nullopt) {
    if (!ordered_) completions_ = std::make_shared<CompletionQueue>(buffersize_);
    try {
        refill();
    } catch (...) {
        stop();
        throw;
    }
}

MapStreamState::~MapStreamState() { stop(); }

void MapStreamState::stop() noexcept {
    over_ = true;
    holding_ = false;
    results_ = Value();
    pending_failure_ = nullptr;
    // Last first, as MapJoin::cancel_from: no worker freed by an earlier chunk starts a later one.
    for (auto chunk = in_flight_.rbegin(); chunk != in_flight_.rend(); ++chunk) chunk->state->cancel();
    in_flight_.clear();
    items_.reset();
}

void MapStreamState::fail(std::exception_ptr error) {
    stop();
    std::rethrow_exception(error);
}

void MapStreamState::refill() {
    while (!input_over_ && in_flight_.size() + (holding_ ? 1 : 0) < buffersize_) {
        std::vector<Value> items;
        try {
            input_over_ = !pull_chunk(*items_, chunksize_, unpack_, pulled_, items);
        } catch (...) {
            // The items pulled before the failing one still run; the error comes after them.
            input_over_ = true;
            input_error_ = std::current_exception();
        }
        if (items.empty()) break;
        const std::size_t count = items.size();
        auto state = submit_chunk(pool_, target_, std::move(items), pulled_, unpack_);
        in_flight_.push_back(Chunk{next_seq_, pulled_, state});
        if (!ordered_) {
            state->on_done([completions = completions_, seq = next_seq_] { completions->push(seq); });
        }
        ++next_seq_;
        pulled_ += count;
    }
}

MapStreamState::Chunk MapStreamState::take_next() {
    auto timed_out = [this] {
        fail(std::make_exception_ptr(TimeoutError("imap: no result within its timeout")));
    };
    if (ordered_) {
        const auto& state = *in_flight_.front().state;
        if (deadline_) {
            if (!state.wait_until(*deadline_)) timed_out();
        } else {
            state.wait();
        }
        Chunk chunk = std::move(in_flight_.front());
        in_flight_.pop_front();
        return chunk;
    }
    const std::optional<std::size_t> completed = completions_->pop(deadline_);
    if (!completed) timed_out();
    const std::size_t seq = *completed;
    const auto it = std::find_if(in_flight_.begin(), in_flight_.end(),
                                 [seq](const Chunk& chunk) { return chunk.seq == seq; });
    Chunk chunk = std::move(*it);
    in_flight_.erase(it);
    return chunk;
}

bool MapStreamState::advance() {
    if (over_) return false;
    if (holding_ && position_ + 1 < results_.size()) {
        ++position_;
        return true;
    }
    if (holding_ && pending_failure_) fail(pending_failure_);
    // The chunk being consumed is done: its slot goes to the next chunk of input.
    holding_ = false;
    results_ = Value();
    try {
        refill();
    } catch (...) {
        fail(std::current_exception()); // submitting failed: the pool shut down or broke
    }
    if (in_flight_.empty()) {
        if (input_error_) fail(input_error_);
        stop();
        return false;
    }
    Chunk chunk = take_next();
    if (chunk.state->outcome() == Outcome::value) {
        results_ = chunk.state->take(); // the stream is the chunk's only reader
    } else {
        try {
            std::rethrow_exception(chunk.state->error());
        } catch (const ChunkFailure& failure) {
            results_ = failure.done;
            pending_failure_ = failure.error;
        } catch (...) {
            fail(std::current_exception()); // the chunk's own error: cancelled, broken pool, ...
        }
    }
    results_first_ = chunk.first;
    position_ = 0;
    holding_ = true;
    if (results_.size() == 0) fail(pending_failure_);
    return true;
}

const Value& MapStreamState::current() const {
    if (!holding_) throw UsageError("MapStream: no current result (the stream is over)");
    return results_.items()[position_];
}

std::size_t MapStreamState::index() const {
    if (!holding_) throw UsageError("MapStream: no current result (the stream is over)");
    return results_first_ + position_;
}

} // namespace isolates::detail
