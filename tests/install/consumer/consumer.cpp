// A program outside the project, built against an installed isolates (CMake, pkg-config or
// meson): it starts the embedded CPython from the installed library, runs one call on a pool
// worker, one in its own sub-interpreter and one in a process worker (the installed
// isolates-worker, found beside the library), and prints what they returned.
#include <isolates.h>
#include <isolates/interp/value.h> // the <isolates/...> form of a single header

#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

int main() {
    isolates::Runtime runtime;
    isolates::InterpreterPoolExecutor::Options options;
    options.workers = 2;
    isolates::InterpreterPoolExecutor pool(options);
    long long product = pool.submit("operator:mul", 6, 7).get().as_int64();

    std::string version;
    std::thread worker([&version] {
        isolates::Interpreter py;
        version = std::string(py.call("platform:python_version").as_str());
    });
    worker.join();

    isolates::InterpreterPoolExecutor::Options in_processes;
    in_processes.workers = 1;
    in_processes.worker_kind = isolates::InterpreterPoolExecutor::WorkerKind::processes;
    isolates::InterpreterPoolExecutor processes(in_processes);
    const bool elsewhere = processes.submit("os:getpid").get().as_int64() != ::getpid();

    std::printf("6 * 7 = %lld on CPython %s%s\n", product, version.c_str(),
                elsewhere ? ", and in a worker process" : "");
    return product == 42 ? 0 : 1;
}
