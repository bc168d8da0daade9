#pragma once
// For tests of base::advise_huge_pages and its users: whether the kernel has recorded the
// MADV_HUGEPAGE advice for the memory at an address (the "hg" flag of its mapping in
// /proc/self/smaps), and whether this kernel takes that advice at all.

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

namespace isolates::testing {

/// The kernel has transparent huge pages (else madvise(MADV_HUGEPAGE) is refused).
inline bool huge_pages_supported() {
    return std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled").good();
}

/// Whether the mapping holding `p` carries the MADV_HUGEPAGE advice.
inline bool huge_page_advised(const void* p) {
    const auto address = reinterpret_cast<std::uintptr_t>(p);
    std::ifstream smaps("/proc/self/smaps");
    std::string line;
    bool inside = false;
    while (std::getline(smaps, line)) {
        std::uintptr_t begin = 0, end = 0;
        char dash = 0;
        std::istringstream range(line);
        // A mapping's first line: "begin-end perms ..." in hex; its fields follow.
        if (range >> std::hex >> begin >> dash >> end && dash == '-') {
            inside = begin <= address && address < end;
        } else if (inside && line.rfind("VmFlags:", 0) == 0) {
            return (line + " ").find(" hg ") != std::string::npos;
        }
    }
    return false;
}

} // namespace isolates::testing
