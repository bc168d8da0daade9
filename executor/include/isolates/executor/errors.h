#pragma once
/// Exceptions of the executor. Like every isolates exception they hold only strings.

#include <cstddef>
#include <string>

#include <isolates/interp/errors.h>
#include <isolates/process/errors.h> // WorkerProcessError

namespace isolates {

/// The task was cancelled (Future::cancel(), or shutdown with cancel_pending) before it produced
/// a result.
class CancelledError : public Error {
public:
    using Error::Error;
};

/// The task ran longer than its timeout; the worker interrupted it and kept serving.
class TimeoutError : public Error {
public:
    using Error::Error;
};

/// The pool cannot run tasks: a worker's interpreter could not be created or initialised.
/// what() holds the reason (the initializer's Python traceback, for example).
class BrokenPoolError : public Error {
public:
    using Error::Error;
};

/// An item of map(), starmap() or imap() raised: its Python exception as raised (type_name(),
/// message(), traceback()) and its position in the input (index()). Catch it as a PythonError
/// like any task's error; what() is "item 17 failed: " followed by the traceback.
class ItemError : public PythonError {
public:
    ItemError(std::size_t index, const PythonError& error)
        : PythonError(error.type_name(), error.message(), error.traceback()), index_(index),
          what_("item " + std::to_string(index) + " failed: " + PythonError::what()) {}

    /// The item's position in the input (0 for the first item).
    std::size_t index() const noexcept { return index_; }
    const char* what() const noexcept override { return what_.c_str(); }

private:
    std::size_t index_;
    std::string what_;
};

/// A task meant for one particular worker raised (InterpreterPoolExecutor::import_module): its
/// Python exception as raised and the worker's index (worker()); what() is "worker 1 failed: "
/// followed by the traceback.
class WorkerError : public PythonError {
public:
    WorkerError(std::size_t worker, const PythonError& error)
        : PythonError(error.type_name(), error.message(), error.traceback()), worker_(worker),
          what_("worker " + std::to_string(worker) + " failed: " + PythonError::what()) {}

    /// The worker's index in the pool (InterpreterPoolExecutor::current_worker() there).
    std::size_t worker() const noexcept { return worker_; }
    const char* what() const noexcept override { return what_.c_str(); }

private:
    std::size_t worker_;
    std::string what_;
};

} // namespace isolates
