/* enforcer/proxy/tls.h — TLS for HTTPS inspection: the sandbox's CA, the
 * leaves it mints per host, the first-bytes classifier and the upstream
 * client context.
 *
 *   tls_ca.c        one ephemeral CA per sandbox (ECDSA P-256, SHA-256),
 *                   written as DIR/ca.pem and DIR/ca-bundle.pem (system CAs
 *                   + the CA), both world-readable, and the key to KEY_PATH
 *                   (0600, meant for a root-only directory; the key is never
 *                   read back: the process that made it keeps it in memory)
 *   tls_leaf.c      a leaf per CONNECT host (SAN = the host, CN = the host,
 *                   1 day back-dated validity, fresh P-256 key), each in a
 *                   server SSL_CTX (ALPN http/1.1), kept in a bounded LRU
 *   tls_peek.c      what the first bytes of a tunnel are (TLS ClientHello,
 *                   HTTP/1 request line, h2c preface, other) and a strict
 *                   ClientHello reader (SNI)
 *   tls_upstream.c  the client SSL_CTX towards servers: system store plus an
 *                   optional extra CA file, peer verification, ALPN http/1.1;
 *                   per connection SNI and the hostname check
 *
 * Ownership: struct gb_tls is made once (supervisor or `glassbox proxy`),
 * borrowed by the proxy and freed after the proxy stopped.  Its functions
 * are thread-safe.  gb_tls_leaf_ctx() returns a reference the caller drops
 * with SSL_CTX_free().
 */
#ifndef GB_ENFORCER_PROXY_TLS_H
#define GB_ENFORCER_PROXY_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct gb_tls;

struct gb_tls_opts {
	const char *dir;          /* where ca.pem and ca-bundle.pem go (created 0755) */
	const char *key_path;     /* the CA key file (0600), or NULL: not written */
	const char *upstream_ca;  /* extra CA file trusted for upstream servers, or NULL */
	size_t leaf_cache;        /* LRU capacity; 0 = 256 */
	const char *system_bundle; /* NULL = the first found of the usual places */
};

/* OpenSSL for a process that starts often (`glassbox run`): initialised
 * without the system configuration file (openssl.cnf: its parse, the
 * modules it names and the error strings it loads were ~0.7 ms of every
 * sandbox start) and without the atexit cleanup.  The configuration is then
 * applied by the first TLS context this file makes (an inspected or
 * upstream connection), before any handshake, so that the system's TLS
 * settings (ssl_conf: protocol floor, cipher string) still hold for the
 * proxy.  What runs before it — the policy hash, the CA's key and
 * certificate — uses OpenSSL's built-in default provider.  Call before any
 * other OpenSSL function; without it OpenSSL loads the file as usual. */
void gb_tls_init_deferred_config(void);

/* Make the CA and write its files (an existing file is replaced).  0 or negative errno with a sentence in err. */
int gb_tls_new(const struct gb_tls_opts *o, struct gb_tls **out, char *err, size_t errlen);
void gb_tls_free(struct gb_tls *t);

/* Paths of the files the sandbox trusts. */
const char *gb_tls_ca_file(const struct gb_tls *t);
const char *gb_tls_bundle_file(const struct gb_tls *t);

/* A server context presenting a leaf for host (lower-cased, a name or an IP
 * literal).  Cached; NULL on failure.  *hit (may be NULL) says whether it
 * came from the cache. */
SSL_CTX *gb_tls_leaf_ctx(struct gb_tls *t, const char *host, bool *hit);

struct gb_tls_stats {
	uint64_t leaves_minted, leaf_hits, leaf_evictions;
	size_t leaves_cached;
};
void gb_tls_stats(struct gb_tls *t, struct gb_tls_stats *s);

/* The client context towards upstream servers (borrowed from t). */
SSL_CTX *gb_tls_upstream_ctx(struct gb_tls *t);
/* Prepare an upstream SSL on fd for host: SNI (names only) and the hostname
 * (or IP) check.  NULL on failure. */
SSL *gb_tls_upstream_ssl(struct gb_tls *t, int fd, const char *host);

/* ---- tls_peek.c ---- */

enum gb_peek_kind {
	GB_PEEK_NEED_MORE = 0, /* not enough bytes to tell */
	GB_PEEK_TLS,           /* a TLS handshake record */
	GB_PEEK_HTTP1,         /* "METHOD SP target SP HTTP/1." */
	GB_PEEK_H2C,           /* "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" */
	GB_PEEK_OTHER,
};
/* Classify the first n bytes of a tunnel. */
enum gb_peek_kind gb_tls_peek_classify(const unsigned char *b, size_t n);

struct gb_client_hello {
	char sni[256];      /* "" when absent */
	bool alpn_h2, alpn_http11;
	uint16_t legacy_version;
};
/* Read a complete ClientHello record from b[0..n).  Returns the record's
 * length (> 0) when it is complete and well-formed, 0 when more bytes are
 * needed, -EBADMSG (with *why) when it is malformed: every length is checked
 * against its container and nothing is read outside b. */
int gb_tls_parse_client_hello(const unsigned char *b, size_t n, struct gb_client_hello *ch,
                              const char **why);

#endif
