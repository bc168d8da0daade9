#include "process/detail/shm_link.h"

#include <new>
#include <stdexcept>
#include <utility>

#include <isolates/interp/errors.h>

namespace isolates::detail {

namespace {
constexpr std::uint64_t link_magic = 0x4b4e494c53494f53; // "SOISLINK"
} // namespace

struct ShmLink::Header {
    std::atomic<std::uint64_t> magic{0}; // written last by create(): open() then sees the rest
    std::uint32_t version = 0;
    std::uint32_t reserved = 0;
    std::uint64_t ring_bytes = 0;  // each ring's capacity (FrameRing::usable_capacity)
    std::uint64_t total_bytes = 0; // the whole layout
    alignas(64) std::atomic<std::uint32_t> control{0};
    alignas(64) std::atomic<std::uint64_t> skip[skip_slots]{};
};

namespace {
/// Where each part of a link with rings of `ring_bytes` lies.
struct Layout {
    std::size_t to_worker, to_host, total;
};
template <class Header> Layout layout_of(std::size_t ring_bytes) noexcept {
    constexpr std::size_t header = (sizeof(Header) + 63) / 64 * 64;
    const std::size_t ring = FrameRing::footprint(ring_bytes);
    return {header, header + ring, header + 2 * ring};
}
} // namespace

ShmLink ShmLink::create(std::size_t ring_bytes) {
    if (ring_bytes > (std::size_t{1} << 30))
        throw UsageError("a process link's rings hold at most 1 GiB each, not " +
                         std::to_string(ring_bytes) + " bytes");
    const std::size_t capacity = FrameRing::usable_capacity(ring_bytes);
    const Layout layout = layout_of<Header>(capacity);
    ShmLink link(with_segment_errors_as<UsageError>([&] { return ShmSegment::create(layout.total); }));
    const auto bytes = link.segment_.bytes();
    auto* header = new (bytes.data()) Header;
    link.to_worker_ = FrameRing::create(bytes.subspan(layout.to_worker, layout.to_host - layout.to_worker), capacity);
    link.to_host_ = FrameRing::create(bytes.subspan(layout.to_host, layout.total - layout.to_host), capacity);
    header->version = layout_version;
    header->ring_bytes = capacity;
    header->total_bytes = layout.total;
    header->magic.store(link_magic, std::memory_order_release);
    return link;
}

ShmLink ShmLink::open(const std::string& name) {
    if (!is_segment_name(name))
        throw UsageError("'" + name + "' is not the name of an isolates process link");
    ShmLink link(with_segment_errors_as<UsageError>(
        [&] { return ShmSegment::open(name, ShmSegment::Access::read_write); }));
    const auto bytes = link.segment_.bytes();
    auto refuse = [&](const std::string& why) {
        return UsageError("shared memory segment '" + name + "' is not a process link of layout version " +
                          std::to_string(layout_version) + ": " + why);
    };
    if (bytes.size() < sizeof(Header)) throw refuse("it holds only " + std::to_string(bytes.size()) + " bytes");
    // create() constructed the header in these bytes, through the creator's mapping.
    auto& header = *std::launder(reinterpret_cast<Header*>(bytes.data()));
    if (header.magic.load(std::memory_order_acquire) != link_magic) throw refuse("no link header");
    if (header.version != layout_version)
        throw refuse("it has layout version " + std::to_string(header.version));
    const std::size_t capacity = header.ring_bytes;
    if (capacity > (std::size_t{1} << 30) || FrameRing::usable_capacity(capacity) != capacity)
        throw refuse("its ring size " + std::to_string(capacity) + " is not one create() makes");
    const Layout layout = layout_of<Header>(capacity);
    if (header.total_bytes != layout.total || bytes.size() < layout.total)
        throw refuse("its size " + std::to_string(bytes.size()) + " does not fit rings of " +
                     std::to_string(capacity) + " bytes");
    try {
        link.to_worker_ = FrameRing::attach(bytes.subspan(layout.to_worker, layout.to_host - layout.to_worker), capacity);
        link.to_host_ = FrameRing::attach(bytes.subspan(layout.to_host, layout.total - layout.to_host), capacity);
    } catch (const std::invalid_argument& e) {
        throw refuse(e.what());
    }
    return link;
}

ShmLink::ShmLink(ShmLink&& other) noexcept
    : segment_(std::move(other.segment_)), to_worker_(std::move(other.to_worker_)),
      to_host_(std::move(other.to_host_)) {}

ShmLink& ShmLink::operator=(ShmLink&& other) noexcept {
    if (this != &other) {
        close_rings();
        to_worker_ = std::move(other.to_worker_);
        to_host_ = std::move(other.to_host_);
        segment_ = std::move(other.segment_);
    }
    return *this;
}

ShmLink::~ShmLink() { close_rings(); }

void ShmLink::close_rings() noexcept {
    to_worker_.close();
    to_host_.close();
}

ShmLink::Header& ShmLink::header() const noexcept {
    return *std::launder(reinterpret_cast<Header*>(segment_.bytes().data()));
}

std::atomic<std::uint32_t>& ShmLink::control() noexcept { return header().control; }

std::atomic<std::uint64_t>& ShmLink::skip_slot(std::uint64_t seq) noexcept {
    return header().skip[seq % skip_slots];
}

} // namespace isolates::detail
