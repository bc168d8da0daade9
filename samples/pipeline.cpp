// pipeline: a three-stage pipeline of isolated interpreters connected by channels.
//
// C++ generates CSV-like records; interpreter 1 parses them, interpreter 2 transforms them,
// interpreter 3 aggregates them. Each stage runs on its own thread with its own GIL, so the
// stages overlap; closing a channel tells the next stage that its input is finished.
//
// usage: pipeline [records]

#include <chrono>
#include <exception>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <isolates.h>

namespace {

/// Runs `source` in a fresh interpreter on this thread and calls its `stage(inbox, outbox)`.
/// On an error it closes both channels, so that the stages around it stop instead of waiting.
isolates::Value run_stage(const char* source, isolates::Channel inbox, isolates::Channel outbox) {
    try {
        isolates::Interpreter py;
        py.exec(source);
        return py.call("__main__:stage", inbox, outbox);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "stage failed: %s\n", e.what());
        inbox.close();
        outbox.close();
        return {};
    }
}

const char* const parse = R"(
def stage(lines, records):
    # "id,city,temperature" -> (id, city, float)
    for line in lines:
        ident, city, temperature = line.split(',')
        records.send((int(ident), city, float(temperature)))
    records.close()
)";

const char* const transform = R"(
def stage(records, readings):
    # Celsius to Fahrenheit, and drop the sensor glitches.
    for ident, city, celsius in records:
        if -60.0 <= celsius <= 60.0:
            readings.send((city, celsius * 9 / 5 + 32))
    readings.close()
)";

const char* const aggregate = R"(
def stage(readings, _unused):
    stats = {}
    for city, fahrenheit in readings:
        count, total, low, high = stats.get(city, (0, 0.0, 1e9, -1e9))
        stats[city] = (count + 1, total + fahrenheit, min(low, fahrenheit), max(high, fahrenheit))
    return {city: (n, round(total / n, 2), low, high) for city, (n, total, low, high) in stats.items()}
)";

} // namespace

int main(int argc, char** argv) {
    const long records = argc > 1 ? std::atol(argv[1]) : 500'000;
    isolates::Runtime runtime;
    isolates::Channel lines(4096), parsed(4096), readings(4096), unused(1);

    const auto start = std::chrono::steady_clock::now();
    std::thread parser([&] { run_stage(parse, lines, parsed); });
    std::thread transformer([&] { run_stage(transform, parsed, readings); });
    isolates::Value result;
    std::thread aggregator([&] { result = run_stage(aggregate, readings, unused); });

    const char* const cities[] = {"Oslo", "Lima", "Pune", "Perth", "Quito"};
    try {
        for (long k = 0; k < records; ++k) {
            const double temperature = (k % 1000 == 999) ? 999.0 : double(k % 70) - 20.0 + 0.5;
            lines.send(std::to_string(k) + "," + cities[k % 5] + "," + std::to_string(temperature));
        }
    } catch (const isolates::ChannelClosed&) {
        // A stage failed and closed its input; its error is printed above.
    }
    lines.close();
    parser.join();
    transformer.join();
    aggregator.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    if (result.kind() != isolates::Kind::dict) return 1;
    std::printf("%-8s %8s %10s %8s %8s\n", "city", "count", "mean (F)", "min", "max");
    for (const auto& [city, stats] : result.dict_items())
        std::printf("%-8s %8lld %10.2f %8.1f %8.1f\n", std::string(city.as_str()).c_str(),
                    static_cast<long long>(stats[0].as_int64()), stats[1].as_double(),
                    stats[2].as_double(), stats[3].as_double());
    std::printf("\n%ld records through parse -> transform -> aggregate (3 interpreters, 3 threads) "
                "in %.3f s: %.0f records/s\n", records, seconds, records / seconds);
}
