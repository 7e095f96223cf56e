/* enforcer/proxy/tls_config.c — OpenSSL's configuration file, deferred to
 * the first TLS context (tls.h gb_tls_init_deferred_config says why). */
#include "enforcer/proxy/tls_int.h"

#include <pthread.h>
#include <stdatomic.h>

#include <openssl/conf.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

static atomic_bool deferred;
static pthread_once_t once = PTHREAD_ONCE_INIT;

void gb_tls_init_deferred_config(void)
{
	/* NO_LOAD_CONFIG takes OpenSSL's own "load the config" once: from here
	 * on only tls_config_apply() loads it. */
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_NO_LOAD_CONFIG, NULL) == 1)
		atomic_store(&deferred, true);
}

static void load(void)
{
	/* What OpenSSL's default load does: $OPENSSL_CONF or the built-in path,
	 * its openssl_conf section; a missing file is no error.  A broken one
	 * is not fatal either (OpenSSL's default load ignores it as well), so
	 * the errors it queued are dropped, not left for a handshake to find. */
	if (CONF_modules_load_file(NULL, NULL, CONF_MFLAGS_DEFAULT_SECTION |
	                                       CONF_MFLAGS_IGNORE_MISSING_FILE) <= 0)
		ERR_clear_error();
}

void tls_config_apply(void)
{
	if (atomic_load(&deferred))
		pthread_once(&once, load);
}
