/* api/api_tls.c — TLS and client certificates on the API's TCP listener
 * (api_int.h).
 *
 * libmicrohttpd terminates TLS itself with GnuTLS (Debian builds it so;
 * MHD_FEATURE_TLS says whether this one can), so no second TLS stack sits in
 * front of it.  Given a client CA, MHD asks every client for a certificate
 * (MHD_OPTION_HTTPS_MEM_TRUST) but does not judge it: that is done here, per
 * request, from the connection's GnuTLS session — the chain must verify
 * against that CA (time, signature, and the TLS client purpose when the
 * certificate names purposes), else the request is refused before the
 * token is even looked at.  The bearer token is still required: the
 * certificate says which machine talks, the token that it may. */
#include "api/api_int.h"

#include <errno.h>
#include <fcntl.h>
#include "api/gnutls_lazy.h" /* GnuTLS, loaded on first use */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PEM (1u << 20)

/* A whole PEM file as a NUL-terminated string.  key: the private key,
 * which must be readable by its owner only. */
static int read_pem(const char *what, const char *path, int key, char **out, char *err,
                    size_t errlen)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		snprintf(err, errlen, "API %s %s: %s", what, path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	int rc = 0;
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (size_t)st.st_size > MAX_PEM) {
		snprintf(err, errlen, "API %s %s: not a PEM file of at most 1 MiB", what, path);
		rc = -EINVAL;
	} else if (key && (st.st_mode & 077)) {
		snprintf(err, errlen, "API %s %s: readable by group or others (mode %04o): chmod 0600",
		         what, path, (unsigned)(st.st_mode & 07777));
		rc = -EPERM;
	}
	char *b = rc ? NULL : malloc((size_t)st.st_size + 1);
	if (!rc && !b)
		rc = -ENOMEM;
	size_t n = 0;
	while (!rc && n < (size_t)st.st_size) {
		ssize_t k = read(fd, b + n, (size_t)st.st_size - n);
		if (k <= 0) {
			rc = k < 0 ? -errno : -EIO;
			snprintf(err, errlen, "API %s %s: %s", what, path, strerror(-rc));
		} else
			n += (size_t)k;
	}
	close(fd);
	if (rc) {
		free(b);
		return rc;
	}
	b[n] = 0;
	if (!strstr(b, "-----BEGIN ")) {
		snprintf(err, errlen, "API %s %s: no PEM block in it", what, path);
		free(b);
		return -EINVAL;
	}
	*out = b;
	return 0;
}

int api_tls_load(struct api_tls *t, const char *cert, const char *key, const char *client_ca,
                 char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	if (!cert && !key && !client_ca)
		return 0;
	if (!cert || !key) {
		snprintf(err, errlen, "API TLS needs both a certificate and its key (--api-tls-cert, "
		         "--api-tls-key)%s", client_ca ? "; a client CA alone is not TLS" : "");
		return -EINVAL;
	}
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, errlen, "API TLS: this libmicrohttpd was built without TLS");
		return -ENOTSUP;
	}
	int rc = read_pem("TLS certificate", cert, 0, &t->cert, err, errlen);
	if (!rc)
		rc = read_pem("TLS key", key, 1, &t->key, err, errlen);
	if (!rc && client_ca)
		rc = read_pem("client CA", client_ca, 0, &t->client_ca, err, errlen);
	if (!rc) {
		/* the pair must load as GnuTLS will load it: say so now, not at
		 * the first handshake */
		gnutls_certificate_credentials_t cr;
		gnutls_datum_t c = { (unsigned char *)t->cert, (unsigned)strlen(t->cert) },
		               k = { (unsigned char *)t->key, (unsigned)strlen(t->key) };
		if (!gb_gnutls_loaded(err, errlen)) {
			rc = -ENOSYS;
		} else if (gnutls_certificate_allocate_credentials(&cr) < 0) {
			rc = -ENOMEM;
		} else {
			int g = gnutls_certificate_set_x509_key_mem(cr, &c, &k, GNUTLS_X509_FMT_PEM);
			if (g < 0) {
				snprintf(err, errlen, "API TLS: %s and %s do not load as a certificate and "
				         "its key: %s", cert, key, gnutls_strerror(g));
				rc = -EINVAL;
			}
			if (!rc && t->client_ca) {
				gnutls_datum_t a = { (unsigned char *)t->client_ca,
					             (unsigned)strlen(t->client_ca) };
				g = gnutls_certificate_set_x509_trust_mem(cr, &a, GNUTLS_X509_FMT_PEM);
				if (g <= 0) {
					snprintf(err, errlen, "API TLS: client CA %s holds no certificate (%s)",
					         client_ca, g < 0 ? gnutls_strerror(g) : "none found");
					rc = -EINVAL;
				}
			}
			gnutls_certificate_free_credentials(cr);
		}
	}
	if (rc)
		api_tls_free(t);
	else
		t->on = 1;
	return rc;
}

void api_tls_free(struct api_tls *t)
{
	if (t->key)
		memset(t->key, 0, strlen(t->key));
	free(t->key);
	free(t->cert);
	free(t->client_ca);
	memset(t, 0, sizeof *t);
}

int api_tls_client_ok(const struct api_tls *t, struct MHD_Connection *c, int *missing, char *why,
                      size_t len)
{
	*missing = 0;
	if (!t->client_ca)
		return 1;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t s = ci ? (gnutls_session_t)ci->tls_session : NULL;
	if (!s) {
		snprintf(why, len, "no TLS session");
		return 0;
	}
	unsigned n = 0;
	if (!gnutls_certificate_get_peers(s, &n) || !n) {
		*missing = 1;
		snprintf(why, len, "this listener needs a client certificate signed by its client CA");
		return 0;
	}
	if (gnutls_certificate_type_get(s) != GNUTLS_CRT_X509) {
		snprintf(why, len, "the client certificate is not X.509");
		return 0;
	}
	/* the chain against the client CA (MHD's credentials hold it), and the
	 * TLS client purpose when the certificate lists purposes */
	gnutls_typed_vdata_st want = { .type = GNUTLS_DT_KEY_PURPOSE_OID,
		                       .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT };
	unsigned status = 0;
	int g = gnutls_certificate_verify_peers(s, &want, 1, &status);
	if (g < 0) {
		snprintf(why, len, "the client certificate could not be checked: %s", gnutls_strerror(g));
		return 0;
	}
	if (status) {
		gnutls_datum_t out = { NULL, 0 };
		if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) == 0) {
			snprintf(why, len, "client certificate refused: %s", (const char *)out.data);
			gnutls_free(out.data);
		} else
			snprintf(why, len, "client certificate refused (status 0x%x)", status);
		return 0;
	}
	return 1;
}
