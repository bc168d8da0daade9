// SharedBuffer (C++ side): zero-copy bytes shared by copies and slices, in-process and in shared
// memory. Its Python face is tested in python_shared_buffer_test.cpp.

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <numeric>
#include <string>

#include <isolates/channels/shared_buffer.h>
#include <isolates/interp/errors.h>
#include "tests/support/child_process.h"
#include "tests/support/counting_buffer.h"
#include "tests/support/doctest.h"

using namespace isolates;

namespace {
using testing::segment_exists;

using testing::counting;
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
        CHECK(mapped.data() == buffer.data()); // this process's own mapping, not a second one
        CHECK(std::memcmp(mapped.data(), buffer.data(), buffer.size()) == 0);
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
