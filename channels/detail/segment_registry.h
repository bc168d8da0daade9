#pragma once
// Which shared-memory segments this process holds, by name: so that a segment named again (a
// buffer decoded from the wire format, open_shared) reuses the process's one mapping of it, its
// own segments included, instead of mapping it again.

#include <memory>
#include <string>

#include "channels/detail/buffer_storage.h"

namespace isolates::detail {

/// Makes a new mapping of the segment `name`; throws UsageError when it cannot.
using MapSegment = std::shared_ptr<const BufferStorage> (*)(const std::string& name);

/// The storage of segment `name` this process holds (made here or mapped earlier) while any
/// buffer keeps it alive; otherwise `map(name)`, remembered. Thread-safe; maps outside the lock,
/// so two threads naming a new segment at once may both map it, and the later one then takes
/// the earlier one's storage. Throws what `map` throws.
std::shared_ptr<const BufferStorage> shared_segment(const std::string& name, MapSegment map);

/// Remembers `storage`, a segment this process just made, under its name(). Thread-safe.
void remember_segment(const std::shared_ptr<const BufferStorage>& storage);

} // namespace isolates::detail
