#pragma once
// Not API: an implementation detail, installed only because a public template
// (InterpreterPoolExecutor::map) uses it; it may change in any release.
// CallableChunks: the input of InterpreterPoolExecutor::map(f, items), a C++ callable's map. Each
// chunk copies up to chunksize items and is one task that calls `f(interpreter, item)` on each in
// turn on its worker; its results come back as one tuple Value, like a Python target's chunk, so
// the map joins both the same way.

#include <algorithm>
#include <cstddef>
#include <exception>
#include <memory>
#include <ranges>
#include <type_traits>
#include <utility>
#include <vector>

#include <isolates/executor/errors.h>
#include <isolates/executor/impl/chunk_source.h>
#include <isolates/executor/impl/item_source.h>
#include <isolates/interp/interpreter.h>
#include <isolates/interp/value.h>

namespace isolates::detail {

template <class F, std::ranges::input_range V> class CallableChunks final : public ChunkSource {
public:
    using Item = std::ranges::range_value_t<V>;
    using Result = std::invoke_result_t<const F&, Interpreter&, const Item&>;

    CallableChunks(F f, V items) : f_(std::make_shared<const F>(std::move(f))), items_(std::move(items)) {}

    Chunk next(std::size_t first, std::size_t chunksize) override {
        std::vector<Item> items;
        // A huge chunksize ("everything in one task") must not reserve for items that never come.
        items.reserve(std::min<std::size_t>(chunksize, 1 << 16));
        const bool more = items_.pull(items, chunksize);
        if (items.empty()) return {};
        const std::size_t count = items.size();
        auto [state, task] = make_state_task<Value>(
            [f = f_, items = std::move(items), first](Interpreter& in) -> Value {
                return run(*f, in, items, first);
            });
        return {std::move(state), std::move(task), count, more};
    }
    std::size_t size_hint() const override { return items_.size_hint(); }
    std::string target_name() const override { return "a C++ callable"; }

private:
    /// On the worker: f on each item, stopping between items once the chunk is cancelled or
    /// timed out (its state is resolved by then, so what that throws is not seen).
    static Value run(const F& f, Interpreter& in, const std::vector<Item>& items, std::size_t first) {
        std::vector<Value> results;
        results.reserve(items.size());
        for (const Item& item : items) {
            if (chunk_stop_requested()) throw CancelledError("map: the chunk was stopped");
            try {
                if constexpr (std::is_void_v<Result>) {
                    f(in, item);
                    results.emplace_back();
                } else {
                    results.emplace_back(f(in, item));
                }
            } catch (...) {
                const std::size_t index = first + results.size();
                throw ChunkFailure(Value::tuple(std::move(results)),
                                   item_failure(std::current_exception(), index));
            }
        }
        return Value::tuple(std::move(results));
    }

    std::shared_ptr<const F> f_; // shared by the chunks, called on several workers at once
    RangeCursor<V> items_;
};

} // namespace isolates::detail
