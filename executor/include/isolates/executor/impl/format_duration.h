#pragma once
// Not API: an implementation detail, installed only because a public template (Future::get_for)
// uses it; it may change in any release.
// format_duration: a limit as error messages show it ("150 ms").

#include <chrono>
#include <string>

namespace isolates::detail {

/// "2 s", "150 ms", "1500 us", "20 ns": `d` in the largest unit that shows it exactly. Any thread.
inline std::string format_duration(std::chrono::nanoseconds d) {
    using namespace std::chrono;
    const auto n = d.count();
    if (n != 0 && n % duration_cast<nanoseconds>(1s).count() == 0)
        return std::to_string(duration_cast<seconds>(d).count()) + " s";
    if (n % duration_cast<nanoseconds>(1ms).count() == 0)
        return std::to_string(duration_cast<milliseconds>(d).count()) + " ms";
    if (n % duration_cast<nanoseconds>(1us).count() == 0)
        return std::to_string(duration_cast<microseconds>(d).count()) + " us";
    return std::to_string(n) + " ns";
}

/// format_duration() of any duration, rounded up to whole nanoseconds.
template <class Rep, class Period> std::string format_duration(std::chrono::duration<Rep, Period> d) {
    return format_duration(std::chrono::ceil<std::chrono::nanoseconds>(d));
}

} // namespace isolates::detail
