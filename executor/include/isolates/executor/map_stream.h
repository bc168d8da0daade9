#pragma once
/// MapStream: the results of InterpreterPoolExecutor::imap, a C++ input range of Values
/// (`for (const Value& v : pool.imap(...))`), produced while they are consumed. The input is
/// pulled lazily on the consumer's thread, a chunk at a time, keeping at most
/// MapOptions::buffersize chunks in flight, so an endless input works. The first chunks are
/// submitted by imap() itself. One consumer thread; the pool must outlive the stream.

#include <cstddef>
#include <iterator>
#include <memory>

#include <isolates/interp/value.h>

namespace isolates {

namespace detail {
class MapStreamState;
}

class MapStream {
public:
    class iterator {
    public:
        using value_type = Value;
        using difference_type = std::ptrdiff_t;
        using iterator_concept = std::input_iterator_tag;
        using iterator_category = std::input_iterator_tag;

        iterator() = default;
        /// The current result; valid until the next increment.
        const Value& operator*() const;
        const Value* operator->() const { return &**this; }
        /// Moves to the next result, waiting for it. Throws the failure of the item it reaches (an
        /// ItemError naming the item's index), TimeoutError past MapOptions::timeout, or an
        /// exception the input threw; the stream is over after a throw.
        iterator& operator++();
        void operator++(int) { ++*this; }
        /// The current result's position in the input (with ordered=false results come as they
        /// complete, in any order).
        std::size_t index() const;
        /// At the end when the stream is over (all results consumed, or it failed or was cancelled).
        friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept;

    private:
        friend class MapStream;
        explicit iterator(detail::MapStreamState* state) : state_(state) {}
        detail::MapStreamState* state_ = nullptr;
    };

    MapStream(MapStream&&) noexcept;
    MapStream& operator=(MapStream&&) noexcept;
    /// cancel(): never waits for a running chunk.
    ~MapStream();

    /// The first call waits for the first result (and may throw as iterator::operator++ does);
    /// later calls return an iterator at the current result. Input range: iterate once.
    iterator begin();
    std::default_sentinel_t end() const noexcept { return {}; }

    /// Ends the stream now: chunks not yet run never run, running ones are interrupted (as
    /// Future::cancel()), and the input is released. Idempotent.
    void cancel() noexcept;

private:
    friend class InterpreterPoolExecutor;
    explicit MapStream(std::unique_ptr<detail::MapStreamState> state);

    std::unique_ptr<detail::MapStreamState> state_;
    bool started_ = false;
};

} // namespace isolates
