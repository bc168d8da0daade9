#pragma once
// One OpenSSL 3 library context per interpreter. With OpenSSL's default context every
// interpreter of the process fetches the same EVP_MD for sha256, and every hash takes and drops
// references on it: one atomic counter that all cores fight over (README, "hashlib.sha256 across
// interpreters"). A context of its own gives each interpreter its own EVP_MD. CPython's _hashlib
// and _ssl use "the default context", which OpenSSL keeps per thread, so an interpreter's
// context is made the default of its thread whenever that interpreter runs there.

#include <cstddef>
#include <utility>

#include "interp/detail/libcrypto.h"

namespace isolates::detail {

/// Owns one OSSL_LIB_CTX made for one interpreter, or none (the thread's default is then used,
/// as without isolates). Move-only.
class OpenSslContext {
public:
    /// None.
    OpenSslContext() noexcept = default;
    /// A new context loaded with the configuration OpenSSL's default one reads (openssl.cnf or
    /// $OPENSSL_CONF, so providers such as FIPS behave the same), or none when libcrypto() is
    /// missing or the configuration does not load. Any thread; the thread's error queue is left
    /// as it was.
    static OpenSslContext make() noexcept;
    /// Frees the context; by then it is no thread's default and nothing made from it is alive.
    ~OpenSslContext();
    OpenSslContext(OpenSslContext&& other) noexcept
        : context_(std::exchange(other.context_, nullptr)) {}
    OpenSslContext& operator=(OpenSslContext&& other) noexcept {
        std::swap(context_, other.context_); // `other` frees what this held
        return *this;
    }
    OpenSslContext(const OpenSslContext&) = delete;
    OpenSslContext& operator=(const OpenSslContext&) = delete;

    explicit operator bool() const noexcept { return context_ != nullptr; }
    OsslLibCtx* get() const noexcept { return context_; }

    /// Makes this context the calling thread's default and returns the default it replaced, for
    /// restore_default(); with none, changes nothing and returns nullptr. Cheap (a thread-local).
    OsslLibCtx* make_default() const noexcept;
    /// Puts back what make_default() returned (nothing for nullptr).
    static void restore_default(OsslLibCtx* previous) noexcept;

    /// Contexts made by make() and not yet freed, in the whole process (for tests).
    static std::size_t live() noexcept;

private:
    explicit OpenSslContext(OsslLibCtx* context) noexcept : context_(context) {}
    OsslLibCtx* context_ = nullptr;
};

/// For one scope, makes `context` the calling thread's default (nothing when it is none), then
/// puts the previous default back. Scopes nest.
class OpenSslDefault {
public:
    explicit OpenSslDefault(const OpenSslContext& context) noexcept
        : previous_(context.make_default()) {}
    ~OpenSslDefault() { OpenSslContext::restore_default(previous_); }
    OpenSslDefault(const OpenSslDefault&) = delete;
    OpenSslDefault& operator=(const OpenSslDefault&) = delete;

private:
    OsslLibCtx* previous_;
};

} // namespace isolates::detail
