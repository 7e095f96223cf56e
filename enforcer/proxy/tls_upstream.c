/* enforcer/proxy/tls_upstream.c — the proxy as a TLS client of the real
 * server.  The server is verified exactly as a careful client would: the
 * system store (plus an operator's extra CA file), the chain, and the name
 * the CONNECT asked for (SSL_set1_host: SAN DNS names with wildcard rules,
 * or the IP SAN for a literal).  Termination must never lower what the
 * client would have checked itself: a bad upstream certificate is refused
 * (the caller answers 502 with the verifier's reason).
 *
 * Sessions are resumed per server name (64 kept, oldest replaced): a fresh
 * tunnel then costs the upstream an abbreviated handshake.  A session is
 * stored only from a handshake that verified the server for that name, and
 * is offered only to a connection for the same name; a server that does not
 * know it makes a full, verified handshake. */
#include "enforcer/proxy/tls_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/log.h"

static int new_session(SSL *s, SSL_SESSION *sess)
{
	struct gb_tls *t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(s));
	const char *host = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
	if (!t || !host || strlen(host) >= sizeof t->sess[0].host || SSL_get_verify_result(s) != X509_V_OK)
		return 0; /* not kept: OpenSSL frees it */
	pthread_mutex_lock(&t->smu);
	struct tls_up_sess *slot = NULL;
	for (size_t i = 0; i < sizeof t->sess / sizeof t->sess[0] && !slot; i++)
		if (t->sess[i].sess && !strcmp(t->sess[i].host, host))
			slot = &t->sess[i];
	if (!slot) {
		slot = &t->sess[t->sess_next];
		t->sess_next = (t->sess_next + 1) % (sizeof t->sess / sizeof t->sess[0]);
	}
	SSL_SESSION_free(slot->sess);
	slot->sess = sess; /* the reference OpenSSL handed us */
	snprintf(slot->host, sizeof slot->host, "%s", host);
	pthread_mutex_unlock(&t->smu);
	return 1;
}

void tls_upstream_fini(struct gb_tls *t)
{
	for (size_t i = 0; i < sizeof t->sess / sizeof t->sess[0]; i++) {
		SSL_SESSION_free(t->sess[i].sess);
		t->sess[i].sess = NULL;
	}
}

/* Made on first use: loading the system store parses every CA in it
 * (tens of ms), which a sandbox that never makes an inspected connection
 * should not wait for at start. */
static int make_ctx(struct gb_tls *t, const char *extra_ca, char *err, size_t errlen)
{
	tls_config_apply();
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());
	if (!c) {
		snprintf(err, errlen, "upstream TLS context: out of memory");
		return -ENOMEM;
	}
	SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	if (SSL_CTX_set_default_verify_paths(c) != 1) {
		snprintf(err, errlen, "upstream TLS: the system CA store could not be loaded");
		SSL_CTX_free(c);
		return -EIO;
	}
	if (extra_ca && SSL_CTX_load_verify_locations(c, extra_ca, NULL) != 1) {
		snprintf(err, errlen, "upstream TLS: CA file %.300s could not be loaded", extra_ca);
		SSL_CTX_free(c);
		ERR_clear_error();
		return -EINVAL;
	}
	static const unsigned char h11[] = "\x08http/1.1";
	SSL_CTX_set_alpn_protos(c, h11, sizeof h11 - 1);
	SSL_CTX_set_app_data(c, t);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(c, new_session);
	t->up_ctx = c;
	return 0;
}

int tls_upstream_init(struct gb_tls *t, const char *extra_ca, char *err, size_t errlen)
{
	if (extra_ca && access(extra_ca, R_OK) < 0) {
		snprintf(err, errlen, "upstream TLS: CA file %s: %s", extra_ca, strerror(errno));
		return -errno;
	}
	snprintf(t->up_ca, sizeof t->up_ca, "%s", extra_ca ? extra_ca : "");
	return 0;
}

SSL_CTX *gb_tls_upstream_ctx(struct gb_tls *t)
{
	pthread_mutex_lock(&t->smu);
	if (!t->up_ctx) {
		char err[400];
		if (make_ctx(t, t->up_ca[0] ? t->up_ca : NULL, err, sizeof err) < 0)
			gb_log_error("proxy", "%s", err); /* tried again by the next connection */
	}
	SSL_CTX *c = t->up_ctx;
	pthread_mutex_unlock(&t->smu);
	return c;
}

SSL *gb_tls_upstream_ssl(struct gb_tls *t, int fd, const char *host)
{
	SSL_CTX *ctx = gb_tls_upstream_ctx(t);
	SSL *s = ctx ? SSL_new(ctx) : NULL;
	if (!s)
		return NULL;
	unsigned char ip[16];
	bool is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
	bool ok = SSL_set_fd(s, fd) == 1;
	if (ok && is_ip) {
		/* no SNI for literals (RFC 6066); the IP SAN is checked */
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s), host) == 1;
	} else if (ok) {
		ok = SSL_set_tlsext_host_name(s, host) == 1 && SSL_set1_host(s, host) == 1;
		SSL_set_hostflags(s, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		pthread_mutex_lock(&t->smu);
		for (size_t i = 0; ok && i < sizeof t->sess / sizeof t->sess[0]; i++)
			if (t->sess[i].sess && !strcasecmp(t->sess[i].host, host)) {
				SSL_set_session(s, t->sess[i].sess);
				break;
			}
		pthread_mutex_unlock(&t->smu);
	}
	if (!ok) {
		SSL_free(s);
		ERR_clear_error();
		return NULL;
	}
	return s;
}
