#pragma once
// ISOLATES_SANITIZED: 1 in AddressSanitizer and ThreadSanitizer builds; ISOLATES_ADDRESS_SANITIZED:
// 1 in AddressSanitizer builds (g++ defines __SANITIZE_*__, clang answers __has_feature). Such
// builds route CPython's allocator and our own to plain malloc, so the sanitizer sees every
// allocation.

#if defined(__SANITIZE_ADDRESS__)
#define ISOLATES_ADDRESS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ISOLATES_ADDRESS_SANITIZED 1
#endif
#endif
#ifndef ISOLATES_ADDRESS_SANITIZED
#define ISOLATES_ADDRESS_SANITIZED 0
#endif

#if ISOLATES_ADDRESS_SANITIZED || defined(__SANITIZE_THREAD__)
#define ISOLATES_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ISOLATES_SANITIZED 1
#endif
#endif
#ifndef ISOLATES_SANITIZED
#define ISOLATES_SANITIZED 0
#endif
