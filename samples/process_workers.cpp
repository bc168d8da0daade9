// process_workers: one pool runs a task of an extension that refuses sub-interpreters (as numpy
// >= 2.4 does) in a worker process, beside ordinary tasks on sub-interpreter workers.
//
// The extension is isolates_test_refusing, the project's single-phase-init test module (built
// with the tests): in a sub-interpreter its import fails with "does not support loading in
// subinterpreters"; in a mixed pool, whose process_modules lists it, its tasks go to the worker
// process, and every other task runs in this process's sub-interpreters. Prints where each ran.
//
// usage: process_workers

#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include <isolates.h>

#ifndef ISOLATES_TEST_EXTENSION_DIR
#error "samples/meson.build passes the test extension's build directory"
#endif

int main() {
    using isolates::InterpreterPoolExecutor;
    isolates::Runtime runtime;

    InterpreterPoolExecutor::Options options;
    options.worker_kind = InterpreterPoolExecutor::WorkerKind::mixed;
    options.workers = 2;                                    // sub-interpreters: workers 0 and 1
    options.process_workers = 1;                            // a worker process: worker 2
    options.process_modules = {"isolates_test_refusing"};  // its tasks go to the process
    options.sys_path = {ISOLATES_TEST_EXTENSION_DIR};
    // Every worker, of either kind, runs this first.
    options.init_source = "import hashlib, os\n"
                          "def digest(text):\n"
                          "    return os.getpid(), hashlib.sha256(text.encode()).hexdigest()[:16]\n";
    InterpreterPoolExecutor pool(options);

    std::printf("host process %d\n\n", static_cast<int>(::getpid()));
    std::vector<isolates::Future<isolates::Value>> bumps, digests;
    for (int k = 0; k < 3; ++k) {
        bumps.push_back(pool.submit("isolates_test_refusing:bump"));        // to the process
        digests.push_back(pool.submit("__main__:digest", "row " + std::to_string(k))); // to a sub-interpreter
    }
    const auto extension_pid = pool.submit("isolates_test_refusing:pid").get().as_int64();
    for (auto& bump : bumps)
        std::printf("isolates_test_refusing.bump() -> %lld   in worker process %lld\n",
                    static_cast<long long>(bump.get().as_int64()), static_cast<long long>(extension_pid));
    for (auto& digest : digests) {
        const isolates::Value result = digest.get();
        std::printf("digest(row) -> %s   in process %lld (a sub-interpreter of the host)\n",
                    std::string(result[1].as_str()).c_str(), static_cast<long long>(result[0].as_int64()));
    }

    // The same import in a plain sub-interpreter pool is refused:
    InterpreterPoolExecutor::Options subs;
    subs.workers = 1;
    subs.sys_path = options.sys_path;
    InterpreterPoolExecutor sub_pool(subs);
    try {
        sub_pool.submit("isolates_test_refusing:bump").get();
    } catch (const isolates::PythonError& e) {
        std::printf("\nin a sub-interpreter: %s: %s\n", e.type_name().c_str(), e.message().c_str());
    }
    return 0;
}
