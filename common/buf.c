/* common/buf.c — see buf.h. */
#include "common/buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gb_buf_reserve(struct gb_buf *b, size_t extra)
{
	if (b->err)
		return b->err;
	if (b->len + extra + 1 <= b->cap)
		return 0;
	size_t need = b->len + extra + 1;
	if (need < b->len) { /* overflow */
		b->err = -ENOMEM;
		return b->err;
	}
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > (SIZE_MAX / 2) ? need : cap * 2;
	char *p = realloc(b->data, cap);
	if (!p) {
		b->err = -ENOMEM;
		return b->err;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void gb_buf_append_slow(struct gb_buf *b, const void *p, size_t n)
{
	if (gb_buf_reserve(b, n))
		return;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void gb_buf_puts(struct gb_buf *b, const char *s)
{
	gb_buf_append(b, s, strlen(s));
}

void gb_buf_vprintf(struct gb_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	char small[256];
	int n = vsnprintf(small, sizeof small, fmt, ap);
	if (n < 0) {
		va_end(ap2);
		return;
	}
	if ((size_t)n < sizeof small) {
		gb_buf_append(b, small, (size_t)n);
	} else if (gb_buf_reserve(b, (size_t)n) == 0) {
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
		b->len += (size_t)n;
	}
	va_end(ap2);
}

void gb_buf_printf(struct gb_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	gb_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

const char *gb_buf_cstr(struct gb_buf *b)
{
	return b->data && !b->err ? b->data : "";
}

void gb_buf_reset(struct gb_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void gb_buf_free(struct gb_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->err = 0;
}
