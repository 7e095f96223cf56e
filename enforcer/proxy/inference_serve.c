/* enforcer/proxy/inference_serve.c — a connection to inference.local, request
 * by request (see inference.h).
 *
 * The worker hands the connection over right after its head was read: no
 * policy entry is consulted, because the proxy itself is the destination.
 * `CONNECT inference.local:443` is answered 200 and terminated with the
 * sandbox CA (a leaf for inference.local), `http://inference.local/...`
 * is read as it came.  Each request is framed by http1.h (strict), its body
 * read whole (bounded), checked against the route's provider patterns, and
 * sent to the provider by inf_call() with the host's credential.
 *
 * Keep-alive isolation: the connection is this thread's until it closes.
 * A request on it for any other host (an absolute-form URL, or a Host that
 * is not inference.local) is refused and the connection closed: an agent
 * must not reuse a connection the proxy opened on its behalf to reach
 * anything else (OpenShell's "connection not allowed by policy"). */
#include "enforcer/proxy/inference_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "common/jsonw.h"
#include "common/record.h"

static const char *status_text(int s)
{
	switch (s) {
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 413: return "Payload Too Large";
	case 431: return "Request Header Fields Too Large";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Error";
	}
}

void inf_reply(struct gb_buf *out, int status, const char *type, const char *message,
               bool keep_alive)
{
	struct gb_buf body = GB_BUF_INIT;
	struct gb_jsonw w;
	gb_jw_init(&w, &body);
	gb_jw_obj_begin(&w);
	gb_jw_key(&w, "error");
	gb_jw_obj_begin(&w);
	gb_jw_kstr(&w, "message", message);
	gb_jw_kstr(&w, "type", type);
	gb_jw_kint(&w, "code", status);
	gb_jw_obj_end(&w);
	gb_jw_kstr(&w, "layer", "inference");
	gb_jw_obj_end(&w);
	gb_buf_putc(&body, '\n');
	gb_buf_printf(out,
	              "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
	              "X-Glassbox-Reason: %s\r\nConnection: %s\r\n\r\n",
	              status, status_text(status), body.len, type, keep_alive ? "keep-alive" : "close");
	gb_buf_append(out, body.data, body.len);
	gb_buf_free(&body);
}

/* ---- records ---- */

static void record(struct l7 *l, struct inf_req *r, int verdict, int reason, const char *why)
{
	struct gb_decision d;
	memset(&d, 0, sizeof d);
	d.reason = (enum gb_reason)reason;
	d.mode = GB_MODE_ENFORCE;
	const struct gb_inf_route *rt = r->route;
	if (why && *why)
		snprintf(d.reason_text, sizeof d.reason_text, "inference.local: %s", why);
	else if (rt)
		snprintf(d.reason_text, sizeof d.reason_text, "inference.local -> %s (%s) model %s",
		         rt->provider, gb_inf_type_name(rt->type), rt->model);
	char rule[300];
	snprintf(rule, sizeof rule, "inference %s %.200s", r->q.method, r->q.path);
	struct proxy_conn *c = l->c;
	struct gb_record rec = { .type = GB_REC_HTTP_DECISION };
	struct gb_http_decision *h = &rec.u.http;
	h->verdict = (uint8_t)verdict;
	h->mode = GB_MODE_ENFORCE;
	h->reason = (uint16_t)reason;
	h->status = (uint16_t)r->q.status;
	h->conn_id = c->id;
	h->src = (struct gb_endpoint){ .host = "", .ip = c->peer_ip, .port = c->peer_port };
	h->dst = (struct gb_endpoint){ .host = GB_INFERENCE_HOST, .ip = "", .port = c->req.port };
	h->id = c->ident.id;
	h->method = r->q.method;
	h->scheme = l->terminated ? "https" : "http";
	h->path = r->q.path;
	char rq[2048] = "";
	if (r->q.has_query)
		l7_redact_query(r->q.query, rq, sizeof rq);
	h->query = rq;
	h->rule = rule;
	h->reason_text = d.reason_text;
	h->policy_entry = GB_INFERENCE_HOST;
	h->bytes_req = r->q.bytes_req;
	h->bytes_resp = r->q.bytes_resp;
	h->latency_ns = gb_now_ns(CLOCK_MONOTONIC) - r->q.t0_ns;
	h->tls = l->terminated ? GB_HTTP_TLS_TERMINATED : GB_HTTP_TLS_NONE;
	h->sni = l->ch.sni;
	h->tls_version = l->tls_version ? l->tls_version : "";
	/* every request to inference.local is an inference request, routed or
	 * not: the provider is "none" when no route answered */
	h->ai_provider = rt ? rt->provider : "none";
	h->ai_type = rt ? gb_inf_type_name(rt->type) : "";
	h->ai_model = rt ? rt->model : "";
	h->ai_ttfb_ns = r->ttfb_ns;
	h->ai_tokens_in = r->usage.input_tokens;
	h->ai_tokens_out = r->usage.output_tokens;
	h->ai_stream = r->stream;
	proxy_emit(c, &rec);
}

