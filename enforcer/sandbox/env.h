/* enforcer/sandbox/env.h — what the workload is started with: its
 * environment (proxy and trust variables, identity, the caller's variables
 * minus the supervisor's own) and the executable its argv[0] names.
 *
 * Ownership: struct gb_env owns its strings and the NULL-terminated vector
 * v; gb_env_free releases both (safe on a zeroed struct).
 */
#ifndef GB_ENFORCER_SANDBOX_ENV_H
#define GB_ENFORCER_SANDBOX_ENV_H

#include <stddef.h>

#include "enforcer/sandbox/privdrop.h"

struct gb_env {
	char **v; /* NAME=VALUE..., NULL-terminated once anything is set */
	size_t n, cap;
};

/* Set (or replace) NAME=VALUE.  0 or -ENOMEM. */
int gb_env_set(struct gb_env *e, const char *name, const char *value);
void gb_env_free(struct gb_env *e);

/* The workload's environment for sandbox `name` running as `id`; HOME is
 * the user's home when it exists, else workdir.  0 or -ENOMEM. */
int gb_env_build(struct gb_env *e, const char *name, const struct gb_ident *id,
                 const char *workdir);

/* Point the clients' trust variables (SSL_CERT_FILE, REQUESTS_CA_BUNDLE,
 * CURL_CA_BUNDLE, GIT_SSL_CAINFO, PIP_CERT, npm_config_cafile, ... -> the
 * bundle; NODE_EXTRA_CA_CERTS, DENO_CERT -> the CA file alone).  gb_env_build
 * points them at the system bundle; the supervisor calls this again once the
 * sandbox CA exists.  0 or -ENOMEM. */
int gb_env_set_trust(struct gb_env *e, const char *ca_file, const char *bundle);

/* The file execve will run for argv[0] `cmd`: a path (relative to workdir)
 * as given, else the first executable match in $PATH.  0, -ENOENT or
 * -ENAMETOOLONG. */
int gb_env_resolve_exe(const char *cmd, const char *workdir, char *out, size_t len);

#endif
