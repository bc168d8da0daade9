#include "channels/shared_buffer.h"

#include <signal.h>

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <new>
#include <random>
#include <stdexcept>
#include <system_error>

#include "channels/detail/buffer_storage.h"
#include "channels/detail/segment_registry.h"
#include "base/heap.h"
#include "interp/errors.h"

namespace isolates {

namespace bip = boost::interprocess;

namespace detail {

namespace {

const std::string no_name;

/// Bytes in one mimalloc block, freed from whichever thread drops the last reference.
class ProcessStorage final : public BufferStorage {
public:
    explicit ProcessStorage(std::size_t size)
        : data_(static_cast<std::byte*>(base::heap_allocate_aligned(size ? size : 1, 64))), size_(size) {}
    ~ProcessStorage() override { base::heap_free(data_); }
    ProcessStorage(const ProcessStorage&) = delete;
    ProcessStorage& operator=(const ProcessStorage&) = delete;

    std::span<std::byte> writable() noexcept { return {data_, size_}; }
    std::span<const std::byte> bytes() const noexcept override { return {data_, size_}; }
    SharedBuffer::Storage kind() const noexcept override { return SharedBuffer::Storage::process; }
    const std::string& name() const noexcept override { return no_name; }

private:
    std::byte* data_;
    std::size_t size_;
};

constexpr std::string_view segment_prefix = "isolates-";

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

/// A mapped POSIX shared-memory segment. The creating side removes the name when the last
/// user in its process is gone; mappings elsewhere stay valid (the kernel frees the memory
/// after the last unmap).
class SegmentStorage final : public BufferStorage {
public:
    /// Creates a new owner-only segment of `size` bytes, mapped read-write for filling.
    explicit SegmentStorage(std::size_t size) : name_(new_segment_name()), creator_(true) {
        sweep_stale_segments();
        try {
            bip::permissions owner_only(0600);
            bip::shared_memory_object segment(bip::create_only, name_.c_str(), bip::read_write,
                                              owner_only);
            segment.truncate(static_cast<bip::offset_t>(size ? size : 1));
            region_ = bip::mapped_region(segment, bip::read_write, 0, size ? size : 1);
        } catch (const bip::interprocess_exception& e) {
            bip::shared_memory_object::remove(name_.c_str());
            throw UsageError("cannot create shared memory segment " + name_ + ": " + e.what());
        }
        size_ = size;
    }
    /// Maps an existing segment read-only.
    explicit SegmentStorage(const std::string& name) : name_(name), creator_(false) {
        try {
            bip::shared_memory_object segment(bip::open_only, name_.c_str(), bip::read_only);
            bip::offset_t size = 0;
            segment.get_size(size);
            region_ = bip::mapped_region(segment, bip::read_only);
            size_ = static_cast<std::size_t>(size);
        } catch (const bip::interprocess_exception& e) {
            throw UsageError("cannot open shared memory segment '" + name + "': " + e.what());
        }
    }
    ~SegmentStorage() override {
        if (creator_) bip::shared_memory_object::remove(name_.c_str());
    }

    std::span<std::byte> writable() noexcept {
        return {static_cast<std::byte*>(region_.get_address()), size_};
    }
    std::span<const std::byte> bytes() const noexcept override {
        return {static_cast<const std::byte*>(region_.get_address()), size_};
    }
    SharedBuffer::Storage kind() const noexcept override {
        return SharedBuffer::Storage::shared_memory;
    }
    const std::string& name() const noexcept override { return name_; }

private:
    std::string name_;
    bool creator_;
    bip::mapped_region region_;
    std::size_t size_ = 0;
};

const std::shared_ptr<const BufferView>& empty_view() {
    static const auto view = [] {
        auto storage = std::make_shared<ProcessStorage>(0);
        return std::make_shared<const BufferView>(storage, storage->bytes());
    }();
    return view;
}

} // namespace

std::size_t sweep_stale_segments() {
    std::size_t removed = 0;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", error)) {
        const std::string name = entry.path().filename().string();
        if (!name.starts_with(segment_prefix)) continue;
        long pid = 0;
        if (std::sscanf(name.c_str() + segment_prefix.size(), "%ld-", &pid) != 1 || pid <= 0) continue;
        // ESRCH: no such process. EPERM means it exists under another user: leave it.
        if (::kill(static_cast<pid_t>(pid), 0) == -1 && errno == ESRCH)
            removed += bip::shared_memory_object::remove(name.c_str()) ? 1 : 0;
    }
    return removed;
}

} // namespace detail

