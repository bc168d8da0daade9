#pragma once
// What a pool and one of its worker processes say to each other: requests (host -> worker) and
// replies (worker -> host), each one wire-format frame holding a tuple of Values. Written once
// here for both sides. The host may send several requests before their replies come (the worker
// runs them in order, one reply each, in order). A reply's Values (shared-memory SharedBuffers
// among them) stay alive in the worker until a later request's `ack` says the host decoded it:
// by then the host has mapped what it needed.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <isolates/interp/value.h>

namespace isolates { class Interpreter; }

namespace isolates::worker_protocol {

/// What a request asks for.
enum class Op : std::uint8_t {
    init = 1,      ///< start up: text = init_source, args = see InitArgs
    call = 2,      ///< text(*args, **kwargs), the result returned
    call_void = 3, ///< the same, the result dropped in the worker
    call_each = 4, ///< text(item) for each item of args (text(*item) with `flag`)
    exec = 5,      ///< run text in __main__
    import_module = 6,
    exit = 7,      ///< end the worker (no reply)
};

/// One request. Host: filled and encoded; worker: decoded.
struct Request {
    Op op = Op::exit;
    std::uint64_t seq = 0; // numbers the host's requests; the reply and interrupts carry it
    std::string text;      // target, source or module name
    std::vector<Value> args;
    std::vector<std::pair<std::string, Value>> kwargs;
    bool flag = false;     // call_each: unpack
    std::uint64_t ack = 0; // the host has decoded every reply up to this seq
};

/// Op::init's arguments, as they travel in Request::args.
struct InitArgs {
    // The host Runtime's options, so the worker's CPython starts the same way.
    std::vector<std::string> runtime_sys_path;
    std::string venv;
    // The pool's, for its interpreter.
    std::vector<std::string> sys_path;
    std::vector<std::string> init_modules;
};
std::vector<Value> pack(const InitArgs& init);
/// Throws ConversionError when `args` is not what pack() makes.
InitArgs unpack_init(std::span<const Value> args);

/// One reply.
struct Reply {
    std::uint64_t seq = 0;
    Value value;                 // call: the result; call_each: the results before a failure (tuple)
    std::exception_ptr error;    // the request's failure, or call_each's item failure; nullptr if none
    bool healthy = true;         // the worker's interpreter is still fit for the next task
    bool ran = true;             // false: not started (skipped as cancelled, or after !healthy)
};

/// A request for `op` on `text` with these arguments.
Request make_request(Op op, std::string_view text, std::span<const Value> args = {},
                     std::span<const std::pair<std::string, Value>> kwargs = {});
/// Runs `request` (call, call_void, call_each, exec, import_module) in `in`, on its thread; its
/// failure goes into the reply (an init or exit request fails with UsageError). `healthy` is not
/// set: whoever owns `in` checks it.
Reply run(Interpreter& in, const Request& request);

/// The reply's value; its error thrown if it has one.
Value value_or_throw(Reply&& reply);

/// Encodes `request` into `frame` (cleared first; its capacity is reused). Throws
/// ConversionError when an argument cannot cross processes (a channel handle).
void encode(const Request& request, std::vector<std::byte>& frame);
/// Throws ConversionError for a malformed frame.
Request decode_request(std::span<const std::byte> frame);

/// Encodes `reply`; an error becomes its strings (a PythonError's type, message and traceback; a
/// NotShareableError's parts; any other exception's type and what()). A result that cannot cross
/// processes becomes an error reply saying so.
void encode(const Reply& reply, std::vector<std::byte>& frame);
/// The reply, its error rebuilt as the exception type it was (PythonError, NotShareableError,
/// ConversionError, UsageError, else isolates::Error). Throws ConversionError for a bad frame.
Reply decode_reply(std::span<const std::byte> frame);

/// The link's control word asking the worker to interrupt request `seq`: its low 24 bits, then
/// a count that changes the word even when the same request is interrupted again (the worker's
/// watcher sleeps until the word changes).
constexpr std::uint32_t interrupt_word(std::uint64_t seq, std::uint32_t count) noexcept {
    return static_cast<std::uint32_t>((seq & 0xFF'FFFF) << 8) | (count & 0xFF);
}
/// Whether `word` asks to interrupt request `seq`.
constexpr bool interrupts(std::uint32_t word, std::uint64_t seq) noexcept {
    return seq != 0 && (word >> 8) == (seq & 0xFF'FFFF);
}

} // namespace isolates::worker_protocol
