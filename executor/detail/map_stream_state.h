#pragma once
// MapStreamState: what a MapStream drives. It pulls the input a chunk at a time on the consumer's
// thread, keeps at most `buffersize` chunks in flight (the one being consumed included), and hands
// out results in input order (waiting on the oldest chunk) or as chunks complete (each chunk's
// completion goes into a CompletionQueue the consumer waits on).

#include <chrono>
#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <string>

#include <isolates/executor/impl/completion_queue.h>
#include <isolates/executor/impl/item_source.h>
#include <isolates/executor/impl/shared_state.h>
#include <isolates/executor/interpreter_pool_executor.h>
#include <isolates/executor/map_options.h>

namespace isolates::detail {

class MapStreamState {
public:
    /// Submits the first chunks (throws what submitting throws).
    MapStreamState(InterpreterPoolExecutor::Impl& pool, std::string target,
                   std::unique_ptr<ItemSource> items, const MapOptions& options, bool unpack);
    /// stop().
    ~MapStreamState();
    MapStreamState(const MapStreamState&) = delete;
    MapStreamState& operator=(const MapStreamState&) = delete;

    /// Consumer thread: moves to the next result, waiting for it; false when there is none.
    /// Throws an item's failure, TimeoutError or the input's exception, after stop().
    bool advance();
    /// Whether the stream is over (every result consumed, or failed, or stopped).
    bool over() const noexcept { return over_; }
    /// The current result (UsageError when there is none).
    const Value& current() const;
    /// Its position in the input.
    std::size_t index() const;
    /// Cancels every chunk in flight, releases the input and ends the stream. Idempotent.
    void stop() noexcept;

private:
    struct Chunk {
        std::size_t seq;   // order of submission
        std::size_t first; // index of its first item in the input
        std::shared_ptr<SharedState<Value>> state;
    };
    /// Pulls and submits chunks until buffersize are in flight or the input is over. An exception
    /// of the input is kept and thrown once the results before it are consumed.
    void refill();
    /// Waits for the next chunk to hand out (the oldest, or the first completed) and takes it out
    /// of in_flight_; TimeoutError (after stop()) past the deadline.
    Chunk take_next();
    /// stop(), then rethrows `error`.
    [[noreturn]] void fail(std::exception_ptr error);

    InterpreterPoolExecutor::Impl& pool_;
    const std::shared_ptr<const std::string> target_;
    std::unique_ptr<ItemSource> items_;
    const std::size_t chunksize_;
    const std::size_t buffersize_;
    const bool ordered_;
    const bool unpack_;
    const base::Deadline deadline_;
    // Completed chunks' sequence numbers, for ordered=false; shared with their callbacks, which
    // may run after the stream is gone. Never overflows: at most buffersize chunks are in flight
    // and each pushes once, before the consumer frees its slot.
    std::shared_ptr<CompletionQueue> completions_;

    std::deque<Chunk> in_flight_; // submitted, not yet handed out; in submission order
    std::size_t next_seq_ = 0;
    std::size_t pulled_ = 0;      // items taken from the input
    bool input_over_ = false;
    std::exception_ptr input_error_;

    Value results_;               // the chunk being consumed (a tuple), when holding_
    std::size_t results_first_ = 0;
    std::size_t position_ = 0;
    bool holding_ = false;
    std::exception_ptr pending_failure_; // the item right after results_ failed
    bool over_ = false;
};

} // namespace isolates::detail
