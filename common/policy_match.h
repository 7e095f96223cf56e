/* common/policy_match.h — the matcher's primitives: public, because the
 * decision is not their only user (tests, the benchmark, and the L7 proxy,
 * which canonicalises request paths the same way the policy matches them).
 *
 * Globs (policy_glob.c), request path canonicalisation (policy_path.c),
 * query matching (policy_query.c) and address classes (addr_class.c).  None
 * of these allocate; all are safe from any thread.
 *
 * Ownership: every function borrows its arguments for the call only.
 */
#ifndef GB_COMMON_POLICY_MATCH_H
#define GB_COMMON_POLICY_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/policy.h"

/* ---------------- globs ---------------- */

/* Match `str` against `pat`.  `sep` is the component separator ('/' for
 * paths and binaries, '.' for hosts, 0 for none):
 *   `*`   any run of characters inside one component (never `sep`)
 *   `**`  any run of characters across components; `**` followed by `sep`
 *         may also match nothing (so `/a/ ** /b` matches `/a/b`)
 *   `?`   one character other than `sep`
 *   `[a-z]`, `[!0]`, `[^0]` one character from (not from) the class
 * A pattern that is exactly `**` matches everything.  Case-sensitive: the
 * compiler lower-cases host patterns and requested hosts instead. */
bool gb_glob_match(const char *pat, size_t plen, const char *str, size_t slen, char sep);

static inline bool gb_glob_has_meta(const char *s)
{
	for (; *s; s++)
		if (*s == '*' || *s == '?' || *s == '[')
			return true;
	return false;
}

/* ---------------- request paths ----------------
 * The rules: docs/policy-engine.md, "Decision order", step 4.  The proxy
 * writes upstream exactly the canonical path the decision was made on. */

enum gb_path_err {
	GB_PATH_OK = 0,
	GB_PATH_EMPTY,          /* no path at all */
	GB_PATH_NOT_ORIGIN,     /* does not start with '/' (absolute-form, '*') */
	GB_PATH_CONTROL,        /* raw or encoded control byte, or a space */
	GB_PATH_NON_ASCII,      /* raw byte >= 0x80 */
	GB_PATH_FRAGMENT,       /* '#' in a request target */
	GB_PATH_BAD_ESCAPE,     /* '%' not followed by two hex digits */
	GB_PATH_ENCODED_SLASH,  /* %2F inside a segment without allow_encoded_slash */
	GB_PATH_ESCAPES_ROOT,   /* '..' above '/' */
	GB_PATH_TOO_LONG,       /* canonical form does not fit */
};
const char *gb_path_err_text(enum gb_path_err e);

/* Canonicalise the path part (no query) of an origin-form request target
 * into out[outsz]: unreserved percent-escapes decoded, other escapes kept
 * as upper-case %HH, ";params" stripped from every segment, empty segments
 * collapsed, "." and ".." resolved (".." above the root is an error, never
 * clamped).  A trailing '/' is kept.  len is the length of `path`. */
enum gb_path_err gb_path_canonicalize(const char *path, size_t len, bool allow_encoded_slash,
                                      char *out, size_t outsz);

/* ---------------- query strings ---------------- */

/* Allow semantics: every matcher's key is present and every value of it
 * matches one of its globs.  Deny semantics (any_value): every key present
 * and some value matches.  Keys and values are percent-decoded ('+' is a
 * space).  query may be NULL (no parameters). */
bool gb_query_match(const char *query, const struct gb_query_match *m, size_t n, bool any_value);

/* Percent-decode s[0..n) into out (NUL-terminated); '+' becomes ' ' when
 * plus_space.  Malformed escapes are kept literally.  Returns the decoded
 * length, or -1 when it does not fit. */
long gb_pct_decode(const char *s, size_t n, bool plus_space, char *out, size_t outsz);

/* ---------------- address classes ----------------
 * The SSRF tiers: docs/policy-engine.md, end of "Decision order". */

enum gb_addr_class {
	GB_ADDR_PUBLIC = 0,
	GB_ADDR_INTERNAL,    /* RFC 1918, CGNAT, TEST-NETs, 198.18/15, ULA, ... */
	GB_ADDR_LOOPBACK,    /* always blocked */
	GB_ADDR_LINK_LOCAL,  /* always blocked */
	GB_ADDR_UNSPECIFIED, /* always blocked */
	GB_ADDR_MULTICAST,   /* always blocked */
};
/* Classify a 4-byte (family AF_INET) or 16-byte (AF_INET6) address; IPv4
 * embedded as ::ffff:a.b.c.d, ::a.b.c.d and 64:ff9b::a.b.c.d is classified
 * as the IPv4 address it carries. */
enum gb_addr_class gb_addr_classify(int family, const uint8_t *addr);
const char *gb_addr_class_name(enum gb_addr_class c);
bool gb_port_is_control_plane(uint16_t port);
/* Does cidr cover the address (IPv4-mapped IPv6 matches IPv4 CIDRs)? */
bool gb_cidr_contains(const struct gb_cidr *cidr, int family, const uint8_t *addr);
/* Parse "1.2.3.4", "::1", "10.0.0.0/8" into a CIDR (host prefix when no
 * '/').  Returns 0 or -EINVAL. */
int gb_cidr_parse(const char *s, struct gb_cidr *out);

#endif
