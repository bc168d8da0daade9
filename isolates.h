#pragma once
/// isolates: truly parallel Python in C++, one isolated CPython sub-interpreter per thread.
/// This umbrella header brings in the whole public API.

#include "channels/channel.h"
#include "channels/shared_buffer.h"
#include "interp/convert.h"
#include "interp/errors.h"
#include "interp/interpreter.h"
#include "interp/runtime.h"
#include "interp/value.h"
#include "interp/wire.h"
#include "executor/as_completed.h"
#include "executor/errors.h"
#include "executor/future.h"
#include "executor/interpreter_pool_executor.h"
#include "executor/process_worker.h"
#include "executor/thread_executor.h"
#include "python/host_module.h"