/* Answer with a refusal of the proxy's own, record it. */
static int refuse(struct l7 *l, struct inf_req *r, int status, const char *type, int reason,
                  bool keep, const char *msg)
{
	struct gb_buf b = GB_BUF_INIT;
	inf_reply(&b, status, type, msg, keep);
	int w = b.err ? -ENOMEM : l7_write(l, L7_CLIENT, b.data, b.len);
	r->q.bytes_resp = b.len;
	gb_buf_free(&b);
	r->q.status = status;
	record(l, r, GB_VERDICT_DENY, reason, msg);
	return w < 0 || !keep ? 1 : 0;
}

/* ---- the request ---- */

struct body_acc {
	struct gb_buf b;
	bool over;
};

static void on_payload(void *arg, const char *data, size_t n)
{
	struct body_acc *a = arg;
	if (a->over || a->b.len + n > GB_INF_BODY_MAX) {
		a->over = true;
		return;
	}
	gb_buf_append(&a->b, data, n);
}

/* Read the next head: 1 = head, 0 = the client is done, -1 = refused. */
static int read_head(struct l7 *l, struct inf_req *r)
{
	struct l7_side *cl = &l->s[L7_CLIENT];
	for (;;) {
		size_t used = 0;
		enum gb_http1_event ev = gb_http1_feed(l->h1, cl->buf + cl->off, cl->len - cl->off, &used);
		cl->off += used;
		if (ev == GB_HTTP1_HEAD)
			return 1;
		if (ev == GB_HTTP1_ERROR) {
			int st = gb_http1_status(l->h1);
			snprintf(r->q.method, sizeof r->q.method, "-");
			refuse(l, r, st, "invalid_request_error", st == 431 ? GB_R_LIMIT : GB_R_BAD_REQUEST,
			       false, gb_http1_error(l->h1));
			return -1;
		}
		if (ev == GB_HTTP1_END)
			continue;
		if (l7_fill(l, L7_CLIENT) <= 0)
			return 0;
	}
}

/* The whole body into acc (bounded).  0, or -1 when the client left. */
static int read_body(struct l7 *l, const struct gb_http1_head *h)
{
	struct l7_side *cl = &l->s[L7_CLIENT];
	size_t used = 0;
	if (h->body == GB_HTTP1_BODY_NONE) {
		gb_http1_feed(l->h1, "", 0, &used);
		return 0;
	}
	for (;;) {
		if (cl->off == cl->len && l7_fill(l, L7_CLIENT) <= 0)
			return -1;
		enum gb_http1_event ev = gb_http1_feed(l->h1, cl->buf + cl->off, cl->len - cl->off, &used);
		cl->off += used;
		if (ev == GB_HTTP1_END)
			return 0;
		if (ev == GB_HTTP1_ERROR)
			return -1;
	}
}

/* The target's path and query, and the host it names (absolute-form) or
 * NULL.  0 or -1 with *why. */
static int target(const struct gb_http1_head *h, struct inf_req *r, char *host, size_t hn,
                  const char **why)
{
	const char *t = h->target, *end = t + h->target_len;
	host[0] = '\0';
	if (h->target_len >= 7 && !strncasecmp(t, "http://", 7)) {
		const char *a = t + 7, *s = a;
		while (s < end && *s != '/' && *s != '?')
			s++;
		uint16_t port = 0;
		if (http_parse_host(a, (size_t)(s - a), host, hn, &port) < 0 || (port && port != 80)) {
			snprintf(host, hn, "%.*s", (int)((size_t)(s - a) > 200 ? 200 : (size_t)(s - a)), a);
			if (!host[0])
				snprintf(host, hn, "?");
		}
		t = s;
	} else if (!h->target_len || t[0] != '/') {
		*why = "the request target must be a path (/v1/...) or an http://inference.local URL";
		return -1;
	}
	const char *qm = memchr(t, '?', (size_t)(end - t));
	size_t pl = (size_t)((qm ? qm : end) - t), ql = qm ? (size_t)(end - qm - 1) : 0;
	if (pl >= sizeof r->q.path || ql >= sizeof r->q.query) {
		*why = "request target too long";
		return -1;
	}
	if (pl == 0)
		strcpy(r->q.path, "/");
	else {
		memcpy(r->q.path, t, pl);
		r->q.path[pl] = '\0';
	}
	if (qm) {
		r->q.has_query = true;
		memcpy(r->q.query, qm + 1, ql);
		r->q.query[ql] = '\0';
	}
	return 0;
}

