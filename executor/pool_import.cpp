// InterpreterPoolExecutor::import_module: one import task per worker, joined, and the module
// remembered (detail/pool_imports) for the interpreters workers make later.

#include "executor/interpreter_pool_executor.h"

#include <utility>

#include "executor/detail/pool_impl.h"
#include "executor/detail/worker_process.h"

namespace isolates {

Future<void> InterpreterPoolExecutor::import_module(std::string name) {
    if (name.empty()) throw UsageError("import_module: the module name is empty");
    detail::PoolImports& imports = impl_->imports;
    std::vector<Future<void>> each;
    each.reserve(size());
    for (std::size_t k = 0; k < size(); ++k) {
        auto [state, task] = detail::make_state_task<void>(detail::OnEitherWorker{
            [name, k, &imports](auto& in) {
                try {
                    in.import_module(name);
                } catch (const PythonError& e) {
                    throw WorkerError(k, e);
                }
                // From now on a replacement of this worker's interpreter imports it too.
                imports.add(name);
            }});
        impl_->enqueue(std::move(task), on_worker(k));
        each.push_back(Future<void>(std::move(state)));
    }
    // Inline: the module is forgotten before the returned future resolves.
    return when_all(std::move(each)).then([name = std::move(name), &imports](Future<void> all) {
        try {
            all.get();
        } catch (...) {
            imports.remove(name);
            throw;
        }
    });
}

} // namespace isolates
