// A program outside the project, built against an installed isolates (CMake, pkg-config or
// meson): it starts the embedded CPython from the installed library, runs one call on a pool
// worker and one in its own sub-interpreter, and prints what they returned.
#include <isolates.h>
#include <isolates/interp/value.h> // the <isolates/...> form of a single header

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

    std::printf("6 * 7 = %lld on CPython %s\n", product, version.c_str());
    return product == 42 ? 0 : 1;
}
