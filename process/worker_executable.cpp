#include <isolates/process/process_worker.h>

#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>

#include <isolates/interp/errors.h>

#ifndef ISOLATES_WORKER_NAME
#error "meson defines ISOLATES_WORKER_NAME: isolates-worker-<CPython ABI>"
#endif

namespace isolates {

std::string default_worker_executable() {
    Dl_info info{};
    // Any function of libisolates locates it; this one is in it.
    if (::dladdr(reinterpret_cast<void*>(&default_worker_executable), &info) == 0 || !info.dli_fname)
        throw UsageError("cannot locate libisolates to find " ISOLATES_WORKER_NAME
                         "; set InterpreterPoolExecutor::Options::worker_executable");
    std::error_code error;
    const std::filesystem::path library = std::filesystem::canonical(info.dli_fname, error);
    const std::filesystem::path dir = (error ? std::filesystem::path(info.dli_fname) : library).parent_path();
    const std::filesystem::path installed = dir / "isolates" / ISOLATES_WORKER_NAME;
    const std::filesystem::path built = dir / ISOLATES_WORKER_NAME;
    for (const auto& candidate : {installed, built})
        if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    throw UsageError("no process worker executable: neither " + installed.string() + " nor " +
                     built.string() + " exists; set InterpreterPoolExecutor::Options::worker_executable");
}

} // namespace isolates
