// isolates-worker-3.X: the process worker InterpreterPoolExecutor starts for
// WorkerKind::processes (see executor/process_worker.h).
#include "executor/process_worker.h"

int main(int argc, char** argv) { return isolates::process_worker_main(argc, argv); }