/* The provider's request head: request line, Host, the allowed headers of
 * the caller's, the host's credential, the body's length. */
static void upstream_head(const struct gb_http1_head *h, const struct inf_req *r, size_t body_len,
                          struct gb_buf *out)
{
	const struct gb_inf_route *rt = r->route;
	gb_buf_printf(out, "%s %s%s%s%s HTTP/1.1\r\n", r->q.method, rt->prefix, r->q.path,
	              r->q.has_query ? "?" : "", r->q.has_query ? r->q.query : "");
	bool v6 = strchr(rt->host, ':') != NULL;
	bool dflt = rt->port == (rt->tls ? 443 : 80);
	gb_buf_printf(out, "Host: %s%s%s", v6 ? "[" : "", rt->host, v6 ? "]" : "");
	if (!dflt)
		gb_buf_printf(out, ":%u", rt->port);
	gb_buf_puts(out, "\r\n");
	bool has_version = false;
	for (size_t i = 0; i < h->n_fields; i++) {
		const struct gb_http1_field *f = &h->fields[i];
		if (!gb_inf_header_forwarded(rt->type, f->name, f->name_len))
			continue;
		if (f->name_len == 17 && !strncasecmp(f->name, "anthropic-version", 17))
			has_version = true;
		gb_buf_printf(out, "%.*s: %.*s\r\n", (int)f->name_len, f->name, (int)f->value_len, f->value);
	}
	size_t sl;
	const char *secret = gb_inf_secret(rt, &sl);
	if (rt->type == GB_INF_ANTHROPIC) {
		gb_buf_puts(out, "x-api-key: ");
		gb_buf_append(out, secret, sl);
		gb_buf_puts(out, "\r\n");
		if (!has_version)
			gb_buf_puts(out, "anthropic-version: 2023-06-01\r\n");
	} else {
		gb_buf_puts(out, "Authorization: Bearer ");
		gb_buf_append(out, secret, sl);
		gb_buf_puts(out, "\r\n");
	}
	if (body_len || strcmp(r->q.method, "GET"))
		gb_buf_printf(out, "Content-Length: %zu\r\n", body_len);
	/* identity: the usage is read from the body as it passes; keep-alive:
	 * the connection may serve the route's next request (inference_pool.c) */
	gb_buf_puts(out, "Accept-Encoding: identity\r\nConnection: keep-alive\r\n\r\n");
}

static void wipe(struct gb_buf *b)
{
	if (b->data)
		OPENSSL_cleanse(b->data, b->len);
	gb_buf_free(b);
}

