/* enforcer/proxy/cred_mask.c — secrets masked in a byte stream that goes to
 * the sandbox, across the pieces it arrives in (see cred.h).
 *
 * A provider that echoes the key it received (an error quoting it) must not
 * hand it to the agent, and the copy may straddle two reads or two chunks.
 * Each piece is joined to what was held back from the previous one, every
 * whole copy of a secret in the join is replaced by '*', and the longest
 * tail of the join that is the beginning of some secret is held back for
 * the next piece — nothing else.  So a piece that cannot be the start of a
 * secret (an SSE event ends in "\n\n", a JSON body in '}') is passed on
 * whole at once: streaming is not delayed by the window. */
#include <string.h>

#include "enforcer/proxy/cred_int.h"

void gb_cred_mask_init(struct gb_cred_mask *m)
{
	memset(m, 0, sizeof *m);
}

void gb_cred_mask_add(struct gb_cred_mask *m, const char *s, size_t n)
{
	if (n < GB_CRED_MASK_MIN || n > GB_CRED_SECRET_MAX || m->n == GB_CRED_MASK_SECRETS)
		return;
	m->sec[m->n] = s;
	m->len[m->n++] = n;
}

/* The longest k < len of a secret such that b's last k bytes begin it. */
size_t gb_cred_mask_held_tail(const struct gb_cred_mask *m, const char *b, size_t n)
{
	size_t best = 0;
	for (size_t i = 0; i < m->n; i++) {
		size_t k = m->len[i] - 1 < n ? m->len[i] - 1 : n;
		for (; k > best; k--)
			if (b[n - k] == m->sec[i][0] && !memcmp(b + n - k, m->sec[i], k)) {
				best = k;
				break;
			}
	}
	return best;
}

int gb_cred_mask_feed(struct gb_cred_mask *m, const char *in, size_t n, struct gb_buf *out)
{
	if (!m->n) {
		gb_buf_append(out, in, n);
		return out->err ? -1 : 0;
	}
	size_t base = out->len, total = m->pn + n;
	if (gb_buf_reserve(out, total + 1) < 0)
		return -1;
	gb_buf_append(out, m->pend, m->pn);
	gb_buf_append(out, in, n);
	char *b = out->data + base;
	for (size_t i = 0; i < m->n; i++)
		for (char *p = b; (p = memmem(p, total - (size_t)(p - b), m->sec[i], m->len[i]));
		     p += m->len[i])
			memset(p, '*', m->len[i]);
	size_t k = gb_cred_mask_held_tail(m, b, total);
	memcpy(m->pend, b + total - k, k);
	explicit_bzero(b + total - k, k);
	m->pn = k;
	out->len = base + total - k;
	return 0;
}

int gb_cred_mask_flush(struct gb_cred_mask *m, struct gb_buf *out)
{
	/* the end came inside a copy: its beginning is masked too, when it is
	 * long enough to be worth anything (a 3-byte "sk-" is not) */
	if (m->pn >= 4)
		memset(m->pend, '*', m->pn);
	gb_buf_append(out, m->pend, m->pn);
	gb_cred_mask_drop(m);
	return out->err ? -1 : 0;
}

void gb_cred_mask_drop(struct gb_cred_mask *m)
{
	explicit_bzero(m->pend, m->pn);
	m->pn = 0;
}

void gb_creds_mask_bound(const struct gb_creds *c, const char *host, uint16_t port,
                         struct gb_cred_mask *m)
{
	for (size_t i = 0; c && i < c->n; i++)
		for (size_t h = 0; h < c->spec[i].n_hosts; h++)
			if (gb_cred_host_match(&c->spec[i].hosts[h], host, port)) {
				gb_cred_mask_add(m, c->secret[i], c->secret_len[i]);
				break;
			}
}
