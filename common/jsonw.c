/* common/jsonw.c — see jsonw.h. */
#include "common/jsonw.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void gb_jw_init(struct gb_jsonw *w, struct gb_buf *b)
{
	memset(w, 0, sizeof *w);
	w->b = b;
}

/* The separator before a new object or array, and room for its depth:
 * false when nothing may be written (overflow, now or before). */
static bool open_room(struct gb_jsonw *w)
{
	if (w->overflow)
		return false;
	gb_jw_sep(w);
	if (w->depth >= GB_JW_MAX_DEPTH) {
		w->overflow = true;
		return false;
	}
	return true;
}

static void open_(struct gb_jsonw *w, char c)
{
	if (!open_room(w))
		return;
	gb_buf_putc(w->b, c);
	w->count[w->depth++] = 0;
}

static void close_(struct gb_jsonw *w, char c)
{
	if (w->overflow || w->depth == 0)
		return;
	w->depth--;
	gb_buf_putc(w->b, c);
}

void gb_jw_obj_begin(struct gb_jsonw *w) { open_(w, '{'); }
void gb_jw_obj_end(struct gb_jsonw *w) { close_(w, '}'); }
void gb_jw_arr_begin(struct gb_jsonw *w) { open_(w, '['); }
void gb_jw_arr_end(struct gb_jsonw *w) { close_(w, ']'); }

/* Length of a valid UTF-8 sequence starting at p (at most n bytes), or 0 if
 * the bytes are not valid UTF-8 (overlongs, surrogates, > U+10FFFF). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	if (c < 0xC2)
		return 0;
	if (c < 0xE0)
		return (n >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
	if (c < 0xF0) {
		if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && p[1] < 0xA0)
			return 0; /* overlong */
		if (c == 0xED && p[1] >= 0xA0)
			return 0; /* surrogate */
		return 3;
	}
	if (c < 0xF5) {
		if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
		    (p[3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0 && p[1] < 0x90)
			return 0;
		if (c == 0xF4 && p[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

/* Does any of the 8 bytes of x need escaping or UTF-8 checking: a control
 * character (< 0x20), '"', '\\', or a byte >= 0x80?  The classic SWAR
 * tests: (v - 0x01..) & ~v & 0x80.. is nonzero exactly when some byte of v
 * is zero, and (x - n*0x01..) & ~x & 0x80.. when some byte is below n (n
 * <= 128).  Exact for "any", which is all the scan needs. */
static inline bool word_special(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t q = x ^ (ones * (uint8_t)'"'), bs = x ^ (ones * (uint8_t)'\\');
	uint64_t ctl = (x - ones * 0x20) & ~x;
	uint64_t zq = (q - ones) & ~q, zb = (bs - ones) & ~bs;
	return ((ctl | zq | zb | x) & high) != 0;
}

void gb_json_escape(struct gb_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + n, *run = p;
	/* Copy runs of plain ASCII in one append, skipping them 8 bytes at a
	 * time (event strings are mostly long plain runs: paths, names). */
	while (p < end) {
		while (end - p >= 8) {
			uint64_t x;
			memcpy(&x, p, 8);
			if (word_special(x))
				break;
			p += 8;
		}
		if (p >= end)
			break;
		unsigned c = *p;
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			p++;
			continue;
		}
		gb_buf_append(b, run, (size_t)(p - run));
		if (c >= 0x80) {
			size_t l = utf8_len(p, (size_t)(end - p));
			if (l) {
				gb_buf_append(b, p, l);
				p += l;
			} else {
				gb_buf_append(b, "\\ufffd", 6);
				p++;
			}
			run = p;
			continue;
		}
		char esc[6] = { '\\', 0 };
		size_t el = 2;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
			esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
			el = 6;
		}
		gb_buf_append(b, esc, el);
		p++;
		run = p;
	}
	gb_buf_append(b, run, (size_t)(p - run));
}

/* "s" with its quotes; the common case (nothing to escape, room in the
 * buffer) is one copy. */
static inline void quoted(struct gb_buf *b, const char *s, size_t n, const char *tail, size_t tn)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (end - p >= 8) {
		uint64_t x;
		memcpy(&x, p, 8);
		if (word_special(x))
			goto slow;
		p += 8;
	}
	for (; p < end; p++)
		if (*p < 0x20 || *p >= 0x80 || *p == '"' || *p == '\\')
			goto slow;
	if (!b->err && n + tn + 2 < b->cap - b->len) {
		char *d = b->data + b->len;
		*d++ = '"';
		memcpy(d, s, n);
		d += n;
		*d++ = '"';
		memcpy(d, tail, tn);
		b->len += n + tn + 2;
		b->data[b->len] = '\0';
		return;
	}
slow:
	gb_buf_putc(b, '"');
	gb_json_escape(b, s, n);
	gb_buf_putc(b, '"');
	gb_buf_append(b, tail, tn);
}

void gb_jw_strn(struct gb_jsonw *w, const char *s, size_t n)
{
	if (w->overflow)
		return;
	gb_jw_sep(w);
	quoted(w->b, s, n, "", 0);
}

void gb_jw_str(struct gb_jsonw *w, const char *s)
{
	if (!s)
		gb_jw_null(w);
	else
		gb_jw_strn(w, s, strlen(s));
}

void gb_jw_key(struct gb_jsonw *w, const char *key)
{
	if (w->overflow)
		return;
	gb_jw_sep(w);
	quoted(w->b, key, strlen(key), ":", 1);
	w->after_key = true;
}

void gb_jw_int(struct gb_jsonw *w, int64_t v)
{
	if (w->overflow)
		return;
	gb_jw_sep(w);
	char tmp[24];
	int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
	gb_buf_append(w->b, tmp, (size_t)n);
}

void gb_jw_uint(struct gb_jsonw *w, uint64_t v)
{
	if (w->overflow)
		return;
	gb_jw_sep(w);
	/* Hand-rolled: this is on the exporter's hot path and snprintf is slow. */
	char tmp[24], *e = tmp + sizeof tmp, *p = e;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	gb_buf_append(w->b, p, (size_t)(e - p));
}

void gb_jw_bool(struct gb_jsonw *w, bool v)
{
	if (w->overflow)
		return;
	gb_jw_sep(w);
	gb_buf_puts(w->b, v ? "true" : "false");
}

void gb_jw_null(struct gb_jsonw *w)
{
	if (w->overflow)
		return;
	gb_jw_sep(w);
	gb_buf_puts(w->b, "null");
}

void gb_jw_raw(struct gb_jsonw *w, const char *json, size_t n)
{
	if (w->overflow)
		return;
	gb_jw_sep(w);
	gb_buf_append(w->b, json, n);
}

void gb_jw_raw_open(struct gb_jsonw *w, const char *json, size_t n)
{
	if (!open_room(w))
		return;
	gb_buf_append(w->b, json, n);
	w->count[w->depth++] = 1;
}

void gb_jw_kstr(struct gb_jsonw *w, const char *key, const char *s)
{
	gb_jw_key(w, key);
	gb_jw_str(w, s);
}

void gb_jw_kint(struct gb_jsonw *w, const char *key, int64_t v)
{
	gb_jw_key(w, key);
	gb_jw_int(w, v);
}

void gb_jw_kuint(struct gb_jsonw *w, const char *key, uint64_t v)
{
	gb_jw_key(w, key);
	gb_jw_uint(w, v);
}

void gb_jw_kbool(struct gb_jsonw *w, const char *key, bool v)
{
	gb_jw_key(w, key);
	gb_jw_bool(w, v);
}
