/* enforcer/proxy/tls_peek.c — what a tunnel starts with, and a strict
 * ClientHello reader.
 *
 * The classifier decides from as few bytes as tell the kinds apart: TLS is
 * a handshake record header (0x16 0x03 0x00..0x04); HTTP/1 is a token
 * method, a space, and later " HTTP/1."; h2c's prior-knowledge preface is
 * its fixed 24 bytes ("PRI * HTTP/2.0..."), checked before HTTP/1 because it
 * looks like a request line.  Anything else is OTHER.
 *
 * The ClientHello reader walks every length against its container with a
 * cursor that cannot run past the end; it is the gate before OpenSSL ever
 * sees the bytes, so a malformed hello is refused with a reason and a
 * record, and SNI is known for the record even when the handshake fails. */
#include "enforcer/proxy/tls.h"

#include <errno.h>
#include <string.h>

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

static bool tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

enum gb_peek_kind gb_tls_peek_classify(const unsigned char *b, size_t n)
{
	if (n == 0)
		return GB_PEEK_NEED_MORE;
	if (b[0] == 0x16) {
		if (n < 3)
			return GB_PEEK_NEED_MORE;
		return b[1] == 0x03 && b[2] <= 0x04 ? GB_PEEK_TLS : GB_PEEK_OTHER;
	}
	size_t pl = sizeof h2_preface - 1;
	if (!memcmp(b, h2_preface, n < pl ? n : pl))
		return n < pl ? GB_PEEK_NEED_MORE : GB_PEEK_H2C;
	/* METHOD SP target SP HTTP/1.x */
	size_t i = 0;
	while (i < n && i < 24 && tchar(b[i]))
		i++;
	/* all method bytes so far: the next one decides (a space after up to
	 * 24 of them is a method; a 25th token byte is not), whatever the
	 * segmenting — 24 bytes alone were OTHER while 25 were a method
	 * (fuzz_tls_peek) */
	if (i == n)
		return GB_PEEK_NEED_MORE;
	if (i == 0 || b[i] != ' ')
		return GB_PEEK_OTHER;
	const unsigned char *sp = memchr(b + i + 1, ' ', n - i - 1);
	if (!sp) {
		for (size_t k = i + 1; k < n; k++)
			if (b[k] <= 0x20 || b[k] >= 0x7f)
				return GB_PEEK_OTHER;
		return n < 8192 ? GB_PEEK_NEED_MORE : GB_PEEK_OTHER;
	}
	for (const unsigned char *k = b + i + 1; k < sp; k++)
		if (*k <= 0x20 || *k >= 0x7f)
			return GB_PEEK_OTHER;
	size_t rest = n - (size_t)(sp + 1 - b);
	static const char v[] = "HTTP/1.";
	size_t cmp = rest < 7 ? rest : 7;
	if (memcmp(sp + 1, v, cmp))
		return GB_PEEK_OTHER;
	return rest < 7 ? GB_PEEK_NEED_MORE : GB_PEEK_HTTP1;
}

struct cur {
	const unsigned char *p, *end;
	bool bad;
};

static unsigned get(struct cur *c, size_t bytes)
{
	if (c->bad || (size_t)(c->end - c->p) < bytes) {
		c->bad = true;
		return 0;
	}
	unsigned v = 0;
	for (size_t i = 0; i < bytes; i++)
		v = v << 8 | *c->p++;
	return v;
}

/* A sub-cursor over the next len bytes (which c skips). */
static struct cur sub(struct cur *c, size_t len)
{
	struct cur s = { c->p, c->p, true };
	if (c->bad || (size_t)(c->end - c->p) < len) {
		c->bad = true;
		return s;
	}
	s.end = c->p + len;
	s.bad = false;
	c->p += len;
	return s;
}

static int fail(const char **why, const char *w)
{
	*why = w;
	return -EBADMSG;
}

