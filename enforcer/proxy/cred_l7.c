/* enforcer/proxy/cred_l7.c — credential placeholders in the requests of an
 * inspected tunnel (l7.h, cred.h).
 *
 * Header lines are rewritten toward the tunnel's host (the policy decided
 * the CONNECT's host, and l7_http.c checked that Host names it).  A
 * placeholder in the request target is refused, not rewritten: a secret in
 * a URL ends up in upstream access logs.  Basic credentials are decoded
 * (cred_basic.c).  Bodies only when the endpoint opts in
 * (`request_body_credential_rewrite`): read up to GB_CRED_BODY_MAX of
 * payload (a chunked body decoded by http1.c), JSON, form and text bodies
 * rewritten and sent with their new Content-Length; a placeholder in a body
 * of another type is refused; past the bound the body is relayed under a
 * scan that cuts the request at a placeholder (l7_http.c) — on an endpoint
 * that opts in, a body placeholder is rewritten or refused, never passed
 * (docs/credentials.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/record.h"
#include "enforcer/proxy/cred.h"
#include "enforcer/proxy/l7.h"

#define HEAD_OUT_MAX (64u << 10) /* a rewritten head: the proxy's head bound plus secrets */

/* The body's rewrite context from its Content-Type, or false: not one
 * glassbox rewrites. */
static bool body_ctx(const struct gb_http1_head *h, enum gb_cred_ctx *ctx)
{
	const struct gb_http1_field *f = gb_http1_field(h, "content-type");
	if (!f)
		return false;
	size_t n = 0;
	while (n < f->value_len && f->value[n] != ';' && f->value[n] != ' ' && f->value[n] != '\t')
		n++;
	const char *v = f->value;
	if ((n == 16 && !strncasecmp(v, "application/json", 16)) ||
	    (n > 17 && !strncasecmp(v, "application/", 12) && !strncasecmp(v + n - 5, "+json", 5))) {
		*ctx = GB_CRED_JSON;
		return true;
	}
	if (n == 33 && !strncasecmp(v, "application/x-www-form-urlencoded", 33)) {
		*ctx = GB_CRED_FORM;
		return true;
	}
	if (n > 5 && !strncasecmp(v, "text/", 5)) {
		*ctx = GB_CRED_TEXT;
		return true;
	}
	return false;
}

/* The body's payload as http1.c decodes it (chunk framing removed): kept
 * up to the bound when asked, and looked at for the beginning of a
 * placeholder, also one split across two pieces (the tail of the last). */
static void on_payload(void *arg, const char *d, size_t n)
{
	struct l7_body_scan *s = arg;
	if (s->keep) {
		if (!s->over && s->keep->len + n <= GB_CRED_BODY_MAX)
			gb_buf_append(s->keep, d, n);
		else
			s->over = true;
	}
	if (!s->scan || s->hit || !n)
		return;
	char join[2 * sizeof s->tail];
	size_t k = n < sizeof s->tail ? n : sizeof s->tail;
	memcpy(join, s->tail, s->tn);
	memcpy(join + s->tn, d, k);
	if (gb_creds_has_placeholder(join, s->tn + k) || gb_creds_has_placeholder(d, n))
		s->hit = true;
	if (n >= sizeof s->tail) {
		memcpy(s->tail, d + n - sizeof s->tail, sizeof s->tail);
		s->tn = sizeof s->tail;
	} else { /* the last sizeof tail bytes of tail + d */
		size_t all = s->tn + n, drop = all > sizeof s->tail ? all - sizeof s->tail : 0;
		memmove(join, join + drop, all - drop);
		memcpy(s->tail, join, all - drop);
		s->tn = all - drop;
	}
}

/* The body from the client: its bytes as received into raw, its payload
 * into q->body.keep (on_payload), until it ends (0) or passes the bound (1);
 * negative errno when the client left or sent a malformed body. */
static int read_body(struct l7 *l, struct gb_buf *raw, const struct l7_body_scan *s)
{
	struct l7_side *cl = &l->s[L7_CLIENT];
	for (;;) {
		if (cl->off == cl->len && l7_fill(l, L7_CLIENT) <= 0)
			return -EPIPE;
		size_t used = 0;
		enum gb_http1_event ev = gb_http1_feed(l->h1, cl->buf + cl->off, cl->len - cl->off, &used);
		if (ev == GB_HTTP1_ERROR)
			return -EBADMSG;
		gb_buf_append(raw, cl->buf + cl->off, used);
		cl->off += used;
		if (raw->err)
			return -ENOMEM;
		if (ev == GB_HTTP1_END)
			return 0;
		if (s->over)
			return 1;
	}
}

