/* enforcer/sandbox/env.h — what the workload is started with: its
 * environment and the executable its argv[0] names.
 *
 * The environment starts empty, not inherited.  From the caller only the
 * allowlist passes (PATH, LANG, LANGUAGE, LC_*, TERM, COLORTERM, TZ,
 * COLUMNS, LINES, NO_COLOR); glassbox sets HOME, USER, LOGNAME; then the
 * operator's additions (every --env-file in order, then every --env:
 * NAME=VALUE sets, a bare NAME copies the caller's value when it has one);
 * last the variables glassbox forces — the proxy (HTTP_PROXY ...,
 * NO_PROXY), the trust store (SSL_CERT_FILE ...) and GLASSBOX_SANDBOX —
 * which an addition may not name (an error, not a silent override).
 *
 * Ownership: struct gb_env owns its strings and the NULL-terminated vector
 * v; gb_env_free releases both (safe on a zeroed struct).  The option
 * arrays are the caller's.
 */
#ifndef GB_ENFORCER_SANDBOX_ENV_H
#define GB_ENFORCER_SANDBOX_ENV_H

#include <stddef.h>

#include "enforcer/sandbox/privdrop.h"

struct gb_env {
	char **v; /* NAME=VALUE..., NULL-terminated once anything is set */
	size_t n, cap;
};

/* What `--env` and `--env-file` asked for. */
struct gb_env_opts {
	const char *const *args;  /* "NAME=VALUE" or "NAME" */
	size_t n_args;
	const char *const *files; /* env files: NAME=VALUE lines, '#' comments, optional "export " */
	size_t n_files;
};

/* Set (or replace) NAME=VALUE.  0 or -ENOMEM. */
int gb_env_set(struct gb_env *e, const char *name, const char *value);
void gb_env_free(struct gb_env *e);

/* One --env argument / one --env-file.  0, or negative errno with the
 * reason in err ("FILE:LINE: ..." for a file). */
int gb_env_add_arg(struct gb_env *e, const char *arg, char *err, size_t errlen);
int gb_env_add_file(struct gb_env *e, const char *path, char *err, size_t errlen);

/* The workload's environment for sandbox `name` running as `id` (see
 * above); HOME is the user's home when it exists, else workdir.  o may be
 * NULL.  0, or negative errno with the reason in err. */
int gb_env_build(struct gb_env *e, const char *name, const struct gb_ident *id,
                 const char *workdir, const struct gb_env_opts *o, char *err, size_t errlen);

/* Point the clients' trust variables (SSL_CERT_FILE, REQUESTS_CA_BUNDLE,
 * CURL_CA_BUNDLE, GIT_SSL_CAINFO, PIP_CERT, npm_config_cafile, ... -> the
 * bundle; NODE_EXTRA_CA_CERTS, DENO_CERT -> the CA file alone).  gb_env_build
 * points them at the system bundle; the supervisor calls this again once the
 * sandbox CA exists.  0 or -ENOMEM. */
int gb_env_set_trust(struct gb_env *e, const char *ca_file, const char *bundle);

/* A provider credential's placeholder (enforcer/proxy/cred.h) in variable
 * name.  A name glassbox forces, or one --env / --env-file already set, is
 * refused (the workload would not know which to use).  0, or negative
 * errno with the reason in err. */
int gb_env_set_placeholder(struct gb_env *e, const char *name, const char *placeholder, char *err,
                           size_t errlen);

/* The file execve will run for argv[0] `cmd`: a path (relative to workdir)
 * as given, else the first executable match in $PATH.  0, -ENOENT or
 * -ENAMETOOLONG. */
int gb_env_resolve_exe(const char *cmd, const char *workdir, char *out, size_t len);

#endif
