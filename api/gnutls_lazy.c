/* api/gnutls_lazy.c — see gnutls_lazy.h.  This file alone sees the real
 * names. */
#define GB_GNUTLS_LAZY_IMPL
#include "api/gnutls_lazy.h"

#include <stdio.h>

#include "common/array.h"
#include "common/log.h"
#include "exporter/dl_load.h"

static struct {
	int (*allocate_credentials)(gnutls_certificate_credentials_t *);
	void (*free_credentials)(gnutls_certificate_credentials_t);
	int (*set_x509_key_mem)(gnutls_certificate_credentials_t, const gnutls_datum_t *,
	                        const gnutls_datum_t *, gnutls_x509_crt_fmt_t);
	int (*set_x509_trust_mem)(gnutls_certificate_credentials_t, const gnutls_datum_t *,
	                          gnutls_x509_crt_fmt_t);
	const char *(*strerror)(int);
	const gnutls_datum_t *(*get_peers)(gnutls_session_t, unsigned int *);
	gnutls_certificate_type_t (*type_get)(gnutls_session_t);
	int (*verify_peers)(gnutls_session_t, gnutls_typed_vdata_st *, unsigned int, unsigned int *);
	int (*status_print)(unsigned int, gnutls_certificate_type_t, gnutls_datum_t *, unsigned int);
	gnutls_free_function *free; /* the library's exported pointer */
} api;

static void load(void);
static struct gb_dl_lazy lib = GB_DL_LAZY_INIT(load);

static void load(void)
{
	const struct gb_dl_sym syms[] = {
		{ "gnutls_certificate_allocate_credentials", &api.allocate_credentials },
		{ "gnutls_certificate_free_credentials", &api.free_credentials },
		{ "gnutls_certificate_set_x509_key_mem", &api.set_x509_key_mem },
		{ "gnutls_certificate_set_x509_trust_mem", &api.set_x509_trust_mem },
		{ "gnutls_strerror", &api.strerror },
		{ "gnutls_certificate_get_peers", &api.get_peers },
		{ "gnutls_certificate_type_get", &api.type_get },
		{ "gnutls_certificate_verify_peers", &api.verify_peers },
		{ "gnutls_certificate_verification_status_print", &api.status_print },
		{ "gnutls_free", &api.free },
	};
	if (gb_dl_load("libgnutls.so.30", syms, GB_ARRAY_LEN(syms), lib.why, sizeof lib.why) == 0)
		lib.loaded = &api;
}

int gb_gnutls_loaded(char *err, size_t errlen)
{
	return gb_dl_lazy_get(&lib, err, errlen) != NULL;
}

int gb_gnutls_certificate_allocate_credentials(gnutls_certificate_credentials_t *res)
{
	char err[300];
	if (!gb_dl_lazy_get(&lib, err, sizeof err)) {
		gb_log_error("api", "%s", err);
		return GNUTLS_E_INTERNAL_ERROR;
	}
	return api.allocate_credentials(res);
}

/* The rest run only after the load (credentials were allocated, or a TLS
 * session exists: libmicrohttpd loaded the same library). */
void gb_gnutls_certificate_free_credentials(gnutls_certificate_credentials_t sc)
{
	api.free_credentials(sc);
}

int gb_gnutls_certificate_set_x509_key_mem(gnutls_certificate_credentials_t res,
                                           const gnutls_datum_t *cert, const gnutls_datum_t *key,
                                           gnutls_x509_crt_fmt_t type)
{
	return api.set_x509_key_mem(res, cert, key, type);
}

int gb_gnutls_certificate_set_x509_trust_mem(gnutls_certificate_credentials_t res,
                                             const gnutls_datum_t *ca, gnutls_x509_crt_fmt_t type)
{
	return api.set_x509_trust_mem(res, ca, type);
}

const char *gb_gnutls_strerror(int error)
{
	char err[8];
	return gb_dl_lazy_get(&lib, err, sizeof err) ? api.strerror(error) : "GnuTLS not loaded";
}

const gnutls_datum_t *gb_gnutls_certificate_get_peers(gnutls_session_t session,
                                                      unsigned int *list_size)
{
	return api.get_peers(session, list_size);
}

gnutls_certificate_type_t gb_gnutls_certificate_type_get(gnutls_session_t session)
{
	return api.type_get(session);
}

int gb_gnutls_certificate_verify_peers(gnutls_session_t session, gnutls_typed_vdata_st *data,
                                       unsigned int elements, unsigned int *status)
{
	return api.verify_peers(session, data, elements, status);
}

int gb_gnutls_certificate_verification_status_print(unsigned int status,
                                                    gnutls_certificate_type_t type,
                                                    gnutls_datum_t *out, unsigned int flags)
{
	return api.status_print(status, type, out, flags);
}

void gb_gnutls_free(void *p)
{
	(*api.free)(p);
}
