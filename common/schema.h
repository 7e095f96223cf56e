/* common/schema.h — typed accessors for walking a YAML tree (common/yaml.h)
 * against a schema: the policy loader and the daemon config loader share
 * them, so an error in either file reads the same way and names file, line,
 * column and field path (common/diag.h).
 *
 * A walker keeps the current field path in the context: push a component
 * before descending (gb_schema_field, gb_schema_push), pop back to the mark
 * it returned afterwards.  Every accessor checks one node, reports at that
 * node under the current path when it is wrong, and returns whether it was
 * right; none stops the walk, so one run lists every problem.
 *
 * Ownership: the context borrows file, diags and arena.  gb_schema_str()
 * copies into the context's arena when it has one (the result lives as long
 * as the arena); without one it returns the node's own string, which lives
 * as long as the YAML document.  Not thread-safe: one walker per context.
 */
#ifndef GB_COMMON_SCHEMA_H
#define GB_COMMON_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/diag.h"
#include "common/yaml.h"

struct gb_schema {
	const char *file;    /* named in every diagnostic */
	struct gb_diags *d;
	struct gb_arena *a;  /* where gb_schema_str copies strings; NULL = none */
	/* The two dialects differ in small ways that users already rely on:
	 * the policy follows OpenShell's typing, where a quoted "443" is a
	 * string and not a port; the daemon config has always taken quoted
	 * numbers.  And the config's unknown-key message leaves the key to the
	 * field path ("sinks[0].urll: unknown key"), where the policy's repeats
	 * it ("...read_onyl: unknown key 'read_onyl'"). */
	bool quoted_numbers;
	bool unknown_key_terse;
	char path[1024];     /* current field path, e.g. "journal.retention" */
	size_t plen;
};

/* ---------------- field path ---------------- */

/* Append to the path (printf style, no separator added); returns the mark
 * to pop back to.  The path is truncated, never overflowed. */
size_t gb_schema_push(struct gb_schema *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append ".key" (no dot at the start of the path).  A key node's text is
 * cut at 200 bytes in the path. */
size_t gb_schema_field(struct gb_schema *s, const char *key);
size_t gb_schema_field_node(struct gb_schema *s, const struct gb_ynode *key);
void gb_schema_pop(struct gb_schema *s, size_t mark);

/* ---------------- reports ---------------- */

/* Error/warning at node n (line 0 when n is NULL), field = current path. */
void gb_schema_err(struct gb_schema *s, const struct gb_ynode *n, const char *hint,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void gb_schema_warn(struct gb_schema *s, const struct gb_ynode *n, const char *hint,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "a mapping", "a list", "a scalar" or "nothing (null)", for messages. */
const char *gb_schema_kind(const struct gb_ynode *n);

/* ---------------- shapes ---------------- */

/* A mapping; anything else (null included) is an error.  `what` completes
 * "expected %s". */
bool gb_schema_map(struct gb_schema *s, const struct gb_ynode *n, const char *what);
/* A list; null counts as empty (false without an error). */
bool gb_schema_seq(struct gb_schema *s, const struct gb_ynode *n, const char *what);
/* Report every key of map n not in `valid`, with the nearest valid key as
 * a hint, at the key's position under path ".key". */
void gb_schema_check_keys(struct gb_schema *s, const struct gb_ynode *map,
                          const char *const *valid, size_t nvalid);
/* Report one such key (for walkers that dispatch on keys themselves). */
void gb_schema_unknown_key(struct gb_schema *s, const struct gb_ynode *key,
                           const char *const *valid, size_t nvalid);
/* "missing required key" at the map, under path ".key". */
void gb_schema_missing(struct gb_schema *s, const struct gb_ynode *map, const char *key,
                       const char *what);

/* ---------------- scalars ---------------- */

/* Any non-null scalar without NUL bytes, as a string (see Ownership). */
const char *gb_schema_str(struct gb_schema *s, const struct gb_ynode *n, const char *what);
/* The same into out[outsz]; a longer value is an error and leaves out alone. */
bool gb_schema_strbuf(struct gb_schema *s, const struct gb_ynode *n, const char *what,
                      char *out, size_t outsz);
/* true/True/TRUE or false/False/FALSE, unquoted. */
bool gb_schema_bool(struct gb_schema *s, const struct gb_ynode *n, bool *out);
/* A decimal integer in [min, max] (unquoted unless quoted_numbers). */
bool gb_schema_int(struct gb_schema *s, const struct gb_ynode *n, long long min, long long max,
                   const char *what, long long *out);
/* One of vals[0..nv); its index, or -1 (an error with the nearest value as
 * a hint). */
int gb_schema_enum(struct gb_schema *s, const struct gb_ynode *n, const char *const *vals,
                   size_t nv);
/* A size such as 64MiB, at least min bytes; a duration such as 100ms, at
 * least min_ms (common/units.h spells both). */
bool gb_schema_size(struct gb_schema *s, const struct gb_ynode *n, uint64_t min, uint64_t *out);
bool gb_schema_duration_ms(struct gb_schema *s, const struct gb_ynode *n, uint64_t min_ms,
                           uint64_t *out);

#endif
