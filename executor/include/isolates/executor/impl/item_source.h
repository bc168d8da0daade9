#pragma once
// Not API: an implementation detail, installed only because a public template (map, starmap and
// imap) uses it; it may change in any release.
// ItemSource: the input of map, starmap and imap, pulled a chunk at a time and converted to
// Values, behind one virtual call per chunk so the pool's map code is not a template.

#include <cstddef>
#include <ranges>
#include <utility>
#include <vector>

#include <isolates/interp/value.h>

namespace isolates::detail {

class ItemSource {
public:
    virtual ~ItemSource() = default;
    /// Appends up to `n` more items to `out` (each through Value); false once the input is over
    /// (after appending what was left, possibly nothing). Rethrows what the range or a
    /// conversion throws. Not thread-safe: one puller at a time.
    virtual bool pull(std::vector<Value>& out, std::size_t n) = 0;
    /// How many items the whole input holds when it knows (a sized range), else 0; before any
    /// pull. Only a hint for reserving memory.
    virtual std::size_t size_hint() const { return 0; }
};

/// Reads a view's items one at a time, each exactly when it is pulled (the iterator is advanced
/// only before the next read, so a generator computes nothing ahead). Not movable: it keeps an
/// iterator into its own view. Shared by RangeSource and the chunks of a C++ callable's map.
template <std::ranges::input_range V> class RangeCursor {
public:
    explicit RangeCursor(V view) : view_(std::move(view)), it_(std::ranges::begin(view_)) {}
    RangeCursor(const RangeCursor&) = delete;
    RangeCursor& operator=(const RangeCursor&) = delete;

    /// Appends up to `n` more items to `out` (`out.emplace_back(item)`); false once the input is
    /// over (after appending what was left, possibly nothing).
    template <class Out> bool pull(Out& out, std::size_t n) {
        for (; n > 0; --n) {
            if (read_) {
                ++it_;
                read_ = false;
            }
            if (it_ == std::ranges::end(view_)) return false;
            out.emplace_back(*it_);
            read_ = true;
        }
        return true;
    }
    /// How many items the whole view holds when it is sized, else 0.
    std::size_t size_hint() const {
        if constexpr (std::ranges::sized_range<const V>) return std::ranges::size(view_);
        else return 0;
    }

private:
    V view_;
    std::ranges::iterator_t<V> it_;
    bool read_ = false; // *it_ has been pulled; advance before the next read
};

/// An ItemSource over a view, read through a RangeCursor.
template <std::ranges::input_range V> class RangeSource final : public ItemSource {
public:
    explicit RangeSource(V view) : cursor_(std::move(view)) {}

    bool pull(std::vector<Value>& out, std::size_t n) override { return cursor_.pull(out, n); }
    std::size_t size_hint() const override { return cursor_.size_hint(); }

private:
    RangeCursor<V> cursor_;
};

/// A RangeSource borrowing `range` (which must outlive it).
template <std::ranges::input_range R> auto borrowed_source(R& range) {
    return RangeSource<std::ranges::ref_view<R>>(std::ranges::ref_view<R>(range));
}

} // namespace isolates::detail
