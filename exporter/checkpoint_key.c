/* exporter/checkpoint_key.c — the host's journal signing key (Ed25519,
 * OpenSSL 3): created once, kept 0600, its public half printable.
 * Contract: checkpoint.h. */
#include "exporter/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/paths.h"

static int read_pem(const char *path, bool priv, EVP_PKEY **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		int e = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-e));
		return e;
	}
	EVP_PKEY *k = priv ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (!priv) {
		k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
		if (!k) { /* a private key file holds the public key too */
			rewind(f);
			k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		}
	}
	fclose(f);
	if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(k);
		snprintf(err, errlen, "%s: not an Ed25519 %s key in PEM", path, priv ? "private" : "public");
		return -EBADMSG;
	}
	*out = k;
	return 0;
}

/* PEM of k (private or public) into a memory buffer, then atomically to
 * path with mode: a crash leaves no half-written key. */
static int write_pem(const char *path, EVP_PKEY *k, bool priv, mode_t mode)
{
	BIO *b = BIO_new(BIO_s_mem());
	if (!b)
		return -ENOMEM;
	int ok = priv ? PEM_write_bio_PKCS8PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)
	              : PEM_write_bio_PUBKEY(b, k);
	char *data = NULL;
	long len = BIO_get_mem_data(b, &data);
	int rc = ok && len > 0 ? gb_write_file_atomic(path, data, (size_t)len, mode, 0) : -EIO;
	BIO_free(b);
	return rc;
}

int gb_ckpt_key_load_or_create(const char *keys_dir, EVP_PKEY **out, char *err, size_t errlen)
{
	char kp[GB_PATH_MAX], pp[GB_PATH_MAX];
	*out = NULL;
	if (gb_path_join(kp, sizeof kp, keys_dir, GB_CKPT_KEY_FILE) < 0 ||
	    gb_path_join(pp, sizeof pp, keys_dir, GB_CKPT_PUB_FILE) < 0) {
		snprintf(err, errlen, "%s: path too long", keys_dir);
		return -ENAMETOOLONG;
	}
	int rc = gb_mkdir_p(keys_dir, 0755, 0700);
	if (rc < 0) {
		snprintf(err, errlen, "creating %s: %s", keys_dir, strerror(-rc));
		return rc;
	}
	struct stat st;
	if (stat(kp, &st) == 0) {
		/* A key others can read signs nothing worth trusting. */
		if (st.st_mode & 077) {
			snprintf(err, errlen, "%s: mode %03o, must not be readable by group or others",
			         kp, (unsigned)(st.st_mode & 0777));
			return -EPERM;
		}
		if ((rc = read_pem(kp, true, out, err, errlen)) < 0)
			return rc;
		if (access(pp, F_OK) < 0) /* the public half is derived, so restorable */
			write_pem(pp, *out, false, 0644);
		return 0;
	}
	if (errno != ENOENT) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", kp, strerror(-rc));
		return rc;
	}
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!k) {
		snprintf(err, errlen, "cannot generate an Ed25519 key");
		return -EIO;
	}
	if ((rc = write_pem(kp, k, true, 0600)) < 0 || (rc = write_pem(pp, k, false, 0644)) < 0) {
		snprintf(err, errlen, "writing %s: %s", keys_dir, strerror(-rc));
		EVP_PKEY_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

int gb_ckpt_pub_load(const char *path, EVP_PKEY **out, char *err, size_t errlen)
{
	*out = NULL;
	return read_pem(path, false, out, err, errlen);
}

int gb_ckpt_key_id(EVP_PKEY *k, char id[17])
{
	unsigned char raw[32], d[EVP_MAX_MD_SIZE];
	size_t n = sizeof raw;
	unsigned dl = 0;
	id[0] = 0;
	if (!EVP_PKEY_get_raw_public_key(k, raw, &n) || !EVP_Digest(raw, n, d, &dl, EVP_sha256(), NULL))
		return -EINVAL;
	gb_hex(d, 8, id);
	return 0;
}

int gb_ckpt_pub_pem(EVP_PKEY *k, struct gb_buf *out)
{
	BIO *b = BIO_new(BIO_s_mem());
	if (!b)
		return -ENOMEM;
	char *data = NULL;
	long len = PEM_write_bio_PUBKEY(b, k) ? BIO_get_mem_data(b, &data) : 0;
	if (len > 0)
		gb_buf_append(out, data, (size_t)len);
	int rc = len <= 0 ? -EIO : out->err ? out->err : 0;
	BIO_free(b);
	return rc;
}
