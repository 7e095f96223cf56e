/* common/policy_query.c — query-string matching for L7 rules.
 *
 * Parameters are compared percent-decoded: "a%5Fb=x" is key "a_b".
 * Allow rules need every value of a listed key to match (so a second
 * "?id=1&id=evil" cannot ride along on an allowed first one); deny rules
 * fire when some value matches.  A parameter too long to decode makes the
 * query unmatchable for allows and matching for denies: it fails closed. */
#include <string.h>

#include "common/fsutil.h"
#include "common/policy_match.h"

long gb_pct_decode(const char *s, size_t n, bool plus_space, char *out, size_t outsz)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%' && i + 2 < n && gb_hex_digit(s[i + 1]) >= 0 &&
		    gb_hex_digit(s[i + 2]) >= 0) {
			c = (char)(gb_hex_digit(s[i + 1]) * 16 + gb_hex_digit(s[i + 2]));
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if (o + 1 >= outsz)
			return -1;
		out[o++] = c;
	}
	if (o >= outsz)
		return -1;
	out[o] = '\0';
	return (long)o;
}

static bool value_matches(const struct gb_query_match *m, const char *v, size_t vl)
{
	for (size_t g = 0; g < m->n_globs; g++)
		if (gb_glob_match(m->globs[g], strlen(m->globs[g]), v, vl, 0))
			return true;
	return false;
}

/* Evaluate one matcher against the raw query. */
static bool one_key(const char *q, const struct gb_query_match *m, bool any_value)
{
	char key[GB_STR_MAX], val[GB_STR_MAX];
	bool present = false, all = true, some = false;
	const char *p = q;
	while (p && *p) {
		const char *amp = strchr(p, '&');
		size_t plen = amp ? (size_t)(amp - p) : strlen(p);
		if (plen) {
			const char *eq = memchr(p, '=', plen);
			size_t kl = eq ? (size_t)(eq - p) : plen;
			long dk = gb_pct_decode(p, kl, true, key, sizeof key);
			if (dk < 0) {
				/* undecodable key: could be ours; fail closed */
				present = true;
				all = false;
				some = true;
			} else if (!strcmp(key, m->key)) {
				present = true;
				long dv = eq ? gb_pct_decode(eq + 1, plen - kl - 1, true, val, sizeof val)
				             : gb_pct_decode("", 0, true, val, sizeof val);
				bool ok = dv >= 0 && value_matches(m, val, (size_t)dv);
				if (dv < 0) {
					all = false;
					some = true;
				} else if (ok) {
					some = true;
				} else {
					all = false;
				}
			}
		}
		p = amp ? amp + 1 : NULL;
	}
	if (!present)
		return false;
	return any_value ? some : all;
}

bool gb_query_match(const char *query, const struct gb_query_match *m, size_t n, bool any_value)
{
	for (size_t i = 0; i < n; i++)
		if (!one_key(query ? query : "", &m[i], any_value))
			return false;
	return true;
}
