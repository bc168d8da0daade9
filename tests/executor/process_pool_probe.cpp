// A host that dies with live process workers: starts a pool of two, each holding a shared-memory
// SharedBuffer it made, makes one itself, prints the workers' pids and every segment name, then
// SIGKILLs itself. The test (ProcessWorkers.host_death_...) checks that nothing outlives it.

#include <signal.h>

#include <cstdio>

#include <isolates/channels/shared_buffer.h>
#include <isolates/executor/interpreter_pool_executor.h>
#include <isolates/interp/runtime.h>

int main() {
    isolates::Runtime runtime;
    isolates::InterpreterPoolExecutor::Options options;
    options.workers = 2;
    options.worker_kind = isolates::InterpreterPoolExecutor::WorkerKind::processes;
    options.init_source = "import isolates\nkept = isolates.SharedBuffer(b'x' * 100, shared_memory=True)\n"
                          "def kept_name():\n    return kept.name\n";
    isolates::InterpreterPoolExecutor pool(options);
    const auto mine = isolates::SharedBuffer::copy_of("host", isolates::SharedBuffer::Storage::shared_memory);
    std::printf("segment %s\n", mine.name().c_str());
    for (std::size_t k = 0; k < pool.size(); ++k) {
        std::printf("worker %lld\n", static_cast<long long>(pool.submit_to(k, "os:getpid").get().as_int64()));
        std::printf("segment %s\n", std::string(pool.submit_to(k, "__main__:kept_name").get().as_str()).c_str());
    }
    std::fflush(stdout);
    ::raise(SIGKILL);
    return 1; // not reached
}
