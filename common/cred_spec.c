/* common/cred_spec.c — see cred_spec.h. */
#include "common/cred_spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int gb_cred_name_check(const char *name, char *err, size_t errlen)
{
	size_t l = strlen(name);
	/* a letter or '_' first: the default variable (NAME upper-cased) must
	 * be a variable name */
	if (!l || l >= GB_CRED_NAME_MAX || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
		return fail(err, errlen, "credential name '%.64s': 1-63 of [A-Za-z0-9_-], starting with a letter or '_'", name);
	for (size_t i = 0; i < l; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-')
			return fail(err, errlen, "credential name '%.64s': 1-63 of [A-Za-z0-9_-], starting with a letter or '_'",
			            name);
	return 0;
}

int gb_cred_env_check(const char *env, char *err, size_t errlen)
{
	size_t l = strlen(env);
	int ok = l > 0 && l < GB_CRED_ENV_MAX && !isdigit((unsigned char)env[0]);
	for (size_t i = 0; ok && i < l; i++)
		ok = isalnum((unsigned char)env[i]) || env[i] == '_';
	return ok ? 0 : fail(err, errlen, "'%.128s' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)", env);
}

void gb_cred_env_default(const char *name, char *out, size_t n)
{
	if (gb_cred_env_check(name, NULL, 0) == 0) {
		snprintf(out, n, "%s", name);
		return;
	}
	size_t i = 0;
	for (; name[i] && i + 1 < n; i++)
		out[i] = name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
	if (n)
		out[i < n ? i : n - 1] = 0;
}

/* A DNS name: labels of [a-z0-9-] (and '_', which real zones use),
 * 1-63 each, not starting or ending with '-'. */
static int dns_name_ok(const char *s, size_t l)
{
	if (!l || l > 253)
		return 0;
	size_t lab = 0;
	for (size_t i = 0; i <= l; i++) {
		char c = i < l ? s[i] : '.';
		if (c == '.') {
			if (!lab || lab > 63 || s[i - 1] == '-' || s[i - lab] == '-')
				return 0;
			lab = 0;
		} else if (isalnum((unsigned char)c) || c == '-' || c == '_') {
			lab++;
		} else {
			return 0;
		}
	}
	return 1;
}

int gb_cred_host_parse(const char *s, size_t len, struct gb_cred_host *h, char *err, size_t errlen)
{
	char tmp[300];
	if (len >= sizeof tmp)
		return fail(err, errlen, "bound host '%.64s...' is too long", s);
	memcpy(tmp, s, len);
	tmp[len] = 0;
	memset(h, 0, sizeof *h);
	h->port = 443;
	char *colon = strrchr(tmp, ':');
	if (colon) {
		char *end;
		long p = strtol(colon + 1, &end, 10);
		if (end == colon + 1 || *end || p < 1 || p > 65535)
			return fail(err, errlen, "bound host '%.256s': the port must be 1-65535", tmp);
		h->port = (uint16_t)p;
		*colon = 0;
	}
	const char *name = tmp;
	size_t off = 0;
	if (!strncmp(tmp, "*.", 2))
		off = 2;
	if (!dns_name_ok(name + off, strlen(name + off)))
		return fail(err, errlen,
		            "bound host '%.256s': expected a DNS name or '*.' and a name, with an optional :PORT",
		            tmp);
	size_t l = strlen(name);
	for (size_t i = 0; i < l; i++)
		h->glob[i] = (char)tolower((unsigned char)name[i]);
	h->glob[l] = 0;
	return 0;
}

int gb_cred_host_match(const struct gb_cred_host *h, const char *host, uint16_t port)
{
	if (port != h->port || !host)
		return 0;
	size_t hl = strlen(host);
	if (hl && host[hl - 1] == '.')
		hl--; /* a fully qualified name is the same host */
	if (h->glob[0] != '*')
		return strlen(h->glob) == hl && !strncasecmp(h->glob, host, hl);
	size_t sl = strlen(h->glob) - 1; /* ".example.com" */
	return hl > sl && !strncasecmp(host + hl - sl, h->glob + 1, sl);
}

int gb_cred_spec_parse_arg(const char *arg, struct gb_cred_spec *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	const char *eq = strchr(arg, '='), *at = strrchr(arg, '@');
	if (!eq || !at || at < eq)
		return fail(err, errlen, "--credential '%.64s': expected NAME[:VAR]=FILE@HOST[:PORT][,HOST[:PORT]...]",
		            arg);
	const char *colon = memchr(arg, ':', (size_t)(eq - arg));
	size_t nl = (size_t)((colon ? colon : eq) - arg);
	if (nl >= sizeof out->name)
		return fail(err, errlen, "--credential: the name '%.64s' is too long", arg);
	memcpy(out->name, arg, nl);
	if (gb_cred_name_check(out->name, err, errlen) < 0)
		return -EINVAL;
	if (colon) {
		size_t vl = (size_t)(eq - colon - 1);
		if (vl >= sizeof out->env)
			return fail(err, errlen, "--credential %s: the variable name is too long", out->name);
		memcpy(out->env, colon + 1, vl);
		if (gb_cred_env_check(out->env, err, errlen) < 0)
			return -EINVAL;
	} else {
		gb_cred_env_default(out->name, out->env, sizeof out->env);
	}
	size_t fl = (size_t)(at - eq - 1);
	if (!fl || fl >= sizeof out->file || eq[1] != '/')
		return fail(err, errlen, "--credential %s: FILE must be an absolute path", out->name);
	memcpy(out->file, eq + 1, fl);
	const char *h = at + 1;
	while (*h) {
		const char *c = strchr(h, ',');
		size_t l = c ? (size_t)(c - h) : strlen(h);
		if (out->n_hosts == GB_CRED_MAX_HOSTS)
			return fail(err, errlen, "--credential %s: at most 16 bound hosts", out->name);
		if (gb_cred_host_parse(h, l, &out->hosts[out->n_hosts], err, errlen) < 0)
			return -EINVAL;
		out->n_hosts++;
		h += l + (c ? 1 : 0);
		if (c && !*h)
			break;
	}
	if (!out->n_hosts)
		return fail(err, errlen, "--credential %s: name at least one bound host after '@'", out->name);
	return 0;
}
