#pragma once
// A benchmark program's figures: each one's value, the samples of its rounds (whose min and max
// are its spread), a note beside a figure whose sides could not do the same work, and the number
// of rounds. No isolates headers, as bench/command_line.h: shm_link_bench uses it too.

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/median.h"

namespace isolates::bench {

/// The figures of one program, written by write_json as the flat JSON object bench/run_all.sh
/// reads: "name": value for each figure, then "spread" (name: [min, max] over the rounds),
/// "notes" (name: one line) and "rounds". A figure is recorded once.
class Figures {
public:
    /// Records one sample per round under `name`: its value is their median; returns it.
    double add(const std::string& name, const std::vector<double>& samples) {
        if (samples.empty()) throw std::logic_error("no samples for figure " + name);
        samples_[name] = samples;
        rounds_ = std::max(rounds_, static_cast<int>(samples.size()));
        return values_[name] = median(samples);
    }
    /// Records `numerator` / `denominator` round by round (both recorded with add, with as many
    /// samples, taken in interleaved rounds): the median of the rounds' ratios and their spread.
    double add_ratio(const std::string& name, const std::string& numerator,
                     const std::string& denominator) {
        const auto& a = samples_.at(numerator);
        const auto& b = samples_.at(denominator);
        if (a.size() != b.size()) throw std::logic_error(name + ": unpaired rounds");
        std::vector<double> ratios;
        for (std::size_t k = 0; k < a.size(); ++k) ratios.push_back(a[k] / b[k]);
        return add(name, ratios);
    }
    /// Sets a figure that has no rounds of its own (a ratio of medians, a count): no spread.
    void set(const std::string& name, double value) { values_[name] = value; }
    /// The value of `name`; throws std::out_of_range when it was not recorded.
    double at(const std::string& name) const { return values_.at(name); }
    /// The same as at(name): figures are recorded with add, add_ratio or set, never through [].
    double operator[](const std::string& name) const { return at(name); }
    /// The value of `name`, or `otherwise` when it was not recorded.
    double get(const std::string& name, double otherwise) const {
        const auto found = values_.find(name);
        return found == values_.end() ? otherwise : found->second;
    }
    bool has(const std::string& name) const { return values_.count(name) != 0; }
    /// Says, in one line shown beside `name`, what a reader must know to compare it: what its two
    /// sides could not do alike, the language of its client, the Python it ran on.
    void note(const std::string& name, const std::string& line) { notes_[name] = line; }
    /// The note of `name`, or "".
    std::string note_of(const std::string& name) const {
        const auto found = notes_.find(name);
        return found == notes_.end() ? "" : found->second;
    }
    /// "min-max" of `name`'s rounds formatted with `spec` (e.g. "%.0f"), or "" without rounds.
    std::string spread_text(const std::string& name, const char* spec) const {
        const auto found = samples_.find(name);
        if (found == samples_.end()) return "";
        const auto [lo, hi] = std::minmax_element(found->second.begin(), found->second.end());
        char a[64], b[64];
        std::snprintf(a, sizeof a, spec, *lo);
        std::snprintf(b, sizeof b, spec, *hi);
        return std::string(a) + "-" + b;
    }
    /// The most rounds any figure was recorded with.
    int rounds() const { return rounds_; }
    /// Says how many rounds figures recorded with set() were medians of.
    void set_rounds(int rounds) { rounds_ = std::max(rounds_, rounds); }

    /// Writes the JSON object, with "python": `version`.
    void write_json(std::ostream& out, const std::string& version) const {
        out << "{\n";
        for (const auto& [key, value] : values_) out << "  " << quoted(key) << ": " << number(value) << ",\n";
        out << "  \"spread\": {";
        const char* comma = "\n";
        for (const auto& [key, xs] : samples_) {
            const auto [lo, hi] = std::minmax_element(xs.begin(), xs.end());
            out << comma << "    " << quoted(key) << ": [" << number(*lo) << ", " << number(*hi) << "]";
            comma = ",\n";
        }
        out << "\n  },\n  \"notes\": {";
        comma = "\n";
        for (const auto& [key, line] : notes_) {
            out << comma << "    " << quoted(key) << ": " << quoted(line);
            comma = ",\n";
        }
        out << "\n  },\n  \"rounds\": " << rounds_ << ",\n  \"python\": " << quoted(version) << "\n}\n";
    }

private:
    static std::string number(double x) {
        char text[64];
        std::snprintf(text, sizeof text, "%.6g", x);
        return text;
    }
    /// A JSON string (a note may quote an error message: control characters become spaces).
    static std::string quoted(const std::string& s) {
        std::string out = "\"";
        for (const char c : s) {
            if (c == '"' || c == '\\') out += '\\';
            out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
        }
        return out + "\"";
    }

    std::map<std::string, double> values_;
    std::map<std::string, std::vector<double>> samples_;
    std::map<std::string, std::string> notes_;
    int rounds_ = 0;
};

/// One measurement of an interleaved set: its figure's name and one round's run of it.
struct Run {
    std::string figure;
    std::function<double()> run;
};

/// Runs each of `runs` once per round, in turn, for `rounds` rounds (so that a noisy moment on a
/// small machine hits all of them alike rather than one), and records each one's samples.
inline void add_interleaved(Figures& figures, int rounds, const std::vector<Run>& runs) {
    std::vector<std::vector<double>> samples(runs.size());
    for (int r = 0; r < rounds; ++r)
        for (std::size_t k = 0; k < runs.size(); ++k) samples[k].push_back(runs[k].run());
    for (std::size_t k = 0; k < runs.size(); ++k) figures.add(runs[k].figure, samples[k]);
}

} // namespace isolates::bench
