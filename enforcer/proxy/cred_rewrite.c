/* enforcer/proxy/cred_rewrite.c — finding placeholders and replacing them
 * (see cred.h).  Pure functions of the bytes and the store: the fuzz
 * harness (tests/fuzz/fuzz_cred_rewrite.c) drives them with hostile input.
 *
 * Two passes: the first finds every placeholder, decides (unknown name,
 * unbound host, not UTF-8) and sizes the result; only when everything can
 * be rewritten does the second reserve the exact size and copy, so a
 * refusal never leaves a partial rewrite, and the buffer that receives a
 * secret is never reallocated (which would leave a copy in freed memory). */
#include <stdio.h>
#include <string.h>

#include "enforcer/proxy/cred_int.h"

#define P1 GB_CRED_PREFIX
#define P2 GB_CRED_OPENSHELL_PREFIX
#define P1_LEN (sizeof P1 - 1)
#define P2_LEN (sizeof P2 - 1)

static bool name_char(char ch, bool env)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || (!env && ch == '-');
}

struct ph {
	size_t at, len;  /* the whole placeholder in the input */
	const char *name; /* name or variable */
	size_t name_len;
	bool env;        /* OpenShell's form: the name is a variable */
};

/* The next placeholder at or after from, or false. */
static bool next_ph(const char *in, size_t len, size_t from, struct ph *p)
{
	const char *a = from < len ? memmem(in + from, len - from, P1, P1_LEN) : NULL;
	const char *b = from < len ? memmem(in + from, len - from, P2, P2_LEN) : NULL;
	if (!a && !b)
		return false;
	bool env = !a || (b && b < a);
	const char *s = env ? b : a;
	size_t pl = env ? P2_LEN : P1_LEN;
	p->at = (size_t)(s - in);
	p->env = env;
	p->name = s + pl;
	size_t n = 0;
	while (p->at + pl + n < len && n < GB_CRED_ENV_MAX && name_char(p->name[n], env))
		n++;
	p->name_len = n;
	p->len = pl + n;
	return true;
}

bool gb_creds_has_placeholder(const char *data, size_t len)
{
	struct ph p;
	return data && next_ph(data, len, 0, &p);
}

static int lookup(const struct gb_creds *c, const struct ph *p)
{
	for (size_t i = 0; c && i < c->n; i++) {
		const char *k = p->env ? c->spec[i].env : c->spec[i].name;
		if (strlen(k) == p->name_len && !memcmp(k, p->name, p->name_len))
			return (int)i;
	}
	return -1;
}

static bool bound(const struct gb_cred_spec *s, const char *host, uint16_t port)
{
	for (size_t h = 0; h < s->n_hosts; h++)
		if (gb_cred_host_match(&s->hosts[h], host, port))
			return true;
	return false;
}

static bool unreserved(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

static size_t encoded_len(enum gb_cred_ctx ctx, const char *s, size_t n)
{
	if (ctx != GB_CRED_FORM)
		return n;
	size_t l = 0;
	for (size_t i = 0; i < n; i++)
		l += unreserved((unsigned char)s[i]) ? 1 : 3;
	return l;
}

static void put_secret(struct gb_buf *out, enum gb_cred_ctx ctx, const char *s, size_t n)
{
	if (ctx != GB_CRED_FORM) {
		gb_buf_append(out, s, n);
		return;
	}
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (unreserved(ch)) {
			gb_buf_putc(out, (char)ch);
		} else {
			char e[3] = { '%', hex[ch >> 4], hex[ch & 15] };
			gb_buf_append(out, e, 3);
		}
	}
}

/* RFC 3629 UTF-8: no overlongs, no surrogates, nothing above U+10FFFF. */
static bool utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t k;
		unsigned lo = 0x80, hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf)
			k = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			if (c == 0xe0)
				lo = 0xa0;
			if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			if (c == 0xf0)
				lo = 0x90;
			if (c == 0xf4)
				hi = 0x8f;
		} else
			return false;
		if (i + k >= n)
			return false; /* truncated sequence */
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t j = 2; j <= k; j++)
			if (s[i + j] < 0x80 || s[i + j] > 0xbf)
				return false;
		i += k + 1;
	}
	return true;
}

static void refuse(struct gb_cred_result *r, int status, const char *name, size_t nl)
{
	r->status = status;
	if (nl >= sizeof r->what)
		nl = sizeof r->what - 1;
	memcpy(r->what, name, nl);
	r->what[nl] = 0;
}

void gb_creds_rewrite(const struct gb_creds *c, enum gb_cred_ctx ctx, const char *host, uint16_t port,
                      const char *in, size_t len, size_t max_out, struct gb_buf *out,
                      struct gb_cred_result *r)
{
	memset(r, 0, sizeof *r);
	struct ph p;
	size_t from = 0, total = len;
	while (next_ph(in, len, from, &p)) {
		r->n++;
		int i = lookup(c, &p);
		if (i < 0) {
			refuse(r, GB_CRED_UNKNOWN, p.name, p.name_len);
			return;
		}
		if (!bound(&c->spec[i], host, port)) {
			refuse(r, GB_CRED_UNBOUND, c->spec[i].name, strlen(c->spec[i].name));
			return;
		}
		r->used |= UINT64_C(1) << i;
		total = total - p.len + encoded_len(ctx, c->secret[i], c->secret_len[i]);
		from = p.at + p.len;
	}
	if (!r->n)
		return;
	if (ctx != GB_CRED_HEADER && !utf8_ok((const unsigned char *)in, len)) {
		r->status = GB_CRED_NOT_UTF8;
		return;
	}
	if (max_out && out->len + total > max_out) {
		r->status = GB_CRED_TOO_LARGE;
		return;
	}
	if (gb_buf_reserve(out, total + 1) < 0) {
		r->status = GB_CRED_NOMEM;
		return;
	}
	from = 0;
	while (next_ph(in, len, from, &p)) {
		int i = lookup(c, &p);
		gb_buf_append(out, in + from, p.at - from);
		put_secret(out, ctx, c->secret[i], c->secret_len[i]);
		from = p.at + p.len;
	}
	gb_buf_append(out, in + from, len - from);
	if (out->err) {
		gb_creds_buf_wipe(out);
		r->status = GB_CRED_NOMEM;
	}
}

void gb_creds_buf_wipe(struct gb_buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->cap);
	gb_buf_free(b);
}

void gb_creds_result_text(const struct gb_cred_result *r, const char *host, uint16_t port, char *out,
                          size_t n)
{
	switch (r->status) {
	case GB_CRED_UNKNOWN:
		snprintf(out, n, "credential placeholder '%s' names no credential of this sandbox; "
		         "the request is refused rather than sent with the placeholder", r->what);
		break;
	case GB_CRED_UNBOUND:
		snprintf(out, n, "credential '%s' is not bound to %s port %u; it is sent only to its "
		         "bound hosts", r->what, host, (unsigned)port);
		break;
	case GB_CRED_NOT_UTF8:
		snprintf(out, n, "credential placeholders in a body that is not UTF-8 cannot be rewritten");
		break;
	case GB_CRED_TOO_LARGE:
		snprintf(out, n, "the request with its credentials rewritten would exceed the proxy's bound");
		break;
	case GB_CRED_NOMEM:
		snprintf(out, n, "out of memory while rewriting credentials");
		break;
	default:
		snprintf(out, n, "credentials rewritten");
	}
}