void l7_cred_done(struct l7 *l)
{
	if (l->h1)
		gb_http1_set_payload(l->h1, NULL, NULL);
}

/* The header lines of src with the body's length n: Content-Length's value
 * replaced, or (a chunked body read whole) Transfer-Encoding replaced by a
 * Content-Length. */
static void set_length(const char *src, size_t len, uint64_t n, struct gb_buf *out)
{
	size_t off = 0;
	while (off < len) {
		const char *eol = memchr(src + off, '\n', len - off);
		size_t l = eol ? (size_t)(eol - (src + off)) + 1 : len - off;
		if ((l > 15 && !strncasecmp(src + off, "content-length:", 15)) ||
		    (l > 18 && !strncasecmp(src + off, "transfer-encoding:", 18)))
			gb_buf_printf(out, "Content-Length: %llu\r\n", (unsigned long long)n);
		else
			gb_buf_append(out, src + off, l);
		off += l;
	}
}

static int refuse(int st, int rs, int *status, int *reason, char *why, size_t whylen, const char *text)
{
	*status = st;
	*reason = rs;
	snprintf(why, whylen, "%s", text);
	return -1;
}

static int result_refusal(const struct gb_cred_result *r, struct l7 *l, int *status, int *reason,
                          char *why, size_t whylen)
{
	*status = r->status == GB_CRED_NOMEM ? 503 : r->status == GB_CRED_TOO_LARGE ? 413 : 403;
	*reason = r->status == GB_CRED_UNBOUND ? GB_R_CRED_UNBOUND : GB_R_CRED_UNRESOLVED;
	gb_creds_result_text(r, l->c->req.host, l->c->req.port, why, whylen);
	return -1;
}

