#include <isolates/channels/shared_buffer.h>

#include <cstring>
#include <new>
#include <stdexcept>

#include <isolates/base/impl/heap.h>
#include <isolates/interp/errors.h>
#include "base/shm_segment.h"
#include "channels/detail/buffer_storage.h"
#include "channels/detail/segment_registry.h"

namespace isolates {

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

/// A mapped POSIX shared-memory segment. The creating side removes the name when the last
/// user in its process is gone; mappings elsewhere stay valid (the kernel frees the memory
/// after the last unmap).
class SegmentStorage final : public BufferStorage {
public:
    /// Creates a new owner-only segment of `size` bytes, mapped read-write for filling.
    explicit SegmentStorage(std::size_t size) : segment_(with_segment_errors_as<UsageError>([&] { return ShmSegment::create(size); })) {}
    /// Maps an existing segment read-only.
    explicit SegmentStorage(const std::string& name)
        : segment_(with_segment_errors_as<UsageError>(
              [&] { return ShmSegment::open(name, ShmSegment::Access::read_only); })) {}

    std::span<std::byte> writable() noexcept { return segment_.bytes(); }
    std::span<const std::byte> bytes() const noexcept override { return segment_.bytes(); }
    SharedBuffer::Storage kind() const noexcept override {
        return SharedBuffer::Storage::shared_memory;
    }
    const std::string& name() const noexcept override { return segment_.name(); }

private:
    ShmSegment segment_;
};

const std::shared_ptr<const BufferView>& empty_view() {
    static const auto view = [] {
        auto storage = std::make_shared<ProcessStorage>(0);
        return std::make_shared<const BufferView>(storage, storage->bytes());
    }();
    return view;
}

} // namespace

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
    if (!detail::is_segment_name(name))
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
