// libFuzzer target: the process worker protocol's decoders on arbitrary bytes, as a host reads a
// worker's replies and a worker the host's requests. The first byte picks the decoder (even: a
// request, odd: a reply), the rest is the frame. A malformed frame must throw ConversionError
// (nothing else, never UB: ProcessWorkerHost::receive catches only that); whatever decodes must
// re-encode to a frame that decodes and encodes to the same bytes again, and an init request's
// arguments must unpack or be refused the same way.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include <isolates/interp/errors.h>
#include <isolates/process/worker_protocol.h>

using namespace isolates;
namespace wp = isolates::worker_protocol;

namespace {
[[noreturn]] void broken(const char* what) {
    std::fprintf(stderr, "worker_protocol_fuzzer: %s\n", what);
    std::abort();
}

/// Decodes `frame` as a request or reply and encodes what came out; false when it was refused.
bool round_trip(bool reply, std::span<const std::byte> frame, std::vector<std::byte>& encoded) {
    try {
        if (reply) {
            wp::encode(wp::decode_reply(frame), encoded);
        } else {
            const wp::Request request = wp::decode_request(frame);
            if (request.op == wp::Op::init) (void)wp::unpack_init(request.args);
            wp::encode(request, encoded);
        }
    } catch (const ConversionError&) {
        return false;
    }
    return true;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const bool reply = (data[0] & 1) != 0;
    const auto frame = std::as_bytes(std::span(data + 1, size - 1));
    std::vector<std::byte> once, twice;
    if (!round_trip(reply, frame, once)) return 0; // refused cleanly
    // What was encoded from a decoded frame must decode and encode to itself.
    if (!round_trip(reply, once, twice)) broken("a frame encoded from a decoded one is refused");
    if (twice != once) broken("decode then encode is not stable");
    return 0;
}
