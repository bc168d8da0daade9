// SharedBuffer in the wire format (isolates/interp/wire.h, tags 0x0e and 0x0f, registered by channels/):
// shared-memory buffers cross as a segment name and range, no bytes copied, and map once per
// process; in-process buffers cross as a copy of their bytes.

#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <isolates/channels/channel.h>
#include <isolates/channels/shared_buffer.h>
#include <isolates/interp/errors.h>
#include <isolates/interp/wire.h>
#include "channels/detail/buffer_storage.h"
#include "tests/support/child_process.h"
#include "tests/support/counting_buffer.h"
#include "tests/support/doctest.h"
#include "tests/support/wire_bytes.h"

using namespace isolates;

namespace {
using testing::bytes_of;
using testing::decode_error;
using testing::counting;
constexpr auto shared_memory = SharedBuffer::Storage::shared_memory;

std::string text_of(const SharedBuffer& buffer) {
    return {reinterpret_cast<const char*>(buffer.data()), buffer.size()};
}

/// The storage a buffer views: the same object means the same mapping.
const detail::BufferStorage* storage_of(const SharedBuffer& buffer) {
    return &std::static_pointer_cast<const detail::BufferView>(buffer.shareable())->storage();
}

/// A version 2 stream holding one 0x0e value naming `name`, with `offset` and `length` (< 128).
std::vector<std::byte> segment_value(const std::string& name, int offset, int length) {
    std::vector<std::byte> out = bytes_of({'I', 'S', 'V', 2, 0x0e, static_cast<int>(name.size())});
    for (char c : name) out.push_back(std::byte(c));
    out.push_back(std::byte(offset));
    out.push_back(std::byte(length));
    return out;
}

} // namespace

