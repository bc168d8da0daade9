#pragma once
// Transparent huge pages for a large buffer that is about to be written in full. Where the
// kernel leaves THP to madvise (a common default), each 4 KiB page of fresh memory costs a page
// fault on first write, which dominates writing a result of many MB once (much more so in a VM);
// with the advice it faults 2 MiB at a time.

#include <cstddef>

namespace isolates::base {

/// Advises the kernel to back the 2 MiB-aligned part of [p, p + bytes) with transparent huge
/// pages (MADV_HUGEPAGE); a buffer smaller than that gets nothing. Only a hint: unsupported or
/// refused advice is ignored, and the memory's contents and ownership do not change.
void advise_huge_pages(const void* p, std::size_t bytes) noexcept;

} // namespace isolates::base
