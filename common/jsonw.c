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

/* Called before every value or key: writes the separating comma unless the
 * value completes a "key": pair. */
static void sep(struct gb_jsonw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth > 0 && w->count[w->depth - 1]++)
		gb_buf_putc(w->b, ',');
	if (w->depth > 0 && w->count[w->depth - 1] == 0) /* wrapped at 256 */
		w->count[w->depth - 1] = 1;
}

static void open_(struct gb_jsonw *w, char c)
{
	if (w->overflow)
		return;
	sep(w);
	if (w->depth >= GB_JW_MAX_DEPTH) {
		w->overflow = true;
		return;
	}
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

void gb_json_escape(struct gb_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + n, *run = p;
	/* Copy runs of plain ASCII in one append; handle the rest byte by byte. */
	while (p < end) {
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

void gb_jw_strn(struct gb_jsonw *w, const char *s, size_t n)
{
	if (w->overflow)
		return;
	sep(w);
	gb_buf_putc(w->b, '"');
	gb_json_escape(w->b, s, n);
	gb_buf_putc(w->b, '"');
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
	gb_jw_str(w, key);
	if (!w->overflow) {
		gb_buf_putc(w->b, ':');
		w->after_key = true;
	}
}

void gb_jw_int(struct gb_jsonw *w, int64_t v)
{
	if (w->overflow)
		return;
	sep(w);
	char tmp[24];
	int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
	gb_buf_append(w->b, tmp, (size_t)n);
}

void gb_jw_uint(struct gb_jsonw *w, uint64_t v)
{
	if (w->overflow)
		return;
	sep(w);
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
	sep(w);
	gb_buf_puts(w->b, v ? "true" : "false");
}

void gb_jw_null(struct gb_jsonw *w)
{
	if (w->overflow)
		return;
	sep(w);
	gb_buf_puts(w->b, "null");
}

void gb_jw_raw(struct gb_jsonw *w, const char *json, size_t n)
{
	if (w->overflow)
		return;
	sep(w);
	gb_buf_append(w->b, json, n);
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
