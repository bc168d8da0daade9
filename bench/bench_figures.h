#pragma once
// What every benchmark program needs besides its measurements: medians, running a CPython
// reference as a subprocess, reading its flat JSON, and writing the figures for bench/run_all.sh.

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <isolates.h>

namespace isolates::bench {

/// The command line every benchmark takes: --json FILE --python PYTHON_EXE [--quick].
struct CommandLine {
    std::string json_path; ///< empty: no JSON written
    std::string python;    ///< the CPython of the reference, empty when not given
    bool quick = false;
};
/// Parses it; on anything else prints the usage and returns std::nullopt (exit with status 2).
inline std::optional<CommandLine> parse_command_line(int argc, char** argv) {
    CommandLine line;
    for (int k = 1; k < argc; ++k) {
        const std::string arg = argv[k];
        if (arg == "--json" && k + 1 < argc) line.json_path = argv[++k];
        else if (arg == "--python" && k + 1 < argc) line.python = argv[++k];
        else if (arg == "--quick") line.quick = true;
        else {
            std::fprintf(stderr, "usage: %s --json FILE --python PYTHON_EXE [--quick]\n", argv[0]);
            return std::nullopt;
        }
    }
    return line;
}

/// The median of `v` (the mean of the two middle ones for an even count).
inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const auto n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// Runs a shell command and returns its stdout; throws when it cannot run or fails.
inline std::string run_command(const std::string& command) {
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) throw std::runtime_error("cannot run " + command);
    std::string out;
    char buffer[4096];
    while (std::size_t got = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, got);
    if (pclose(pipe) != 0) throw std::runtime_error("failed: " + command);
    return out;
}

/// A flat JSON object of numbers, parsed with the embedded Python itself (a Runtime must live).
inline std::map<std::string, double> parse_flat_json(const std::string& text) {
    Interpreter in;
    const Value items = in.call("json:loads", text); // outlives the loop over its items
    std::map<std::string, double> out;
    for (const auto& [key, value] : items.dict_items())
        out[std::string(key.as_str())] = value.as_double();
    return out;
}

/// Writes `figures` and "python": `version` as one flat JSON object; false when it cannot.
inline bool write_figures(const std::string& path, const std::map<std::string, double>& figures,
                          const std::string& version) {
    std::ofstream out(path);
    out << "{\n";
    char number[64];
    for (const auto& [key, value] : figures) {
        std::snprintf(number, sizeof number, "%.6g", value);
        out << "  \"" << key << "\": " << number << ",\n";
    }
    out << "  \"python\": \"" << version << "\"\n}\n";
    return static_cast<bool>(out);
}

} // namespace isolates::bench
