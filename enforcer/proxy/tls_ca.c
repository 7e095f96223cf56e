/* enforcer/proxy/tls_ca.c — the sandbox's ephemeral CA and its files.
 *
 * One CA per sandbox start: a compromise of one sandbox's CA (it never leaves
 * the supervisor, but still) is worth nothing against another sandbox or a
 * later run.  ECDSA P-256 / SHA-256 like OpenShell's, so clients that accept
 * one accept the other.  pathlen 0: the CA signs leaves, never another CA.
 * The key is written 0600 (O_EXCL, O_NOFOLLOW) for the operator's forensics;
 * nothing reads it back. */
#include "enforcer/proxy/tls_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define CA_DAYS 365

static const char *const system_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt", /* Debian, Ubuntu, Alpine */
	"/etc/pki/tls/certs/ca-bundle.crt",   /* Fedora, RHEL */
	"/etc/ssl/ca-bundle.pem",             /* openSUSE */
	"/etc/ssl/cert.pem",
};

static void ossl_err(char *err, size_t n, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";
	if (e)
		ERR_error_string_n(e, buf, sizeof buf);
	snprintf(err, n, "%s%s%s", what, e ? ": " : "", buf);
	ERR_clear_error();
}

/* Random positive 128-bit serial (RFC 5280: unique per issuer, <= 20 bytes). */
int tls_rand_serial(X509 *x)
{
	unsigned char b[16];
	if (RAND_bytes(b, sizeof b) != 1)
		return -EIO;
	b[0] &= 0x7f;
	b[0] |= 0x01;
	BIGNUM *bn = BN_bin2bn(b, sizeof b, NULL);
	int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -ENOMEM;
}

int tls_add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!e)
		return -EINVAL;
	int ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : -ENOMEM;
}

/* The CA certificate's SubjectPublicKeyInfo from the key's encoded point:
 * id-ecPublicKey / prime256v1 and the uncompressed point, as
 * X509_set_pubkey would write it — without looking up OpenSSL 3's encoder
 * machinery, which X509_set_pubkey does at its first use (~1.2 ms of CPU
 * at every sandbox start, a twelfth of it).  Anything else: the usual way.
 * The certificate then carries no decoded key (X509_get0_pubkey is NULL):
 * the files are written from it; the leaves' chains use tls_ca_chain(),
 * decoded at the first inspected connection instead of at every start. */
static int set_pubkey(X509 *x, EVP_PKEY *key)
{
	unsigned char pt[133];
	size_t n = 0;
	X509_PUBKEY *pub = X509_get_X509_PUBKEY(x);
	if (pub && EVP_PKEY_is_a(key, "EC") &&
	    EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof pt,
	                                    &n) == 1 &&
	    n == 65 && pt[0] == 0x04) {
		char group[32];
		unsigned char *enc = OPENSSL_memdup(pt, n);
		if (enc && EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
		                                          sizeof group, NULL) == 1 &&
		    !strcmp(group, SN_X9_62_prime256v1) &&
		    X509_PUBKEY_set0_param(pub, OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
		                           OBJ_nid2obj(NID_X9_62_prime256v1), enc, (int)n) == 1)
			return 1; /* enc is the certificate's now */
		OPENSSL_free(enc);
	}
	return X509_set_pubkey(x, key);
}

X509 *tls_ca_chain(struct gb_tls *t)
{
	pthread_mutex_lock(&t->mu);
	if (!t->ca_chain) {
		unsigned char *der = NULL;
		int n = i2d_X509(t->ca_cert, &der);
		const unsigned char *p = der;
		if (n > 0)
			t->ca_chain = d2i_X509(NULL, &p, n);
		OPENSSL_free(der);
	}
	X509 *c = t->ca_chain;
	pthread_mutex_unlock(&t->mu);
	return c;
}

static X509 *make_ca(EVP_PKEY *key)
{
	X509 *x = X509_new();
	if (!x)
		return NULL;
	X509_NAME *nm = X509_get_subject_name(x);
	bool ok = X509_set_version(x, 2) && tls_rand_serial(x) == 0 &&
	          X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
	          X509_gmtime_adj(X509_getm_notAfter(x), (long)CA_DAYS * 86400) &&
	          X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC, (const unsigned char *)"glassbox", -1, -1, 0) &&
	          X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
	                                     (const unsigned char *)"glassbox sandbox CA", -1, -1, 0) &&
	          X509_set_issuer_name(x, nm) && set_pubkey(x, key) &&
	          tls_add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") == 0 &&
	          tls_add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") == 0 &&
	          tls_add_ext(x, x, NID_subject_key_identifier, "hash") == 0 &&
	          X509_sign(x, key, EVP_sha256()) > 0;
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Write through a temporary file and rename, so a reader never sees half a
 * bundle.  mode applies from creation on (the key is never world-readable,
 * not even for an instant). */
