/* api/gnutls_lazy.h — GnuTLS for the API's own TLS checks (api_tls.c),
 * loaded when a TLS listener is first configured.
 *
 * Why not link it: GnuTLS brings its tree (nettle, hogweed, gmp, p11-kit,
 * tasn1, idn2, unistring, ffi) and its library constructor initialises
 * itself at every process start — ~7 ms of every `glassbox` command under
 * load (`glassbox --version`: 22 ms, 14.6 ms with GNUTLS_NO_IMPLICIT_INIT),
 * which dominated `glassbox policy set` end to end, and every `glassbox
 * run` paid it too, though neither ever speaks TLS through it.
 * libmicrohttpd (api/mhd_lazy.h), which terminates the TLS, is itself
 * loaded with dlopen and loads GnuTLS then; this table binds the same
 * library.  The header gives the types and constants; the functions
 * api_tls.c calls (nine, and gnutls_free) are renamed here to wrappers
 * that dlopen "libgnutls.so.30" on first use (gnutls_lazy.c).
 *
 * gb_gnutls_loaded() loads it and says whether it could (the reason is
 * logged); the other wrappers are reached only after it said yes, except
 * gnutls_strerror, which answers "GnuTLS not loaded" before.  A function
 * api_tls.c starts to use needs its line here (the link fails until then).
 *
 * Ownership: the table is process-wide, loaded once, never unloaded. */
#ifndef GB_API_GNUTLS_LAZY_H
#define GB_API_GNUTLS_LAZY_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

int gb_gnutls_loaded(char *err, size_t errlen);

int gb_gnutls_certificate_allocate_credentials(gnutls_certificate_credentials_t *res);
void gb_gnutls_certificate_free_credentials(gnutls_certificate_credentials_t sc);
int gb_gnutls_certificate_set_x509_key_mem(gnutls_certificate_credentials_t res,
                                           const gnutls_datum_t *cert, const gnutls_datum_t *key,
                                           gnutls_x509_crt_fmt_t type);
int gb_gnutls_certificate_set_x509_trust_mem(gnutls_certificate_credentials_t res,
                                             const gnutls_datum_t *ca, gnutls_x509_crt_fmt_t type);
const char *gb_gnutls_strerror(int error);
const gnutls_datum_t *gb_gnutls_certificate_get_peers(gnutls_session_t session,
                                                      unsigned int *list_size);
gnutls_certificate_type_t gb_gnutls_certificate_type_get(gnutls_session_t session);
int gb_gnutls_certificate_verify_peers(gnutls_session_t session, gnutls_typed_vdata_st *data,
                                       unsigned int elements, unsigned int *status);
int gb_gnutls_certificate_verification_status_print(unsigned int status,
                                                    gnutls_certificate_type_t type,
                                                    gnutls_datum_t *out, unsigned int flags);
void gb_gnutls_free(void *p);

#ifndef GB_GNUTLS_LAZY_IMPL
#define gnutls_certificate_allocate_credentials gb_gnutls_certificate_allocate_credentials
#define gnutls_certificate_free_credentials gb_gnutls_certificate_free_credentials
#define gnutls_certificate_set_x509_key_mem gb_gnutls_certificate_set_x509_key_mem
#define gnutls_certificate_set_x509_trust_mem gb_gnutls_certificate_set_x509_trust_mem
#define gnutls_strerror gb_gnutls_strerror
#define gnutls_certificate_get_peers gb_gnutls_certificate_get_peers
#define gnutls_certificate_type_get gb_gnutls_certificate_type_get
#define gnutls_certificate_verify_peers gb_gnutls_certificate_verify_peers
#define gnutls_certificate_verification_status_print gb_gnutls_certificate_verification_status_print
/* <gnutls/gnutls.h> makes gnutls_free(a) a macro over its exported
 * function pointer (and sets a to NULL); so does this */
#undef gnutls_free
#define gnutls_free(a) gb_gnutls_free((void *)(a)), a = NULL
#endif

#endif
