/* common/policy_glob.c — one glob matcher for binaries ('/' separator),
 * hosts ('.' separator) and REST paths ('/' separator).
 *
 * The recursion returns "abort" codes in the manner of rsync's wildmatch so
 * that a failed `*` never retries positions an outer `**` will retry
 * anyway: the work stays polynomial in pattern and string length however
 * many stars an operator writes. */
#include "common/policy_match.h"

enum { M_MATCH = 0, M_NOMATCH = 1, M_ABORT_ALL = -1, M_ABORT_TO_STARSTAR = -2 };

/* Match one bracket class starting at p (just after '['); on success *pend
 * is set after the closing ']'.  A class without ']' is a literal '['. */
static int match_class(const char *p, const char *pe, unsigned char c, const char **pend)
{
	bool neg = false, hit = false;
	const char *q = p;
	if (q < pe && (*q == '!' || *q == '^')) {
		neg = true;
		q++;
	}
	const char *first = q;
	for (; q < pe; q++) {
		if (*q == ']' && q != first)
			break;
		unsigned char lo = (unsigned char)*q, hi = lo;
		if (q + 2 < pe && q[1] == '-' && q[2] != ']') {
			hi = (unsigned char)q[2];
			q += 2;
		}
		if (c >= lo && c <= hi)
			hit = true;
	}
	if (q >= pe)
		return -1; /* unterminated: caller treats '[' literally */
	*pend = q + 1;
	return hit != neg;
}

static int dowild(const char *p, const char *pe, const char *s, const char *se, char sep)
{
	for (; p < pe; p++, s++) {
		if (*p == '*')
			break;
		if (s >= se)
			return M_ABORT_ALL;
		unsigned char c = (unsigned char)*s;
		if (*p == '?') {
			if (sep && c == (unsigned char)sep)
				return M_NOMATCH;
			continue;
		}
		if (*p == '[') {
			const char *after;
			int r = (sep && c == (unsigned char)sep) ? 0 : match_class(p + 1, pe, c, &after);
			if (r < 0) { /* literal '[' */
				if (c != '[')
					return M_NOMATCH;
				continue;
			}
			if (!r)
				return M_NOMATCH;
			if (sep && c == (unsigned char)sep)
				return M_NOMATCH;
			p = after - 1;
			continue;
		}
		if ((unsigned char)*p != c)
			return M_NOMATCH;
	}
	if (p >= pe)
		return s >= se ? M_MATCH : M_NOMATCH;

	/* *p == '*' */
	bool star2 = p + 1 < pe && p[1] == '*';
	while (p < pe && *p == '*')
		p++;
	if (!sep)
		star2 = true; /* no separator: every star crosses everything */
	if (star2) {
		if (p >= pe)
			return M_MATCH;
		/* "**" + sep may match zero components: "a/ ** /b" matches "a/b". */
		if (sep && *p == sep && p[-1] == '*') {
			int r = dowild(p + 1, pe, s, se, sep);
			if (r == M_MATCH)
				return r;
		}
		for (; s <= se; s++) {
			int r = dowild(p, pe, s, se, sep);
			if (r != M_NOMATCH && r != M_ABORT_TO_STARSTAR)
				return r;
		}
		return M_ABORT_ALL;
	}
	if (p >= pe) { /* trailing single star: rest must hold no separator */
		for (; s < se; s++)
			if (*s == sep)
				return M_ABORT_TO_STARSTAR;
		return M_MATCH;
	}
	for (; s <= se; s++) {
		int r = dowild(p, pe, s, se, sep);
		if (r != M_NOMATCH)
			return r;
		if (s < se && *s == sep)
			return M_ABORT_TO_STARSTAR;
	}
	return M_ABORT_ALL;
}

bool gb_glob_match(const char *pat, size_t plen, const char *str, size_t slen, char sep)
{
	if (plen == 2 && pat[0] == '*' && pat[1] == '*')
		return true;
	return dowild(pat, pat + plen, str, str + slen, sep) == M_MATCH;
}
