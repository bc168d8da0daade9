#pragma once
// The libcrypto (OpenSSL 3) that CPython's _hashlib uses, found at run time: libisolates does not
// link OpenSSL, so a CPython without it, or with an OpenSSL older than 3, still works (the
// interpreters then share OpenSSL's process-wide state, as they always did).

#include <string>

namespace isolates::detail {

struct OsslLibCtx; // OpenSSL's OSSL_LIB_CTX, only ever handled by pointer

/// The few libcrypto functions the library uses, with OpenSSL 3's signatures.
struct Libcrypto {
    OsslLibCtx* (*lib_ctx_new)();                           // OSSL_LIB_CTX_new
    void (*lib_ctx_free)(OsslLibCtx*);                      // OSSL_LIB_CTX_free
    OsslLibCtx* (*lib_ctx_set0_default)(OsslLibCtx*);       // OSSL_LIB_CTX_set0_default:
                                                            // nullptr only returns the current
    int (*conf_modules_load_file_ex)(OsslLibCtx*, const char* file, const char* appname,
                                     unsigned long flags);  // CONF_modules_load_file_ex
    int (*err_set_mark)();                                  // ERR_set_mark
    int (*err_pop_to_mark)();                               // ERR_pop_to_mark
    void* handle;  ///< for symbol(): _hashlib's dlopen handle, which sees its dependencies
    std::string path; ///< the file libcrypto was loaded from, for messages

    /// Another function of that libcrypto (dlsym through _hashlib's dependencies), or nullptr.
    void* symbol(const char* name) const noexcept;
};

/// Main interpreter attached (Runtime start), once per process: finds the file of CPython's
/// _hashlib through importlib without importing it, and resolves the functions above in the
/// libcrypto it is linked against. Never throws; when that fails, libcrypto() stays nullptr and
/// libcrypto_missing() says why.
void find_libcrypto() noexcept;

/// The libcrypto found by find_libcrypto(), or nullptr (not found, not OpenSSL 3, not looked for
/// yet). Any thread; the result does not change once a Runtime has started.
const Libcrypto* libcrypto() noexcept;

/// Why libcrypto() is nullptr ("" when it is not).
const std::string& libcrypto_missing() noexcept;

} // namespace isolates::detail
