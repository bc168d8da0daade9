// SharedBuffer in Python (python/): read-only memoryviews without copying, buffers outliving
// their sender's interpreter, isolates.SharedBuffer's constructor, errors and shared memory.

#include <string>
#include <thread>

#include <isolates/channels/channel.h>
#include <isolates/channels/shared_buffer.h>
#include <isolates/interp/errors.h>
#include <isolates/interp/interpreter.h>
#include "tests/support/counting_buffer.h"
#include "tests/support/doctest.h"

using namespace isolates;

namespace {
using testing::counting;
} // namespace

TEST_SUITE("SharedBuffer") {

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

TEST_CASE("SharedBuffer.python_maps_a_shared_memory_segment_by_name") {
    const SharedBuffer buffer = counting(3 << 20, SharedBuffer::Storage::shared_memory);
    Interpreter in;
    in.exec("import isolates\ndef check(name):\n    b = isolates.SharedBuffer.open(name)\n"
            "    s = isolates.SharedBuffer(b'xyz', shared_memory=True)\n"
            "    return [b.shared_memory, len(b), memoryview(b)[7], s.name.startswith('isolates-')]\n");
    CHECK(in.call("__main__:check", buffer.name()).repr() == "[True, 3145728, 7, True]");
}

} // TEST_SUITE
