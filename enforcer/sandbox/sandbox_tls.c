/* enforcer/sandbox/sandbox_tls.c — see sandbox_tls.h. */
#include "enforcer/sandbox/sandbox_tls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int gb_sbx_tls_start(struct gb_sbx_out *ev, const char *root, const struct gb_statedir *sd,
                     const char *name, const char *upstream_ca, struct gb_env *env, char *err,
                     size_t errlen)
{
	char key[4200];
	int n = snprintf(ev->tls_dir, sizeof ev->tls_dir, "%s/run/glassbox/ca/%s",
	                 root && strcmp(root, "/") ? root : "", name);
	if (n < 0 || (size_t)n >= sizeof ev->tls_dir || gb_statedir_file(sd, "ca.key", key, sizeof key) < 0) {
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
	struct gb_tls_opts o = { .dir = ev->tls_dir, .key_path = key, .upstream_ca = upstream_ca };
	rc = gb_tls_new(&o, &ev->tls, err, errlen);
	if (rc < 0) {
		gb_sbx_tls_stop(ev);
		return rc;
	}
	rc = gb_env_set_trust(env, gb_tls_ca_file(ev->tls), gb_tls_bundle_file(ev->tls));
	if (rc < 0)
		snprintf(err, errlen, "out of memory");
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
