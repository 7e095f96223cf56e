/* common/sha256.c — see sha256.h.  The deprecation of OpenSSL's low-level
 * SHA-256 calls is silenced here only: sha256.h says why they are used. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "common/sha256.h"

#include <openssl/sha.h>

_Static_assert(sizeof(SHA256_CTX) <= sizeof(((struct gb_sha256 *)0)->state),
               "struct gb_sha256 holds a SHA256_CTX");
_Static_assert(_Alignof(SHA256_CTX) <= 8, "struct gb_sha256 is aligned for a SHA256_CTX");

void gb_sha256_init(struct gb_sha256 *h)
{
	SHA256_Init((SHA256_CTX *)h->state);
}

void gb_sha256_update(struct gb_sha256 *h, const void *p, size_t n)
{
	SHA256_Update((SHA256_CTX *)h->state, p, n);
}

void gb_sha256_final(struct gb_sha256 *h, unsigned char md[32])
{
	SHA256_Final(md, (SHA256_CTX *)h->state);
}

void gb_sha256(const void *p, size_t n, unsigned char md[32])
{
	struct gb_sha256 h;
	gb_sha256_init(&h);
	gb_sha256_update(&h, p, n);
	gb_sha256_final(&h, md);
}
