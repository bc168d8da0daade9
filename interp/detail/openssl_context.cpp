#include "interp/detail/openssl_context.h"

#include <atomic>
#include <mutex>

namespace isolates::detail {

namespace {
std::atomic<std::size_t> live_contexts{0}; // a statistic: relaxed is enough

// CONF_modules_load_file_ex's flags (openssl/conf.h), as OpenSSL loads the default context's
// configuration (DEFAULT_CONF_MFLAGS in crypto/conf/conf_sap.c): the "openssl_conf" section, a
// missing file is no error, nor a module that fails (unless the file asks for diagnostics).
constexpr unsigned long conf_mflags_ignore_return_codes = 0x2;
constexpr unsigned long conf_mflags_ignore_missing_file = 0x10;
constexpr unsigned long conf_mflags_default_section = 0x20;
constexpr unsigned long default_conf_mflags = conf_mflags_default_section |
                                              conf_mflags_ignore_missing_file |
                                              conf_mflags_ignore_return_codes;

// Loading a configuration runs OpenSSL's configuration modules, some of which keep process-wide
// tables (OpenSSL 3.0 rebuilds its ssl_conf table on every load): our loads take turns.
std::mutex loading;
} // namespace

OpenSslContext OpenSslContext::make() noexcept {
    const Libcrypto* crypto = libcrypto();
    if (!crypto) return {};
    std::lock_guard turn(loading);
    OsslLibCtx* context = crypto->lib_ctx_new();
    if (!context) return {};
    // The file and section OpenSSL's own initialisation reads: a null file name means
    // CONF_get1_default_config_file(), i.e. $OPENSSL_CONF or OPENSSLDIR/openssl.cnf. A failure
    // leaves errors on this thread's queue, which _hashlib would later report as its own.
    crypto->err_set_mark();
    const int loaded = crypto->conf_modules_load_file_ex(context, nullptr, nullptr,
                                                          default_conf_mflags);
    crypto->err_pop_to_mark();
    if (loaded <= 0) {
        crypto->lib_ctx_free(context);
        return {};
    }
    live_contexts.fetch_add(1, std::memory_order_relaxed);
    return OpenSslContext(context);
}

OpenSslContext::~OpenSslContext() {
    if (!context_) return;
    libcrypto()->lib_ctx_free(context_);
    live_contexts.fetch_sub(1, std::memory_order_relaxed);
}

OsslLibCtx* OpenSslContext::make_default() const noexcept {
    return context_ ? libcrypto()->lib_ctx_set0_default(context_) : nullptr;
}

void OpenSslContext::restore_default(OsslLibCtx* previous) noexcept {
    // OSSL_LIB_CTX_set0_default returned the global default when the thread had none of its
    // own; setting that one back clears the thread's own again.
    if (previous) libcrypto()->lib_ctx_set0_default(previous);
}

std::size_t OpenSslContext::live() noexcept {
    return live_contexts.load(std::memory_order_relaxed);
}

} // namespace isolates::detail
