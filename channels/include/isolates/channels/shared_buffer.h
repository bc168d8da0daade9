#pragma once
/// SharedBuffer: an immutable byte buffer shared between threads, interpreters and (optionally)
/// processes without copying. In C++ it is a span of const bytes; in Python it arrives as a
/// read-only memoryview that keeps the bytes alive as long as the receiver holds it, even after
/// the sender and its interpreter are gone.
///
/// In-process buffers are allocated with mimalloc. Shared-memory buffers live in a POSIX
/// shared-memory segment (Boost.Interprocess) that another process can map by name; the
/// segment is created owner-only (0600) with an unguessable name, removed when the last user in
/// the creating process lets go, and swept by the next creator if its creator process died.

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <typeinfo>

#include <isolates/interp/value.h>

namespace isolates {

namespace detail {
class BufferView;
} // namespace detail

class SharedBuffer {
public:
    /// Where the bytes live.
    enum class Storage : unsigned char { process, shared_memory };

    /// An empty buffer.
    SharedBuffer();
    /// A copy of `bytes` (the only copy ever made). Any thread.
    static SharedBuffer copy_of(std::span<const std::byte> bytes, Storage storage = Storage::process);
    static SharedBuffer copy_of(std::string_view bytes, Storage storage = Storage::process);
    /// A buffer of `size` bytes that `fill` writes exactly once, before anyone can see them.
    static SharedBuffer build(std::size_t size, const std::function<void(std::span<std::byte>)>& fill,
                              Storage storage = Storage::process);
    /// Maps a segment made by another process, read-only, by its name(); a segment this process
    /// holds already (made here or mapped before) is not mapped again: the buffer shares that
    /// storage. Thread-safe. Throws UsageError when it does not exist or cannot be mapped.
    static SharedBuffer open_shared(const std::string& name);

    std::span<const std::byte> bytes() const noexcept;
    const std::byte* data() const noexcept { return bytes().data(); }
    std::size_t size() const noexcept { return bytes().size(); }
    Storage storage() const noexcept;
    /// The shared-memory segment's name (for open_shared in another process); empty in-process.
    const std::string& name() const noexcept;
    /// `length` bytes from `offset`, sharing the same storage; throws std::out_of_range.
    SharedBuffer slice(std::size_t offset, std::size_t length) const;

    // --- As a native Value (isolates/interp/native.h) ---------------------------------------------------
    /// The Shareable a Value made from this buffer holds.
    std::shared_ptr<const Shareable> shareable() const noexcept;
    /// The buffer that `object` is, when it came from shareable(); nullopt for any other type.
    static std::optional<SharedBuffer> from_shareable(const std::shared_ptr<const Shareable>& object);
    /// The dynamic type of every shareable(), the key for register_to_python_hook.
    static const std::type_info& shareable_type() noexcept;

private:
    explicit SharedBuffer(std::shared_ptr<const detail::BufferView> view) noexcept
        : view_(std::move(view)) {}
    std::shared_ptr<const detail::BufferView> view_;
};

template <> struct Convert<SharedBuffer> {
    static Value to_value(const SharedBuffer& buffer);
    /// Throws ConversionError when the Value is not a SharedBuffer.
    static SharedBuffer from_value(const Value& value);
};

} // namespace isolates
