/* enforcer/proxy/l7_http.c — requests inside an inspected tunnel, one by
 * one (see l7.h).
 *
 * Each request head is framed by http1.h (strict: smuggling shapes are
 * refused before anything goes upstream) and decided by the current policy
 * revision on its own: method, canonical path, query, the endpoint's path
 * selector, deny rules, enforcement.  The canonical path is what goes
 * upstream, so what was decided is what the server sees.  Denied in
 * enforce mode: a 403 (400 for a path that fails canonicalisation, even in
 * audit mode) and, when the request has no body, the connection stays
 * usable.  Audit: forwarded, recorded as would-deny.
 *
 * The Host header must name the tunnel's host (a virtual-hosting front end
 * would otherwise serve a host nobody decided on).  Upgrades: `websocket`
 * on a websocket endpoint is decided like any request and, after 101, the
 * frames relay unchanged; any other upgrade (h2c above all) is refused. */
#include "enforcer/proxy/l7.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/record.h"
#include "enforcer/proxy/cred.h"

static bool field_is(const struct gb_http1_field *f, const char *v)
{
	return f && f->value_len == strlen(v) && !strncasecmp(f->value, v, f->value_len);
}

/* A refusal that is not a rule's: answer, record, end the connection. */
static void bad(struct l7 *l, struct l7_req *q, int status, int reason, const char *detail)
{
	struct gb_decision d;
	memset(&d, 0, sizeof d);
	d.mode = l->c->dec.mode;
	d.reason = (enum gb_reason)reason;
	d.revision = l->c->dec.revision;
	snprintf(d.reason_text, sizeof d.reason_text, "%s", detail);
	struct gb_buf b = GB_BUF_INIT;
	l7_error_reply(&b, status, gb_reason_name(reason), detail, false);
	if (!b.err)
		l7_write(l, L7_CLIENT, b.data, b.len);
	gb_buf_free(&b);
	q->status = status;
	l7_rec_http(l, q, &d, l->c->entry, GB_VERDICT_DENY, reason);
}

/* A request cut after its head went upstream (cred_l7.c's body scan): the
 * refusal when the client has no answer yet, the record either way. */
static void refuse_late(struct l7 *l, struct l7_req *q, bool answered)
{
	if (!answered) {
		bad(l, q, 403, GB_R_CRED_UNRESOLVED, L7_CRED_BODY_HIT);
		return;
	}
	struct gb_decision d;
	memset(&d, 0, sizeof d);
	d.mode = l->c->dec.mode;
	d.reason = GB_R_CRED_UNRESOLVED;
	d.revision = l->c->dec.revision;
	snprintf(d.reason_text, sizeof d.reason_text, "%s", L7_CRED_BODY_HIT);
	l7_rec_http(l, q, &d, l->c->entry, GB_VERDICT_DENY, GB_R_CRED_UNRESOLVED);
}

/* Read the next request head.  1 = head, 0 = the client is done (EOF or
 * timeout between requests), -1 = refused (answered and recorded). */
static int read_head(struct l7 *l, struct l7_req *q)
{
	int rc = l7_next_head(l);
	if (rc < 0) {
		int st = gb_http1_status(l->h1);
		bad(l, q, st, st == 431 ? GB_R_LIMIT : GB_R_BAD_REQUEST, gb_http1_error(l->h1));
	}
	return rc;
}

/* Split the origin-form target into q->path and q->query. */
static int split_target(const struct gb_http1_head *h, struct l7_req *q, const char **why)
{
	const char *t = h->target, *end = t + h->target_len;
	if (h->target_len == 1 && t[0] == '*' && !strcmp(h->method, "OPTIONS")) {
		strcpy(q->path, "*");
		return 0;
	}
	if (!h->target_len || t[0] != '/') {
		*why = "inside a tunnel the request target must be origin-form (/path)";
		return -1;
	}
	if (l7_req_path_query(q, t, end) < 0) {
		*why = "request target too long";
		return -1;
	}
	return 0;
}

static int check_host(struct l7 *l, const struct gb_http1_head *h, const char **why)
{
	struct proxy_conn *c = l->c;
	if (!h->n_host) {
		if (h->minor >= 1) {
			*why = "HTTP/1.1 request without Host";
			return -1;
		}
		return 0;
	}
	char host[256];
	uint16_t port = 0;
	if (http_parse_host(h->host, h->host_len, host, sizeof host, &port) < 0 ||
	    strcasecmp(host, c->req.host) || (port && port != c->req.port)) {
		*why = "Host header differs from the tunnel's host";
		return -1;
	}
	return 0;
}