static int parse_sni(struct cur e, struct gb_client_hello *ch, const char **why)
{
	struct cur list = sub(&e, get(&e, 2));
	if (e.bad || e.p != e.end)
		return fail(why, "malformed server_name extension");
	while (!list.bad && list.p < list.end) {
		unsigned type = get(&list, 1);
		struct cur name = sub(&list, get(&list, 2));
		if (list.bad)
			break;
		if (type != 0)
			continue;
		size_t nl = (size_t)(name.end - name.p);
		if (nl == 0 || nl >= sizeof ch->sni || ch->sni[0])
			return fail(why, "invalid server name");
		for (size_t i = 0; i < nl; i++) {
			unsigned char c = name.p[i];
			if (c <= 0x20 || c >= 0x7f)
				return fail(why, "invalid byte in server name");
			ch->sni[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		ch->sni[nl] = '\0';
	}
	return list.bad ? fail(why, "malformed server_name list") : 0;
}

static int parse_alpn(struct cur e, struct gb_client_hello *ch, const char **why)
{
	struct cur list = sub(&e, get(&e, 2));
	if (e.bad || e.p != e.end || list.p == list.end)
		return fail(why, "malformed ALPN extension");
	while (!list.bad && list.p < list.end) {
		struct cur pr = sub(&list, get(&list, 1));
		size_t l = (size_t)(pr.end - pr.p);
		if (list.bad || l == 0)
			return fail(why, "malformed ALPN protocol");
		if (l == 2 && !memcmp(pr.p, "h2", 2))
			ch->alpn_h2 = true;
		if (l == 8 && !memcmp(pr.p, "http/1.1", 8))
			ch->alpn_http11 = true;
	}
	return list.bad ? fail(why, "malformed ALPN list") : 0;
}

int gb_tls_parse_client_hello(const unsigned char *b, size_t n, struct gb_client_hello *ch,
                              const char **why)
{
	memset(ch, 0, sizeof *ch);
	*why = NULL;
	if (n < 5)
		return 0;
	if (b[0] != 0x16 || b[1] != 0x03 || b[2] > 0x04)
		return fail(why, "not a TLS handshake record");
	size_t rlen = (size_t)b[3] << 8 | b[4];
	if (rlen < 4 || rlen > 16384)
		return fail(why, "TLS record length out of range");
	if (n < 5 + rlen)
		return 0;
	struct cur rec = { b + 5, b + 5 + rlen, false };
	if (get(&rec, 1) != 1)
		return fail(why, "first handshake message is not a ClientHello");
	size_t hlen = get(&rec, 3);
	if (hlen < 38)
		return fail(why, "ClientHello too short");
	/* A hello fragmented over several records is legal but rare: the part
	 * here is checked as far as it goes and OpenSSL checks the rest. */
	bool fragmented = hlen > (size_t)(rec.end - rec.p);
	struct cur h = fragmented ? rec : sub(&rec, hlen);
	if (!fragmented && rec.p != rec.end)
		return fail(why, "bytes after the ClientHello in its record");
	ch->legacy_version = (uint16_t)get(&h, 2);
	if (ch->legacy_version < 0x0301 || ch->legacy_version > 0x0304)
		return fail(why, "unsupported ClientHello version");
	sub(&h, 32); /* random */
	size_t sid = get(&h, 1);
	if (sid > 32)
		return fail(why, "session id longer than 32 bytes");
	sub(&h, sid);
	size_t cs = get(&h, 2);
	if (h.bad || cs < 2 || cs % 2)
		return fail(why, "malformed cipher suite list");
	sub(&h, cs);
	size_t comp = get(&h, 1);
	if (h.bad || comp < 1)
		return fail(why, "malformed compression list");
	sub(&h, comp);
	if (h.bad)
		return fragmented ? (int)(5 + rlen) : fail(why, "ClientHello truncated");
	if (h.p == h.end)
		return (int)(5 + rlen); /* no extensions */
	size_t el = get(&h, 2);
	if (fragmented) {
		struct cur exts = { h.p, h.p + el < h.end ? h.p + el : h.end, h.bad };
		h = exts;
	} else {
		struct cur exts = sub(&h, el);
		if (h.bad || h.p != h.end)
			return fail(why, "extensions length does not match the ClientHello");
		h = exts;
	}
	bool seen_sni = false, seen_alpn = false;
	while (!h.bad && h.p < h.end) {
		unsigned type = get(&h, 2);
		size_t len = get(&h, 2);
		if (h.bad || len > (size_t)(h.end - h.p)) {
			if (fragmented)
				break;
			return fail(why, "extension runs past the ClientHello");
		}
		struct cur e = sub(&h, len);
		int rc = 0;
		if (type == 0) {
			if (seen_sni)
				return fail(why, "duplicate server_name extension");
			seen_sni = true;
			rc = parse_sni(e, ch, why);
		} else if (type == 16) {
			if (seen_alpn)
				return fail(why, "duplicate ALPN extension");
			seen_alpn = true;
			rc = parse_alpn(e, ch, why);
		}
		if (rc < 0)
			return rc;
	}
	return (int)(5 + rlen);
}
