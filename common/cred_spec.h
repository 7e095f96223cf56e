/* common/cred_spec.h — a provider credential as the operator names it: a
 * name, the host file that holds the secret, the hosts it may be sent to and
 * the environment variable the sandbox gets a placeholder in.
 *
 * Written in the daemon config (`credentials:`, exporter/config.c) or per
 * run (`glassbox run --credential NAME[:VAR]=FILE@HOST[:PORT][,HOST[:PORT]...]`);
 * loaded and enforced by the proxy (enforcer/proxy/cred.h).  This header is
 * only the description and its syntax checks, so the config loader (which
 * does not link the proxy) reports errors at the line they are on.
 *
 *   name   1-63 of [A-Za-z0-9_-], starting with a letter or '_'
 *   env    a variable name ([A-Za-z_][A-Za-z0-9_]*, 1-127); default: name
 *          when that is one, else NAME upper-cased with '-' -> '_'
 *   hosts  "HOST[:PORT]": an exact DNS name or "*." + a name (any name
 *          ending in ".name", one or more labels); PORT 1-65535, default 443
 *
 * Ownership: plain fixed-size data, copied freely.
 */
#ifndef GB_COMMON_CRED_SPEC_H
#define GB_COMMON_CRED_SPEC_H

#include <stddef.h>
#include <stdint.h>

#define GB_CRED_MAX 16        /* credentials per sandbox */
#define GB_CRED_MAX_HOSTS 16  /* bound hosts per credential */
#define GB_CRED_NAME_MAX 64
#define GB_CRED_ENV_MAX 128
#define GB_CRED_FILE_MAX 1024

struct gb_cred_host {
	char glob[256]; /* lower-cased; "*.example.com" or "api.example.com" */
	uint16_t port;
};

struct gb_cred_spec {
	char name[GB_CRED_NAME_MAX];
	char env[GB_CRED_ENV_MAX];
	char file[GB_CRED_FILE_MAX];
	struct gb_cred_host hosts[GB_CRED_MAX_HOSTS];
	size_t n_hosts;
};

/* Syntax checks; each returns 0 or -EINVAL with the reason in err. */
int gb_cred_name_check(const char *name, char *err, size_t errlen);
int gb_cred_env_check(const char *env, char *err, size_t errlen);
/* "HOST[:PORT]" into h. */
int gb_cred_host_parse(const char *s, size_t len, struct gb_cred_host *h, char *err, size_t errlen);
/* The default variable for a name (see above) into out (GB_CRED_ENV_MAX). */
void gb_cred_env_default(const char *name, char *out, size_t n);
/* `--credential NAME[:VAR]=FILE@HOST[:PORT][,HOST[:PORT]...]` (FILE ends
 * at the last '@').  0 or -EINVAL with the reason in err. */
int gb_cred_spec_parse_arg(const char *arg, struct gb_cred_spec *out, char *err, size_t errlen);
/* Does host:port match h?  host as asked (any case). */
int gb_cred_host_match(const struct gb_cred_host *h, const char *host, uint16_t port);

#endif
