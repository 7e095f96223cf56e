/* tests/unit/test_tls.c — enforcer/proxy/tls.h: the sandbox CA and its files,
 * leaves a real client verifies (SAN, chain, validity), the LRU, the
 * first-bytes classifier and the ClientHello reader under truncation and
 * corruption. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "enforcer/proxy/tls.h"

static char dir[256];

static struct gb_tls *mk(size_t cap)
{
	snprintf(dir, sizeof dir, "/tmp/gb-test-tls-%d", (int)getpid());
	char key[300];
	snprintf(key, sizeof key, "%s/ca.key", dir);
	struct gb_tls_opts o = { .dir = dir, .key_path = key, .leaf_cache = cap };
	struct gb_tls *t = NULL;
	char err[256] = "";
	int rc = gb_tls_new(&o, &t, err, sizeof err);
	if (rc < 0)
		fprintf(stderr, "gb_tls_new: %s\n", err);
	assert_int_equal(rc, 0);
	return t;
}

static void rm(struct gb_tls *t)
{
	gb_tls_free(t);
	char p[512];
	const char *f[] = { "ca.pem", "ca-bundle.pem", "ca.key" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, f[i]);
		unlink(p);
	}
	rmdir(dir);
}

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

static void test_ca_files(void **state)
{
	(void)state;
	struct gb_tls *t = mk(0);
	struct stat st;
	char p[512];
	snprintf(p, sizeof p, "%s/ca.key", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600); /* the key: owner only */
	assert_int_equal(stat(gb_tls_ca_file(t), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	X509 *ca = read_cert(gb_tls_ca_file(t));
	assert_int_equal(X509_check_ca(ca), 1);
	EVP_PKEY *k = X509_get0_pubkey(ca);
	assert_true(EVP_PKEY_is_a(k, "EC"));
	char grp[64];
	size_t gl = 0;
	assert_int_equal(EVP_PKEY_get_utf8_string_param(k, "group", grp, sizeof grp, &gl), 1);
	assert_string_equal(grp, "prime256v1");
	/* the bundle ends with the CA and starts with the system store */
	FILE *f = fopen(gb_tls_bundle_file(t), "r");
	assert_non_null(f);
	int n = 0;
	X509 *last = NULL, *x;
	while ((x = PEM_read_X509(f, NULL, NULL, NULL))) {
		X509_free(last);
		last = x;
		n++;
	}
	ERR_clear_error();
	fclose(f);
	assert_true(n > 1 || access("/etc/ssl/certs/ca-certificates.crt", R_OK) != 0);
	assert_int_equal(X509_cmp(last, ca), 0);
	X509_free(last);
	/* a second CA (another sandbox, another run) has a different key */
	struct gb_tls *t2 = mk(0);
	X509 *ca2 = read_cert(gb_tls_ca_file(t2));
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(ca), X509_get0_pubkey(ca2)), 0);
	X509_free(ca);
	X509_free(ca2);
	gb_tls_free(t);
	rm(t2);
}

/* Verify a leaf as a client would: chain to the CA file, host name. */
static int verify_leaf(struct gb_tls *t, SSL_CTX *ctx, const char *host, const char *check_name)
{
	X509 *leaf = SSL_CTX_get0_certificate(ctx);
	assert_non_null(leaf);
	X509_STORE *st = X509_STORE_new();
	assert_int_equal(X509_STORE_load_file(st, gb_tls_ca_file(t)), 1);
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	X509_STORE_CTX_init(sc, st, leaf, NULL);
	X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(sc);
	X509_VERIFY_PARAM_set_purpose(vp, X509_PURPOSE_SSL_SERVER);
	if (check_name && strchr(check_name, ':') == NULL && check_name[0] >= '0' && check_name[0] <= '9')
		X509_VERIFY_PARAM_set1_ip_asc(vp, check_name);
	else if (check_name)
		X509_VERIFY_PARAM_set1_host(vp, check_name, 0);
	int ok = X509_verify_cert(sc);
	X509_STORE_CTX_free(sc);
	X509_STORE_free(st);
	(void)host;
	return ok;
}

static void test_leaf_verifies(void **state)
{
	(void)state;
	struct gb_tls *t = mk(0);
	bool hit = true;
	SSL_CTX *c = gb_tls_leaf_ctx(t, "API.Example.test", &hit);
	assert_non_null(c);
	assert_false(hit);
	assert_int_equal(verify_leaf(t, c, "api.example.test", "api.example.test"), 1);
	/* the SAN names exactly that host: another name fails */
	assert_int_equal(verify_leaf(t, c, "api.example.test", "evil.example.test"), 0);
	X509 *leaf = SSL_CTX_get0_certificate(c);
	assert_true(X509_cmp_current_time(X509_get0_notBefore(leaf)) < 0);
	assert_true(X509_cmp_current_time(X509_get0_notAfter(leaf)) > 0);
	assert_int_equal(X509_check_ca(leaf), 0);
	SSL_CTX_free(c);
	/* IP literal: IP SAN */
	c = gb_tls_leaf_ctx(t, "198.18.0.7", NULL);
	assert_non_null(c);
	assert_int_equal(verify_leaf(t, c, NULL, "198.18.0.7"), 1);
	SSL_CTX_free(c);
	rm(t);
}

