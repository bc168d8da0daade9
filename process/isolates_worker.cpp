// isolates-worker-3.X: the process worker InterpreterPoolExecutor starts for
// WorkerKind::processes (see isolates/process/process_worker.h).
#include <isolates/process/process_worker.h>

int main(int argc, char** argv) { return isolates::process_worker_main(argc, argv); }
