#pragma once
// The serving ranks' pool options as the client sends them (tag_config): the parts of
// InterpreterPoolExecutor::Options that shape a serving rank's pool, as one wire-format Value.

#include <isolates/executor/interpreter_pool_executor.h>
#include "cluster/detail/comm.h"

namespace isolates::cluster::detail {

/// The frame of `options`' serving-side parts.
Bytes encode_pool_config(const InterpreterPoolExecutor::Options& options);
/// The options a serving rank builds its pool with. Throws ConversionError for a bad frame.
InterpreterPoolExecutor::Options decode_pool_config(const Bytes& frame);

} // namespace isolates::cluster::detail
