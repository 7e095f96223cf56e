/* common/jsonw.h — a streaming JSON writer into a gb_buf.
 *
 * The hot-path serialiser for OCSF events (the exporter) and for the small
 * JSON bodies the proxy answers refusals with.  It tracks commas by nesting
 * depth, escapes strings correctly (", \, control characters as \uXXXX or
 * the short forms) and replaces invalid UTF-8 with U+FFFD, so whatever
 * hostile bytes a sandboxed program puts in a host name or path, the output
 * is one valid JSON value on one line.
 *
 * Ownership: the writer borrows the gb_buf; errors (allocation) are sticky in
 * the buffer (gb_buf.err).  Nesting deeper than GB_JW_MAX_DEPTH sets
 * jw->overflow and further output is dropped — a programming error, checked
 * by tests.
 */
#ifndef GB_COMMON_JSONW_H
#define GB_COMMON_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define GB_JW_MAX_DEPTH 32

struct gb_jsonw {
	struct gb_buf *b;
	int depth;
	bool overflow;
	bool after_key;
	uint8_t count[GB_JW_MAX_DEPTH]; /* nonzero once a member was written at depth */
};

void gb_jw_init(struct gb_jsonw *w, struct gb_buf *b);

void gb_jw_obj_begin(struct gb_jsonw *w);
void gb_jw_obj_end(struct gb_jsonw *w);
void gb_jw_arr_begin(struct gb_jsonw *w);
void gb_jw_arr_end(struct gb_jsonw *w);

void gb_jw_key(struct gb_jsonw *w, const char *key);
void gb_jw_str(struct gb_jsonw *w, const char *s);           /* NULL writes null */
void gb_jw_strn(struct gb_jsonw *w, const char *s, size_t n);
void gb_jw_int(struct gb_jsonw *w, int64_t v);
void gb_jw_uint(struct gb_jsonw *w, uint64_t v);
void gb_jw_bool(struct gb_jsonw *w, bool v);
void gb_jw_null(struct gb_jsonw *w);
/* Insert already-serialised JSON text as a value (caller vouches for it). */
void gb_jw_raw(struct gb_jsonw *w, const char *json, size_t n);

/* Shorthands for "key": value. */
void gb_jw_kstr(struct gb_jsonw *w, const char *key, const char *s);
void gb_jw_kint(struct gb_jsonw *w, const char *key, int64_t v);
void gb_jw_kuint(struct gb_jsonw *w, const char *key, uint64_t v);
void gb_jw_kbool(struct gb_jsonw *w, const char *key, bool v);

/* Append s escaped as JSON string contents (no quotes) — also used by the
 * shorthand renderer to keep one event on one line. */
void gb_json_escape(struct gb_buf *b, const char *s, size_t n);

#endif