static void decide(struct l7 *l, const struct l7_req *q, struct gb_decision *d, char *entry, size_t en)
{
	struct proxy_conn *c = l->c;
	const struct gb_identity *id = &c->ident.id;
	struct gb_decide_in in = {
		.host = c->req.host, .port = c->req.port, .exe = id->exe,
		.ancestors = (const char *const *)id->ancestors, .n_ancestors = id->n_ancestors,
		.script = id->script, .method = q->method, .path = q->path,
		.query = q->has_query ? q->query : NULL,
	};
	struct gb_policy_store *st = l->p->o.store;
	const struct gb_policy_compiled *pol = gb_policy_store_get(st);
	gb_policy_decide(pol, &in, d);
	proxy_learn(&l->p->o, d, c->req.host);
	snprintf(entry, en, "%s", d->entry ? d->entry : "");
	d->entry = NULL;
	d->allowed_ips = NULL; /* both point into the revision, released here */
	gb_policy_store_put(st, pol);
}

/* The request head for upstream: the request line with the canonical path,
 * the header lines as received. */
/* identity: the host has a credential bound to it, whose copies the
 * response mask must be able to read — a compressed body hides them (the
 * client's decompression would make the secret), so every Accept-Encoding
 * line is replaced by "Accept-Encoding: identity" (RFC 9110 12.5.3), and a
 * server that compresses anyway is refused by the response parser
 * (l7_resp.c, refuse_encoded). */
static int upstream_head(const struct gb_http1_head *h, const struct l7_req *q, const char *path,
                         bool identity, struct gb_buf *out)
{
	gb_buf_printf(out, "%s %s%s%s HTTP/%d.%d\r\n", h->method, path, q->has_query ? "?" : "",
	              q->has_query ? q->query : "", h->major, h->minor);
	const char *eol = memchr(h->raw, '\n', h->head_len);
	if (!eol)
		return -EINVAL;
	const char *p = eol + 1, *end = h->raw + h->head_len;
	if (!identity) {
		gb_buf_append(out, p, (size_t)(end - p));
		return out->err ? -ENOMEM : 0;
	}
	static const char ae[] = "accept-encoding:";
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		if (*p == '\r' || *p == '\n') { /* the blank line ending the head */
			gb_buf_puts(out, "Accept-Encoding: identity\r\n");
			gb_buf_append(out, p, (size_t)(end - p));
			break;
		}
		if ((size_t)(next - p) <= sizeof ae - 1 || strncasecmp(p, ae, sizeof ae - 1))
			gb_buf_append(out, p, (size_t)(next - p));
		p = next;
	}
	return out->err ? -ENOMEM : 0;
}

/* Response bytes to the client through the mask (cred_frame.c): the
 * server's framing as it came, a secret masked also where the server's
 * chunks cut it.  -1 also when the mask would hold too much (cut). */
static int send_masked(struct l7 *l, struct gb_cred_frame *m, const char *b, size_t n)
{
	if (!m->m->n)
		return l7_write(l, L7_CLIENT, b, n);
	struct gb_buf out = GB_BUF_INIT;
	int rc = gb_cred_frame_feed(m, b, n, &out);
	if (rc == 0 && out.len)
		rc = l7_write(l, L7_CLIENT, out.data, out.len);
	gb_buf_free(&out);
	return rc;
}

static void frame_payload(void *arg, size_t off, size_t n)
{
	gb_cred_frame_payload(arg, off, n);
}

/* exchange()'s relay: body up, response down until the response ended.
 * 1 or 0 (the request's body ended or not), -1 broken. */
