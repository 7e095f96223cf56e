/* enforcer/proxy/cred_basic.c — placeholders inside HTTP Basic credentials
 * (`Authorization: Basic base64(user:placeholder)`, see cred.h).
 *
 * Clients build Basic authentication from a user and a password variable
 * (git, pip, curl -u, Maven): the placeholder reaches the proxy base64-
 * encoded, where the plain scan cannot see it.  Each Authorization line with
 * the Basic scheme is decoded (OpenSSL's EVP_DecodeBlock); when the decoded
 * bytes hold a placeholder they are rewritten like a header value (same
 * refusals: unknown name, unbound host) and encoded again.  The buffers that
 * held a secret are wiped. */
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "enforcer/proxy/cred.h"

#define TOKEN_MAX 8192 /* base64 of a Basic credential we decode */

struct basic_line {
	size_t at, len;      /* the whole line in the input, CRLF included */
	size_t tok, tok_len; /* the base64 token */
};

/* The next `Authorization: Basic TOKEN` line at or after from. */
static bool next_basic(const char *in, size_t len, size_t from, struct basic_line *b)
{
	while (from < len) {
		const char *eol = memchr(in + from, '\n', len - from);
		size_t l = eol ? (size_t)(eol - (in + from)) + 1 : len - from;
		const char *s = in + from;
		if (l > 14 && !strncasecmp(s, "authorization:", 14)) {
			size_t i = 14, e = l;
			while (e > i && (s[e - 1] == '\n' || s[e - 1] == '\r' || s[e - 1] == ' ' || s[e - 1] == '\t'))
				e--;
			while (i < e && (s[i] == ' ' || s[i] == '\t'))
				i++;
			if (e - i > 6 && !strncasecmp(s + i, "basic", 5) && (s[i + 5] == ' ' || s[i + 5] == '\t')) {
				i += 6;
				while (i < e && (s[i] == ' ' || s[i] == '\t'))
					i++;
				b->at = from;
				b->len = l;
				b->tok = from + i;
				b->tok_len = e - i;
				return true;
			}
		}
		from += l;
	}
	return false;
}

/* base64 (padding optional) into out; the decoded length or -1. */
static int decode(const char *t, size_t n, unsigned char *out, size_t cap)
{
	while (n && t[n - 1] == '=')
		n--;
	if (!n || n > TOKEN_MAX || n % 4 == 1)
		return -1;
	char padded[TOKEN_MAX + 4];
	memcpy(padded, t, n);
	size_t pad = (4 - n % 4) % 4;
	memset(padded + n, '=', pad);
	size_t m = n + pad;
	if (m / 4 * 3 > cap)
		return -1;
	/* EVP_DecodeBlock counts the padding as zero bytes */
	int k = EVP_DecodeBlock(out, (const unsigned char *)padded, (int)m);
	explicit_bzero(padded, m);
	if (k < (int)pad)
		return -1;
	return k - (int)pad;
}

bool gb_creds_basic_has_placeholder(const char *in, size_t len)
{
	struct basic_line b;
	unsigned char dec[TOKEN_MAX];
	for (size_t from = 0; next_basic(in, len, from, &b); from = b.at + b.len) {
		int k = decode(in + b.tok, b.tok_len, dec, sizeof dec);
		if (k > 0 && gb_creds_has_placeholder((const char *)dec, (size_t)k))
			return true;
	}
	return false;
}

void gb_creds_rewrite_basic(const struct gb_creds *c, const char *host, uint16_t port, const char *in,
                            size_t len, size_t max_out, struct gb_buf *out, struct gb_cred_result *r)
{
	memset(r, 0, sizeof *r);
	struct basic_line b;
	unsigned char dec[TOKEN_MAX];
	struct gb_buf res = GB_BUF_INIT; /* the whole result; reserved once, below */
	size_t from = 0;
	/* sized generously before any secret is copied: every line may grow by
	 * a secret's base64 per placeholder it held */
	if (gb_buf_reserve(&res, len + 1 + 16 * ((GB_CRED_SECRET_MAX * 4) / 3 + 8)) < 0) {
		r->status = GB_CRED_NOMEM;
		return;
	}
	while (next_basic(in, len, from, &b)) {
		int k = decode(in + b.tok, b.tok_len, dec, sizeof dec);
		if (k <= 0 || !gb_creds_has_placeholder((const char *)dec, (size_t)k)) {
			gb_buf_append(&res, in + from, b.at + b.len - from);
			from = b.at + b.len;
			continue;
		}
		struct gb_buf plain = GB_BUF_INIT;
		struct gb_cred_result one;
		gb_creds_rewrite(c, GB_CRED_HEADER, host, port, (const char *)dec, (size_t)k, TOKEN_MAX,
		                 &plain, &one);
		explicit_bzero(dec, (size_t)k);
		if (one.status) {
			gb_creds_buf_wipe(&plain);
			gb_creds_buf_wipe(&res);
			*r = one;
			r->used = 0;
			return;
		}
		r->n += one.n;
		r->used |= one.used;
		size_t enc_len = (plain.len + 2) / 3 * 4;
		/* room for the prefix, the token (and EVP's NUL), CRLF and the
		 * rest of the input: res is never reallocated with a secret in it */
		if (res.len + (b.tok - from) + enc_len + 3 + (len - b.at - b.len) > res.cap ||
		    (max_out && out->len + res.len + enc_len > max_out)) {
			gb_creds_buf_wipe(&plain);
			gb_creds_buf_wipe(&res);
			memset(r, 0, sizeof *r);
			r->status = GB_CRED_TOO_LARGE;
			return;
		}
		gb_buf_append(&res, in + from, b.tok - from); /* "Authorization: Basic " */
		EVP_EncodeBlock((unsigned char *)res.data + res.len, (const unsigned char *)plain.data,
		                (int)plain.len);
		res.len += enc_len;
		gb_buf_append(&res, "\r\n", 2);
		gb_creds_buf_wipe(&plain);
		from = b.at + b.len;
	}
	if (!r->n) {
		gb_creds_buf_wipe(&res);
		return;
	}
	gb_buf_append(&res, in + from, len - from);
	if (res.err || (max_out && out->len + res.len > max_out) || gb_buf_reserve(out, res.len + 1) < 0) {
		gb_creds_buf_wipe(&res);
		memset(r, 0, sizeof *r);
		r->status = res.err ? GB_CRED_NOMEM : GB_CRED_TOO_LARGE;
		return;
	}
	gb_buf_append(out, res.data, res.len);
	gb_creds_buf_wipe(&res);
}
