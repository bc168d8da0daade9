// base::advise_huge_pages: the 2 MiB-aligned part of a buffer gets the MADV_HUGEPAGE advice,
// the memory around it does not.

#include <sys/mman.h>

#include <cstddef>
#include <cstring>

#include "base/huge_pages.h"
#include "tests/support/doctest.h"
#include "tests/support/skip.h"
#include "tests/support/huge_page_advice.h"

using namespace isolates;

TEST_SUITE("HugePages") {

TEST_CASE("HugePages.only_the_aligned_inside_of_the_buffer_is_advised") {
    if (!testing::huge_pages_supported()) ISOLATES_SKIP("no transparent huge pages on this kernel");
    constexpr std::size_t huge = std::size_t(2) << 20;
    constexpr std::size_t mapped = 8 * huge;
    void* raw = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(raw != MAP_FAILED);
    auto* base = static_cast<std::byte*>(raw);
    // A buffer starting just past a 2 MiB boundary and ending just before one.
    std::byte* aligned = base + (huge - reinterpret_cast<std::uintptr_t>(base) % huge);
    std::byte* begin = aligned + 4096;
    const std::size_t bytes = 4 * huge - 2 * 4096;
    CHECK_FALSE(testing::huge_page_advised(begin));
    base::advise_huge_pages(begin, bytes);
    CHECK_FALSE(testing::huge_page_advised(begin));             // before the first boundary
    CHECK(testing::huge_page_advised(aligned + huge));          // the whole 2 MiB pages inside
    CHECK(testing::huge_page_advised(aligned + 3 * huge - 1));
    CHECK_FALSE(testing::huge_page_advised(aligned + 3 * huge)); // past the last boundary
    // Contents are untouched: the memory reads and writes as before.
    std::memset(begin, 0x5a, bytes);
    CHECK(begin[bytes - 1] == std::byte{0x5a});
    // A buffer with no whole 2 MiB page inside gets nothing.
    base::advise_huge_pages(aligned + 4 * huge + 4096, huge);
    CHECK_FALSE(testing::huge_page_advised(aligned + 5 * huge));
    ::munmap(raw, mapped);
}

}
