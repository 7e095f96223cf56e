/* api/gnutls_lazy.c — see gnutls_lazy.h.  This file alone sees the real names. */
#define GB_GNUTLS_LAZY_IMPL
#include "api/gnutls_lazy.h"

#include <string.h>

#include "common/array.h"
#include "exporter/dl_load.h"

struct gb_gnutls_api gb_gnutls;

static void load(void);
static struct gb_dl_lazy lib = GB_DL_LAZY_INIT(load);

static void load(void)
{
	struct gb_gnutls_api *a = &gb_gnutls;
	gnutls_free_function *free_var = NULL;
	const struct gb_dl_sym syms[] = {
		{ "gnutls_certificate_allocate_credentials", &a->certificate_allocate_credentials },
		{ "gnutls_certificate_free_credentials", &a->certificate_free_credentials },
		{ "gnutls_certificate_get_peers", &a->certificate_get_peers },
		{ "gnutls_certificate_set_x509_key_mem", &a->certificate_set_x509_key_mem },
		{ "gnutls_certificate_set_x509_trust_mem", &a->certificate_set_x509_trust_mem },
		{ "gnutls_certificate_type_get", &a->certificate_type_get },
		{ "gnutls_certificate_verification_status_print",
		  &a->certificate_verification_status_print },
		{ "gnutls_certificate_verify_peers", &a->certificate_verify_peers },
		{ "gnutls_strerror", &a->strerror },
		{ "gnutls_free", &free_var }, /* a variable: its address */
	};
	if (gb_dl_load("libgnutls.so.30", syms, GB_ARRAY_LEN(syms), lib.why, sizeof lib.why) == 0) {
		a->free = free_var;
		lib.loaded = a;
	}
}

int gb_gnutls_load(char *err, size_t errlen)
{
	return gb_dl_lazy_get(&lib, err, errlen) ? 0 : -1;
}
