/* enforcer/proxy/tls_int.h — struct gb_tls, shared by tls_ca.c, tls_leaf.c
 * and tls_upstream.c only (not a contract: see tls.h). */
#ifndef GB_ENFORCER_PROXY_TLS_INT_H
#define GB_ENFORCER_PROXY_TLS_INT_H

#include <pthread.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "enforcer/proxy/tls.h"

struct tls_leaf; /* tls_ca.c: certificate helpers shared with tls_leaf.c */
int tls_rand_serial(X509 *x);
int tls_add_ext(X509 *x, X509 *issuer, int nid, const char *value);
/* tls_leaf.c */

struct gb_tls {
	EVP_PKEY *ca_key;
	X509 *ca_cert;  /* as made: its public key is not decoded (tls_ca.c set_pubkey) */
	X509 *ca_chain; /* the same certificate decoded, for the leaves' chains: made on
	                 * first use (tls_ca_chain), under mu */
	char ca_path[4096], bundle_path[4096], key_path[4096];
	SSL_CTX *up_ctx;          /* made on first use (tls_upstream.c), under smu */
	char up_ca[4096];

	pthread_mutex_t mu; /* the leaf cache */
	size_t cap, n;
	struct tls_leaf **buckets;
	size_t n_buckets;
	struct tls_leaf *lru_head, *lru_tail; /* head = most recently used */
	uint64_t minted, hits, evictions;

	/* upstream sessions by server name (tls_upstream.c) */
	pthread_mutex_t smu;
	struct tls_up_sess {
		char host[256];
		SSL_SESSION *sess;
	} sess[64];
	size_t sess_next;
	uint64_t resumed;
};

/* tls_ca.c: certificate helpers shared with tls_leaf.c */
int tls_rand_serial(X509 *x);
int tls_add_ext(X509 *x, X509 *issuer, int nid, const char *value);
/* The CA certificate with its public key decoded (OpenSSL's chain and
 * security checks need it), made once; NULL when out of memory.  Borrowed. */
X509 *tls_ca_chain(struct gb_tls *t);
/* tls_leaf.c */
int tls_leaf_init(struct gb_tls *t, size_t cap);
void tls_leaf_fini(struct gb_tls *t);
/* tls_config.c: the configuration file, when gb_tls_init_deferred_config()
 * deferred it; called before every SSL_CTX_new (once, thread-safe). */
void tls_config_apply(void);
/* tls_upstream.c */
int tls_upstream_init(struct gb_tls *t, const char *extra_ca, char *err, size_t errlen);
void tls_upstream_fini(struct gb_tls *t);

#endif
