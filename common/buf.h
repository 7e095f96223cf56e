/* common/buf.h — a growable byte buffer (Redis sds in spirit, plain struct).
 *
 * Ownership: the struct is the caller's (usually on the stack); gb_buf_free()
 * releases the heap block.  Appends grow geometrically; after a failed
 * allocation the buffer is marked failed (gb_buf.err = -ENOMEM), later appends
 * are no-ops, so a caller can append many pieces and check once.
 * data is always NUL-terminated when len > 0 or after gb_buf_cstr().
 */
#ifndef GB_COMMON_BUF_H
#define GB_COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

struct gb_buf {
	char *data;
	size_t len, cap;
	int err; /* 0 or -ENOMEM (sticky) */
};

#define GB_BUF_INIT { NULL, 0, 0, 0 }

int gb_buf_reserve(struct gb_buf *b, size_t extra); /* 0 or -ENOMEM */
void gb_buf_puts(struct gb_buf *b, const char *s);

/* Appends that fit are inline (the OCSF writer makes ~200 per event: an
 * out-of-line call each cost ~40% of its throughput, bench_ocsf); the rest,
 * and everything after a failed allocation, go through the slow path. */
void gb_buf_append_slow(struct gb_buf *b, const void *p, size_t n);
static inline void gb_buf_append(struct gb_buf *b, const void *p, size_t n)
{
	if (!b->err && n < b->cap - b->len) { /* cap > len always once allocated */
		memcpy(b->data + b->len, p, n);
		b->len += n;
		b->data[b->len] = '\0';
	} else {
		gb_buf_append_slow(b, p, n);
	}
}
static inline void gb_buf_putc(struct gb_buf *b, char c)
{
	if (!b->err && b->len + 1 < b->cap) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
	} else {
		gb_buf_append_slow(b, &c, 1);
	}
}
void gb_buf_printf(struct gb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gb_buf_vprintf(struct gb_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
const char *gb_buf_cstr(struct gb_buf *b); /* "" for an empty buffer */
void gb_buf_reset(struct gb_buf *b);       /* len = 0, keeps the allocation */
void gb_buf_free(struct gb_buf *b);

#endif
