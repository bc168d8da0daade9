/* evp_refcount: why hashlib.sha256 (OpenSSL 3) does not scale across interpreters of one process.
 *
 * Each thread hashes a short message N times the way CPython's _hashopenssl does per
 * hashlib.sha256(msg).digest(): a fresh EVP_MD_CTX initialised with a fetched EVP_MD. With the
 * default library context every thread gets the SAME process-wide EVP_MD, whose reference count
 * is incremented by EVP_DigestInit_ex and decremented by EVP_MD_CTX_free (CPython adds another
 * pair for the context copy inside digest()): the cores fight over one cache line. With one
 * OSSL_LIB_CTX per thread each thread has its own EVP_MD and the same work scales.
 *
 * Not part of the build (it needs libssl-dev's headers):
 *   gcc -O2 bench/executor/evp_refcount.c -o /tmp/evp_refcount -lcrypto -lpthread
 *   /tmp/evp_refcount 2000000 2 0   # 2 threads, shared EVP_MD
 *   /tmp/evp_refcount 2000000 2 1   # 2 threads, one library context (and EVP_MD) each
 */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long hashes;
static int own_context;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void* run(void* unused) {
    (void)unused;
    OSSL_LIB_CTX* library = own_context ? OSSL_LIB_CTX_new() : NULL;
    EVP_MD* md = EVP_MD_fetch(library, "SHA256", NULL);
    const char* message = "isolates: the quick brown fox jumps over the lazy dog";
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned length;
    for (long i = 0; i < hashes; ++i) {
        EVP_MD_CTX* context = EVP_MD_CTX_new();
        EVP_DigestInit_ex(context, md, NULL);
        EVP_DigestUpdate(context, message, strlen(message));
        EVP_DigestFinal_ex(context, digest, &length);
        EVP_MD_CTX_free(context);
    }
    EVP_MD_free(md);
    OSSL_LIB_CTX_free(library);
    return NULL;
}

int main(int argc, char** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s HASHES_PER_THREAD THREADS OWN_CONTEXT(0|1)\n", argv[0]);
        return 2;
    }
    hashes = atol(argv[1]);
    int threads = atoi(argv[2]);
    own_context = atoi(argv[3]);
    if (hashes <= 0 || threads <= 0 || threads > 64) return 2;
    pthread_t ids[64];
    double start = now();
    for (int k = 0; k < threads; ++k) pthread_create(&ids[k], NULL, run, NULL);
    for (int k = 0; k < threads; ++k) pthread_join(ids[k], NULL);
    double seconds = now() - start;
    printf("%s EVP_MD, %d threads: %.0f ns per hash per thread, %.2f Mhash/s in total\n",
           own_context ? "own" : "shared", threads, seconds / hashes * 1e9,
           threads * hashes / seconds / 1e6);
    return 0;
}
