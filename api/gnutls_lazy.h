/* api/gnutls_lazy.h — GnuTLS for the API's own TLS checks (api_tls.c),
 * loaded when a TLS listener is configured.
 *
 * Why not link it: GnuTLS and its tree (nettle, hogweed, gmp, p11-kit,
 * tasn1, idn2, unistring, ffi) are mapped, relocated and initialised (its
 * constructor runs gnutls_global_init) at every exec of the binary, so
 * every `glassbox run`, which never serves HTTP, paid for them at each
 * sandbox start (with SQLite, ~3.5 ms of CPU: docs/benchmarks.md).
 * libmicrohttpd (mhd_lazy.h), which terminates the TLS, already loads them
 * with dlopen; api_tls.c uses the same copy through this table.  The
 * header gives the types and constants; api_tls.c includes this right
 * after the GnuTLS headers, so its code reads as plain GnuTLS.  A function
 * api_tls.c starts to use needs its line here and in gnutls_lazy.c.
 *
 * gb_gnutls_load() must succeed before any other call (api_tls_load does
 * it first; the per-request checks run only on a listener it configured).
 *
 * Ownership: the table is process-wide, loaded once, never unloaded. */
#ifndef GB_API_GNUTLS_LAZY_H
#define GB_API_GNUTLS_LAZY_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stddef.h>

struct gb_gnutls_api {
	__typeof__(gnutls_certificate_allocate_credentials) *certificate_allocate_credentials;
	__typeof__(gnutls_certificate_free_credentials) *certificate_free_credentials;
	__typeof__(gnutls_certificate_get_peers) *certificate_get_peers;
	__typeof__(gnutls_certificate_set_x509_key_mem) *certificate_set_x509_key_mem;
	__typeof__(gnutls_certificate_set_x509_trust_mem) *certificate_set_x509_trust_mem;
	__typeof__(gnutls_certificate_type_get) *certificate_type_get;
	__typeof__(gnutls_certificate_verification_status_print) *certificate_verification_status_print;
	__typeof__(gnutls_certificate_verify_peers) *certificate_verify_peers;
	__typeof__(gnutls_strerror) *strerror;
	gnutls_free_function *free; /* the library's variable gnutls_free */
};
extern struct gb_gnutls_api gb_gnutls;

/* dlopen "libgnutls.so.30" once (any thread).  0, or -1 with the reason
 * in err. */
int gb_gnutls_load(char *err, size_t errlen);

#ifndef GB_GNUTLS_LAZY_IMPL
#define gnutls_certificate_allocate_credentials (*gb_gnutls.certificate_allocate_credentials)
#define gnutls_certificate_free_credentials (*gb_gnutls.certificate_free_credentials)
#define gnutls_certificate_get_peers (*gb_gnutls.certificate_get_peers)
#define gnutls_certificate_set_x509_key_mem (*gb_gnutls.certificate_set_x509_key_mem)
#define gnutls_certificate_set_x509_trust_mem (*gb_gnutls.certificate_set_x509_trust_mem)
#define gnutls_certificate_type_get (*gb_gnutls.certificate_type_get)
#define gnutls_certificate_verification_status_print (*gb_gnutls.certificate_verification_status_print)
#define gnutls_certificate_verify_peers (*gb_gnutls.certificate_verify_peers)
#define gnutls_strerror (*gb_gnutls.strerror)
/* <gnutls/gnutls.h> makes gnutls_free(a) a macro over its variable */
#undef gnutls_free
#define gnutls_free(a) ((*gb_gnutls.free)((void *)(a)), (a) = NULL)
#endif

#endif
