// The process-wide registry of shared-memory segments by name (segment_registry.h). It holds
// weak references, so it never keeps a segment alive; entries whose storage is gone are swept
// when the table has doubled since the last sweep, so it stays proportional to live segments.

#include "channels/detail/segment_registry.h"

#include <algorithm>
#include <cstddef>
#include <mutex>
#include <unordered_map>

namespace isolates::detail {

namespace {

class SegmentRegistry {
public:
    std::shared_ptr<const BufferStorage> find(const std::string& name) {
        std::lock_guard lock(mutex_);
        const auto found = segments_.find(name);
        return found == segments_.end() ? nullptr : found->second.lock();
    }

    /// `storage`, unless a live storage of the same name got here first: then that one.
    std::shared_ptr<const BufferStorage> add(std::shared_ptr<const BufferStorage> storage) {
        std::lock_guard lock(mutex_);
        std::weak_ptr<const BufferStorage>& slot = segments_[storage->name()];
        if (auto earlier = slot.lock()) return earlier;
        slot = storage;
        if (segments_.size() >= sweep_at_) {
            std::erase_if(segments_, [](const auto& entry) { return entry.second.expired(); });
            sweep_at_ = std::max<std::size_t>(64, 2 * segments_.size());
        }
        return storage;
    }

private:
    std::mutex mutex_;
    std::unordered_map<std::string, std::weak_ptr<const BufferStorage>> segments_;
    std::size_t sweep_at_ = 64;
};

SegmentRegistry& registry() {
    // Never destroyed: threads may still make or decode buffers while the process exits.
    static SegmentRegistry* const instance = new SegmentRegistry;
    return *instance;
}

} // namespace

std::shared_ptr<const BufferStorage> shared_segment(const std::string& name, MapSegment map) {
    if (auto storage = registry().find(name)) return storage;
    return registry().add(map(name));
}

void remember_segment(const std::shared_ptr<const BufferStorage>& storage) { registry().add(storage); }

} // namespace isolates::detail