static int write_file(const char *path, mode_t mode, int (*fill)(BIO *, void *), void *arg)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	BIO *b = BIO_new_fd(fd, BIO_CLOSE);
	if (!b) {
		close(fd);
		unlink(tmp);
		return -ENOMEM;
	}
	int rc = fill(b, arg);
	if (rc == 0 && BIO_flush(b) != 1)
		rc = -EIO;
	if (rc == 0 && fchmod(fd, mode) < 0) /* umask narrowed it: the bundle must be readable */
		rc = -errno;
	BIO_free(b);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

static int fill_key(BIO *b, void *arg)
{
	return PEM_write_bio_PrivateKey(b, arg, NULL, NULL, 0, NULL, NULL) ? 0 : -EIO;
}

static int fill_cert(BIO *b, void *arg)
{
	return PEM_write_bio_X509(b, arg) ? 0 : -EIO;
}

struct bundle_arg {
	const char *system;
	X509 *ca;
};

static int fill_bundle(BIO *b, void *arg)
{
	struct bundle_arg *a = arg;
	if (a->system) {
		FILE *f = fopen(a->system, "re");
		if (!f)
			return -errno;
		char buf[65536];
		size_t n;
		bool nl = true;
		while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
			if (BIO_write(b, buf, (int)n) != (int)n) {
				fclose(f);
				return -EIO;
			}
			nl = buf[n - 1] == '\n';
		}
		fclose(f);
		if (!nl)
			BIO_write(b, "\n", 1);
	}
	BIO_puts(b, "# glassbox sandbox CA\n");
	return fill_cert(b, a->ca);
}

int gb_tls_new(const struct gb_tls_opts *o, struct gb_tls **out, char *err, size_t errlen)
{
	*out = NULL;
	struct gb_tls *t = calloc(1, sizeof *t);
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&t->mu, NULL);
	pthread_mutex_init(&t->smu, NULL);
	int rc = -EINVAL;
	if (snprintf(t->ca_path, sizeof t->ca_path, "%s/ca.pem", o->dir) >= (int)sizeof t->ca_path ||
	    snprintf(t->bundle_path, sizeof t->bundle_path, "%s/ca-bundle.pem", o->dir) >=
	            (int)sizeof t->bundle_path ||
	    snprintf(t->key_path, sizeof t->key_path, "%s", o->key_path ? o->key_path : "") >=
	            (int)sizeof t->key_path) {
		snprintf(err, errlen, "CA directory path too long");
		rc = -ENAMETOOLONG;
		goto fail;
	}
	if (mkdir(o->dir, 0755) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "CA directory %s: %s", o->dir, strerror(errno));
		goto fail;
	}
	t->ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!t->ca_key) {
		ossl_err(err, errlen, "CA key generation failed");
		goto fail;
	}
	t->ca_cert = make_ca(t->ca_key);
	if (!t->ca_cert) {
		ossl_err(err, errlen, "CA certificate failed");
		goto fail;
	}
	const char *sys = o->system_bundle;
	for (size_t i = 0; !sys && i < sizeof system_bundles / sizeof system_bundles[0]; i++)
		if (access(system_bundles[i], R_OK) == 0)
			sys = system_bundles[i];
	struct bundle_arg ba = { .system = sys, .ca = t->ca_cert };
	if ((t->key_path[0] && (rc = write_file(t->key_path, 0600, fill_key, t->ca_key)) < 0) ||
	    (rc = write_file(t->ca_path, 0644, fill_cert, t->ca_cert)) < 0 ||
	    (rc = write_file(t->bundle_path, 0644, fill_bundle, &ba)) < 0) {
		snprintf(err, errlen, "writing the CA files (%s, %s): %s", o->dir,
		         t->key_path[0] ? t->key_path : "no key file", strerror(-rc));
		goto fail;
	}
	if ((rc = tls_leaf_init(t, o->leaf_cache ? o->leaf_cache : 256)) < 0) {
		snprintf(err, errlen, "leaf cache: %s", strerror(-rc));
		goto fail;
	}
	if ((rc = tls_upstream_init(t, o->upstream_ca, err, errlen)) < 0)
		goto fail;
	*out = t;
	return 0;
fail:
	gb_tls_free(t);
	return rc < 0 ? rc : -EINVAL;
}

void gb_tls_free(struct gb_tls *t)
{
	if (!t)
		return;
	tls_leaf_fini(t);
	tls_upstream_fini(t);
	SSL_CTX_free(t->up_ctx);
	X509_free(t->ca_cert);
	X509_free(t->ca_chain);
	EVP_PKEY_free(t->ca_key);
	pthread_mutex_destroy(&t->mu);
	pthread_mutex_destroy(&t->smu);
	free(t);
}

const char *gb_tls_ca_file(const struct gb_tls *t)
{
	return t->ca_path;
}

const char *gb_tls_bundle_file(const struct gb_tls *t)
{
	return t->bundle_path;
}
