#pragma once
/// The body of a process worker's executable. isolates installs one (isolates-worker-3.X, in
/// <libdir>/isolates/), which InterpreterPoolExecutor starts by default; a host whose tasks need
/// its own HostModules in process workers builds its own and names it in
/// InterpreterPoolExecutor::Options::worker_executable:
///
///     int main(int argc, char** argv) {
///         isolates::HostModule scoring("scoring");   // the same registrations as the host's
///         ...
///         return isolates::process_worker_main(argc, argv);
///     }

namespace isolates {

/// Serves one pool as its process worker: makes the Runtime the host's pool asks for, runs its
/// requests in this process's main interpreter, and returns when the pool lets the worker go
/// (0), or at once when the host process dies. Started by the pool as
/// `<executable> --isolates-worker <link>`; other arguments print a usage line and return 2.
int process_worker_main(int argc, char** argv);

} // namespace isolates
