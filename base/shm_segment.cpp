#include "base/shm_segment.h"

#include <signal.h>
#include <unistd.h>

#include <boost/interprocess/shared_memory_object.hpp>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <random>
#include <system_error>
#include <utility>

namespace isolates::detail {

namespace bip = boost::interprocess;

namespace {

/// isolates-<creator pid>-<128 random bits in hex>: the pid lets a later creator sweep the
/// segments of dead processes; the random part makes the name unguessable.
std::string new_segment_name() {
    std::random_device random; // /dev/urandom on Linux
    char text[80];
    std::snprintf(text, sizeof text, "%.*s%ld-%08x%08x%08x%08x",
                  static_cast<int>(segment_prefix.size()), segment_prefix.data(),
                  static_cast<long>(::getpid()), random(), random(), random(), random());
    return text;
}

} // namespace

bool is_segment_name(std::string_view name) noexcept {
    // A NUL would cut the name short in the system call: another segment would be opened.
    return name.starts_with(segment_prefix) &&
           name.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos;
}

namespace {
/// Removes the segments named isolates-<pid>-* whose creator `remove_if(pid)` picks; returns
/// how many it removed.
template <class Pick> std::size_t remove_segments_of(Pick&& remove_if) {
    std::size_t removed = 0;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", error)) {
        const std::string name = entry.path().filename().string();
        if (!name.starts_with(segment_prefix)) continue;
        long pid = 0;
        if (std::sscanf(name.c_str() + segment_prefix.size(), "%ld-", &pid) != 1 || pid <= 0) continue;
        if (remove_if(static_cast<pid_t>(pid)))
            removed += bip::shared_memory_object::remove(name.c_str()) ? 1 : 0;
    }
    return removed;
}
} // namespace

std::size_t sweep_stale_segments() {
    // ESRCH: no such process. EPERM means it exists under another user: leave it.
    return remove_segments_of([](pid_t pid) { return ::kill(pid, 0) == -1 && errno == ESRCH; });
}

std::size_t remove_own_segments() noexcept {
    try {
        const pid_t self = ::getpid();
        return remove_segments_of([self](pid_t pid) { return pid == self; });
    } catch (...) {
        return 0; // on the way out of a process: nothing better to do
    }
}

ShmSegment ShmSegment::create(std::size_t size) {
    sweep_stale_segments();
    ShmSegment segment(new_segment_name(), /*owns_name=*/true);
    // A mapping cannot be empty: an empty segment still holds one byte.
    const std::size_t mapped = size ? size : 1;
    try {
        bip::permissions owner_only(0600);
        bip::shared_memory_object object(bip::create_only, segment.name_.c_str(), bip::read_write,
                                         owner_only);
        object.truncate(static_cast<bip::offset_t>(mapped));
        segment.region_ = bip::mapped_region(object, bip::read_write, 0, mapped);
    } catch (const bip::interprocess_exception& e) {
        // `segment` removes the name on the way out.
        throw ShmSegmentError("cannot create shared memory segment " + segment.name_ + ": " + e.what());
    }
    segment.size_ = size;
    return segment;
}

ShmSegment ShmSegment::open(const std::string& name, Access access) {
    ShmSegment segment(name, /*owns_name=*/false);
    const auto mode = access == Access::read_write ? bip::read_write : bip::read_only;
    try {
        bip::shared_memory_object object(bip::open_only, name.c_str(), mode);
        bip::offset_t size = 0;
        object.get_size(size);
        segment.region_ = bip::mapped_region(object, mode);
        segment.size_ = static_cast<std::size_t>(size);
    } catch (const bip::interprocess_exception& e) {
        throw ShmSegmentError("cannot open shared memory segment '" + name + "': " + e.what());
    }
    return segment;
}

ShmSegment::ShmSegment(ShmSegment&& other) noexcept
    : name_(std::move(other.name_)), owns_name_(std::exchange(other.owns_name_, false)),
      name_removed_(other.name_removed_), region_(std::move(other.region_)),
      size_(std::exchange(other.size_, 0)) {}

ShmSegment& ShmSegment::operator=(ShmSegment&& other) noexcept {
    if (this != &other) {
        if (owns_name_) remove_name();
        name_ = std::move(other.name_);
        owns_name_ = std::exchange(other.owns_name_, false);
        name_removed_ = other.name_removed_;
        region_ = std::move(other.region_);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

ShmSegment::~ShmSegment() {
    if (owns_name_) remove_name();
}

void ShmSegment::remove_name() noexcept {
    if (name_removed_ || name_.empty()) return;
    name_removed_ = true;
    bip::shared_memory_object::remove(name_.c_str());
}

} // namespace isolates::detail
