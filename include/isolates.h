#pragma once
/// isolates: truly parallel Python in C++, one isolated CPython sub-interpreter per thread.
/// This umbrella header brings in the whole public API.

#include <isolates/channels/channel.h>
#include <isolates/channels/shared_buffer.h>
#include <isolates/executor/as_completed.h>
#include <isolates/executor/errors.h>
#include <isolates/executor/future.h>
#include <isolates/executor/interpreter_pool_executor.h>
#include <isolates/executor/thread_executor.h>
#include <isolates/interp/convert.h>
#include <isolates/interp/errors.h>
#include <isolates/interp/interpreter.h>
#include <isolates/interp/runtime.h>
#include <isolates/interp/value.h>
#include <isolates/interp/wire.h>
#include <isolates/process/process_worker.h>
#include <isolates/python/host_module.h>
