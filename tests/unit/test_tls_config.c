/* tests/unit/test_tls_config.c — enforcer/proxy/tls.h
 * gb_tls_init_deferred_config: `glassbox run` initialises OpenSSL without
 * openssl.cnf (a start-speed saving) and must still apply it to the proxy's
 * TLS contexts.  Attacked: a context made after the deferral that misses the
 * system's ssl_conf settings (here MaxProtocol = TLSv1.2, which glassbox's
 * own code never sets), for the leaves and the upstream client alike; and
 * the file being read before any TLS context exists.  Its own process:
 * OpenSSL's "load the config" happens once per process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "enforcer/proxy/tls.h"

static char dir[256], cnf[300];

static void test_deferred_config_reaches_contexts(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/gb-test-tlsconf-%d", (int)getpid());
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(cnf, sizeof cnf, "%s/openssl.cnf", dir);
	FILE *f = fopen(cnf, "w");
	assert_non_null(f);
	fputs("openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sys\n"
	      "[sys]\nMaxProtocol = TLSv1.2\n", f);
	fclose(f);
	setenv("OPENSSL_CONF", cnf, 1);

	gb_tls_init_deferred_config();
	char key[400];
	snprintf(key, sizeof key, "%s/ca.key", dir);
	struct gb_tls_opts o = { .dir = dir, .key_path = key };
	struct gb_tls *t = NULL;
	char err[256] = "";
	assert_int_equal(gb_tls_new(&o, &t, err, sizeof err), 0);
	/* The file is still unread: removing it now must not matter if it was
	 * read already — so it is replaced by one that says otherwise, and the
	 * contexts must carry what this one says. */
	f = fopen(cnf, "w");
	assert_non_null(f);
	fputs("openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sys\n"
	      "[sys]\nMaxProtocol = TLSv1.3\nMinProtocol = TLSv1.3\n", f);
	fclose(f);

	SSL_CTX *leaf = gb_tls_leaf_ctx(t, "example.test", NULL);
	assert_non_null(leaf);
	assert_int_equal(SSL_CTX_get_max_proto_version(leaf), TLS1_3_VERSION);
	SSL_CTX_free(leaf);
	SSL_CTX *up = gb_tls_upstream_ctx(t);
	assert_non_null(up);
	assert_int_equal(SSL_CTX_get_max_proto_version(up), TLS1_3_VERSION);

	gb_tls_free(t);
	const char *files[] = { "ca.pem", "ca-bundle.pem", "ca.key", "openssl.cnf" };
	for (size_t i = 0; i < 4; i++) {
		char p[600];
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deferred_config_reaches_contexts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
