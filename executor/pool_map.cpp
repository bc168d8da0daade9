// InterpreterPoolExecutor's map, starmap and imap: cutting the input into chunks and handing them
// to the map join (detail/map_join) or to a stream (detail/map_stream_state).

#include "executor/interpreter_pool_executor.h"

#include <chrono>
#include <utility>

#include "executor/detail/chunk.h"
#include "executor/detail/format_duration.h"
#include "executor/detail/map_join.h"
#include "executor/detail/map_stream_state.h"
#include "executor/detail/pool_impl.h"

namespace isolates {

Future<std::vector<Value>> InterpreterPoolExecutor::map_items(std::string_view target,
                                                              detail::ItemSource& items,
                                                              bool unpack,
                                                              const MapOptions& options) {
    detail::check_map_options(options);
    impl_->lifecycle.check_accepting();
    auto join = detail::MapJoin::make();
    Future<std::vector<Value>> result(join->result());
    if (options.timeout.count() > 0)
        impl_->timer.schedule(std::chrono::steady_clock::now() + options.timeout, join->result(),
                              detail::Timer::Kind::timeout,
                              std::make_exception_ptr(TimeoutError(
                                  "map of " + std::string(target) + " timed out after " +
                                  detail::format_duration(options.timeout))));
    const auto shared_target = std::make_shared<const std::string>(target);
    try {
        std::size_t first = 0;
        // Stops early once the result is decided (an item failed, the timeout passed).
        for (bool more = true; more && !result.ready();) {
            std::vector<Value> chunk;
            more = detail::pull_chunk(items, options.chunksize, unpack, first, chunk);
            if (chunk.empty()) break;
            const std::size_t count = chunk.size();
            join->add(detail::submit_chunk(*impl_, shared_target, std::move(chunk), first, unpack), count);
            first += count;
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