/* One request.  0 = the connection goes on, 1 = it closes. */
static int one(struct l7 *l, struct body_acc *acc)
{
	struct proxy_conn *c = l->c;
	const struct gb_http1_head *h = gb_http1_head(l->h1);
	struct inf_req r;
	memset(&r, 0, sizeof r);
	r.q.t0_ns = gb_now_ns(CLOCK_MONOTONIC);
	r.q.bytes_req = h->head_len;
	r.usage.input_tokens = r.usage.output_tokens = -1;
	snprintf(r.q.method, sizeof r.q.method, "%s", h->method);
	r.client_keep = h->keep_alive;
	r.client_11 = h->minor >= 1;
	char host[256];
	const char *why = NULL;
	if (target(h, &r, host, sizeof host, &why) < 0)
		return refuse(l, &r, 400, "invalid_request_error", GB_R_BAD_REQUEST, false, why);
	char hh[256] = "";
	uint16_t hport = 0;
	if (h->n_host && http_parse_host(h->host, h->host_len, hh, sizeof hh, &hport) < 0)
		snprintf(hh, sizeof hh, "?");
	const char *other = host[0] && !gb_inference_host(host) ? host
	                    : hh[0] && !gb_inference_host(hh)   ? hh
	                                                        : NULL;
	if (other) {
		char m[400];
		snprintf(m, sizeof m, "connection not allowed by policy: this connection carried "
		         "inference.local requests and cannot carry a request for %.200s", other);
		return refuse(l, &r, 403, "connection_not_allowed", GB_R_NO_ENDPOINT, false, m);
	}
	if (!h->n_host && h->minor >= 1 && !host[0])
		return refuse(l, &r, 400, "invalid_request_error", GB_R_BAD_REQUEST, false,
		              "HTTP/1.1 request without Host");
	if (h->upgrade)
		return refuse(l, &r, 403, "invalid_request_error", GB_R_L7_UNSUPPORTED, false,
		              "upgrades are not served by inference.local");
	gb_buf_reset(&acc->b);
	acc->over = false;
	const struct gb_http1_field *ex = gb_http1_field(h, "expect");
	if (ex && h->body != GB_HTTP1_BODY_NONE && ex->value_len == 12 &&
	    !strncasecmp(ex->value, "100-continue", 12)) {
		/* the body is read here, before the provider is asked: curl waits a
		 * second for this otherwise */
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		if (l7_write(l, L7_CLIENT, cont, sizeof cont - 1) < 0)
			return 1;
	}
	if (read_body(l, h) < 0) {
		wipe(&acc->b);
		return 1;
	}
	r.q.bytes_req += acc->b.len;
	int ret;
	if (acc->over) {
		char m[128];
		snprintf(m, sizeof m, "request bodies are limited to %u bytes", GB_INF_BODY_MAX);
		ret = refuse(l, &r, 413, "invalid_request_error", GB_R_LIMIT, false, m);
		goto out;
	}
	r.route = gb_inference_get(l->p->o.inference);
	if (!r.route) {
		ret = refuse(l, &r, 503, "inference_not_configured", GB_R_NO_POLICY, r.client_keep,
		             "inference is not configured: the host has no route for inference.local "
		             "(an operator runs `glassbox inference set`)");
		goto out;
	}
	int st = gb_inf_allowed(r.route->type, r.q.method, r.q.path);
	if (st) {
		char m[400];
		snprintf(m, sizeof m, "%s %.200s is not an API the %s route serves", r.q.method, r.q.path,
		         gb_inf_type_name(r.route->type));
		ret = refuse(l, &r, st, st == 404 ? "not_found_error" : "permission_error",
		             GB_R_L7_NOT_PERMITTED, r.client_keep, m);
		goto out;
	}
	char *nb = NULL;
	size_t nbl = 0;
	char err[300];
	if (gb_inf_rewrite_model(acc->b.data, acc->b.len, r.route->model, &nb, &nbl, err, sizeof err) < 0) {
		ret = refuse(l, &r, 400, "invalid_request_error", GB_R_BAD_REQUEST, false, err);
		goto out;
	}
	struct gb_buf head = GB_BUF_INIT;
	upstream_head(h, &r, nbl, &head);
	ret = head.err ? -1 : inf_call(l, &r, &head, nb, nbl);
	wipe(&head); /* it held the credential */
	free(nb);
	c->up.bytes += r.q.bytes_req;
	c->down.bytes += r.q.bytes_resp;
	record(l, &r, r.error[0] ? GB_VERDICT_DENY : GB_VERDICT_ALLOW,
	       r.error[0] ? GB_R_UPSTREAM_FAILED : GB_R_NONE, r.error);
	if (ret < 0)
		ret = 1;
	else if (!r.client_keep)
		ret = 1;
out:
	gb_inference_put(l->p->o.inference, r.route);
	return ret;
}

