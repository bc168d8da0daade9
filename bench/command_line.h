#pragma once
// The command line every benchmark program takes, so bench/run_all.sh can run them all alike.
// No isolates headers: shm_link_bench links only the process layer, not libisolates.

#include <cstdio>
#include <map>
#include <optional>
#include <string>

namespace isolates::bench {

/// How much a benchmark measures: its full figures, --quick ones, or a --smoke run whose figures
/// mean nothing but prove that it runs and writes every key (bench/required_keys.txt).
enum class Mode { full, quick, smoke };

/// --json FILE --python PYTHON_EXE [--quick | --smoke], plus a program's own options.
struct CommandLine {
    std::string json_path; ///< empty: no JSON written
    std::string python;    ///< the CPython of the reference, empty when not given
    Mode mode = Mode::full;
    bool smoke() const { return mode == Mode::smoke; }
    /// What a table's title adds for this mode: "", " (--quick)" or " (--smoke: ...)".
    const char* title_note() const {
        return mode == Mode::smoke ? " (--smoke: tiny runs, the figures mean nothing)"
               : mode == Mode::quick ? " (--quick)" : "";
    }
    /// The count or repeat for this mode: `full`, `quick` or `smoke`.
    template <class T> T sized(T full, T quick, T smoke) const {
        return mode == Mode::smoke ? smoke : mode == Mode::quick ? quick : full;
    }
};

/// A program's own options that take a value: the option (e.g. "--frame") -> where its value goes.
using ExtraOptions = std::map<std::string, std::string*>;

/// Parses the common options and `extra`; on anything else prints the usage and returns
/// std::nullopt (exit with status 2). The last of --quick and --smoke wins.
inline std::optional<CommandLine> parse_command_line(int argc, char** argv,
                                                     const ExtraOptions& extra = {}) {
    CommandLine line;
    for (int k = 1; k < argc; ++k) {
        const std::string arg = argv[k];
        const bool has_value = k + 1 < argc;
        if (arg == "--json" && has_value) line.json_path = argv[++k];
        else if (arg == "--python" && has_value) line.python = argv[++k];
        else if (arg == "--quick") line.mode = Mode::quick;
        else if (arg == "--smoke") line.mode = Mode::smoke;
        else if (const auto own = extra.find(arg); own != extra.end() && has_value)
            *own->second = argv[++k];
        else {
            std::string usage = std::string("usage: ") + argv[0] +
                                " [--json FILE] [--python PYTHON_EXE] [--quick|--smoke]";
            for (const auto& [option, value] : extra) usage += " [" + option + " VALUE]";
            std::fprintf(stderr, "%s\n", usage.c_str());
            return std::nullopt;
        }
    }
    return line;
}

} // namespace isolates::bench
