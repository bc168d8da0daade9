#include "cluster/detail/pool_config.h"

#include "cluster/detail/frame_header.h"

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <isolates/interp/errors.h>
#include <isolates/interp/wire.h>

namespace isolates::cluster::detail {

namespace {
Value strings(const std::vector<std::string>& items) {
    std::vector<Value> values;
    for (const auto& item : items) values.push_back(Value::str(item));
    return Value::list(std::move(values));
}
std::size_t count(const Value& value) { return static_cast<std::size_t>(value.as<std::int64_t>()); }
constexpr std::size_t fields = 11;
} // namespace

Bytes encode_pool_config(const InterpreterPoolExecutor::Options& options) {
    const Value config = Value::tuple({
        Value::integer(static_cast<std::int64_t>(options.workers)),
        strings(options.sys_path),
        strings(options.init_modules),
        Value::str(options.init_source),
        Value::integer(static_cast<std::int64_t>(options.worker_kind)),
        Value::integer(static_cast<std::int64_t>(options.process_workers)),
        strings(options.process_modules),
        Value::str(options.worker_executable),
        Value::boolean(options.replace_unhealthy),
        Value::boolean(options.own_openssl_context),
        Value::integer(options.kill_after.count()),
    });
    Bytes frame;
    put_frame(frame, wire::encode(config));
    return frame;
}

InterpreterPoolExecutor::Options decode_pool_config(const Bytes& frame) {
    const Value config = wire::decode(std::as_bytes(std::span(frame)));
    if (config.kind() != Kind::tuple || config.size() != fields)
        throw ConversionError("MpiPoolExecutor: a malformed pool configuration");
    InterpreterPoolExecutor::Options options;
    options.workers = count(config[0]);
    options.sys_path = config[1].as<std::vector<std::string>>();
    options.init_modules = config[2].as<std::vector<std::string>>();
    options.init_source = config[3].as<std::string>();
    options.worker_kind = static_cast<InterpreterPoolExecutor::WorkerKind>(config[4].as<std::int64_t>());
    options.process_workers = count(config[5]);
    options.process_modules = config[6].as<std::vector<std::string>>();
    options.worker_executable = config[7].as<std::string>();
    options.replace_unhealthy = config[8].as<bool>();
    options.own_openssl_context = config[9].as<bool>();
    options.kill_after = std::chrono::milliseconds(config[10].as<std::int64_t>());
    return options;
}

} // namespace isolates::cluster::detail
