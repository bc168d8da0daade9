// SharedBuffer: zero-copy bytes between C++ and interpreters, in-process and in shared memory.

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <numeric>
#include <string>
#include <thread>

#include "channels/channel.h"
#include "channels/shared_buffer.h"
#include "interp/errors.h"
#include "interp/interpreter.h"
#include "tests/child_process.h"
#include "tests/doctest.h"

using namespace isolates;

namespace {
using testing::segment_exists;

SharedBuffer counting(std::size_t size, SharedBuffer::Storage storage = SharedBuffer::Storage::process) {
    return SharedBuffer::build(size, [](std::span<std::byte> out) {
        for (std::size_t k = 0; k < out.size(); ++k) out[k] = std::byte(k % 251);
    }, storage);
}
} // namespace

TEST_SUITE("SharedBuffer") {

TEST_CASE("SharedBuffer.is_a_span_of_const_bytes_shared_by_copies_and_slices") {
    const SharedBuffer buffer = SharedBuffer::copy_of(std::string_view("hello world"));
    CHECK(buffer.size() == 11);
    CHECK(std::memcmp(buffer.data(), "hello world", 11) == 0);
    const SharedBuffer copy = buffer;
    CHECK(copy.data() == buffer.data());
    const SharedBuffer world = buffer.slice(6, 5);
    CHECK(world.data() == buffer.data() + 6);
    CHECK(std::string_view(reinterpret_cast<const char*>(world.data()), world.size()) == "world");
    CHECK_THROWS_AS(buffer.slice(6, 6), std::out_of_range);
    CHECK(SharedBuffer().size() == 0);
    CHECK(buffer.name().empty());
    const Value v = buffer;
    CHECK(v.as<SharedBuffer>().data() == buffer.data());
    CHECK(v.repr() == "<SharedBuffer>");
    CHECK_THROWS_AS(Value(1).as<SharedBuffer>(), ConversionError);
}

TEST_CASE("SharedBuffer.arrives_in_python_as_a_read_only_memoryview_without_copying") {
    const SharedBuffer buffer = counting(1 << 20);
    Interpreter in;
    in.exec("def inspect(view):\n    global kept\n    kept = view\n"
            "    return [type(view).__name__, view.readonly, len(view), view[1000], bytes(view[:3])]\n"
            "def give_back():\n    return kept[10:20]\n");
    CHECK(in.call("__main__:inspect", buffer).repr() == "['memoryview', True, 1048576, 247, b'\\x00\\x01\\x02']");
    CHECK_THROWS_WITH_AS(in.exec("kept[0] = 1"), doctest::Contains("TypeError"), PythonError);
    // A slice of it goes back as a SharedBuffer over the same bytes: still no copy.
    const SharedBuffer back = in.call("__main__:give_back").as<SharedBuffer>();
    CHECK(back.data() == buffer.data() + 10);
    CHECK(back.size() == 10);
}

TEST_CASE("SharedBuffer.outlives_its_sender_interpreter" * doctest::timeout(60)) {
    Channel ch(4);
    std::thread sender([&] {
        Interpreter in;
        in.exec("import isolates\ndef send(ch):\n    data = bytes(range(256)) * 4096\n"
                "    ch.send(isolates.SharedBuffer(data))\n    ch.send(data, as_buffer=True)\n"
                "    ch.send(memoryview(data)[5:10], as_buffer=True)\n    ch.send(b'plain')\n");
        in.call("__main__:send", ch);
    });
    sender.join(); // its interpreter is gone now
    Interpreter receiver;
    receiver.exec("def take(ch):\n    a, b, c, d = ch.recv(), ch.recv(), ch.recv(), ch.recv()\n"
                  "    expect = bytes(range(256)) * 4096\n"
                  "    return [type(a).__name__, a == expect, b == expect, bytes(c), type(d).__name__]\n");
    CHECK(receiver.call("__main__:take", ch).repr() == "['memoryview', True, True, b'\\x05\\x06\\x07\\x08\\t', 'bytes']");
}

TEST_CASE("SharedBuffer.python_constructor_and_errors") {
    Interpreter in;
    in.exec(R"(
import isolates
buf = isolates.SharedBuffer(bytearray(b'abc'))
assert len(buf) == 3 and bytes(buf) == b'abc' and memoryview(buf).readonly
assert buf.name is None and not buf.shared_memory
assert '3 bytes' in repr(buf)
ch = isolates.Channel(2)
ch.send(buf)
assert ch.recv() == b'abc'
)");
    CHECK_THROWS_WITH_AS(in.exec("isolates.SharedBuffer('text')"), doctest::Contains("TypeError"), PythonError);
    CHECK_THROWS_WITH_AS(in.exec("ch.send(memoryview(b'x'))"),
                         doctest::Contains("NotShareableError: value: memoryview is not shareable"),
                         PythonError);
    CHECK_THROWS_WITH_AS(in.exec("m = memoryview(buf); m.release(); ch.send(m)"),
                         doctest::Contains("NotShareableError"), PythonError);
    CHECK_THROWS_WITH_AS(in.exec("isolates.SharedBuffer.open('nope')"),
                         doctest::Contains("not the name of an isolates shared memory segment"),
                         PythonError);
}

TEST_CASE("SharedBuffer.shared_memory_segments_are_private_mappable_and_removed") {
    std::string name;
    {
        const SharedBuffer buffer = counting(3 << 20, SharedBuffer::Storage::shared_memory);
        name = buffer.name();
        REQUIRE(name.starts_with("isolates-" + std::to_string(::getpid()) + "-"));
        CHECK(name.size() >= std::string("isolates-1-").size() + 32);
        struct stat info {};
        REQUIRE(::stat(("/dev/shm/" + name).c_str(), &info) == 0);
        CHECK((info.st_mode & 0777) == 0600);
        const SharedBuffer mapped = SharedBuffer::open_shared(name);
        CHECK(mapped.size() == buffer.size());
        CHECK(mapped.data() != buffer.data()); // a second mapping of the same bytes
        CHECK(std::memcmp(mapped.data(), buffer.data(), buffer.size()) == 0);
        Interpreter in;
        in.exec("import isolates\ndef check(name):\n    b = isolates.SharedBuffer.open(name)\n"
                "    s = isolates.SharedBuffer(b'xyz', shared_memory=True)\n"
                "    return [b.shared_memory, len(b), memoryview(b)[7], s.name.startswith('isolates-')]\n");
        CHECK(in.call("__main__:check", name).repr() == "[True, 3145728, 7, True]");
        // Another process maps the same bytes by name.
        const testing::Child child = testing::fork_child([&](int out) {
            std::uint64_t sum = 0;
            const SharedBuffer theirs = SharedBuffer::open_shared(name);
            for (std::byte b : theirs.bytes()) sum += std::to_integer<std::uint64_t>(b);
            testing::write_all(out, std::to_string(sum));
        });
        const int status = testing::wait_for_exit(child.pid);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
        std::uint64_t sum = 0;
        for (std::byte b : buffer.bytes()) sum += std::to_integer<std::uint64_t>(b);
        CHECK(child.output == std::to_string(sum));
    }
    CHECK_FALSE(segment_exists(name)); // the last user let go
    CHECK_THROWS_AS(SharedBuffer::open_shared(name), UsageError);
}

TEST_CASE("SharedBuffer.segments_of_a_dead_process_are_swept" * doctest::timeout(60)) {
    const testing::Child child = testing::fork_child([](int out) {
        // The child makes a segment and dies without cleaning up, as a crash would.
        const SharedBuffer buffer = counting(4096, SharedBuffer::Storage::shared_memory);
        testing::write_all(out, buffer.name());
        ::_exit(0);
    });
    testing::wait_for_exit(child.pid);
    REQUIRE_FALSE(child.output.empty());
    const std::string& stale = child.output;
    CHECK(segment_exists(stale)); // left behind by the dead child
    const SharedBuffer fresh = counting(16, SharedBuffer::Storage::shared_memory);
    CHECK_FALSE(segment_exists(stale)); // swept when the next segment was made
    CHECK(segment_exists(fresh.name()));
}

} // TEST_SUITE
