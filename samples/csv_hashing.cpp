// csv_hashing: hash every row of a generated CSV file in parallel chunks.
//
// The file is cut into byte ranges at line boundaries; InterpreterPoolExecutor::map sends each
// worker (path, start, end) only, the worker reads its own range and returns the sha256 of every
// row folded into one chunk digest; map keeps the chunks in file order, so the final checksum is
// the same for any number of workers. Compared with one interpreter doing the whole file.
//
// usage: csv_hashing [--rows N] [--chunks C] [--workers W]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <isolates.h>

namespace {

constexpr const char* chunk_source = R"(
import hashlib  # OpenSSL's sha256: scales, each worker's interpreter has its own OpenSSL context

def hash_chunk(job):
    path, start, end = job
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(end - start)
    fold = hashlib.sha256()
    rows = 0
    for line in data.splitlines():
        fold.update(hashlib.sha256(line).digest())
        rows += 1
    return rows, fold.hexdigest()

def combine(chunks):
    total = hashlib.sha256()
    for _, digest in chunks:
        total.update(bytes.fromhex(digest))
    return sum(rows for rows, _ in chunks), total.hexdigest()
)";

std::filesystem::path write_csv(long rows) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("isolates_csv_hashing_" + std::to_string(::getpid()) + ".csv");
    std::ofstream out(path, std::ios::binary);
    out << "id,name,email,amount,comment\n";
    std::uint64_t x = 88172645463325252ull; // xorshift: the same file every run
    for (long k = 0; k < rows; ++k) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        out << k << ",user" << (x % 100000) << ",user" << (x % 100000) << "@example.org,"
            << (x % 1000000) / 100.0 << ",\"row " << k << " of the generated data\"\n";
    }
    return path;
}

/// Byte ranges of about equal size that start and end on line boundaries.
std::vector<std::tuple<std::string, long long, long long>> cut(const std::filesystem::path& path,
                                                               int chunks) {
    std::ifstream in(path, std::ios::binary);
    const long long size = static_cast<long long>(std::filesystem::file_size(path));
    std::vector<std::tuple<std::string, long long, long long>> ranges;
    long long start = 0;
    for (int c = 1; c <= chunks && start < size; ++c) {
        long long end = c == chunks ? size : size * c / chunks;
        if (end < size) {
            in.seekg(end);
            std::string rest;
            std::getline(in, rest);
            end = in.eof() ? size : static_cast<long long>(in.tellg());
        }
        if (end > start) ranges.emplace_back(path.string(), start, end);
        start = end;
    }
    return ranges;
}

} // namespace

int main(int argc, char** argv) {
    long rows = 400'000;
    int chunks = 32;
    std::size_t workers = std::thread::hardware_concurrency();
    for (int k = 1; k < argc; ++k) {
        const std::string arg = argv[k];
        if (arg == "--rows" && k + 1 < argc) rows = std::atol(argv[++k]);
        else if (arg == "--chunks" && k + 1 < argc) chunks = std::atoi(argv[++k]);
        else if (arg == "--workers" && k + 1 < argc) workers = std::atoi(argv[++k]);
        else {
            std::fprintf(stderr, "usage: %s [--rows N] [--chunks C] [--workers W]\n", argv[0]);
            return 2;
        }
    }
    if (rows <= 0 || chunks <= 0 || workers == 0) {
        std::fprintf(stderr, "--rows, --chunks and --workers must be positive\n");
        return 2;
    }
    isolates::Runtime runtime;
    const auto path = write_csv(rows);
    const auto ranges = cut(path, chunks);
    std::printf("hashing %ld rows (%.1f MB) in %zu chunks, Python %s, %u cores\n\n", rows + 1,
                std::filesystem::file_size(path) / 1e6, ranges.size(),
                isolates::Runtime::python_version().c_str(), std::thread::hardware_concurrency());
    std::printf("%-34s %10s %12s  %s\n", "mode", "wall (s)", "rows/s", "checksum");

    double one = 0;
    for (std::size_t w : {std::size_t{1}, workers}) {
        isolates::InterpreterPoolExecutor::Options options;
        options.workers = w;
        options.init_source = chunk_source;
        isolates::InterpreterPoolExecutor pool(options);
        pool.wait_until_started();
        const auto start = std::chrono::steady_clock::now();
        std::vector<isolates::Value> results = pool.map("__main__:hash_chunk", ranges).get();
        const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        // Fold the chunk digests (in file order) on a worker too.
        const isolates::Value total =
            pool.submit("__main__:combine", isolates::Value::list(std::move(results))).get();
        if (w == 1) one = t;
        const std::string label = "pool of " + std::to_string(w) + " worker" + (w > 1 ? "s" : "");
        std::printf("%-34s %10.3f %12.0f  %.16s  (%lld rows, %.2fx)\n", label.c_str(), t,
                    total[0].as_int64() / t, std::string(total[1].as_str()).c_str(),
                    static_cast<long long>(total[0].as_int64()), one / t);
        if (w == workers) break;
    }
    std::filesystem::remove(path);
    return 0;
}
