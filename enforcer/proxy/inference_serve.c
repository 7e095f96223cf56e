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
#include "enforcer/proxy/local_http.h"

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
	char reason[160];
	snprintf(reason, sizeof reason, "X-Glassbox-Reason: %s\r\n", type);
	lh_head(out, status, "application/json", body.len, reason, keep_alive);
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
	char rule[300], rq[2048];
	snprintf(rule, sizeof rule, "inference %s %.200s", r->q.method, r->q.path);
	struct gb_record rec;
	lh_rec_fill(l, &r->q, GB_INFERENCE_HOST, &rec, rq, sizeof rq);
	struct gb_http_decision *h = &rec.u.http;
	h->verdict = (uint8_t)verdict;
	h->reason = (uint16_t)reason;
	h->rule = rule;
	h->reason_text = d.reason_text;
	h->policy_entry = GB_INFERENCE_HOST;
	/* every request to inference.local is an inference request, routed or
	 * not: the provider is "none" when no route answered */
	h->ai_provider = rt ? rt->provider : "none";
	h->ai_type = rt ? gb_inf_type_name(rt->type) : "";
	h->ai_model = rt ? rt->model : "";
	h->ai_ttfb_ns = r->ttfb_ns;
	h->ai_tokens_in = r->usage.input_tokens;
	h->ai_tokens_out = r->usage.output_tokens;
	h->ai_stream = r->stream;
	proxy_emit(l->c, &rec);
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

/* Read the next head: 1 = head, 0 = the client is done, -1 = refused. */
static int read_head(struct l7 *l, struct inf_req *r)
{
	int rc = l7_next_head(l);
	if (rc < 0) {
		int st = gb_http1_status(l->h1);
		snprintf(r->q.method, sizeof r->q.method, "-");
		refuse(l, r, st, "invalid_request_error", st == 431 ? GB_R_LIMIT : GB_R_BAD_REQUEST,
		       false, gb_http1_error(l->h1));
	}
	return rc;
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
static int one(struct l7 *l, struct lh_body *acc)
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
	int tg = lh_target(h, &r.q, host, sizeof host);
	if (tg < 0)
		return refuse(l, &r, 400, "invalid_request_error", GB_R_BAD_REQUEST, false,
		              tg == -2 ? "request target too long"
		                       : "the request target must be a path (/v1/...) or an "
		                         "http://inference.local URL");
	char hh[256];
	const char *other = lh_other_host(h, host, gb_inference_host, hh, sizeof hh);
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
	/* the body is read here, before the provider is asked */
	if (lh_continue(l, h) < 0)
		return 1;
	if (lh_read_body(l, h) < 0) {
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

void inference_conn(struct l7 *l)
{
	struct proxy_conn *c = l->c;
	struct lh_body acc = { GB_BUF_INIT, GB_INF_BODY_MAX, false };
	int one_ = 1;
	setsockopt(c->cfd, IPPROTO_TCP, TCP_NODELAY, &one_, sizeof one_); /* chunks as they come */
	struct gb_buf no = GB_BUF_INIT; /* lh_begin's answer to CONNECT on another port */
	if (c->req.kind == GB_NET_CONNECT && c->req.port != 443 && c->req.port != 80)
		inf_reply(&no, 403, "invalid_request_error", "inference.local is served on port 443 "
		          "(CONNECT) and 80 (http://) only", false);
	int rc = lh_begin(l, GB_INFERENCE_HOST, &acc, no.err ? NULL : no.data,
	                  no.err ? 0 : no.len);
	gb_buf_free(&no);
	if (rc < 0)
		return;
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
