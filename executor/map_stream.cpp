#include <isolates/executor/map_stream.h>

#include "executor/detail/map_stream_state.h"

namespace isolates {

MapStream::MapStream(std::unique_ptr<detail::MapStreamState> state) : state_(std::move(state)) {}
MapStream::MapStream(MapStream&&) noexcept = default;
MapStream& MapStream::operator=(MapStream&&) noexcept = default;
MapStream::~MapStream() = default; // ~MapStreamState stops it

MapStream::iterator MapStream::begin() {
    if (state_ && !state_->over() && !started_) {
        started_ = true;
        state_->advance();
    }
    return iterator(state_.get());
}

void MapStream::cancel() noexcept {
    if (state_) state_->stop();
}

const Value& MapStream::iterator::operator*() const {
    if (!state_) throw UsageError("MapStream: dereferencing an end iterator");
    return state_->current();
}

MapStream::iterator& MapStream::iterator::operator++() {
    if (state_) state_->advance();
    return *this;
}

std::size_t MapStream::iterator::index() const {
    if (!state_) throw UsageError("MapStream: index() of an end iterator");
    return state_->index();
}

bool operator==(const MapStream::iterator& it, std::default_sentinel_t) noexcept {
    return !it.state_ || it.state_->over();
}

} // namespace isolates
