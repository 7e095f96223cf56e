/* common/sha256.h — SHA-256 straight from OpenSSL's digest code, without
 * OpenSSL 3's provider machinery.
 *
 * Why: the first EVP digest of a process builds OpenSSL 3.0's name map (every
 * legacy cipher and digest name) and its digest method store: ~1.1 ms of CPU,
 * the largest single item of a `glassbox run` before its sandbox is cloned
 * (the policy hashes).  These functions are OpenSSL's own SHA-256 (the same
 * assembly the default provider runs), called directly; OpenSSL 3 marks that
 * interface deprecated in favour of EVP, which stays in use for everything
 * else (signatures, the CA, TLS).  Used for content hashes (policy, files,
 * executables), never for keys or signatures.
 *
 * Ownership: struct gb_sha256 lives wherever the caller puts it (no
 * allocation, nothing to free); one hash per struct, not thread-shared. */
#ifndef GB_COMMON_SHA256_H
#define GB_COMMON_SHA256_H

#include <stddef.h>

struct gb_sha256 {
	_Alignas(8) unsigned char state[128]; /* OpenSSL's SHA256_CTX (sha256.c checks the size) */
};

void gb_sha256_init(struct gb_sha256 *h);
void gb_sha256_update(struct gb_sha256 *h, const void *p, size_t n);
void gb_sha256_final(struct gb_sha256 *h, unsigned char md[32]);
/* One call: md = SHA-256(p[0..n)). */
void gb_sha256(const void *p, size_t n, unsigned char md[32]);

#endif