static int exchange_loop(struct l7 *l, struct l7_req *q, struct l7_resp *rs, bool req_done,
                         struct gb_cred_frame *mask)
{
	struct l7_side *cl = &l->s[L7_CLIENT], *up = &l->s[L7_UPSTREAM];
	bool sent_any = false;
	size_t used = 0;
	while (!rs->done) {
		int r = l7_wait(l, 2u | (req_done ? 0 : 1u), l->timeout_ms);
		if (r <= 0)
			return -1;
		if (r & 1) {
			ssize_t got = cl->off == cl->len ? l7_fill_ready(l, L7_CLIENT) : 1;
			if (got == -EAGAIN)
				r &= ~1; /* no data in what came: wait again */
			else if (got <= 0)
				return -1; /* the client left in the middle of its body */
		}
		if (r & 1) {
			enum gb_http1_event ev =
				gb_http1_feed(l->h1, cl->buf + cl->off, cl->len - cl->off, &used);
			if (ev == GB_HTTP1_ERROR) {
				if (!sent_any)
					bad(l, q, 400, GB_R_BAD_REQUEST, gb_http1_error(l->h1));
				return -1;
			}
			if (q->body.hit) { /* cred_l7.c: a body placeholder that cannot be rewritten */
				q->refused = true;
				refuse_late(l, q, sent_any);
				return -1;
			}
			if (used && l7_write(l, L7_UPSTREAM, cl->buf + cl->off, used) < 0)
				return -1;
			cl->off += used;
			q->bytes_req += used;
			if (ev == GB_HTTP1_END)
				req_done = true;
		}
		if (r & 2) {
			if (up->off == up->len) {
				ssize_t n = l7_fill_ready(l, L7_UPSTREAM);
				if (n == -EAGAIN)
					continue; /* a session ticket, no response bytes yet */
				if (n < 0)
					return -1;
				if (n == 0) {
					if (l7_resp_eof(rs) < 0)
						return -1;
					break;
				}
			}
			if (l7_resp_feed(rs, up->buf + up->off, up->len - up->off, &used) < 0) {
				if (!sent_any) {
					char d[300];
					snprintf(d, sizeof d, "malformed response from upstream: %s", rs->err);
					struct gb_buf b = GB_BUF_INIT;
					l7_error_reply(&b, 502, "upstream_failed", d, false);
					if (!b.err)
						l7_write(l, L7_CLIENT, b.data, b.len);
					gb_buf_free(&b);
					q->status = 502;
				}
				return -1;
			}
			if (used && send_masked(l, mask, up->buf + up->off, used) < 0)
				return -1;
			sent_any = sent_any || used;
			up->off += used;
			q->bytes_resp += used;
		}
	}
	struct gb_buf tail = GB_BUF_INIT; /* what the mask held back */
	int rc = mask->m->n ? gb_cred_frame_flush(mask, &tail) : 0;
	if (rc == 0 && tail.len)
		rc = l7_write(l, L7_CLIENT, tail.data, tail.len);
	gb_buf_free(&tail);
	return rc < 0 ? -1 : req_done ? 1 : 0;
}

/* Body up, response down, until the response is complete.  0 = done and
 * the connection may carry another request, 1 = done but it must close,
 * -1 = broken (closed without a clean answer). */
static int exchange(struct l7 *l, struct l7_req *q, const struct gb_http1_head *h, bool ws,
                    struct l7_resp *rs)
{
	struct proxy_conn *c = l->c;
	struct l7_side *up = &l->s[L7_UPSTREAM];
	bool req_done = false;
	l7_resp_init(rs, !strcmp(h->method, "HEAD"));
	size_t used = 0;
	if (h->body == GB_HTTP1_BODY_NONE || h->upgrade) {
		gb_http1_feed(l->h1, "", 0, &used); /* END, nothing consumed */
		req_done = true;
	} else if (q->body_sent) {
		req_done = true; /* read and sent with the head (cred_l7.c) */
	}
	/* a server that echoes a credential the proxy sent it (cred.h) must not
	 * hand it to the sandbox, also when the copy straddles two reads or
	 * the server's chunks cut it (the mask reads the decoded payload too) */
	struct gb_cred_mask mask;
	gb_cred_mask_init(&mask);
	gb_creds_mask_bound(l->p->o.creds, c->req.host, c->req.port, &mask);
	struct gb_cred_frame fm;
	gb_cred_frame_init(&fm, &mask);
	if (mask.n) {
		rs->on_payload = frame_payload;
		rs->arg = &fm;
		rs->refuse_encoded = true;
	}
	int rc = exchange_loop(l, q, rs, req_done, &fm);
	gb_cred_frame_drop(&fm);
	gb_cred_mask_drop(&mask);
	if (rc < 0)
		return rc;
	req_done = rc == 1;
	q->status = rs->status ? rs->status : rs->first_status;
	c->up.bytes += q->bytes_req;
	c->down.bytes += q->bytes_resp;
	if (ws && rs->upgrade)
		return 1;
	/* a response that came before the whole request body, or bytes the
	 * server sent beyond its response: the connection cannot go on */
	if (!req_done || up->off < up->len || up->eof)
		return 1;
	return h->keep_alive && rs->keep_alive ? 0 : 1;
}

