#pragma once
// What this process holds that leaked process workers would grow: open file descriptors, memory
// mappings (those of shared-memory segments among them) and the shared-memory segments it made.
// A test takes it before and after many worker replacements and compares.

#include <unistd.h>

#include <cstddef>
#include <iterator>
#include <filesystem>
#include <fstream>
#include <string>

namespace isolates::testing {

struct ProcessResources {
    std::size_t descriptors = 0;      // entries of /proc/self/fd
    std::size_t mappings = 0;         // lines of /proc/self/maps
    std::size_t segment_mappings = 0; // of them, mappings of /dev/shm files
    std::size_t segments = 0;         // /dev/shm entries named isolates-<this pid>-*
    bool operator==(const ProcessResources&) const = default;
};

/// This process's resources now (reads /proc and /dev/shm).
inline ProcessResources process_resources() {
    namespace fs = std::filesystem;
    ProcessResources now;
    now.descriptors = static_cast<std::size_t>(
        std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator{}));
    std::ifstream maps("/proc/self/maps");
    for (std::string line; std::getline(maps, line);) {
        ++now.mappings;
        if (line.find("/dev/shm/") != std::string::npos) ++now.segment_mappings;
    }
    const std::string own = "isolates-" + std::to_string(::getpid()) + "-";
    for (const auto& entry : fs::directory_iterator("/dev/shm"))
        if (entry.path().filename().string().starts_with(own)) ++now.segments;
    return now;
}

/// "12 descriptors, 340 mappings (2 of segments), 1 segment".
inline std::string describe(const ProcessResources& r) {
    return std::to_string(r.descriptors) + " descriptors, " + std::to_string(r.mappings) +
           " mappings (" + std::to_string(r.segment_mappings) + " of segments), " +
           std::to_string(r.segments) + " segments";
}

} // namespace isolates::testing
