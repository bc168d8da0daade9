// InterpreterPoolExecutor's map, starmap and imap (of a Python target or a C++ callable): cutting
// the input into chunks and handing them to the map join (detail/map_join) or to a stream
// (detail/map_stream_state).

#include <isolates/executor/interpreter_pool_executor.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include <isolates/executor/impl/format_duration.h>
#include "executor/detail/chunk.h"
#include "executor/detail/map_join.h"
#include "executor/detail/map_stream_state.h"
#include "executor/detail/pool_impl.h"

namespace isolates {

namespace {
/// A Python target's chunks: the items as Values, called there by Interpreter::call_each.
class TargetChunks final : public detail::ChunkSource {
public:
    TargetChunks(std::string_view target, detail::ItemSource& items, bool unpack)
        : target_(std::make_shared<const std::string>(target)), items_(items), unpack_(unpack) {}

    Chunk next(std::size_t first, std::size_t chunksize) override {
        std::vector<Value> items;
        const bool more = detail::pull_chunk(items_, chunksize, unpack_, first, items);
        if (items.empty()) return {};
        const std::size_t count = items.size();
        auto [state, task] = detail::make_chunk_task(target_, std::move(items), first, unpack_);
        return {std::move(state), std::move(task), count, more};
    }
    std::size_t size_hint() const override { return items_.size_hint(); }
    std::string target_name() const override { return *target_; }

private:
    const std::shared_ptr<const std::string> target_;
    detail::ItemSource& items_;
    const bool unpack_;
};
} // namespace

Future<std::vector<Value>> InterpreterPoolExecutor::map_items(std::string_view target,
                                                              detail::ItemSource& items,
                                                              bool unpack,
                                                              const MapOptions& options) {
    TargetChunks chunks(target, items, unpack);
    return map_chunks(chunks, options);
}

Future<std::vector<Value>> InterpreterPoolExecutor::map_chunks(detail::ChunkSource& chunks,
                                                               const MapOptions& options) {
    detail::check_map_options(options);
    impl_->lifecycle.check_accepting();
    auto join = detail::MapJoin::make(chunks.size_hint());
    Future<std::vector<Value>> result(join->result());
    if (options.timeout.count() > 0)
        impl_->timer.schedule(std::chrono::steady_clock::now() + options.timeout, join->result(),
                              detail::Timer::Kind::timeout,
                              std::make_exception_ptr(TimeoutError(
                                  "map of " + chunks.target_name() + " timed out after " +
                                  detail::format_duration(options.timeout))));
    try {
        std::size_t first = 0;
        // Stops early once the result is decided (an item failed, the timeout passed).
        for (bool more = true; more && !result.ready();) {
            detail::ChunkSource::Chunk chunk = chunks.next(first, options.chunksize);
            if (!chunk.task) break;
            more = chunk.more;
            // Joined before it is queued: a failure of an earlier chunk then cancels it before
            // any worker can take it.
            join->add(std::move(chunk.state), chunk.items);
            impl_->enqueue(std::move(chunk.task), {});
            first += chunk.items;
        }
    } catch (...) {
        join->abandon();
        throw;
    }
    join->seal();
    return result;
}

MapStream InterpreterPoolExecutor::imap_items(std::string_view target,
                                              std::unique_ptr<detail::ItemSource> items,
                                              const MapOptions& options) {
    detail::check_map_options(options);
    impl_->lifecycle.check_accepting();
    return MapStream(std::make_unique<detail::MapStreamState>(*impl_, std::string(target),
                                                              std::move(items), options, false));
}

} // namespace isolates