static void test_leaf_lru(void **state)
{
	(void)state;
	struct gb_tls *t = mk(2);
	bool hit;
	SSL_CTX *a = gb_tls_leaf_ctx(t, "a.test", &hit);
	SSL_CTX *b = gb_tls_leaf_ctx(t, "b.test", &hit);
	SSL_CTX *a2 = gb_tls_leaf_ctx(t, "A.TEST", &hit);
	assert_true(hit);
	assert_ptr_equal(a, a2); /* reused, not re-minted */
	/* c evicts the least recently used: b (a was just used) */
	SSL_CTX *c = gb_tls_leaf_ctx(t, "c.test", &hit);
	assert_false(hit);
	SSL_CTX *a3 = gb_tls_leaf_ctx(t, "a.test", &hit);
	assert_true(hit);
	SSL_CTX *b2 = gb_tls_leaf_ctx(t, "b.test", &hit);
	assert_false(hit);
	/* an evicted leaf stays valid for whoever still holds it */
	assert_non_null(SSL_CTX_get0_certificate(b));
	struct gb_tls_stats s;
	gb_tls_stats(t, &s);
	assert_int_equal(s.leaves_cached, 2);
	assert_int_equal(s.leaves_minted, 4);
	assert_int_equal(s.leaf_hits, 2);
	assert_int_equal(s.leaf_evictions, 2);
	SSL_CTX *all[] = { a, b, a2, c, a3, b2 };
	for (size_t i = 0; i < 6; i++)
		SSL_CTX_free(all[i]);
	assert_null(gb_tls_leaf_ctx(t, "", NULL));
	rm(t);
}

/* Four threads asking for overlapping hosts at once: the cache stays
 * bounded and consistent (the TSan build checks the locking). */
struct lt {
	struct gb_tls *t;
	int id;
	int fail;
};

static void *leaf_thread(void *arg)
{
	struct lt *a = arg;
	char h[32];
	for (int i = 0; i < 40; i++) {
		snprintf(h, sizeof h, "h%d.test", (i * 7 + a->id) % 12);
		SSL_CTX *c = gb_tls_leaf_ctx(a->t, h, NULL);
		if (!c || !SSL_CTX_get0_certificate(c))
			a->fail++;
		SSL_CTX_free(c);
	}
	return NULL;
}

