#pragma once
// What a SharedBuffer points at: storage that owns the bytes (mimalloc block or mapped
// shared-memory segment) and a view of a range of it, which is what a Value carries.

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include <isolates/channels/shared_buffer.h>
#include <isolates/interp/value.h>

namespace isolates::detail {

class BufferStorage {
public:
    virtual ~BufferStorage() = default;
    virtual std::span<const std::byte> bytes() const noexcept = 0;
    virtual SharedBuffer::Storage kind() const noexcept = 0;
    virtual const std::string& name() const noexcept = 0;
};

class BufferView final : public Shareable {
public:
    BufferView(std::shared_ptr<const BufferStorage> storage, std::span<const std::byte> bytes) noexcept
        : storage_(std::move(storage)), bytes_(bytes) {}

    std::string_view type_name() const noexcept override { return "SharedBuffer"; }

    std::span<const std::byte> bytes() const noexcept { return bytes_; }
    const BufferStorage& storage() const noexcept { return *storage_; }
    const std::shared_ptr<const BufferStorage>& shared_storage() const noexcept { return storage_; }

private:
    std::shared_ptr<const BufferStorage> storage_;
    std::span<const std::byte> bytes_;
};

} // namespace isolates::detail
