#include "executor/detail/chunk.h"

#include <algorithm>

#include <isolates/process/worker_protocol.h>
#include "executor/detail/pool_impl.h"

namespace isolates::detail {

std::exception_ptr item_failure(const std::exception_ptr& failure, std::size_t index) {
    try {
        std::rethrow_exception(failure);
    } catch (const PythonError& e) {
        return std::make_exception_ptr(ItemError(index, e));
    } catch (const NotShareableError& e) {
        return std::make_exception_ptr(
            NotShareableError(e.type_name(), "item " + std::to_string(index) + " " + e.path(), e.reason()));
    } catch (...) {
        return failure;
    }
}

bool chunk_stop_requested() noexcept { return InterpreterPoolExecutor::stop_requested(); }

namespace {
/// A chunk's task, named after its target and its items in timeout messages.
struct ChunkBody {
    std::shared_ptr<const std::string> target;
    std::vector<Value> items;
    std::size_t first;
    bool unpack;

    Value operator()(Interpreter& in) const {
        auto [results, failure] = in.call_each(*target, items, unpack);
        return chunk_result(std::move(results), failure);
    }
    worker_protocol::Request request() const {
        worker_protocol::Request request =
            worker_protocol::make_request(worker_protocol::Op::call_each, *target, items);
        request.flag = unpack;
        return request;
    }
    Value result(worker_protocol::Reply&& reply) const {
        // None: the call itself failed (the target cannot be resolved); a tuple: the items'
        // results before the failing item, if one failed.
        if (reply.value.is_none() && reply.error) std::rethrow_exception(reply.error);
        return chunk_result(std::move(reply.value), reply.error);
    }
    Value chunk_result(Value results, const std::exception_ptr& failure) const {
        if (failure) throw ChunkFailure(results, item_failure(failure, first + results.size()));
        return results;
    }
    std::string name() const {
        return *target + " (chunk of items " + std::to_string(first) + " to " +
               std::to_string(first + items.size() - 1) + ")";
    }
};
} // namespace

std::pair<std::shared_ptr<SharedState<Value>>, std::unique_ptr<Task>>
make_chunk_task(std::shared_ptr<const std::string> target, std::vector<Value> items,
                std::size_t first, bool unpack) {
    return make_state_task<Value>(ChunkBody{std::move(target), std::move(items), first, unpack});
}

std::shared_ptr<SharedState<Value>> submit_chunk(InterpreterPoolExecutor::Impl& pool,
                                                 std::shared_ptr<const std::string> target,
                                                 std::vector<Value> items, std::size_t first,
                                                 bool unpack) {
    auto [state, task] = make_chunk_task(std::move(target), std::move(items), first, unpack);
    pool.enqueue(std::move(task), {});
    return state;
}

std::exception_ptr chunk_error(const StateBase& chunk) {
    try {
        std::rethrow_exception(chunk.error());
    } catch (const ChunkFailure& failure) {
        return failure.error;
    } catch (...) {
        return std::current_exception();
    }
}

bool pull_chunk(ItemSource& items, std::size_t chunksize, bool unpack, std::size_t first,
                std::vector<Value>& out) {
    out.clear();
    // A huge chunksize ("everything in one task") must not reserve for items that never come.
    out.reserve(std::min<std::size_t>(chunksize, 1 << 16));
    const bool more = items.pull(out, chunksize);
    if (unpack) {
        for (std::size_t k = 0; k < out.size(); ++k) {
            const Kind kind = out[k].kind();
            if (kind != Kind::tuple && kind != Kind::list)
                throw UsageError("starmap: item " + std::to_string(first + k) + " is " +
                                 std::string(kind_name(kind)) +
                                 "; each item must be a tuple (or list) of arguments");
        }
    }
    return more;
}

void check_map_options(const MapOptions& options) {
    if (options.chunksize == 0)
        throw UsageError("map: chunksize must be at least 1 (items per task), got 0");
    if (options.timeout.count() < 0)
        throw UsageError("map: timeout must not be negative (0 means none)");
}

} // namespace isolates::detail
