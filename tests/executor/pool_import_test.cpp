// InterpreterPoolExecutor::import_module (every worker now, and every interpreter made later) and
// submit<void> (a call whose result is dropped in the worker, so an unshareable one is no error).

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <isolates/executor/interpreter_pool_executor.h>
#include <isolates/interp/interpreter.h>
#include "tests/support/doctest.h"
#include "tests/support/pool_test_helpers.h"

using namespace isolates;

namespace {
constexpr const char* pool_import_helpers = R"(
import sys
def has(name):
    return name in sys.modules
)";

/// A directory holding `picky_module.py`, which refuses to be imported in an interpreter whose
/// __main__ says `refuse_import = True`; removed at the end of the test.
struct PickyModuleDir {
    PickyModuleDir() {
        path = std::filesystem::temp_directory_path() / ("isolates_pool_import_" + std::to_string(getpid()));
        std::filesystem::create_directories(path);
        std::ofstream(path / "picky_module.py") << "import __main__\n"
                                                   "if getattr(__main__, 'refuse_import', False):\n"
                                                   "    raise ImportError('refused on this worker')\n";
    }
    ~PickyModuleDir() { std::filesystem::remove_all(path); }
    std::filesystem::path path;
};

InterpreterPoolExecutor::Options options_with(const PickyModuleDir& dir, std::size_t workers) {
    auto options = testing::pool_options(workers, pool_import_helpers);
    options.sys_path = {dir.path.string()};
    return options;
}

bool worker_has(InterpreterPoolExecutor& pool, std::size_t worker, const char* module) {
    return pool.submit_to(worker, "__main__:has", module).get().as_bool();
}

/// Makes worker `k` replace its interpreter (a task that breaks it) and waits until it has.
void replace_interpreter(InterpreterPoolExecutor& pool, std::size_t worker) {
    pool.submit_source_to(worker, "import sys\nsys.modules.clear()").get();
    pool.submit_source_to(worker, "pass").get();
}
} // namespace

TEST_SUITE("Executor") {

TEST_CASE("Executor.import_module_reaches_every_worker_and_later_interpreters" * doctest::timeout(60)) {
    PickyModuleDir dir;
    InterpreterPoolExecutor pool(options_with(dir, 3));
    for (std::size_t k = 0; k < 3; ++k) CHECK_FALSE(worker_has(pool, k, "picky_module"));
    pool.import_module("picky_module").get();
    for (std::size_t k = 0; k < 3; ++k) CHECK(worker_has(pool, k, "picky_module"));
    // A replacement interpreter imports it too, with the pool's own init_modules.
    replace_interpreter(pool, 1);
    CHECK(pool.stats().replaced_interpreters == 1);
    CHECK(worker_has(pool, 1, "picky_module"));
    CHECK_FALSE(pool.broken());
    CHECK_THROWS_AS(pool.import_module(""), UsageError);
    pool.shutdown();
    CHECK_THROWS_AS(pool.import_module("json"), UsageError);
}

TEST_CASE("Executor.import_module_failure_names_the_worker_and_is_not_kept" * doctest::timeout(60)) {
    PickyModuleDir dir;
    InterpreterPoolExecutor pool(options_with(dir, 2));
    pool.submit_source_to(1, "refuse_import = True").get();
    try {
        pool.import_module("picky_module").get();
        FAIL("expected WorkerError");
    } catch (const WorkerError& e) {
        CHECK(e.worker() == 1);
        CHECK(e.type_name() == "ImportError");
        CHECK(e.message() == "refused on this worker");
        CHECK(std::string(e.what()).starts_with("worker 1 failed: Traceback"));
    }
    // Worker 0 imported it, but the pool forgot it: worker 0's next interpreter does not.
    CHECK(worker_has(pool, 0, "picky_module"));
    replace_interpreter(pool, 0);
    CHECK_FALSE(worker_has(pool, 0, "picky_module"));
    // A module that exists nowhere: a PythonError per worker, the pool still whole.
    CHECK_THROWS_WITH_AS(pool.import_module("no_such_module_xyz").get(),
                         doctest::Contains("ModuleNotFoundError"), WorkerError);
    replace_interpreter(pool, 1);
    CHECK_FALSE(pool.broken());
}

TEST_CASE("Executor.submit_void_drops_results_that_cannot_leave" * doctest::timeout(30)) {
    InterpreterPoolExecutor pool(testing::pool_options(1, pool_import_helpers));
    // The issue's case: the import works, and its result (a module) is not shareable.
    CHECK_THROWS_WITH_AS(pool.submit("importlib:import_module", "colorsys").get(),
                         doctest::Contains("module is not shareable"), NotShareableError);
    Future<void> imported = pool.submit<void>("importlib:import_module", "json");
    imported.get();
    CHECK(pool.submit("__main__:has", "json").get().as_bool());
    pool.submit_to<void>(0, "builtins:compile", "1", "<s>", "eval").get(); // a code object
    InterpreterPoolExecutor::TaskOptions options;
    options.worker = 0;
    pool.submit_with<void>(options, "builtins:object").get();
    pool.submit_call_void({}, "builtins:iter", {Value::list({1})}).get();
    // The call's own failure still fails the future.
    CHECK_THROWS_WITH_AS(pool.submit<void>("importlib:import_module", "no_such_module_xyz").get(),
                         doctest::Contains("ModuleNotFoundError"), PythonError);
    // And on an Interpreter directly.
    Interpreter in;
    in.call_void("importlib:import_module", std::vector<Value>{Value("json")});
    CHECK(in.eval("'json' in __import__('sys').modules").as_bool());
}

} // TEST_SUITE
