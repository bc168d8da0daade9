#pragma once
/// Exceptions of the executor. Like every isolates exception they hold only strings.

#include "interp/errors.h"

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

} // namespace isolates
