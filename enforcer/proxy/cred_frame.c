/* enforcer/proxy/cred_frame.c — secrets masked in a framed response, across
 * the server's chunk boundaries (see cred.h).
 *
 * An inspected tunnel forwards the response as the server framed it (the
 * client's parser, not ours, decodes it), so the mask cannot simply read
 * decoded bytes and re-frame them: re-framing would change what an honest
 * server sent.  Instead the framed bytes are kept as they are and read
 * twice: as received (a copy inside one line: a header, a trailer, a chunk
 * extension) and as the payload the framing carries (the parser's body
 * segments, each payload byte knowing where it sits in the framed bytes).
 * A copy found in either view is overwritten with '*' in place — masking
 * never changes a length, so the framing stays the server's, byte for byte.
 * Each view says how much of its end could still begin a secret; the
 * framed bytes go on up to the first byte either view holds back.  So a
 * copy cut by "\r\n3\r\n" between its halves is whole in the payload view
 * when its second half comes, and its first half was never sent.
 *
 * Held bytes may hold a secret's beginning: buffers grow by copy-and-wipe
 * (no realloc leaves one in freed memory) and are wiped when they shrink,
 * flush or drop. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "enforcer/proxy/cred_int.h"

void gb_cred_frame_init(struct gb_cred_frame *f, const struct gb_cred_mask *m)
{
	memset(f, 0, sizeof *f);
	f->m = m;
}

/* Room for need bytes in b: a new block, the old one wiped and freed. */
static int grow(struct gb_buf *b, size_t need)
{
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < need)
		cap *= 2;
	char *n = malloc(cap);
	if (!n)
		return -ENOMEM;
	if (b->len)
		memcpy(n, b->data, b->len);
	if (b->data) {
		explicit_bzero(b->data, b->cap);
		free(b->data);
	}
	b->data = n;
	b->cap = cap;
	return 0;
}

void gb_cred_frame_payload(struct gb_cred_frame *f, size_t off, size_t n)
{
	if (!n || f->err)
		return;
	if (f->nseg && f->seg[2 * f->nseg - 2] + f->seg[2 * f->nseg - 1] == off) {
		f->seg[2 * f->nseg - 1] += n; /* contiguous with the last one */
		return;
	}
	if (f->nseg == f->seg_cap) {
		size_t cap = f->seg_cap ? f->seg_cap * 2 : 16;
		size_t *s = realloc(f->seg, cap * 2 * sizeof *s);
		if (!s) {
			f->err = -ENOMEM;
			return;
		}
		f->seg = s;
		f->seg_cap = cap;
	}
	f->seg[2 * f->nseg] = off;
	f->seg[2 * f->nseg + 1] = n;
	f->nseg++;
}

/* Every whole copy in the framed view, masked. */
static void mask_raw(struct gb_cred_frame *f)
{
	const struct gb_cred_mask *m = f->m;
	char *b = f->raw.data;
	size_t n = f->raw.len;
	if (!n)
		return;
	for (size_t i = 0; i < m->n; i++)
		for (char *p = b; (p = memmem(p, n - (size_t)(p - b), m->sec[i], m->len[i]));
		     p += m->len[i])
			memset(p, '*', m->len[i]);
}

/* Every whole copy in the payload view, masked where its bytes are framed. */
static void mask_pay(struct gb_cred_frame *f)
{
	const struct gb_cred_mask *m = f->m;
	char *b = f->pay.data;
	size_t n = f->pay.len;
	if (!n)
		return;
	for (size_t i = 0; i < m->n; i++)
		for (char *p = b; (p = memmem(p, n - (size_t)(p - b), m->sec[i], m->len[i]));
		     p += m->len[i]) {
			size_t j0 = (size_t)(p - b);
			for (size_t j = j0; j < j0 + m->len[i]; j++)
				f->raw.data[f->at[j]] = '*';
			memset(p, '*', m->len[i]);
		}
}

