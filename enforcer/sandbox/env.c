/* enforcer/sandbox/env.c — see env.h. */
#include "enforcer/sandbox/env.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/array.h"
#include "common/paths.h"
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

/* What the caller's environment may pass on by itself: locale, terminal,
 * time zone and the search path.  Everything else (credentials, agent
 * sockets, tokens) stays outside unless --env / --env-file names it. */
static const char *const allow_exact[] = { "PATH", "LANG", "LANGUAGE", "TERM", "COLORTERM",
	                                       "TZ", "COLUMNS", "LINES", "NO_COLOR" };

static int allowed(const char *k, size_t kl)
{
	if (kl > 3 && !strncmp(k, "LC_", 3))
		return 1;
	for (size_t i = 0; i < sizeof allow_exact / sizeof allow_exact[0]; i++)
		if (strlen(allow_exact[i]) == kl && !strncmp(k, allow_exact[i], kl))
			return 1;
	return 0;
}

static int name_valid(const char *k, size_t kl)
{
	if (kl == 0 || kl > 255 || (k[0] >= '0' && k[0] <= '9'))
		return 0;
	for (size_t i = 0; i < kl; i++) {
		char c = k[i];
		if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}

/* The variables glassbox sets itself: an --env of one of them is refused,
 * so the workload can never be pointed at another proxy or trust store. */
static const char *const forced[] = {
	"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
	"NO_PROXY", "no_proxy", "GLASSBOX_SANDBOX",
};

static int name_is(const char *k, size_t kl, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(v[i]) == kl && !strncmp(k, v[i], kl))
			return 1;
	return 0;
}

/* The proxy variables, GLASSBOX_SANDBOX and every trust variable
 * gb_env_set_trust() sets (bundle_vars, ca_vars above). */
static int is_forced(const char *k, size_t kl)
{
	return name_is(k, kl, forced, GB_ARRAY_LEN(forced)) ||
	       name_is(k, kl, bundle_vars, GB_ARRAY_LEN(bundle_vars)) ||
	       name_is(k, kl, ca_vars, GB_ARRAY_LEN(ca_vars));
}

/* NAME=VALUE sets, NAME alone copies the caller's value (absent: nothing). */
static int add_one(struct gb_env *e, const char *s, size_t len, const char *where, char *err,
                   size_t errlen)
{
	const char *eq = memchr(s, '=', len);
	size_t kl = eq ? (size_t)(eq - s) : len;
	char k[256];
	if (!name_valid(s, kl)) {
		snprintf(err, errlen, "%s: '%.*s' is not a variable name (letters, digits, _)", where,
		         (int)(kl > 64 ? 64 : kl), s);
		return -EINVAL;
	}
	if (is_forced(s, kl)) {
		snprintf(err, errlen, "%s: %.*s is set by glassbox and cannot be overridden", where,
		         (int)kl, s);
		return -EPERM;
	}
	memcpy(k, s, kl);
	k[kl] = 0;
	if (!eq) {
		const char *v = getenv(k);
		return v ? gb_env_set(e, k, v) : 0;
	}
	size_t vl = len - kl - 1;
	char *v = malloc(vl + 1);
	if (!v)
		return -ENOMEM;
	memcpy(v, eq + 1, vl);
	v[vl] = 0;
	int rc = gb_env_set(e, k, v);
	free(v);
	return rc;
}

int gb_env_add_arg(struct gb_env *e, const char *arg, char *err, size_t errlen)
{
	return add_one(e, arg, strlen(arg), "--env", err, errlen);
}

int gb_env_add_file(struct gb_env *e, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		int rc = -errno;
		snprintf(err, errlen, "--env-file %s: %s", path, strerror(errno));
		return rc;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	int rc = 0;
	while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		const char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			continue;
		if (!strncmp(s, "export ", 7))
			s += 7;
		char where[4200];
		snprintf(where, sizeof where, "%s:%u", path, lineno);
		if (!strchr(s, '=')) {
			snprintf(err, errlen, "%s: expected NAME=VALUE", where);
			rc = -EINVAL;
			break;
		}
		rc = add_one(e, s, strlen(s), where, err, errlen);
	}
	free(line);
	fclose(f);
	return rc;
}

int gb_env_build(struct gb_env *e, const char *name, const struct gb_ident *id,
                 const char *workdir, const struct gb_env_opts *o, char *err, size_t errlen)
{
	int rc = 0;
	snprintf(err, errlen, "out of memory");
	for (char **p = environ; *p && rc == 0; p++) {
		char *eq = strchr(*p, '=');
		if (!eq || !allowed(*p, (size_t)(eq - *p)))
			continue;
		char k[256];
		size_t kl = (size_t)(eq - *p);
		memcpy(k, *p, kl);
		k[kl] = 0;
		rc = gb_env_set(e, k, eq + 1);
	}
	if (rc == 0 && !getenv("PATH"))
		rc = gb_env_set(e, "PATH", "/usr/local/bin:/usr/bin:/bin");
	struct stat st;
	const char *home = stat(id->home, &st) == 0 && S_ISDIR(st.st_mode) ? id->home : workdir;
	if (rc == 0)
		rc = gb_env_set(e, "HOME", home);
	if (rc == 0)
		rc = gb_env_set(e, "USER", id->user);
	if (rc == 0)
		rc = gb_env_set(e, "LOGNAME", id->user);
	if (rc < 0)
		return rc;
	/* The operator's additions: files first, then --env (later wins). */
	for (size_t i = 0; o && i < o->n_files; i++)
		if ((rc = gb_env_add_file(e, o->files[i], err, errlen)) < 0)
			return rc;
	for (size_t i = 0; o && i < o->n_args; i++)
		if ((rc = gb_env_add_arg(e, o->args[i], err, errlen)) < 0)
			return rc;
	snprintf(err, errlen, "out of memory");
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
	if (rc == 0)
		rc = gb_env_set(e, "GLASSBOX_SANDBOX", name);
	if (rc == 0 && errlen)
		err[0] = 0;
	return rc;
}

int gb_env_set_placeholder(struct gb_env *e, const char *name, const char *placeholder, char *err,
                           size_t errlen)
{
	size_t kl = strlen(name);
	if (!name_valid(name, kl) || is_forced(name, kl)) {
		snprintf(err, errlen, "credential variable %s: %s", name,
		         is_forced(name, kl) ? "set by glassbox itself" : "not a variable name");
		return -EINVAL;
	}
	for (size_t i = 0; i < e->n; i++)
		if (!strncmp(e->v[i], name, kl) && e->v[i][kl] == '=') {
			snprintf(err, errlen, "credential variable %s is also set by --env/--env-file or "
			         "the caller's environment; drop one of them", name);
			return -EEXIST;
		}
	return gb_env_set(e, name, placeholder);
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
		/* Normalised ("./probe" is WORKDIR/probe, not WORKDIR/./probe):
		 * this path is the process path every record of the run names. */
		int n = cmd[0] == '/' ? gb_path_norm(out, len, cmd) : gb_path_join(out, len, workdir, cmd);
		if (n < 0)
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

