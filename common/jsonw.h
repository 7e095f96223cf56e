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
#include <string.h>

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
/* The separator before a value or key: a comma unless the value completes
 * a "key": pair or is the first at its depth (count[] is a flag).  Inline:
 * the OCSF writer calls it ~200 times per event. */
__attribute__((always_inline)) static inline void gb_jw_sep(struct gb_jsonw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth > 0) {
		uint8_t *c = &w->count[w->depth - 1];
		if (*c)
			gb_buf_putc(w->b, ',');
		else
			*c = 1;
	}
}

/* A key the caller vouches needs no escaping (a constant of the code: plain
 * printable ASCII without '"' or '\\'), written in one copy.  Inline, so
 * that for a literal key the length and the copy are compiled in. */
__attribute__((always_inline)) static inline void gb_jw_key_plain(struct gb_jsonw *w, const char *key, size_t n)
{
	if (w->overflow)
		return;
	gb_jw_sep(w);
	struct gb_buf *b = w->b;
	if (!b->err && n + 3 < b->cap - b->len) {
		char *d = b->data + b->len;
		*d++ = '"';
		memcpy(d, key, n);
		d[n] = '"';
		d[n + 1] = ':';
		b->len += n + 3;
		b->data[b->len] = '\0';
	} else {
		gb_buf_putc(b, '"');
		gb_buf_append(b, key, n);
		gb_buf_append(b, "\":", 2);
	}
	w->after_key = true;
}
/* A string value the caller vouches needs no escaping (a constant of the
 * code: plain printable ASCII without '"' or '\\'), in one copy. */
__attribute__((always_inline)) static inline void gb_jw_str_plain(struct gb_jsonw *w, const char *s, size_t n)
{
	if (w->overflow)
		return;
	gb_jw_sep(w);
	struct gb_buf *b = w->b;
	if (!b->err && n + 2 < b->cap - b->len) {
		char *d = b->data + b->len;
		*d++ = '"';
		memcpy(d, s, n);
		d[n] = '"';
		b->len += n + 2;
		b->data[b->len] = '\0';
	} else {
		gb_buf_putc(b, '"');
		gb_buf_append(b, s, n);
		gb_buf_putc(b, '"');
	}
}
void gb_jw_str(struct gb_jsonw *w, const char *s);           /* NULL writes null */
void gb_jw_strn(struct gb_jsonw *w, const char *s, size_t n);
void gb_jw_int(struct gb_jsonw *w, int64_t v);
void gb_jw_uint(struct gb_jsonw *w, uint64_t v);
void gb_jw_bool(struct gb_jsonw *w, bool v);
void gb_jw_null(struct gb_jsonw *w);
/* Insert already-serialised JSON text as a value (caller vouches for it). */
void gb_jw_raw(struct gb_jsonw *w, const char *json, size_t n);

/* Insert already-serialised JSON text that opens one object or array and
 * writes its first member(s), leaving it open (the caller goes on writing
 * members and closes it): a cached prefix of a value.  Caller vouches. */
void gb_jw_raw_open(struct gb_jsonw *w, const char *json, size_t n);

/* Shorthands for "key": value. */
void gb_jw_kstr(struct gb_jsonw *w, const char *key, const char *s);
void gb_jw_kint(struct gb_jsonw *w, const char *key, int64_t v);
void gb_jw_kuint(struct gb_jsonw *w, const char *key, uint64_t v);
void gb_jw_kbool(struct gb_jsonw *w, const char *key, bool v);

/* Append s escaped as JSON string contents (no quotes) — also used by the
 * shorthand renderer to keep one event on one line. */
void gb_json_escape(struct gb_buf *b, const char *s, size_t n);

#endif
