#pragma once
// What every benchmark program needs besides its measurements: its command line
// (bench/command_line.h), medians (bench/median.h), its figures with their spread over the rounds
// (bench/figures.h), running a CPython reference as a subprocess, reading its flat JSON, and
// writing the figures for bench/run_all.sh.

#include <cstdio>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <isolates.h>

#include "bench/command_line.h"
#include "bench/figures.h"
#include "bench/median.h"

namespace isolates::bench {

/// What a shell command printed on stdout, and its status (pclose's: 0 when it succeeded).
struct CommandResult {
    int status;
    std::string out;
};

/// Runs a shell command to its end; throws only when it cannot be started.
inline CommandResult try_command(const std::string& command) {
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) throw std::runtime_error("cannot run " + command);
    std::string out;
    char buffer[4096];
    while (std::size_t got = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, got);
    return {pclose(pipe), out};
}

/// Runs a shell command and returns its stdout; throws when it cannot run or fails.
inline std::string run_command(const std::string& command) {
    CommandResult result = try_command(command);
    if (result.status != 0) throw std::runtime_error("failed: " + command);
    return std::move(result.out);
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

/// Writes `figures` and "python": `version` as one JSON object (Figures::write_json); false when
/// it cannot.
inline bool write_figures(const std::string& path, const Figures& figures, const std::string& version) {
    std::ofstream out(path);
    figures.write_json(out, version);
    return static_cast<bool>(out);
}

/// Writes medians computed elsewhere (no spread), over `rounds` rounds; false when it cannot.
inline bool write_figures(const std::string& path, const std::map<std::string, double>& values,
                          const std::string& version, int rounds) {
    Figures figures;
    for (const auto& [name, value] : values) figures.set(name, value);
    figures.set_rounds(rounds);
    return write_figures(path, figures, version);
}

} // namespace isolates::bench
