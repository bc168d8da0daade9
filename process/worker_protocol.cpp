#include <isolates/process/worker_protocol.h>

#include <typeinfo>

#include <isolates/interp/errors.h>
#include <isolates/interp/interpreter.h>
#include <isolates/interp/wire.h>

namespace isolates::worker_protocol {

namespace {

// How an error travels: its kind, then its strings.
enum class ErrorKind : std::int64_t { python = 0, not_shareable = 1, conversion = 2, usage = 3, other = 4 };

Value strings(const std::vector<std::string>& texts) {
    std::vector<Value> items;
    items.reserve(texts.size());
    for (const auto& text : texts) items.push_back(Value::str(text));
    return Value::tuple(std::move(items));
}

std::vector<std::string> strings_of(const Value& value) {
    std::vector<std::string> texts;
    for (const Value& item : value.items()) texts.emplace_back(item.as_str());
    return texts;
}

Value error_value(const std::exception_ptr& error) {
    const auto made = [](ErrorKind kind, std::vector<std::string> parts) {
        return Value::tuple({Value::integer(static_cast<std::int64_t>(kind)), strings(parts)});
    };
    try {
        std::rethrow_exception(error);
    } catch (const PythonError& e) {
        return made(ErrorKind::python, {e.type_name(), e.message(), e.traceback()});
    } catch (const NotShareableError& e) {
        return made(ErrorKind::not_shareable, {e.type_name(), e.path(), e.reason()});
    } catch (const ConversionError& e) {
        return made(ErrorKind::conversion, {e.what()});
    } catch (const UsageError& e) {
        return made(ErrorKind::usage, {e.what()});
    } catch (const Error& e) {
        // What error_of() rebuilds an `other` error as: its text as it came, so a reply relayed
        // again (an MPI rank passing on a process worker's) does not gain a type name each time.
        return made(ErrorKind::other, {e.what()});
    } catch (const std::exception& e) {
        return made(ErrorKind::other, {std::string(typeid(e).name()) + ": " + e.what()});
    } catch (...) {
        return made(ErrorKind::other, {"an exception of a type not derived from std::exception"});
    }
}

std::exception_ptr error_of(const Value& value) {
    const auto kind = static_cast<ErrorKind>(value[0].as_int64());
    const std::vector<std::string> parts = strings_of(value[1]);
    const auto part = [&](std::size_t k) -> const std::string& {
        if (k >= parts.size()) throw ConversionError("worker protocol: an error with too few parts");
        return parts[k];
    };
    switch (kind) {
    case ErrorKind::python:
        return std::make_exception_ptr(PythonError(part(0), part(1), part(2)));
    case ErrorKind::not_shareable:
        return std::make_exception_ptr(NotShareableError(part(0), part(1), part(2)));
    case ErrorKind::conversion: return std::make_exception_ptr(ConversionError(part(0)));
    case ErrorKind::usage: return std::make_exception_ptr(UsageError(part(0)));
    case ErrorKind::other: return std::make_exception_ptr(Error(part(0)));
    }
    throw ConversionError("worker protocol: unknown error kind " + std::to_string(value[0].as_int64()));
}

void encode_into(const Value& value, std::vector<std::byte>& frame) {
    // wire::encode makes its own vector; swapping keeps the call sites' buffers in use.
    std::vector<std::byte> bytes = wire::encode(value);
    frame.swap(bytes);
}

const Value& field(const Value& tuple, std::size_t k, std::size_t expected) {
    if (tuple.kind() != Kind::tuple || tuple.size() != expected)
        throw ConversionError("worker protocol: a frame is not a tuple of " + std::to_string(expected));
    return tuple[k];
}

} // namespace

std::vector<Value> pack(const InitArgs& init) {
    return {strings(init.runtime_sys_path), Value::str(init.venv), strings(init.sys_path),
            strings(init.init_modules)};
}

InitArgs unpack_init(std::span<const Value> args) {
    if (args.size() != 4) throw ConversionError("worker protocol: init takes 4 arguments");
    return {strings_of(args[0]), std::string(args[1].as_str()), strings_of(args[2]), strings_of(args[3])};
}

Request make_request(Op op, std::string_view text, std::span<const Value> args,
                     std::span<const std::pair<std::string, Value>> kwargs) {
    Request request;
    request.op = op;
    request.text = text;
    request.args.assign(args.begin(), args.end());
    request.kwargs.assign(kwargs.begin(), kwargs.end());
    return request;
}

Value value_or_throw(Reply&& reply) {
    if (reply.error) std::rethrow_exception(reply.error);
    return std::move(reply.value);
}

void encode(const Request& request, std::vector<std::byte>& frame) {
    std::vector<Value> kwargs;
    kwargs.reserve(request.kwargs.size());
    for (const auto& [name, value] : request.kwargs)
        kwargs.push_back(Value::tuple({Value::str(name), value}));
    encode_into(Value::tuple({Value::integer(static_cast<std::int64_t>(request.op)),
                              Value::integer(static_cast<std::int64_t>(request.seq)),
                              Value::str(request.text), Value::tuple(request.args),
                              Value::tuple(std::move(kwargs)), Value::boolean(request.flag),
                              Value::integer(static_cast<std::int64_t>(request.ack))}),
                frame);
}

// The decoders without as_conversion_errors (defined below, used only here).
Request decode_request_unchecked(std::span<const std::byte> frame);
Reply decode_reply_unchecked(std::span<const std::byte> frame);

namespace {
/// Runs `decode` so that any failure on a malformed frame is a ConversionError, as decode_request
/// and decode_reply promise: a Value of the wrong kind or size throws other errors (out_of_range,
/// UsageError), which a host that catches ConversionError would not expect from a bad peer.
template <class Decode> auto as_conversion_errors(Decode&& decode) {
    try {
        return decode();
    } catch (const ConversionError&) {
        throw;
    } catch (const std::exception& e) {
        throw ConversionError(std::string("worker protocol: a malformed frame: ") + e.what());
    }
}
} // namespace

Request decode_request(std::span<const std::byte> frame) {
    return as_conversion_errors([&] { return decode_request_unchecked(frame); });
}

Request decode_request_unchecked(std::span<const std::byte> frame) {
    Value tuple = wire::decode(frame);
    Request request;
    const std::int64_t op = field(tuple, 0, 7).as_int64();
    if (op < static_cast<std::int64_t>(Op::init) || op > static_cast<std::int64_t>(Op::exit))
        throw ConversionError("worker protocol: unknown request " + std::to_string(op));
    request.op = static_cast<Op>(op);
    request.seq = static_cast<std::uint64_t>(tuple[1].as_int64());
    request.text = std::string(tuple[2].as_str());
    request.args.assign(tuple[3].items().begin(), tuple[3].items().end());
    for (const Value& pair : tuple[4].items())
        request.kwargs.emplace_back(std::string(field(pair, 0, 2).as_str()), pair[1]);
    request.flag = tuple[5].as_bool();
    request.ack = static_cast<std::uint64_t>(tuple[6].as_int64());
    return request;
}

void encode(const Reply& reply, std::vector<std::byte>& frame) {
    const auto encode_with = [&](const Value& value, const std::exception_ptr& error) {
        encode_into(Value::tuple({Value::integer(static_cast<std::int64_t>(reply.seq)), value,
                                  error ? error_value(error) : Value::none(),
                                  Value::boolean(reply.healthy), Value::boolean(reply.ran)}),
                    frame);
    };
    try {
        encode_with(reply.value, reply.error);
    } catch (const ConversionError& e) {
        // The result holds what cannot cross processes (a channel handle): fail the call.
        encode_with(Value::none(),
                    std::make_exception_ptr(ConversionError(
                        std::string("the result cannot leave the worker process: ") + e.what())));
    }
}

Reply decode_reply(std::span<const std::byte> frame) {
    return as_conversion_errors([&] { return decode_reply_unchecked(frame); });
}

Reply decode_reply_unchecked(std::span<const std::byte> frame) {
    Value tuple = wire::decode(frame);
    Reply reply;
    reply.seq = static_cast<std::uint64_t>(field(tuple, 0, 5).as_int64());
    reply.value = tuple[1];
    if (!tuple[2].is_none()) reply.error = error_of(tuple[2]);
    reply.healthy = tuple[3].as_bool();
    reply.ran = tuple[4].as_bool();
    return reply;
}

Reply run(Interpreter& in, const Request& request) {
    Reply reply;
    reply.seq = request.seq;
    try {
        switch (request.op) {
        case Op::call: reply.value = in.call_with(request.text, request.args, request.kwargs); break;
        case Op::call_void: in.call_void(request.text, request.args, request.kwargs); break;
        case Op::call_each: {
            auto [results, failure] = in.call_each(request.text, request.args, request.flag);
            reply.value = std::move(results);
            reply.error = failure;
            break;
        }
        case Op::exec: in.exec(request.text); break;
        case Op::import_module: in.import_module(request.text); break;
        case Op::init:
        case Op::exit: throw UsageError("worker protocol: an init or exit request in mid-stream");
        }
    } catch (...) {
        reply.error = std::current_exception();
    }
    return reply;
}

} // namespace isolates::worker_protocol