/* The tunnel's TLS, terminated with a leaf for inference.local. */
static int terminate(struct l7 *l)
{
	struct proxy_conn *c = l->c;
	SSL_CTX *leaf = gb_tls_leaf_ctx(l->p->o.tls, GB_INFERENCE_HOST, NULL);
	if (!leaf)
		return -1;
	SSL *s = SSL_new(leaf);
	SSL_CTX_free(leaf);
	if (!s || SSL_set_fd(s, c->cfd) != 1) {
		SSL_free(s);
		return -1;
	}
	l->s[L7_CLIENT].ssl = s;
	/* no TLS 1.3 session tickets: the server writes them after the client's
	 * Finished, in front of the request the client sent at once, and
	 * making two cost the first byte ~0.1-0.3 ms; agents' SDKs keep their
	 * connection instead of resuming (docs/inference.md) */
	SSL_set_num_tickets(s, 0);
	/* read ahead: the client's Finished and the request behind it (and each
	 * record's header and body) in one read instead of two per record; the
	 * buffered bytes are seen by l7_wait (SSL_has_pending) */
	SSL_set_read_ahead(s, 1);
	if (SSL_accept(s) != 1) {
		char e[256];
		unsigned long ec = ERR_peek_last_error();
		if (ec)
			ERR_error_string_n(ec, e, sizeof e);
		else
			snprintf(e, sizeof e, "connection closed");
		ERR_clear_error();
		snprintf(c->dec.reason_text, sizeof c->dec.reason_text,
		         "inference.local: TLS handshake with the client failed (does it trust the "
		         "sandbox CA?): %s", e);
		return -1;
	}
	l->terminated = true;
	l->tls_version = SSL_get_version(s);
	return 0;
}

/* CONNECT: 200, then TLS (or plain HTTP) inside.  0, or -1 refused. */
static int open_tunnel(struct l7 *l)
{
	struct proxy_conn *c = l->c;
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	if (c->req.port != 443 && c->req.port != 80) {
		struct gb_buf b = GB_BUF_INIT;
		inf_reply(&b, 403, "invalid_request_error", "inference.local is served on port 443 "
		          "(CONNECT) and 80 (http://) only", false);
		if (!b.err)
			l7_write(l, L7_CLIENT, b.data, b.len);
		gb_buf_free(&b);
		return -1;
	}
	if (l7_write(l, L7_CLIENT, ok, sizeof ok - 1) < 0)
		return -1;
	struct l7_side *cl = &l->s[L7_CLIENT];
	size_t early = c->hlen - c->head_end;
	unsigned char first = 0;
	if (early) {
		first = (unsigned char)c->head[c->head_end];
		if (first == 0x16)
			return -1; /* a ClientHello sent before the 200 cannot be handed to OpenSSL */
		memcpy(cl->buf, c->head + c->head_end, early);
		cl->len = early;
		return 0;
	}
	struct pollfd pf = { .fd = c->cfd, .events = POLLIN };
	if (poll(&pf, 1, l->p->o.header_timeout_ms) <= 0 ||
	    recv(c->cfd, &first, 1, MSG_PEEK) != 1)
		return -1;
	if (first == 0x16) {
		if (!l->p->o.tls) {
			snprintf(c->dec.reason_text, sizeof c->dec.reason_text,
			         "inference.local: this proxy has no CA to terminate TLS with");
			return -1;
		}
		return terminate(l);
	}
	return 0; /* plain HTTP inside the tunnel */
}

void inference_conn(struct l7 *l)
{
	struct proxy_conn *c = l->c;
	struct body_acc acc = { GB_BUF_INIT, false };
	gb_http1_free(l->h1);
	l->h1 = gb_http1_new(&(struct gb_http1_opts){ .max_head = (size_t)l->p->o.max_header_bytes,
	                                              .on_payload = on_payload, .arg = &acc });
	if (!l->h1)
		return;
	int one_ = 1;
	setsockopt(c->cfd, IPPROTO_TCP, TCP_NODELAY, &one_, sizeof one_); /* chunks as they come */
	snprintf(c->entry, sizeof c->entry, "inference.local");
	snprintf(c->dec.reason_text, sizeof c->dec.reason_text,
	         "inference.local: answered by the proxy, no policy entry consulted");
	if (c->req.kind == GB_NET_CONNECT) {
		if (open_tunnel(l) < 0) {
			conn_rec_open(c, GB_VERDICT_DENY, GB_R_BAD_REQUEST);
			atomic_fetch_add(&l->p->s_denied, 1);
			return;
		}
	} else {
		/* the head (and what came behind it) is re-read by this parser */
		if (c->hlen > l->s[L7_CLIENT].cap)
			return;
		memcpy(l->s[L7_CLIENT].buf, c->head, c->hlen);
		l->s[L7_CLIENT].len = c->hlen;
	}
	conn_rec_open(c, GB_VERDICT_ALLOW, GB_R_NONE);
	c->opened = true;
	atomic_fetch_add(&l->p->s_allowed, 1);
	for (;;) {
		struct inf_req r;
		memset(&r, 0, sizeof r);
		if (read_head(l, &r) <= 0)
			break;
		if (one(l, &acc) != 0)
			break;
	}
	wipe(&acc.b);
}