/* The framed bytes before hold have gone out: keep the rest. */
static void consume(struct gb_cred_frame *f, size_t hold)
{
	size_t rest = f->raw.len - hold;
	if (!hold)
		return;
	memmove(f->raw.data, f->raw.data + hold, rest);
	explicit_bzero(f->raw.data + rest, hold);
	f->raw.len = rest;
	size_t p0 = f->pay.len;
	while (p0 && f->at[p0 - 1] >= hold)
		p0--;
	size_t pk = f->pay.len - p0;
	if (p0) {
		memmove(f->pay.data, f->pay.data + p0, pk);
		explicit_bzero(f->pay.data + pk, p0);
	}
	for (size_t j = 0; j < pk; j++)
		f->at[j] = f->at[p0 + j] - (uint32_t)hold;
	f->pay.len = pk;
}

int gb_cred_frame_feed(struct gb_cred_frame *f, const char *in, size_t n, struct gb_buf *out)
{
	size_t nseg = f->nseg;
	f->nseg = 0;
	if (f->err)
		return f->err;
	if (!f->m || !f->m->n) {
		gb_buf_append(out, in, n);
		return out->err ? -ENOMEM : 0;
	}
	size_t base = f->raw.len, npay = 0;
	for (size_t s = 0; s < nseg; s++) {
		if (f->seg[2 * s] > n || f->seg[2 * s + 1] > n - f->seg[2 * s])
			return f->err = -EINVAL; /* a segment outside the piece: a caller's bug */
		npay += f->seg[2 * s + 1];
	}
	if (base + n > UINT32_MAX || grow(&f->raw, base + n) < 0 || grow(&f->pay, f->pay.len + npay) < 0)
		return f->err = -ENOMEM;
	if (f->pay.len + npay > f->at_cap) {
		size_t cap = f->at_cap ? f->at_cap : 1024;
		while (cap < f->pay.len + npay)
			cap *= 2;
		uint32_t *a = realloc(f->at, cap * sizeof *a);
		if (!a)
			return f->err = -ENOMEM;
		f->at = a;
		f->at_cap = cap;
	}
	memcpy(f->raw.data + base, in, n);
	f->raw.len = base + n;
	for (size_t s = 0; s < nseg; s++) {
		size_t off = f->seg[2 * s], len = f->seg[2 * s + 1];
		memcpy(f->pay.data + f->pay.len, in + off, len);
		for (size_t j = 0; j < len; j++)
			f->at[f->pay.len + j] = (uint32_t)(base + off + j);
		f->pay.len += len;
	}
	mask_raw(f);
	mask_pay(f);
	size_t hold = f->raw.len - gb_cred_mask_held_tail(f->m, f->raw.data, f->raw.len);
	size_t kp = gb_cred_mask_held_tail(f->m, f->pay.data, f->pay.len);
	if (kp && f->at[f->pay.len - kp] < hold)
		hold = f->at[f->pay.len - kp];
	if (f->raw.len - hold > GB_CRED_FRAME_HOLD_MAX)
		return f->err = -E2BIG;
	gb_buf_append(out, f->raw.data, hold);
	if (out->err)
		return f->err = -ENOMEM;
	consume(f, hold);
	return 0;
}

int gb_cred_frame_flush(struct gb_cred_frame *f, struct gb_buf *out)
{
	int rc = f->err;
	if (!rc && f->raw.len) {
		/* the end came inside a copy: its beginning is masked too, when
		 * it is long enough to be worth anything (as gb_cred_mask_flush) */
		size_t kr = gb_cred_mask_held_tail(f->m, f->raw.data, f->raw.len);
		if (kr >= 4)
			memset(f->raw.data + f->raw.len - kr, '*', kr);
		size_t kp = gb_cred_mask_held_tail(f->m, f->pay.data, f->pay.len);
		if (kp >= 4)
			for (size_t j = f->pay.len - kp; j < f->pay.len; j++)
				f->raw.data[f->at[j]] = '*';
		gb_buf_append(out, f->raw.data, f->raw.len);
		rc = out->err ? -ENOMEM : 0;
	}
	gb_cred_frame_drop(f);
	return rc;
}

void gb_cred_frame_drop(struct gb_cred_frame *f)
{
	const struct gb_cred_mask *m = f->m;
	if (f->raw.data) {
		explicit_bzero(f->raw.data, f->raw.cap);
		free(f->raw.data);
	}
	if (f->pay.data) {
		explicit_bzero(f->pay.data, f->pay.cap);
		free(f->pay.data);
	}
	free(f->at);
	free(f->seg);
	gb_cred_frame_init(f, m);
}
