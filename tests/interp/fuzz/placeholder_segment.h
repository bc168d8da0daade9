#pragma once
// The committed corpus (tests/interp/fuzz/make_corpus.py) names a shared-memory segment (wire tag 0x0e)
// by a placeholder no process can own (pid 0). The fuzz targets and the corpus test make one real
// segment and swap its name in for the placeholder, so those seeds, and what the fuzzer mutates
// from them, reach a segment that exists: mapping reuse and range checks, not only "no such
// segment".

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <isolates/channels/shared_buffer.h>

namespace isolates::testing {

class PlaceholderSegment {
public:
    static constexpr std::string_view placeholder = "isolates-0-00000000000000000000000000000000";
    /// The size of the real segment; byte k holds k % 251 (as make_corpus.py assumes).
    static constexpr std::size_t size = 256;

    /// Makes the real segment (the calling thread; allocates a segment).
    PlaceholderSegment()
        : segment_(SharedBuffer::build(size, [](std::span<std::byte> out) {
              for (std::size_t k = 0; k < out.size(); ++k) out[k] = std::byte(k % 251);
          }, SharedBuffer::Storage::shared_memory)) {}

    /// `data` with every length-prefixed placeholder name replaced by the real segment's name.
    std::vector<std::byte> to_real(std::span<const std::byte> data) const {
        return swap(data, placeholder, segment_.name());
    }
    /// The inverse of to_real.
    std::vector<std::byte> to_placeholder(std::span<const std::byte> data) const {
        return swap(data, segment_.name(), placeholder);
    }

private:
    /// Replaces each (one length byte, `from`) with (one length byte, `to`); both names are
    /// shorter than 128 bytes, so their uvar length is one byte.
    static std::vector<std::byte> swap(std::span<const std::byte> data, std::string_view from,
                                       std::string_view to) {
        std::vector<std::byte> pattern{std::byte(from.size())}, replacement{std::byte(to.size())};
        for (char c : from) pattern.push_back(std::byte(c));
        for (char c : to) replacement.push_back(std::byte(c));
        std::vector<std::byte> out;
        out.reserve(data.size());
        auto at = data.begin();
        for (;;) {
            const auto found = std::search(at, data.end(), pattern.begin(), pattern.end());
            out.insert(out.end(), at, found);
            if (found == data.end()) return out;
            out.insert(out.end(), replacement.begin(), replacement.end());
            at = found + static_cast<std::ptrdiff_t>(pattern.size());
        }
    }

    SharedBuffer segment_;
};

} // namespace isolates::testing
