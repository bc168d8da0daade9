#pragma once
/// Process workers: a RemoteWorker whose far side is a child process running the worker
/// executable, which embeds the same libpython and runs requests in its main interpreter (where
/// extensions that refuse sub-interpreters load). InterpreterPoolExecutor starts them for
/// WorkerKind::processes; this header is both sides of that: start_process_worker() for the host,
/// process_worker_main() for the executable.
///
/// isolates installs one executable (isolates-worker-3.X, in <libdir>/isolates/), which the pool
/// starts by default; a host whose tasks need its own HostModules in process workers builds its
/// own and names it in InterpreterPoolExecutor::Options::worker_executable:
///
///     int main(int argc, char** argv) {
///         isolates::HostModule scoring("scoring");   // the same registrations as the host's
///         ...
///         return isolates::process_worker_main(argc, argv);
///     }

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <isolates/process/remote_worker.h>
#include <isolates/process/worker_protocol.h>

namespace isolates {

/// How start_process_worker() starts one worker process.
struct ProcessWorkerOptions {
    /// The worker executable; empty: default_worker_executable().
    std::string executable;
    /// What the worker's CPython and interpreter start with (sys.path, venv, imports).
    worker_protocol::InitArgs init;
    /// Python source run in the worker's __main__ after the imports.
    std::string init_source;
    /// Bytes of each of the link's two rings; a larger frame goes through in pieces.
    std::size_t ring_bytes = std::size_t(1) << 20;
    /// For starting CPython, the imports and init_source.
    std::chrono::milliseconds start_timeout{120'000};
};

/// Requests a process worker may have in flight beyond the one running, at most
/// (InterpreterPoolExecutor::Options::process_prefetch is checked against it).
inline constexpr std::size_t max_process_prefetch = 62;

/// Starts a worker process and waits until it has run its imports and init_source. Throws
/// UsageError when the executable cannot be started, the init's PythonError when that failed,
/// WorkerProcessError when the process died or did not start in time. Blocking; any thread.
std::unique_ptr<RemoteWorker> start_process_worker(const ProcessWorkerOptions& options);

/// The isolates-worker-3.X built and installed with this libisolates: <libdir>/isolates/ beside
/// the loaded library (installed), else the library's own directory (the build tree). Throws
/// UsageError naming both places when neither holds it.
std::string default_worker_executable();

/// Serves one pool as its process worker: makes the Runtime the host's pool asks for, runs its
/// requests in this process's main interpreter, and returns when the pool lets the worker go
/// (0), or at once when the host process dies. Started by the pool as
/// `<executable> --isolates-worker <link>`; other arguments print a usage line and return 2.
int process_worker_main(int argc, char** argv);

} // namespace isolates
