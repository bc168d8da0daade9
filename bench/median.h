#pragma once
// The statistic every benchmark reports. No isolates headers, as bench/command_line.h.

#include <algorithm>
#include <vector>

namespace isolates::bench {

/// The median of `v` (the mean of the two middle ones for an even count); `v` must not be empty.
inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const auto n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

} // namespace isolates::bench