void l7_serve(struct l7 *l)
{
	struct proxy_conn *c = l->c;
	for (;;) {
		struct l7_req q;
		memset(&q, 0, sizeof q);
		int rc = read_head(l, &q);
		if (rc <= 0)
			return;
		const struct gb_http1_head *h = gb_http1_head(l->h1);
		q.t0_ns = gb_now_ns(CLOCK_MONOTONIC);
		snprintf(q.method, sizeof q.method, "%s", h->method);
		q.bytes_req = h->head_len;
		const char *why = NULL;
		if (split_target(h, &q, &why) < 0 || check_host(l, h, &why) < 0) {
			bad(l, &q, 400, GB_R_BAD_REQUEST, why);
			return;
		}
		const struct gb_http1_field *upg = gb_http1_field(h, "upgrade");
		bool ws = upg && field_is(upg, "websocket");
		struct gb_decision d;
		char entry[256];
		decide(l, &q, &d, entry, sizeof entry);
		if (upg && d.verdict == GB_VERDICT_ALLOW && (!ws || d.protocol != GB_PROTO_WEBSOCKET)) {
			char t[400];
			snprintf(t, sizeof t, "Upgrade: %.*s on %s is not inspectable%s", (int)(upg->value_len > 40 ? 40 : upg->value_len),
			         upg->value, c->dec.endpoint, ws ? " (the endpoint is not protocol: websocket)" : "");
			bad(l, &q, 403, GB_R_L7_UNSUPPORTED, t);
			return;
		}
		if (d.verdict != GB_VERDICT_ALLOW) {
			int status = d.reason == GB_R_L7_BAD_PATH ? 400 : 403;
			bool keep = h->keep_alive && h->body == GB_HTTP1_BODY_NONE && !upg;
			struct gb_buf b = GB_BUF_INIT;
			l7_refusal(l, &q, &d, entry, status, keep, &b);
			int wr = b.err ? -ENOMEM : l7_write(l, L7_CLIENT, b.data, b.len);
			gb_buf_free(&b);
			q.status = status;
			l7_rec_http(l, &q, &d, entry, GB_VERDICT_DENY, d.reason);
			if (!keep || wr < 0)
				return;
			size_t used;
			gb_http1_feed(l->h1, "", 0, &used); /* END of the refused message */
			continue;
		}
		struct gb_buf head = GB_BUF_INIT, body = GB_BUF_INIT;
		const char *path = d.canonical_path[0] ? d.canonical_path : q.path;
		bool bound = gb_creds_bound(l->p->o.creds, l->c->req.host, l->c->req.port, NULL, 0);
		int w = upstream_head(h, &q, path, bound, &head);
		int cst, crs; /* credential placeholders (cred_l7.c): rewritten or refused */
		char cwhy[400];
		if (w == 0 && l7_cred_apply(l, &q, h, &d, &head, &body, &cst, &crs, cwhy, sizeof cwhy) < 0) {
			gb_buf_free(&head);
			gb_creds_buf_wipe(&body);
			l7_cred_done(l);
			bad(l, &q, cst, crs, cwhy);
			return;
		}
		if (w == 0)
			w = l7_write(l, L7_UPSTREAM, head.data, head.len);
		if (w == 0 && body.len)
			w = l7_write(l, L7_UPSTREAM, body.data, body.len);
		q.bytes_req = head.len + body.len;
		gb_creds_buf_wipe(&head);
		gb_creds_buf_wipe(&body);
		if (w < 0) {
			bad(l, &q, 502, GB_R_UPSTREAM_FAILED, "the upstream connection is gone");
			return;
		}
		struct l7_resp rs;
		int ex = exchange(l, &q, h, ws, &rs);
		l7_cred_done(l);
		if (!q.refused)
			l7_rec_http(l, &q, &d, entry, GB_VERDICT_ALLOW, d.reason);
		if (ex < 0)
			return;
		if (ws && rs.upgrade) {
			l7_relay_raw(l); /* websocket frames, both ways */
			return;
		}
		if (ex == 1)
			return;
	}
}
