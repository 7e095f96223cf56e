/* common/schema.c — typed accessors over the YAML tree (contract:
 * schema.h).  Messages say what was expected and what was found, so a
 * report reads "expected a list of globs, got a mapping". */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/schema.h"
#include "common/units.h"

/* ---------------- field path ---------------- */

static size_t vpush(struct gb_schema *s, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static size_t vpush(struct gb_schema *s, const char *fmt, va_list ap)
{
	size_t mark = s->plen;
	if (s->plen < sizeof s->path - 1) {
		int w = vsnprintf(s->path + s->plen, sizeof s->path - s->plen, fmt, ap);
		if (w > 0)
			s->plen += (size_t)w;
		if (s->plen > sizeof s->path - 1)
			s->plen = sizeof s->path - 1;
	}
	return mark;
}

size_t gb_schema_push(struct gb_schema *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t mark = vpush(s, fmt, ap);
	va_end(ap);
	return mark;
}

size_t gb_schema_field(struct gb_schema *s, const char *key)
{
	return gb_schema_push(s, "%s%s", s->plen ? "." : "", key);
}

size_t gb_schema_field_node(struct gb_schema *s, const struct gb_ynode *key)
{
	return gb_schema_push(s, "%s%.*s", s->plen ? "." : "", (int)(key->len > 200 ? 200 : key->len),
	                      key->str);
}

void gb_schema_pop(struct gb_schema *s, size_t mark)
{
	s->plen = mark;
	s->path[mark] = 0;
}

/* ---------------- reports ---------------- */

static void vreport(struct gb_schema *s, enum gb_diag_level l, const struct gb_ynode *n,
                    const char *hint, const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
static void vreport(struct gb_schema *s, enum gb_diag_level l, const struct gb_ynode *n,
                    const char *hint, const char *fmt, va_list ap)
{
	gb_diag_vadd(s->d, l, s->file, n ? n->line : 0, n ? n->column : 0, s->path, hint, fmt, ap);
}

void gb_schema_err(struct gb_schema *s, const struct gb_ynode *n, const char *hint, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(s, GB_DIAG_ERROR, n, hint, fmt, ap);
	va_end(ap);
}

void gb_schema_warn(struct gb_schema *s, const struct gb_ynode *n, const char *hint, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(s, GB_DIAG_WARNING, n, hint, fmt, ap);
	va_end(ap);
}

const char *gb_schema_kind(const struct gb_ynode *n)
{
	if (gb_ynode_is_null(n))
		return "nothing (null)";
	switch (n->kind) {
	case GB_Y_MAP: return "a mapping";
	case GB_Y_SEQ: return "a list";
	default: return "a scalar";
	}
}

/* ---------------- shapes ---------------- */

bool gb_schema_map(struct gb_schema *s, const struct gb_ynode *n, const char *what)
{
	if (n && n->kind == GB_Y_MAP)
		return true;
	gb_schema_err(s, n, NULL, "expected %s, got %s", what, gb_schema_kind(n));
	return false;
}

bool gb_schema_seq(struct gb_schema *s, const struct gb_ynode *n, const char *what)
{
	if (n && n->kind == GB_Y_SEQ)
		return true;
	if (gb_ynode_is_null(n))
		return false;
	gb_schema_err(s, n, NULL, "expected %s, got %s", what, gb_schema_kind(n));
	return false;
}

static bool is_one_of(const struct gb_ynode *k, const char *const *valid, size_t nv)
{
	for (size_t j = 0; j < nv; j++)
		if (k->len == strlen(valid[j]) && !memcmp(k->str, valid[j], k->len))
			return true;
	return false;
}

void gb_schema_unknown_key(struct gb_schema *s, const struct gb_ynode *k, const char *const *valid,
                           size_t nv)
{
	size_t m = gb_schema_field_node(s, k);
	/* no suggestion work once the list is full: the diag is only counted */
	const char *near = !s->d || s->d->n < GB_DIAG_MAX ? gb_suggest(k->str, valid, nv) : NULL;
	char hint[160];
	if (near)
		snprintf(hint, sizeof hint, "did you mean '%s'?", near);
	if (s->unknown_key_terse)
		gb_schema_err(s, k, near ? hint : NULL, "unknown key");
	else
		gb_schema_err(s, k, near ? hint : NULL, "unknown key '%.100s'", k->str);
	gb_schema_pop(s, m);
}

void gb_schema_check_keys(struct gb_schema *s, const struct gb_ynode *n, const char *const *valid,
                          size_t nv)
{
	for (size_t i = 0; n && n->kind == GB_Y_MAP && i < n->n; i++)
		if (!is_one_of(n->keys[i], valid, nv))
			gb_schema_unknown_key(s, n->keys[i], valid, nv);
}

void gb_schema_missing(struct gb_schema *s, const struct gb_ynode *map, const char *key,
                       const char *what)
{
	size_t m = gb_schema_field(s, key);
	gb_schema_err(s, map, NULL, "missing required key '%s' (%s)", key, what);
	gb_schema_pop(s, m);
}

/* ---------------- scalars ---------------- */

/* The node's text when it is a non-null scalar without NULs, else an error. */
static const char *scalar(struct gb_schema *s, const struct gb_ynode *n, const char *what)
{
	if (!n || n->kind != GB_Y_SCALAR || gb_ynode_is_null(n)) {
		gb_schema_err(s, n, NULL, "expected %s, got %s", what, gb_schema_kind(n));
		return NULL;
	}
	if (memchr(n->str, 0, n->len)) {
		gb_schema_err(s, n, NULL, "expected %s, got a string containing a NUL byte", what);
		return NULL;
	}
	return n->str;
}

const char *gb_schema_str(struct gb_schema *s, const struct gb_ynode *n, const char *what)
{
	const char *v = scalar(s, n, what);
	if (!v || !s->a)
		return v;
	return gb_arena_strndup(s->a, n->str, n->len);
}

bool gb_schema_strbuf(struct gb_schema *s, const struct gb_ynode *n, const char *what, char *out,
                      size_t outsz)
{
	const char *v = scalar(s, n, what);
	if (!v)
		return false;
	if (n->len >= outsz) {
		gb_schema_err(s, n, NULL, "expected %s of at most %zu bytes, got %zu", what, outsz - 1,
		              n->len);
		return false;
	}
	memcpy(out, v, n->len + 1);
	return true;
}

bool gb_schema_bool(struct gb_schema *s, const struct gb_ynode *n, bool *out)
{
	static const char *const t[] = { "true", "True", "TRUE" }, *const f[] = { "false", "False", "FALSE" };
	if (n && n->kind == GB_Y_SCALAR && n->plain)
		for (size_t i = 0; i < 3; i++) {
			if (!strcmp(n->str, t[i]))
				return *out = true, true;
			if (!strcmp(n->str, f[i]))
				return *out = false, true;
		}
	if (n && n->kind == GB_Y_SCALAR && !gb_ynode_is_null(n))
		gb_schema_err(s, n, NULL, "expected true or false, got '%.100s'", n->str);
	else
		gb_schema_err(s, n, NULL, "expected true or false, got %s", gb_schema_kind(n));
	return false;
}

bool gb_schema_int(struct gb_schema *s, const struct gb_ynode *n, long long min, long long max,
                   const char *what, long long *out)
{
	if (!n || n->kind != GB_Y_SCALAR || gb_ynode_is_null(n)) {
		gb_schema_err(s, n, NULL, "expected %s, got %s", what, gb_schema_kind(n));
		return false;
	}
	const char *v = n->str;
	/* at most 19 characters: strtoll may saturate, and the range check
	 * below then refuses the value */
	bool ok = (n->plain || s->quoted_numbers) && n->len > 0 && n->len < 20;
	size_t i = (v[0] == '+' || v[0] == '-') ? 1 : 0;
	if (i == n->len)
		ok = false;
	for (size_t k = i; ok && k < n->len; k++)
		if (v[k] < '0' || v[k] > '9')
			ok = false;
	if (!ok) {
		gb_schema_err(s, n, NULL, "expected %s, got %s'%.100s'", what,
		              n->plain || s->quoted_numbers ? "" : "the string ", v);
		return false;
	}
	long long x = strtoll(v, NULL, 10);
	if (x < min || x > max) {
		gb_schema_err(s, n, NULL, "expected %s, got %lld (out of range %lld..%lld)", what, x, min,
		              max);
		return false;
	}
	*out = x;
	return true;
}

int gb_schema_enum(struct gb_schema *s, const struct gb_ynode *n, const char *const *vals, size_t nv)
{
	char list[256] = "";
	for (size_t i = 0, o = 0; i < nv && o < sizeof list; i++) {
		int w = snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", vals[i]);
		if (w > 0)
			o += (size_t)w;
	}
	if (!n || n->kind != GB_Y_SCALAR || gb_ynode_is_null(n)) {
		gb_schema_err(s, n, NULL, "expected one of: %s, got %s", list, gb_schema_kind(n));
		return -1;
	}
	for (size_t i = 0; i < nv; i++)
		if (n->len == strlen(vals[i]) && !memcmp(n->str, vals[i], n->len))
			return (int)i;
	const char *near = gb_suggest(n->str, vals, nv);
	char hint[160];
	if (near)
		snprintf(hint, sizeof hint, "did you mean '%s'?", near);
	gb_schema_err(s, n, near ? hint : NULL, "unknown value '%.100s' (expected one of: %s)", n->str,
	              list);
	return -1;
}

/* A number with a unit (common/units.h) of at least min: a duration in ms
 * when dur, else a size in bytes. */
static bool scaled(struct gb_schema *s, const struct gb_ynode *n, bool dur, uint64_t min, uint64_t *out)
{
	const char *v = scalar(s, n, dur ? "a duration such as 100ms or 1h" : "a size such as 64MiB");
	uint64_t x;
	if (!v)
		return false;
	if ((dur ? gb_parse_duration_ms(v, &x) : gb_parse_size(v, &x)) < 0)
		gb_schema_err(s, n,
		              dur ? "durations are a number with ms, s, m, h or d"
		                  : "sizes are a number with B, KiB, MiB, GiB or KB, MB, GB",
		              "'%.100s' is not a %s", v, dur ? "duration" : "size");
	else if (x < min)
		gb_schema_err(s, n, NULL, "must be at least %llu%s", (unsigned long long)min, dur ? "ms" : " bytes");
	else
		return *out = x, true;
	return false;
}

bool gb_schema_size(struct gb_schema *s, const struct gb_ynode *n, uint64_t min, uint64_t *out)
{
	return scaled(s, n, false, min, out);
}

bool gb_schema_duration_ms(struct gb_schema *s, const struct gb_ynode *n, uint64_t min_ms,
                           uint64_t *out)
{
	return scaled(s, n, true, min_ms, out);
}
