// plugin_scoring: Python plugins running on the pool call back into the C++ program.
//
// The program exposes its scoring cache as the host module `scoring` (isolates::HostModule):
// `scoring.score(word)` returns the cached score of a word or computes it in C++ and caches it.
// The cache is one C++ object for the whole process, so a score computed for a plugin in one
// worker's interpreter is a cache hit for every other plugin in every other interpreter. The
// plugins are plain Python, loaded into each worker by its initializer; each ranks documents its
// own way. Prints the ranking of each plugin and what the shared cache saw.
//
// usage: plugin_scoring

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <isolates.h>

namespace {

/// The program's own state: scores of words, shared by every interpreter. Host functions run
/// concurrently on the workers' threads, so it guards itself.
class ScoreCache {
public:
    double score(const std::string& word) {
        {
            std::shared_lock read(mutex_);
            if (auto it = scores_.find(word); it != scores_.end()) {
                hits_.fetch_add(1, std::memory_order_relaxed);
                return it->second;
            }
        }
        misses_.fetch_add(1, std::memory_order_relaxed);
        const double computed = compute(word);
        std::unique_lock write(mutex_);
        return scores_.try_emplace(word, computed).first->second;
    }
    std::map<std::string, std::int64_t> stats() const {
        std::shared_lock read(mutex_);
        return {{"entries", static_cast<std::int64_t>(scores_.size())},
                {"hits", hits_.load()},
                {"misses", misses_.load()}};
    }

private:
    /// Stands in for the expensive part (a model, a lookup service): vowels weigh more.
    static double compute(const std::string& word) {
        double s = 0;
        for (char c : word) s += std::string_view("aeiou").find(c) != std::string_view::npos ? 2.0 : 1.0;
        return s / static_cast<double>(word.size() + 1);
    }

    mutable std::shared_mutex mutex_;
    std::unordered_map<std::string, double> scores_;
    std::atomic<std::int64_t> hits_{0};
    std::atomic<std::int64_t> misses_{0};
};

ScoreCache cache;

// Registered before main() makes the Runtime: every interpreter can `import scoring`.
const bool registered = [] {
    isolates::HostModule("scoring", "The host program's shared word scores.")
        .def("score", [](const std::string& word) { return cache.score(word); },
             "The score of a word, computed once per process and cached.", isolates::arg("word"))
        .def("stats", [] { return cache.stats(); }, "Entries, hits and misses of the cache.")
        .register_module();
    return true;
}();

// The plugins: what users of the host program write, in Python.
constexpr const char* plugins = R"(
import scoring

def by_total(doc):
    return sum(scoring.score(w) for w in doc.split())

def by_best_word(doc):
    return max(scoring.score(w) for w in doc.split())

def by_mean(doc, weight=1.0):
    words = doc.split()
    return weight * sum(scoring.score(w) for w in words) / len(words)
)";

} // namespace

int main() {
    isolates::Runtime runtime;
    const std::vector<std::string> documents = {
        "the quick brown fox jumps over the lazy dog",
        "an idea is a seed and every seed wants a garden",
        "rhythm myths try crypts",
        "audio queue aeon eerie ouija",
        "the lazy dog sleeps and the quick fox runs away",
    };
    isolates::InterpreterPoolExecutor::Options options;
    options.workers = 2;
    options.init_source = plugins;
    isolates::InterpreterPoolExecutor pool(options);

    for (const char* plugin : {"by_total", "by_best_word", "by_mean"}) {
        std::vector<isolates::Future<isolates::Value>> ranks;
        for (const std::string& doc : documents)
            ranks.push_back(pool.submit(std::string("__main__:") + plugin, doc));
        std::printf("%s\n", plugin);
        for (std::size_t k = 0; k < documents.size(); ++k)
            std::printf("  %6.3f  %s\n", ranks[k].get().as_double(), documents[k].c_str());
    }
    // Asked from Python, in a worker, like any other host function.
    const auto stats = pool.submit("scoring:stats").get().as<std::map<std::string, std::int64_t>>();
    std::printf("shared cache: %lld words, %lld hits, %lld misses (a word is computed only when "
                "no interpreter asked for it before)\n",
                static_cast<long long>(stats.at("entries")), static_cast<long long>(stats.at("hits")),
                static_cast<long long>(stats.at("misses")));
}