int l7_cred_apply(struct l7 *l, struct l7_req *q, const struct gb_http1_head *h,
                  const struct gb_decision *d, struct gb_buf *head, struct gb_buf *body, int *status,
                  int *reason, char *why, size_t whylen)
{
	const struct gb_creds *cr = l->p->o.creds;
	const char *host = l->c->req.host;
	uint16_t port = l->c->req.port;
	const char *eol = memchr(head->data, '\n', head->len);
	if (!eol)
		return 0;
	size_t rl = (size_t)(eol + 1 - head->data);
	bool in_target = gb_creds_has_placeholder(head->data, rl);
	/* Basic credentials carry theirs base64-encoded (cred_basic.c) */
	bool in_basic = gb_creds_basic_has_placeholder(head->data + rl, head->len - rl);
	bool in_head = in_basic || gb_creds_has_placeholder(head->data + rl, head->len - rl);
	enum gb_cred_ctx bctx = GB_CRED_TEXT;
	/* an endpoint that opts in: a body placeholder is rewritten or refused,
	 * never forwarded as it is */
	bool do_body = d->body_credential_rewrite && l->terminated && !h->upgrade &&
	               h->body != GB_HTTP1_BODY_NONE;
	/* a type that is not rewritten is still read (up to the bound) and
	 * refused when it holds a placeholder */
	bool rewritable = do_body && body_ctx(h, &bctx);
	if (!in_target && !in_head && !do_body)
		return 0;
	if (!l->terminated && (in_target || in_head))
		return refuse(403, GB_R_CRED_UNINSPECTED, status, reason, why, whylen,
		              "a credential placeholder in plain HTTP inside a tunnel: credentials are sent "
		              "only over TLS the proxy terminates");
	if (in_target)
		return refuse(403, GB_R_CRED_UNRESOLVED, status, reason, why, whylen,
		              "a credential placeholder in the request target: placeholders are rewritten "
		              "in header values (and opted-in bodies) only, never into a URL");
	struct gb_cred_result r;
	uint64_t used = 0;
	struct gb_buf raw = GB_BUF_INIT;
	bool body_rewritten = false;
	if (do_body) {
		struct gb_buf pay = GB_BUF_INIT; /* the payload, chunk framing removed */
		memset(&q->body, 0, sizeof q->body);
		q->body.keep = &pay;
		q->body.scan = true;
		gb_http1_set_payload(l->h1, on_payload, &q->body);
		int rc = read_body(l, &raw, &q->body);
		q->body.keep = NULL;
		q->body_sent = true; /* consumed from the client, whatever happens now */
		if (rc < 0 || pay.err) {
			gb_buf_free(&raw);
			gb_buf_free(&pay);
			return refuse(rc == -ENOMEM || pay.err ? 503 : 400, GB_R_BAD_REQUEST, status, reason,
			              why, whylen, rc == -ENOMEM || pay.err ? "out of memory"
			                                      : "the request body ended early or is malformed");
		}
		if (rc == 1 || q->body.over) {
			/* over the bound (any type): refused when a placeholder came in
			 * what was read; else what was read goes as it came, and the
			 * rest is relayed by exchange() under the scan, which cuts the
			 * request where a placeholder passes */
			gb_buf_free(&pay);
			if (q->body.hit) {
				gb_buf_free(&raw);
				return refuse(413, GB_R_CRED_UNRESOLVED, status, reason, why, whylen,
				              "a credential placeholder in a request body over the 256 KiB "
				              "rewrite bound: it cannot be rewritten, so the request is refused");
			}
			q->body_sent = false;
			*body = raw;
		} else if (!rewritable && q->body.hit) {
			gb_buf_free(&pay);
			gb_buf_free(&raw);
			return refuse(403, GB_R_CRED_UNRESOLVED, status, reason, why, whylen,
			              "a credential placeholder in a request body of a type that is not "
			              "rewritten (JSON, form and text bodies are): the request is refused");
		} else if (!rewritable) {
			gb_buf_free(&pay);
			*body = raw;
		} else {
			gb_creds_rewrite(cr, bctx, host, port, pay.data ? pay.data : "", pay.len,
			                 GB_CRED_BODY_MAX + 64 * GB_CRED_SECRET_MAX, body, &r);
			bool framed = r.status == GB_CRED_OK && !r.n &&
			              gb_creds_has_placeholder(raw.data, raw.len);
			gb_buf_free(&pay);
			if (r.status) {
				gb_buf_free(&raw);
				return result_refusal(&r, l, status, reason, why, whylen);
			}
			if (framed) { /* in a chunk extension or a trailer: nowhere to rewrite */
				gb_buf_free(&raw);
				return refuse(403, GB_R_CRED_UNRESOLVED, status, reason, why, whylen,
				              "a credential placeholder in a chunked body's framing or "
				              "trailers: it cannot be rewritten there");
			}
			used |= r.used;
			/* rewritten: sent with a Content-Length (a chunked body's
			 * trailers are dropped with its framing) */
			if (r.n) {
				body_rewritten = true;
				gb_buf_free(&raw);
			} else { /* nothing to rewrite: the body as received */
				*body = raw;
			}
		}
	}
	struct gb_buf hdr = GB_BUF_INIT; /* header lines, no secret yet */
	if (body_rewritten)
		set_length(head->data + rl, head->len - rl, body->len, &hdr);
	else
		gb_buf_append(&hdr, head->data + rl, head->len - rl);
	struct gb_buf out = GB_BUF_INIT;
	gb_buf_append(&out, head->data, rl);
	if (hdr.err || out.err) {
		gb_buf_free(&hdr);
		gb_buf_free(&out);
		gb_creds_buf_wipe(body);
		return refuse(503, GB_R_LIMIT, status, reason, why, whylen, "out of memory");
	}
	struct gb_buf basic = GB_BUF_INIT; /* hdr with its Basic credentials rewritten */
	const struct gb_buf *src = &hdr;
	if (in_basic) {
		gb_creds_rewrite_basic(cr, host, port, hdr.data, hdr.len, HEAD_OUT_MAX, &basic, &r);
		if (r.status) {
			gb_buf_free(&hdr);
			gb_buf_free(&out);
			gb_creds_buf_wipe(body);
			return result_refusal(&r, l, status, reason, why, whylen);
		}
		used |= r.used;
		if (r.n)
			src = &basic;
	}
	gb_creds_rewrite(cr, GB_CRED_HEADER, host, port, src->data, src->len, HEAD_OUT_MAX, &out, &r);
	if (r.status) {
		gb_buf_free(&hdr);
		gb_creds_buf_wipe(&basic);
		gb_buf_free(&out);
		gb_creds_buf_wipe(body);
		return result_refusal(&r, l, status, reason, why, whylen);
	}
	used |= r.used;
	if (!r.n) {
		if (gb_buf_reserve(&out, src->len + 1) == 0) /* before a secret is copied in */
			gb_buf_append(&out, src->data, src->len);
		else
			out.err = -ENOMEM;
	}
	gb_buf_free(&hdr);
	gb_creds_buf_wipe(&basic);
	if (out.err) {
		gb_creds_buf_wipe(&out);
		gb_creds_buf_wipe(body);
		return refuse(503, GB_R_LIMIT, status, reason, why, whylen, "out of memory");
	}
	gb_buf_free(head);
	*head = out;
	gb_creds_used_names(cr, used, q->creds, sizeof q->creds);
	return 0;
}