static void test_leaf_threads(void **state)
{
	(void)state;
	struct gb_tls *t = mk(8);
	pthread_t th[4];
	struct lt a[4];
	for (int i = 0; i < 4; i++) {
		a[i] = (struct lt){ t, i, 0 };
		pthread_create(&th[i], NULL, leaf_thread, &a[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(a[i].fail, 0);
	}
	struct gb_tls_stats s;
	gb_tls_stats(t, &s);
	assert_true(s.leaves_cached <= 8);
	assert_int_equal(s.leaf_hits + s.leaves_minted >= 160, 1);
	rm(t);
}

static void test_classify(void **state)
{
	(void)state;
	const struct {
		const char *b;
		size_t n;
		enum gb_peek_kind k;
	} cases[] = {
		{ "\x16\x03\x01\x02\x00", 5, GB_PEEK_TLS },
		{ "\x16\x03", 2, GB_PEEK_NEED_MORE },
		{ "\x16\x03\x07", 3, GB_PEEK_OTHER },
		{ "\x16\x02\x01", 3, GB_PEEK_OTHER },
		{ "GET / HTTP/1.1\r\n", 16, GB_PEEK_HTTP1 },
		{ "POST /x?y HTTP/1.0\r\n", 20, GB_PEEK_HTTP1 },
		{ "GET /", 5, GB_PEEK_NEED_MORE },
		{ "GET / HTTP/2.0\r\n", 16, GB_PEEK_OTHER },
		{ "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24, GB_PEEK_H2C },
		{ "PRI * HTTP/2", 12, GB_PEEK_NEED_MORE },
		{ "SSH-2.0-OpenSSH_9.2\r\n", 21, GB_PEEK_OTHER },
		{ "\x00\x00\x00", 3, GB_PEEK_OTHER },
		{ " GET / HTTP/1.1", 15, GB_PEEK_OTHER },
		{ "GET /\x01 HTTP/1.1", 15, GB_PEEK_OTHER },
		/* a 24-byte method: the next byte decides, however the bytes
		 * arrive (fuzz_tls_peek: 24 bytes alone were OTHER, 28 were a
		 * request) */
		{ "222111Ek2222222222222222", 24, GB_PEEK_NEED_MORE },
		{ "222111Ek2222222222222222 s# ", 28, GB_PEEK_NEED_MORE },
		{ "222111Ek2222222222222222 / HTTP/1.1\r\n", 37, GB_PEEK_HTTP1 },
		{ "222111Ek22222222222222222", 25, GB_PEEK_OTHER },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum gb_peek_kind k = gb_tls_peek_classify((const unsigned char *)cases[i].b, cases[i].n);
		if (k != cases[i].k)
			fail_msg("case %zu (%.*s): got %d want %d", i, (int)cases[i].n, cases[i].b, k, cases[i].k);
	}
}

/* A real ClientHello from OpenSSL, through a memory BIO. */
static size_t real_hello(unsigned char *out, size_t cap, const char *sni)
{
	SSL_CTX *cc = SSL_CTX_new(TLS_client_method());
	static const unsigned char alpn[] = "\x02h2\x08http/1.1";
	SSL_CTX_set_alpn_protos(cc, alpn, sizeof alpn - 1);
	SSL *s = SSL_new(cc);
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	SSL_set_bio(s, rb, wb);
	if (sni)
		SSL_set_tlsext_host_name(s, sni);
	SSL_set_connect_state(s);
	assert_true(SSL_do_handshake(s) <= 0);
	int n = BIO_read(wb, out, (int)cap);
	assert_true(n > 0);
	SSL_free(s);
	SSL_CTX_free(cc);
	return (size_t)n;
}

static void test_client_hello(void **state)
{
	(void)state;
	unsigned char b[4096];
	size_t n = real_hello(b, sizeof b, "Api.Example.test");
	struct gb_client_hello ch;
	const char *why;
	assert_int_equal(gb_tls_parse_client_hello(b, n, &ch, &why), (int)n);
	assert_string_equal(ch.sni, "api.example.test");
	assert_true(ch.alpn_h2);
	assert_true(ch.alpn_http11);
	assert_int_equal(gb_tls_peek_classify(b, n), GB_PEEK_TLS);
	/* every truncation asks for more, never reads past the end */
	for (size_t k = 0; k < n; k++) {
		unsigned char *cut = malloc(k ? k : 1);
		memcpy(cut, b, k);
		assert_int_equal(gb_tls_parse_client_hello(cut, k, &ch, &why), 0);
		free(cut);
	}
	/* no SNI */
	size_t m = real_hello(b, sizeof b, NULL);
	assert_int_equal(gb_tls_parse_client_hello(b, m, &ch, &why), (int)m);
	assert_string_equal(ch.sni, "");
}

static void test_client_hello_malformed(void **state)
{
	(void)state;
	unsigned char b[4096];
	size_t n = real_hello(b, sizeof b, "a.test");
	struct gb_client_hello ch;
	const char *why;
	/* lengths that lie */
	unsigned char x[4096];
	memcpy(x, b, n);
	x[5] = 2; /* ServerHello, not ClientHello */
	assert_int_equal(gb_tls_parse_client_hello(x, n, &ch, &why), -EBADMSG);
	memcpy(x, b, n);
	x[8] ^= 0x01; /* handshake length off by 1 within the record */
	assert_true(gb_tls_parse_client_hello(x, n, &ch, &why) != (int)n || why == NULL);
	memcpy(x, b, n);
	x[5 + 4 + 2 + 32] = 200; /* session id length 200 */
	assert_int_equal(gb_tls_parse_client_hello(x, n, &ch, &why), -EBADMSG);
	assert_non_null(why);
	/* bounded corruption run: every byte flipped in turn, under ASan */
	unsigned seed = 1;
	for (int round = 0; round < 20000; round++) {
		memcpy(x, b, n);
		seed = seed * 1103515245u + 12345u;
		size_t pos = (seed >> 8) % n;
		x[pos] = (unsigned char)(seed >> 20);
		int rc = gb_tls_parse_client_hello(x, n, &ch, &why);
		assert_true(rc == 0 || rc == -EBADMSG || (rc > 0 && (size_t)rc <= n));
		assert_true(strlen(ch.sni) < sizeof ch.sni);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ca_files),          cmocka_unit_test(test_leaf_verifies),
		cmocka_unit_test(test_leaf_lru),          cmocka_unit_test(test_leaf_threads),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_client_hello),      cmocka_unit_test(test_client_hello_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