using detail::BufferView;
using detail::ProcessStorage;
using detail::SegmentStorage;

SharedBuffer::SharedBuffer() : view_(detail::empty_view()) {}

SharedBuffer SharedBuffer::build(std::size_t size,
                                 const std::function<void(std::span<std::byte>)>& fill,
                                 Storage storage) {
    if (storage == Storage::process) {
        auto owner = std::make_shared<ProcessStorage>(size);
        fill(owner->writable());
        return SharedBuffer(std::make_shared<const BufferView>(owner, owner->bytes()));
    }
    auto owner = std::make_shared<SegmentStorage>(size);
    fill(owner->writable());
    detail::remember_segment(owner);
    return SharedBuffer(std::make_shared<const BufferView>(owner, owner->bytes()));
}

SharedBuffer SharedBuffer::copy_of(std::span<const std::byte> bytes, Storage storage) {
    return build(bytes.size(), [&](std::span<std::byte> out) {
        if (!bytes.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
    }, storage);
}

SharedBuffer SharedBuffer::copy_of(std::string_view bytes, Storage storage) {
    return copy_of(std::as_bytes(std::span(bytes.data(), bytes.size())), storage);
}

SharedBuffer SharedBuffer::open_shared(const std::string& name) {
    if (!name.starts_with(detail::segment_prefix) ||
        name.find_first_of(std::string_view("/\0", 2)) != std::string::npos)
        throw UsageError("'" + name + "' is not the name of an isolates shared memory segment");
    // A segment this process made or mapped already is not mapped again.
    auto owner = detail::shared_segment(name, [](const std::string& segment)
                                                  -> std::shared_ptr<const detail::BufferStorage> {
        return std::make_shared<SegmentStorage>(segment);
    });
    return SharedBuffer(std::make_shared<const BufferView>(owner, owner->bytes()));
}

std::span<const std::byte> SharedBuffer::bytes() const noexcept { return view_->bytes(); }
SharedBuffer::Storage SharedBuffer::storage() const noexcept { return view_->storage().kind(); }
const std::string& SharedBuffer::name() const noexcept { return view_->storage().name(); }

SharedBuffer SharedBuffer::slice(std::size_t offset, std::size_t length) const {
    if (offset > size() || length > size() - offset)
        throw std::out_of_range("SharedBuffer::slice(" + std::to_string(offset) + ", " +
                                std::to_string(length) + ") past the end of " +
                                std::to_string(size()) + " bytes");
    return SharedBuffer(std::make_shared<const BufferView>(view_->shared_storage(),
                                                           bytes().subspan(offset, length)));
}

std::shared_ptr<const Shareable> SharedBuffer::shareable() const noexcept { return view_; }

std::optional<SharedBuffer> SharedBuffer::from_shareable(const std::shared_ptr<const Shareable>& object) {
    if (auto view = std::dynamic_pointer_cast<const BufferView>(object)) return SharedBuffer(std::move(view));
    return std::nullopt;
}

const std::type_info& SharedBuffer::shareable_type() noexcept { return typeid(BufferView); }

Value Convert<SharedBuffer>::to_value(const SharedBuffer& buffer) { return Value::native(buffer.shareable()); }

SharedBuffer Convert<SharedBuffer>::from_value(const Value& value) {
    if (value.kind() == Kind::native)
        if (auto buffer = SharedBuffer::from_shareable(value.as_native())) return *std::move(buffer);
    throw ConversionError("expected a SharedBuffer, got " + value.repr());
}

} // namespace isolates