TEST_SUITE("SharedBufferWire") {

TEST_CASE("SharedBufferWire.both_kinds_round_trip_inside_containers") {
    const SharedBuffer in_process = SharedBuffer::copy_of(std::string_view("process bytes"));
    const SharedBuffer segment = counting(1000, shared_memory);
    const SharedBuffer part = segment.slice(100, 50);
    const Value original = Value::dict(
        {{"buffers", Value::list({in_process, part, Value::tuple({segment, 7})})},
         {"empty", Value::list({SharedBuffer(), segment.slice(1000, 0)})}});
    const auto encoded = wire::encode(original);
    const Value back = wire::decode(encoded);
    CHECK(wire::encode(back) == encoded); // one encoding per value
    const Value& buffers = back.dict_items()[0].second;
    const Value& empty = back.dict_items()[1].second;
    const auto copy = buffers[0].as<SharedBuffer>();
    CHECK(copy.storage() == SharedBuffer::Storage::process);
    CHECK(text_of(copy) == "process bytes");
    CHECK(copy.data() != in_process.data()); // in-process bytes cross as a copy
    const auto part_back = buffers[1].as<SharedBuffer>();
    CHECK(part_back.storage() == shared_memory);
    CHECK(part_back.name() == segment.name());
    CHECK(part_back.data() == part.data()); // no copy: the same bytes of the same mapping
    CHECK(part_back.size() == 50);
    CHECK(buffers[2][0].as<SharedBuffer>().data() == segment.data());
    CHECK(buffers[2][0].as<SharedBuffer>().size() == 1000);
    CHECK(empty[0].as<SharedBuffer>().size() == 0);
    CHECK(empty[1].as<SharedBuffer>().size() == 0);
    // The layout is the documented one.
    const std::string name = segment.name();
    auto expected = bytes_of({'I', 'S', 'V', 2, 0x0a, 0x02, 0x0f, 0x02, 'h', 'i'});
    expected.push_back(std::byte{0x0e});
    expected.push_back(std::byte(name.size()));
    for (char c : name) expected.push_back(std::byte(c));
    for (int b : {0x64, 0x32}) expected.push_back(std::byte(b)); // offset 100, length 50
    CHECK(wire::encode(Value::list({SharedBuffer::copy_of(std::string_view("hi")), part})) ==
          expected);
}

TEST_CASE("SharedBufferWire.own_segments_decode_to_their_storage_without_a_new_mapping") {
    const SharedBuffer segment = counting(4096, shared_memory);
    const auto encoded = wire::encode(Value(segment.slice(10, 20)));
    const auto first = wire::decode(encoded).as<SharedBuffer>();
    const auto second = wire::decode(encoded).as<SharedBuffer>();
    CHECK(storage_of(first) == storage_of(segment)); // the creator's own storage
    CHECK(storage_of(second) == storage_of(first));  // the same name decoded twice shares it
    CHECK(first.data() == segment.data() + 10);
    // open_shared of an own segment reuses it too.
    CHECK(storage_of(SharedBuffer::open_shared(segment.name())) == storage_of(segment));
}

TEST_CASE("SharedBufferWire.a_mapped_segment_is_reused_and_outlives_its_name" *
          doctest::timeout(60)) {
    // A child makes a segment and holds it until told; this process decodes it twice (one
    // mapping), then the child lets go (the name goes) and the view stays readable.
    int down[2];
    REQUIRE(::pipe(down) == 0);
    const testing::Child child = testing::fork_child([&](int out) {
        ::close(down[1]);
        const SharedBuffer held = counting(1 << 16, shared_memory);
        const auto encoded = wire::encode(Value::list({held.slice(251, 251), held}));
        testing::write_all(out, std::string(reinterpret_cast<const char*>(encoded.data()), encoded.size()));
        ::close(out);
        char c;
        [[maybe_unused]] auto r = ::read(down[0], &c, 1); // hold the segment until told to go
    });
    ::close(down[0]);
    const auto frame = std::as_bytes(std::span(child.output.data(), child.output.size()));
    REQUIRE(frame.size() > 4);
    Value first = wire::decode(frame);
    Value second = wire::decode(frame);
    auto part = first[0].as<SharedBuffer>();
    auto whole = first[1].as<SharedBuffer>();
    CHECK(whole.size() == (1 << 16));
    CHECK(part.data() == whole.data() + 251);
    CHECK(storage_of(second[1].as<SharedBuffer>()) == storage_of(whole)); // mapped once
    CHECK(wire::encode(first) == std::vector<std::byte>(frame.begin(), frame.end()));
    const std::string name = whole.name();
    CHECK(name.starts_with("isolates-" + std::to_string(child.pid) + "-"));
    ::close(down[1]);
    const int status = testing::wait_for_exit(child.pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK_FALSE(testing::segment_exists(name)); // the creator let go: the name is gone
    for (std::size_t k = 0; k < part.size(); ++k)  // the mapping stays valid
        REQUIRE(part.bytes()[k] == std::byte(k % 251));
    CHECK(decode_error(frame).empty()); // still decodes: this process holds the mapping
    first = second = Value();
    whole = SharedBuffer();
    part = SharedBuffer();
    // Nobody holds the segment any more: its name cannot be decoded (map before the sender lets go).
    CHECK(decode_error(frame).starts_with("wire: cannot open shared memory segment '" + name));
}

TEST_CASE("SharedBufferWire.malformed_segment_values_fail_with_the_offset") {
    const SharedBuffer segment = counting(100, shared_memory);
    const std::string name = segment.name();
    CHECK(wire::decode(segment_value(name, 90, 10)).as<SharedBuffer>().size() == 10);
    CHECK(wire::decode(segment_value(name, 100, 0)).as<SharedBuffer>().size() == 0);
    const std::string past = " of shared memory segment '" + name + "' (100 bytes)";
    const std::size_t offset_at = 6 + name.size();
    CHECK(decode_error(segment_value(name, 101, 0)) ==
          "wire: offset 101 past the end" + past + " at byte " + std::to_string(offset_at));
    CHECK(decode_error(segment_value(name, 90, 11)) ==
          "wire: length 11 from offset 90 runs past the end" + past + " at byte " +
              std::to_string(offset_at + 1));
    // Names outside isolates' own segments are refused before any system call.
    for (const std::string& bad : {std::string("../../etc/passwd"), std::string("other-segment"),
                                  std::string("isolates-1-/x"), std::string("")}) {
        CAPTURE(bad);
        CHECK(decode_error(segment_value(bad, 0, 0)) ==
              "wire: '" + bad + "' is not the name of an isolates shared memory segment at byte 5");
    }
    // Only printable ASCII: error messages can show the name.
    CHECK(decode_error(segment_value(std::string("isolates-1-\0x", 13), 0, 0)) ==
          "wire: byte 0 in a shared memory segment name at byte 17");
    CHECK(decode_error(segment_value("isolates-1-\x7f", 0, 0)) ==
          "wire: byte 127 in a shared memory segment name at byte 17");
    CHECK(decode_error(segment_value("isolates-1-00000000000000000000000000000000", 0, 0))
              .starts_with("wire: cannot open shared memory segment 'isolates-1-0000"));
    CHECK(decode_error(segment_value(name, 0, 0)).empty());
    // Lengths are never trusted: a huge offset, a name longer than the data or than NAME_MAX.
    auto huge = segment_value(name, 0, 0);
    huge.pop_back();
    huge.pop_back();
    for (int b : {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00})
        huge.push_back(std::byte(b));
    CHECK(decode_error(huge) == "wire: offset 18446744073709551615 past the end" + past +
                                    " at byte " + std::to_string(offset_at));
    CHECK(decode_error(bytes_of({'I', 'S', 'V', 2, 0x0e, 0x7f, 'i'})) ==
          "wire: length 127 runs past the end of the data at byte 5");
    std::vector<std::byte> long_name = bytes_of({'I', 'S', 'V', 2, 0x0e, 0x80, 0x02});
    long_name.resize(long_name.size() + 256, std::byte{'x'});
    long_name.push_back(std::byte{0});
    long_name.push_back(std::byte{0});
    CHECK(decode_error(long_name) ==
          "wire: shared memory segment name of 256 bytes (at most 255) at byte 5");
    CHECK(decode_error(bytes_of({'I', 'S', 'V', 2, 0x0f, 0x03, 'a'})) ==
          "wire: length 3 runs past the end of the data at byte 5");
    // Every strict prefix of a valid encoding is refused.
    const auto full = wire::encode(Value::list({segment.slice(3, 4), SharedBuffer::copy_of(std::string_view("abc"))}));
    for (std::size_t n = 0; n < full.size(); ++n)
        CHECK_THROWS_AS(wire::decode(std::span(full).first(n)), ConversionError);
}

TEST_CASE("SharedBufferWire.buffers_are_no_set_items_or_dict_keys_on_the_wire") {
    const SharedBuffer buffer = SharedBuffer::copy_of(std::string_view("k"));
    CHECK_THROWS_WITH_AS(wire::encode(Value::set({buffer})),
                         doctest::Contains("set holding a SharedBuffer item"), ConversionError);
    CHECK_THROWS_WITH_AS(wire::encode(Value::dict({{buffer, 1}})),
                         doctest::Contains("dict holding a SharedBuffer key"), ConversionError);
    CHECK(decode_error(bytes_of({'I', 'S', 'V', 2, 0x0c, 0x01, 0x0f, 0x01, 'k'})) ==
          "wire: unhashable native inside a set at byte 6");
    CHECK(decode_error(bytes_of({'I', 'S', 'V', 2, 0x0b, 0x01, 0x0f, 0x00, 0x00})) ==
          "wire: unhashable native as a dict key at byte 6");
    CHECK(wire::decode(wire::encode(Value::dict({{"k", buffer}}))).dict_items()[0].second
              .as<SharedBuffer>().size() == 1);
}

TEST_CASE("SharedBufferWire.channel_handles_stay_refused") {
    Channel channel(4);
    CHECK_THROWS_WITH_AS(wire::encode(Value::list({1, channel})),
                         doctest::Contains("cannot encode a native Value (Channel)"),
                         ConversionError);
}

} // TEST_SUITE
