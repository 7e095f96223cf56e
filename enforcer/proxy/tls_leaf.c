/* enforcer/proxy/tls_leaf.c — leaves minted per host, in a bounded LRU.
 *
 * The leaf is for the CONNECT host the policy decided on (lower-cased), not
 * the SNI the client sends: the certificate then names exactly what was
 * allowed.  Each leaf has its own fresh P-256 key (a key per host costs
 * ~0.1 ms and keeps one leaked leaf key from serving every host).  Validity
 * starts a day back (clients with a slightly slow clock) and ends after 30
 * days, inside the CA's.  SAN is DNS:host or IP:addr (clients check the
 * SAN, never the CN).
 *
 * The cache is a hash of host -> SSL_CTX with an LRU list; when full the
 * least recently used leaf is evicted (OpenShell clears its whole cache,
 * which makes every host pay a new leaf at once).  Minting happens outside
 * the lock: two threads racing for the same new host both mint, one wins
 * the insert, the other's is dropped. */
#include "enforcer/proxy/tls_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#define LEAF_DAYS 30

struct tls_leaf {
	struct tls_leaf *hnext;        /* bucket chain */
	struct tls_leaf *prev, *next;  /* LRU */
	uint64_t hash;
	SSL_CTX *ctx;
	char host[];
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

int tls_leaf_init(struct gb_tls *t, size_t cap)
{
	t->cap = cap;
	t->n_buckets = 16;
	while (t->n_buckets < cap * 2)
		t->n_buckets *= 2;
	t->buckets = calloc(t->n_buckets, sizeof *t->buckets);
	return t->buckets ? 0 : -ENOMEM;
}

void tls_leaf_fini(struct gb_tls *t)
{
	for (struct tls_leaf *l = t->lru_head, *nx; l; l = nx) {
		nx = l->next;
		SSL_CTX_free(l->ctx);
		free(l);
	}
	t->lru_head = t->lru_tail = NULL;
	free(t->buckets);
	t->buckets = NULL;
}

static void lru_unlink(struct gb_tls *t, struct tls_leaf *l)
{
	if (l->prev)
		l->prev->next = l->next;
	else
		t->lru_head = l->next;
	if (l->next)
		l->next->prev = l->prev;
	else
		t->lru_tail = l->prev;
	l->prev = l->next = NULL;
}

static void lru_push(struct gb_tls *t, struct tls_leaf *l)
{
	l->next = t->lru_head;
	l->prev = NULL;
	if (t->lru_head)
		t->lru_head->prev = l;
	t->lru_head = l;
	if (!t->lru_tail)
		t->lru_tail = l;
}

static struct tls_leaf *find(struct gb_tls *t, const char *host, uint64_t h)
{
	for (struct tls_leaf *l = t->buckets[h & (t->n_buckets - 1)]; l; l = l->hnext)
		if (l->hash == h && !strcmp(l->host, host))
			return l;
	return NULL;
}

static void evict_tail(struct gb_tls *t)
{
	struct tls_leaf *l = t->lru_tail;
	struct tls_leaf **pp = &t->buckets[l->hash & (t->n_buckets - 1)];
	while (*pp != l)
		pp = &(*pp)->hnext;
	*pp = l->hnext;
	lru_unlink(t, l);
	SSL_CTX_free(l->ctx); /* connections holding a reference keep it alive */
	free(l);
	t->n--;
	t->evictions++;
}

static X509 *mint(struct gb_tls *t, const char *host, EVP_PKEY *key)
{
	X509 *x = X509_new();
	if (!x)
		return NULL;
	unsigned char ip[16];
	bool is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
	char san[300];
	snprintf(san, sizeof san, "%s:%s", is_ip ? "IP" : "DNS", host);
	X509_NAME *nm = X509_get_subject_name(x);
	bool ok = X509_set_version(x, 2) && tls_rand_serial(x) == 0 &&
	          X509_gmtime_adj(X509_getm_notBefore(x), -86400) &&
	          X509_gmtime_adj(X509_getm_notAfter(x), (long)LEAF_DAYS * 86400) &&
	          /* a CN longer than 64 bytes is invalid: the SAN carries the name */
	          (strlen(host) > 64 ||
	           X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)host, -1, -1, 0)) &&
	          X509_set_issuer_name(x, X509_get_subject_name(t->ca_cert)) && X509_set_pubkey(x, key) &&
	          tls_add_ext(x, t->ca_cert, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
	          tls_add_ext(x, t->ca_cert, NID_key_usage, "critical,digitalSignature") == 0 &&
	          tls_add_ext(x, t->ca_cert, NID_ext_key_usage, "serverAuth") == 0 &&
	          tls_add_ext(x, t->ca_cert, NID_subject_alt_name, san) == 0 &&
	          tls_add_ext(x, t->ca_cert, NID_authority_key_identifier, "keyid") == 0 &&
	          X509_sign(x, t->ca_key, EVP_sha256()) > 0;
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Clients are offered http/1.1 only: the proxy inspects HTTP/1.x and
 * nothing else, so a client that wanted h2 falls back instead of sending
 * frames the inspector would have to refuse. */
static int alpn_select(SSL *s, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                       unsigned inlen, void *arg)
{
	(void)s;
	(void)arg;
	static const unsigned char h11[] = "\x08http/1.1";
	unsigned char *o = NULL;
	if (SSL_select_next_proto(&o, outlen, h11, sizeof h11 - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = o;
	return SSL_TLSEXT_ERR_OK;
}

static SSL_CTX *make_ctx(struct gb_tls *t, const char *host)
{
	tls_config_apply(); /* before the first leaf's key and context */
	X509 *chain = tls_ca_chain(t);
	EVP_PKEY *key = chain ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") : NULL;
	X509 *leaf = key ? mint(t, host, key) : NULL;
	SSL_CTX *ctx = leaf ? SSL_CTX_new(TLS_server_method()) : NULL;
	bool ok = ctx && SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) &&
	          SSL_CTX_use_certificate(ctx, leaf) == 1 && SSL_CTX_use_PrivateKey(ctx, key) == 1 &&
	          SSL_CTX_add1_chain_cert(ctx, chain) == 1 && SSL_CTX_check_private_key(ctx) == 1;
	if (ok) {
		SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
		SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
		SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"glassbox", 8);
	} else {
		SSL_CTX_free(ctx);
		ctx = NULL;
		ERR_clear_error();
	}
	X509_free(leaf);
	EVP_PKEY_free(key);
	return ctx;
}

SSL_CTX *gb_tls_leaf_ctx(struct gb_tls *t, const char *host_in, bool *hit)
{
	char host[256];
	size_t n = strlen(host_in);
	if (n == 0 || n >= sizeof host)
		return NULL;
	for (size_t i = 0; i <= n; i++)
		host[i] = (char)(host_in[i] >= 'A' && host_in[i] <= 'Z' ? host_in[i] + 32 : host_in[i]);
	uint64_t h = fnv1a(host);
	pthread_mutex_lock(&t->mu);
	struct tls_leaf *l = find(t, host, h);
	if (l) {
		lru_unlink(t, l);
		lru_push(t, l);
		SSL_CTX_up_ref(l->ctx);
		t->hits++;
		SSL_CTX *c = l->ctx;
		pthread_mutex_unlock(&t->mu);
		if (hit)
			*hit = true;
		return c;
	}
	pthread_mutex_unlock(&t->mu);
	if (hit)
		*hit = false;
	SSL_CTX *ctx = make_ctx(t, host);
	if (!ctx)
		return NULL;
	struct tls_leaf *nl = malloc(sizeof *nl + n + 1);
	if (!nl)
		return ctx; /* usable, just not cached */
	memcpy(nl->host, host, n + 1);
	nl->hash = h;
	nl->ctx = ctx;
	pthread_mutex_lock(&t->mu);
	t->minted++;
	struct tls_leaf *race = find(t, host, h);
	if (race) { /* another thread minted it meanwhile: use that one */
		SSL_CTX_up_ref(race->ctx);
		SSL_CTX *c = race->ctx;
		pthread_mutex_unlock(&t->mu);
		SSL_CTX_free(ctx);
		free(nl);
		return c;
	}
	while (t->n >= t->cap)
		evict_tail(t);
	size_t b = h & (t->n_buckets - 1);
	nl->hnext = t->buckets[b];
	t->buckets[b] = nl;
	lru_push(t, nl);
	t->n++;
	SSL_CTX_up_ref(ctx); /* one for the cache, one for the caller */
	pthread_mutex_unlock(&t->mu);
	return ctx;
}

void gb_tls_stats(struct gb_tls *t, struct gb_tls_stats *s)
{
	pthread_mutex_lock(&t->mu);
	s->leaves_minted = t->minted;
	s->leaf_hits = t->hits;
	s->leaf_evictions = t->evictions;
	s->leaves_cached = t->n;
	pthread_mutex_unlock(&t->mu);
}
