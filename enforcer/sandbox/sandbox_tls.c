/* enforcer/sandbox/sandbox_tls.c — see sandbox_tls.h. */
#include "enforcer/sandbox/sandbox_tls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "enforcer/proxy/tls.h"

static int mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int rc = mkdir(path, 0755);
		*p = '/';
		if (rc < 0 && errno != EEXIST)
			return -errno;
	}
	return mkdir(path, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

/* The CA could not be made after the trust variables were set: both files
 * become copies of the system bundle, so the sandbox's clients trust what
 * they would without glassbox (as when no CA directory exists at all). */
static void system_store(struct gb_sbx_out *ev)
{
	static const char *const sys[] = { "/etc/ssl/certs/ca-certificates.crt",
		                               "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/ca-bundle.pem" };
	for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++) {
		FILE *f = fopen(sys[i], "rb");
		if (!f)
			continue;
		static char buf[4 << 20]; /* Debian's bundle is ~220 KB */
		size_t n = fread(buf, 1, sizeof buf, f);
		fclose(f);
		char p[4300];
		snprintf(p, sizeof p, "%s/ca-bundle.pem", ev->tls_dir);
		gb_write_file_atomic(p, buf, n, 0644, GB_ATOMIC_NO_FSYNC);
		snprintf(p, sizeof p, "%s/ca.pem", ev->tls_dir);
		gb_write_file_atomic(p, buf, n, 0644, GB_ATOMIC_NO_FSYNC);
		return;
	}
}

int gb_sbx_tls_prepare(struct gb_sbx_out *ev, const char *root, const char *name, struct gb_env *env,
                       char *err, size_t errlen)
{
	int n = snprintf(ev->tls_dir, sizeof ev->tls_dir, "%s/run/glassbox/ca/%s",
	                 root && strcmp(root, "/") ? root : "", name);
	char ca[4200], bundle[4200];
	if (n < 0 || (size_t)n >= sizeof ev->tls_dir ||
	    snprintf(ca, sizeof ca, "%s/ca.pem", ev->tls_dir) >= (int)sizeof ca ||
	    snprintf(bundle, sizeof bundle, "%s/ca-bundle.pem", ev->tls_dir) >= (int)sizeof bundle) {
		ev->tls_dir[0] = '\0';
		snprintf(err, errlen, "CA path too long");
		return -ENAMETOOLONG;
	}
	int rc = mkdirs(ev->tls_dir);
	if (rc < 0) {
		snprintf(err, errlen, "CA directory %s: %s", ev->tls_dir, strerror(-rc));
		ev->tls_dir[0] = '\0';
		return rc;
	}
	/* the names gb_tls_new() writes (tls.h gb_tls_ca_file, gb_tls_bundle_file) */
	rc = gb_env_set_trust(env, ca, bundle);
	if (rc < 0) {
		snprintf(err, errlen, "out of memory");
		gb_sbx_tls_stop(ev);
	}
	return rc;
}

int gb_sbx_tls_start(struct gb_sbx_out *ev, const struct gb_statedir *sd, const char *upstream_ca,
                     char *err, size_t errlen)
{
	char key[4200];
	if (!ev->tls_dir[0]) {
		snprintf(err, errlen, "no CA directory");
		return -ENOENT;
	}
	if (gb_statedir_file(sd, "ca.key", key, sizeof key) < 0) {
		snprintf(err, errlen, "CA path too long");
		return -ENAMETOOLONG;
	}
	struct gb_tls_opts o = { .dir = ev->tls_dir, .key_path = key, .upstream_ca = upstream_ca };
	int rc = gb_tls_new(&o, &ev->tls, err, errlen);
	if (rc < 0)
		system_store(ev);
	return rc;
}

void gb_sbx_tls_stop(struct gb_sbx_out *ev)
{
	gb_tls_free(ev->tls);
	ev->tls = NULL;
	if (!ev->tls_dir[0])
		return;
	static const char *const files[] = { "ca.pem", "ca-bundle.pem" };
	char p[4300];
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", ev->tls_dir, files[i]);
		unlink(p);
	}
	rmdir(ev->tls_dir);
	ev->tls_dir[0] = '\0';
}
