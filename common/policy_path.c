/* common/policy_path.c — request path canonicalisation (the rules:
 * docs/policy-engine.md, "Decision order", step 4).
 *
 * The proxy writes upstream exactly the path the decision was made on, so
 * any ambiguity an upstream server might resolve differently (encoded dots,
 * matrix parameters, doubled slashes, encoded slashes) is either resolved
 * here once or refused. */
#include <string.h>

#include "common/fsutil.h"
#include "common/policy_match.h"

const char *gb_path_err_text(enum gb_path_err e)
{
	switch (e) {
	case GB_PATH_OK: return "ok";
	case GB_PATH_EMPTY: return "empty request path";
	case GB_PATH_NOT_ORIGIN: return "request target is not in origin form (must start with '/')";
	case GB_PATH_CONTROL: return "control byte or space in request path";
	case GB_PATH_NON_ASCII: return "raw non-ASCII byte in request path";
	case GB_PATH_FRAGMENT: return "fragment ('#') in request target";
	case GB_PATH_BAD_ESCAPE: return "malformed percent-escape in request path";
	case GB_PATH_ENCODED_SLASH: return "encoded slash (%2F) inside a path segment";
	case GB_PATH_ESCAPES_ROOT: return "'..' escapes the root of the request path";
	case GB_PATH_TOO_LONG: return "request path too long";
	}
	return "invalid request path";
}

static bool unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/* Normalise one segment s[0..n) (params already stripped) into seg. */
static enum gb_path_err norm_segment(const char *s, size_t n, bool allow_encoded_slash, char *seg,
                                     size_t segsz, size_t *seglen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n || gb_hex_digit(s[i + 1]) < 0 || gb_hex_digit(s[i + 2]) < 0)
				return GB_PATH_BAD_ESCAPE;
			unsigned char d = (unsigned char)(gb_hex_digit(s[i + 1]) * 16 + gb_hex_digit(s[i + 2]));
			i += 2;
			if (d < 0x20 || d == 0x7f)
				return GB_PATH_CONTROL;
			if (d == '/' && !allow_encoded_slash)
				return GB_PATH_ENCODED_SLASH;
			if (unreserved(d)) {
				if (o + 1 >= segsz)
					return GB_PATH_TOO_LONG;
				seg[o++] = (char)d;
			} else {
				if (o + 3 >= segsz)
					return GB_PATH_TOO_LONG;
				seg[o++] = '%';
				seg[o++] = hex[d >> 4];
				seg[o++] = hex[d & 15];
			}
			continue;
		}
		if (o + 1 >= segsz)
			return GB_PATH_TOO_LONG;
		seg[o++] = (char)c;
	}
	*seglen = o;
	return GB_PATH_OK;
}

enum gb_path_err gb_path_canonicalize(const char *path, size_t len, bool allow_encoded_slash,
                                      char *out, size_t outsz)
{
	if (outsz < 2)
		return GB_PATH_TOO_LONG;
	out[0] = '\0';
	if (!path || len == 0)
		return GB_PATH_EMPTY;
	if (path[0] != '/')
		return GB_PATH_NOT_ORIGIN;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];
		if (c <= 0x20 || c == 0x7f)
			return GB_PATH_CONTROL;
		if (c >= 0x80)
			return GB_PATH_NON_ASCII;
		if (c == '#')
			return GB_PATH_FRAGMENT;
	}

	/* out holds "/seg1/seg2..." as built so far; o is its length. */
	size_t o = 0;
	bool trailing = false;
	size_t i = 1;
	for (;;) {
		size_t start = i;
		while (i < len && path[i] != '/')
			i++;
		size_t end = i;
		bool last = i >= len;
		/* Matrix parameters are stripped before dot resolution, so
		 * "..;x" is a dot segment (as an upstream would treat it). */
		const char *semi = memchr(path + start, ';', end - start);
		if (semi)
			end = (size_t)(semi - path);
		char seg[GB_STR_MAX];
		size_t sl = 0;
		enum gb_path_err e = norm_segment(path + start, end - start, allow_encoded_slash, seg,
		                                  sizeof seg, &sl);
		if (e)
			return e;
		if (sl == 0 || (sl == 1 && seg[0] == '.')) {
			trailing = true; /* "a//" and "a/." keep the directory form */
		} else if (sl == 2 && seg[0] == '.' && seg[1] == '.') {
			if (o == 0)
				return GB_PATH_ESCAPES_ROOT;
			while (o > 0 && out[o - 1] != '/')
				o--;
			o--; /* drop the '/' too */
			trailing = true;
		} else {
			if (o + 1 + sl + 1 > outsz)
				return GB_PATH_TOO_LONG;
			out[o++] = '/';
			memcpy(out + o, seg, sl);
			o += sl;
			trailing = false;
		}
		if (last)
			break;
		i++; /* skip '/' */
	}
	if (o == 0 || trailing) {
		if (o + 2 > outsz)
			return GB_PATH_TOO_LONG;
		out[o++] = '/';
	}
	out[o] = '\0';
	return GB_PATH_OK;
}
