// InterpreterPoolExecutor::import_module: one import task per worker, joined, and the module
// remembered (detail/pool_imports) for the interpreters workers make later.

#include <isolates/executor/interpreter_pool_executor.h>

#include <utility>

#include <isolates/process/worker_protocol.h>
#include "executor/detail/pool_impl.h"

namespace isolates {

namespace {
/// Worker k's import of `name`; once it succeeded, a replacement of that worker's interpreter
/// (or process) imports it too.
struct ImportBody {
    std::string name;
    std::size_t k;
    detail::PoolImports* imports;

    void operator()(Interpreter& in) const { done([&] { in.import_module(name); }); }
    worker_protocol::Request request() const {
        return worker_protocol::make_request(worker_protocol::Op::import_module, name);
    }
    void result(worker_protocol::Reply&& reply) const {
        done([&] { worker_protocol::value_or_throw(std::move(reply)); });
    }
    template <class Import> void done(Import&& import) const {
        try {
            import();
        } catch (const PythonError& e) {
            throw WorkerError(k, e);
        }
        imports->add(name);
    }
};
} // namespace

Future<void> InterpreterPoolExecutor::import_module(std::string name) {
    if (name.empty()) throw UsageError("import_module: the module name is empty");
    detail::PoolImports& imports = impl_->imports;
    std::vector<Future<void>> each;
    each.reserve(size());
    for (std::size_t k = 0; k < size(); ++k) {
        auto [state, task] = detail::make_state_task<void>(ImportBody{name, k, &imports});
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
