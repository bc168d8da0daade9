#pragma once
/// as_completed(futures): the futures again, in the order they resolve (with a value or an
/// exception), as a C++ input range: `for (const Future<Value>& f : as_completed(futures))`. The ones
/// resolved already come first; the iteration waits (no polling) for each next one to resolve.

#include <cstddef>
#include <iterator>
#include <memory>
#include <utility>
#include <vector>

#include <isolates/executor/errors.h>
#include <isolates/executor/future.h>
#include <isolates/executor/impl/completion_queue.h>
#include <isolates/executor/impl/fan_in.h>

namespace isolates {

template <class T> class AsCompleted {
public:
    class iterator {
    public:
        using value_type = Future<T>;
        using difference_type = std::ptrdiff_t;
        using iterator_concept = std::input_iterator_tag;
        using iterator_category = std::input_iterator_tag;

        iterator() = default;
        /// The future that resolved, resolved (get() does not block; it rethrows if it failed).
        const Future<T>& operator*() const { return owner_->futures_[owner_->current_]; }
        const Future<T>* operator->() const { return &**this; }
        /// Its position in the input.
        std::size_t index() const { return owner_->current_; }
        /// Blocks until the next future resolves (returns at once at the last).
        iterator& operator++() {
            owner_->advance();
            return *this;
        }
        void operator++(int) { ++*this; }
        /// At the end once every future has been yielded.
        friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept {
            return it.at_end();
        }

    private:
        bool at_end() const noexcept { return owner_->yielded_ > owner_->futures_.size(); }
        friend class AsCompleted;
        explicit iterator(AsCompleted* owner) : owner_(owner) {}
        AsCompleted* owner_ = nullptr;
    };

    /// Any thread; does not block. Watches every future (UsageError for an invalid one).
    explicit AsCompleted(std::vector<Future<T>> futures)
        : futures_(std::move(futures)),
          resolved_(std::make_shared<detail::CompletionQueue>(futures_.size())) {
        for (std::size_t k = 0; k < futures_.size(); ++k)
            if (!futures_[k].valid())
                throw UsageError("as_completed: future " + std::to_string(k) + " is not valid");
        fan_in_ = detail::FanIn::watch(detail::FutureAccess::states(futures_),
                                       [resolved = resolved_](detail::FanIn&, std::size_t index) {
                                           resolved->push(index);
                                       });
    }
    AsCompleted(AsCompleted&&) noexcept = default;
    AsCompleted& operator=(AsCompleted&&) = delete;
    /// Takes its callbacks back from the futures not yet yielded (they go on running).
    ~AsCompleted() {
        if (fan_in_) fan_in_->withdraw();
    }

    /// The first call blocks until the first future resolves; later calls return an iterator at
    /// the current one. Input range: iterate once, on one thread.
    iterator begin() {
        if (yielded_ == 0) advance();
        return iterator(this);
    }
    std::default_sentinel_t end() const noexcept { return {}; }
    /// How many futures it yields in all.
    std::size_t size() const noexcept { return futures_.size(); }

private:
    friend class iterator;
    void advance() {
        if (yielded_ < futures_.size()) current_ = *resolved_->pop();
        ++yielded_; // past the last: at the end
    }

    std::vector<Future<T>> futures_;
    std::shared_ptr<detail::CompletionQueue> resolved_;
    std::shared_ptr<detail::FanIn> fan_in_;
    std::size_t current_ = 0;
    std::size_t yielded_ = 0; // advances made; the current future is the yielded_-th
};

/// The futures in the order they resolve: see AsCompleted. The futures go on running if the
/// range is dropped early.
template <class T> AsCompleted<T> as_completed(std::vector<Future<T>> futures) {
    return AsCompleted<T>(std::move(futures));
}

} // namespace isolates
