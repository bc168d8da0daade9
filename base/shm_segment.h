#pragma once
// ShmSegment: one mapped POSIX shared-memory segment (Boost.Interprocess, mapping only), named
// isolates-<creator pid>-<128 random bits>, owner-only (0600). SharedBuffer's segments and the
// process workers' links are both made here, so naming and sweeping exist once.

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/interprocess/mapped_region.hpp>

namespace isolates::detail {

/// The first part of every segment name isolates makes.
inline constexpr std::string_view segment_prefix = "isolates-";

/// Whether `name` has the form of an isolates segment name (the prefix, no '/', no NUL).
bool is_segment_name(std::string_view name) noexcept;

/// Removes shared-memory segments named isolates-<pid>-* whose creator process is dead;
/// returns how many it removed. Any thread; reads /dev/shm.
std::size_t sweep_stale_segments();

/// Removes every segment this process created (mappings stay valid): for a process about to
/// end without running destructors (a worker whose host died). Returns how many.
std::size_t remove_own_segments() noexcept;

/// What ShmSegment::create and open throw: base/ has no isolates::Error, so the layers above
/// translate it (with_segment_errors_as) into the error their callers expect.
class ShmSegmentError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Returns `make()` (a ShmSegment::create or open), rethrowing a ShmSegmentError as an `E` with
/// the same message.
template <class E, class Make> auto with_segment_errors_as(Make&& make) {
    try {
        return make();
    } catch (const ShmSegmentError& e) {
        throw E(e.what());
    }
}

class ShmSegment {
public:
    enum class Access { read_only, read_write };

    /// Sweeps the segments of dead processes, then creates a new owner-only segment of `size`
    /// bytes (zero-filled), mapped read-write; this owner removes its name when destroyed.
    /// Throws ShmSegmentError naming the segment when the system refuses.
    static ShmSegment create(std::size_t size);
    /// Maps the whole existing segment `name`; does not own the name. Throws ShmSegmentError
    /// naming it when it is missing or cannot be mapped.
    static ShmSegment open(const std::string& name, Access access);

    /// Moves the mapping and the duty to remove the name; `other` is left empty.
    ShmSegment(ShmSegment&& other) noexcept;
    ShmSegment& operator=(ShmSegment&& other) noexcept;
    ShmSegment(const ShmSegment&) = delete;
    ShmSegment& operator=(const ShmSegment&) = delete;
    /// Unmaps; the creator also removes the name (mappings elsewhere stay valid).
    ~ShmSegment();

    /// isolates-<creator pid>-<128 random bits in hex>.
    const std::string& name() const noexcept { return name_; }
    /// The mapped bytes (create: `size`, may be 0; open: the segment's size). Writable only
    /// when mapped read_write.
    std::span<std::byte> bytes() const noexcept { return {data(), size_}; }
    /// bytes().size().
    std::size_t size() const noexcept { return size_; }
    /// Removes the name now, whoever created it (the mapping stays valid); idempotent.
    void remove_name() noexcept;

private:
    ShmSegment(std::string name, bool owns_name) noexcept : name_(std::move(name)), owns_name_(owns_name) {}
    std::byte* data() const noexcept { return static_cast<std::byte*>(region_.get_address()); }

    std::string name_;
    bool owns_name_;        // remove the name when destroyed
    bool name_removed_ = false;
    boost::interprocess::mapped_region region_;
    std::size_t size_ = 0;
};

} // namespace isolates::detail
