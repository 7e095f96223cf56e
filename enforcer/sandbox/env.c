/* enforcer/sandbox/env.c — see env.h. */
#include "enforcer/sandbox/env.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/array.h"
#include "enforcer/sandbox/netns.h"

extern char **environ;

#define PROXY_URL "http://" GB_PROXY_ADDR ":3128"

static const char *const ca_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt", /* Debian, Ubuntu, Alpine */
	"/etc/pki/tls/certs/ca-bundle.crt",   /* Fedora, RHEL */
	"/etc/ssl/ca-bundle.pem",             /* openSUSE */
	"/etc/ssl/cert.pem",
};



int gb_env_set(struct gb_env *e, const char *k, const char *val)
{
	size_t kl = strlen(k);
	for (size_t i = 0; i < e->n; i++)
		if (!strncmp(e->v[i], k, kl) && e->v[i][kl] == '=') {
			free(e->v[i]);
			e->v[i] = e->v[--e->n];
			break;
		}
	if (e->n + 2 > e->cap) {
		size_t nc = e->cap ? e->cap * 2 : 64;
		char **nv = realloc(e->v, nc * sizeof *nv);
		if (!nv)
			return -ENOMEM;
		e->v = nv;
		e->cap = nc;
	}
	size_t len = kl + strlen(val) + 2;
	char *s = malloc(len);
	if (!s)
		return -ENOMEM;
	snprintf(s, len, "%s=%s", k, val);
	e->v[e->n++] = s;
	e->v[e->n] = NULL;
	return 0;
}

void gb_env_free(struct gb_env *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
}

/* Clients that replace their trust store read the bundle (system CAs + the
 * sandbox CA); Node and Deno add to their built-in store and read the CA
 * alone (the bundle there would duplicate their own store at every start). */
static const char *const bundle_vars[] = {
	"SSL_CERT_FILE",      /* OpenSSL: python ssl, curl's OpenSSL, git, wget, ruby */
	"REQUESTS_CA_BUNDLE", /* python requests */
	"CURL_CA_BUNDLE",     /* curl */
	"GIT_SSL_CAINFO",     /* git */
	"PIP_CERT",           /* pip (vendored requests ignores SSL_CERT_FILE) */
	"npm_config_cafile",  /* npm: replaces its CA list, so the whole bundle */
	"AWS_CA_BUNDLE",      /* AWS CLI and SDKs */
	"CARGO_HTTP_CAINFO",  /* cargo */
	"HTTPLIB2_CA_CERTS",  /* httplib2 */
	"CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE", /* gcloud */
	"GRPC_DEFAULT_SSL_ROOTS_FILE_PATH",   /* gRPC */
	"NIX_SSL_CERT_FILE",  /* nix-built programs */
};
static const char *const ca_vars[] = {
	"NODE_EXTRA_CA_CERTS", /* node: added to its built-in roots */
	"DENO_CERT",           /* deno */
};

int gb_env_set_trust(struct gb_env *e, const char *ca_file, const char *bundle)
{
	int rc = 0;
	for (size_t i = 0; i < sizeof bundle_vars / sizeof bundle_vars[0] && rc == 0; i++)
		rc = gb_env_set(e, bundle_vars[i], bundle);
	for (size_t i = 0; i < sizeof ca_vars / sizeof ca_vars[0] && rc == 0; i++)
		rc = gb_env_set(e, ca_vars[i], ca_file);
	return rc;
}

int gb_env_build(struct gb_env *e, const char *name, const struct gb_ident *id,
                     const char *workdir)
{
	int rc = 0;
	for (char **p = environ; *p && rc == 0; p++) {
		char *eq = strchr(*p, '=');
		if (!eq || !strncmp(*p, "GLASSBOX_", 9))
			continue; /* supervisor-only settings stay outside */
		char k[256];
		size_t kl = (size_t)(eq - *p);
		if (kl >= sizeof k)
			continue;
		memcpy(k, *p, kl);
		k[kl] = 0;
		rc = gb_env_set(e, k, eq + 1);
	}
	static const char *const proxy_vars[] = { "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
		                                      "http_proxy", "https_proxy", "all_proxy" };
	for (size_t i = 0; i < GB_ARRAY_LEN(proxy_vars) && rc == 0; i++)
		rc = gb_env_set(e, proxy_vars[i], PROXY_URL);
	if (rc == 0)
		rc = gb_env_set(e, "NO_PROXY", "localhost,127.0.0.1");
	if (rc == 0)
		rc = gb_env_set(e, "no_proxy", "localhost,127.0.0.1");
	const char *bundle = NULL;
	for (size_t i = 0; i < GB_ARRAY_LEN(ca_bundles) && !bundle; i++)
		if (access(ca_bundles[i], R_OK) == 0)
			bundle = ca_bundles[i];
	if (bundle && rc == 0) /* until the sandbox CA exists (gb_env_set_trust) */
		rc = gb_env_set_trust(e, bundle, bundle);
	struct stat st;
	const char *home = stat(id->home, &st) == 0 && S_ISDIR(st.st_mode) ? id->home : workdir;
	if (rc == 0)
		rc = gb_env_set(e, "HOME", home);
	if (rc == 0)
		rc = gb_env_set(e, "USER", id->user);
	if (rc == 0)
		rc = gb_env_set(e, "LOGNAME", id->user);
	if (rc == 0)
		rc = gb_env_set(e, "GLASSBOX_SANDBOX", name);
	return rc;
}

/* ---- CMD resolution (what execve in the sandbox will run) ---- */

static int is_exec_file(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

int gb_env_resolve_exe(const char *cmd, const char *workdir, char *out, size_t len)
{
	if (strchr(cmd, '/')) {
		int n = cmd[0] == '/' ? snprintf(out, len, "%s", cmd)
		                      : snprintf(out, len, "%s/%s", workdir, cmd);
		if (n < 0 || (size_t)n >= len)
			return -ENAMETOOLONG;
		return access(out, F_OK) == 0 ? 0 : -ENOENT;
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *c = strchr(path, ':');
		size_t dl = c ? (size_t)(c - path) : strlen(path);
		int n = snprintf(out, len, "%.*s/%s", (int)dl, dl ? path : ".", cmd);
		if (n > 0 && (size_t)n < len && is_exec_file(out))
			return 0;
		path += dl + (c ? 1 : 0);
	}
	return -ENOENT;
}

