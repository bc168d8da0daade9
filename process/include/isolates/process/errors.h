#pragma once
/// Exceptions of process workers. Like every isolates exception they hold only strings.

#include <isolates/interp/errors.h>

namespace isolates {

/// A process worker ended before it replied (a crash, os._exit, the OOM killer, or the pool
/// killing it because an interrupt could not stop a task past its timeout or cancel): what()
/// names the process and how it ended ("worker process 4242 was killed by signal 11 (SIGSEGV)
/// before it replied"). The pool replaces the process; other tasks are not affected.
class WorkerProcessError : public Error {
public:
    using Error::Error;
};

} // namespace isolates
