/* enforcer/proxy/local_http.c — see local_http.h: the framing, tunnel and
 * record pieces inference.local and policy.local share. */
#include "enforcer/proxy/local_http.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/err.h>

#include "common/clock.h"

const char *lh_status_text(int s)
{
	switch (s) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Error";
	}
}

void lh_head(struct gb_buf *out, int status, const char *ctype, size_t body_len,
             const char *extra, bool keep_alive)
{
	gb_buf_printf(out,
	              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: "
	              "%s\r\n\r\n",
	              status, lh_status_text(status), ctype, body_len, extra ? extra : "",
	              keep_alive ? "keep-alive" : "close");
}

void lh_on_payload(void *arg, const char *data, size_t n)
{
	struct lh_body *a = arg;
	if (a->over || a->b.len + n > a->max) {
		a->over = true;
		return;
	}
	gb_buf_append(&a->b, data, n);
}

/* ---- taking the connection over ---- */

/* The tunnel's TLS, terminated with a leaf for name. */
static int terminate(struct l7 *l, const char *name)
{
	struct proxy_conn *c = l->c;
	SSL_CTX *leaf = gb_tls_leaf_ctx(l->p->o.tls, name, NULL);
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
		         "%s: TLS handshake with the client failed (does it trust the sandbox CA?): %s",
		         name, e);
		return -1;
	}
	l->terminated = true;
	l->tls_version = SSL_get_version(s);
	return 0;
}

/* CONNECT: 200, then TLS (or plain HTTP) inside.  0, or -1 refused. */
static int open_tunnel(struct l7 *l, const char *name, const char *bad_port, size_t bad_port_len)
{
	struct proxy_conn *c = l->c;
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	if (c->req.port != 443 && c->req.port != 80) {
		if (bad_port && bad_port_len)
			l7_write(l, L7_CLIENT, bad_port, bad_port_len);
		return -1;
	}
	if (l7_write(l, L7_CLIENT, ok, sizeof ok - 1) < 0)
		return -1;
	struct l7_side *cl = &l->s[L7_CLIENT];
	size_t early = c->hlen - c->head_end;
	unsigned char first = 0;
	if (early) {
		if ((unsigned char)c->head[c->head_end] == 0x16)
			return -1; /* a ClientHello sent before the 200 cannot be handed to OpenSSL */
		memcpy(cl->buf, c->head + c->head_end, early);
		cl->len = early;
		return 0;
	}
	struct pollfd pf = { .fd = c->cfd, .events = POLLIN };
	if (poll(&pf, 1, l->p->o.header_timeout_ms) <= 0 || recv(c->cfd, &first, 1, MSG_PEEK) != 1)
		return -1;
	if (first == 0x16) {
		if (!l->p->o.tls) {
			snprintf(c->dec.reason_text, sizeof c->dec.reason_text,
			         "%s: this proxy has no CA to terminate TLS with", name);
			return -1;
		}
		return terminate(l, name);
	}
	return 0; /* plain HTTP inside the tunnel */
}

int lh_begin(struct l7 *l, const char *name, struct lh_body *body, const char *bad_port,
             size_t bad_port_len)
{
	struct proxy_conn *c = l->c;
	gb_http1_free(l->h1);
	l->h1 = gb_http1_new(&(struct gb_http1_opts){ .max_head = (size_t)l->p->o.max_header_bytes,
	                                              .on_payload = lh_on_payload, .arg = body });
	if (!l->h1)
		return -1;
	snprintf(c->entry, sizeof c->entry, "%s", name);
	snprintf(c->dec.reason_text, sizeof c->dec.reason_text,
	         "%s: answered by the proxy, no policy entry consulted", name);
	if (c->req.kind == GB_NET_CONNECT) {
		if (open_tunnel(l, name, bad_port, bad_port_len) < 0) {
			conn_rec_open(c, GB_VERDICT_DENY, GB_R_BAD_REQUEST);
			atomic_fetch_add(&l->p->s_denied, 1);
			return -1;
		}
	} else {
		/* the head (and what came behind it) is re-read by this parser */
		if (c->hlen > l->s[L7_CLIENT].cap)
			return -1;
		memcpy(l->s[L7_CLIENT].buf, c->head, c->hlen);
		l->s[L7_CLIENT].len = c->hlen;
	}
	conn_rec_open(c, GB_VERDICT_ALLOW, GB_R_NONE);
	c->opened = true;
	atomic_fetch_add(&l->p->s_allowed, 1);
	return 0;
}

/* ---- a request ---- */

int lh_read_body(struct l7 *l, const struct gb_http1_head *h)
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

int lh_continue(struct l7 *l, const struct gb_http1_head *h)
{
	const struct gb_http1_field *ex = gb_http1_field(h, "expect");
	if (!ex || h->body == GB_HTTP1_BODY_NONE || ex->value_len != 12 ||
	    strncasecmp(ex->value, "100-continue", 12))
		return 0;
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	return l7_write(l, L7_CLIENT, cont, sizeof cont - 1) < 0 ? -1 : 0;
}

int lh_target(const struct gb_http1_head *h, struct l7_req *q, char *host, size_t hn)
{
	const char *t = h->target, *end = t + h->target_len;
	host[0] = '\0';
	if (h->target_len >= 7 && !strncasecmp(t, "http://", 7)) {
		const char *a = t + 7, *s = a;
		while (s < end && *s != '/' && *s != '?')
			s++;
		uint16_t port = 0;
		if (http_parse_host(a, (size_t)(s - a), host, hn, &port) < 0 || (port && port != 80))
			snprintf(host, hn, "%.*s", (int)((size_t)(s - a) > 200 ? 200 : (size_t)(s - a)), a);
		if (!host[0])
			snprintf(host, hn, "?");
		t = s;
	} else if (!h->target_len || t[0] != '/') {
		return -1;
	}
	return l7_req_path_query(q, t, end) < 0 ? -2 : 0;
}

const char *lh_other_host(const struct gb_http1_head *h, const char *target_host,
                          bool (*ours)(const char *host), char *scratch, size_t sn)
{
	uint16_t port = 0;
	scratch[0] = '\0';
	if (h->n_host && http_parse_host(h->host, h->host_len, scratch, sn, &port) < 0)
		snprintf(scratch, sn, "?");
	if (target_host[0] && !ours(target_host))
		return target_host;
	if (scratch[0] && !ours(scratch))
		return scratch;
	return NULL;
}

void lh_rec_fill(struct l7 *l, const struct l7_req *q, const char *host, struct gb_record *rec,
                 char *rq, size_t rqn)
{
	struct proxy_conn *c = l->c;
	memset(rec, 0, sizeof *rec);
	rec->type = GB_REC_HTTP_DECISION;
	struct gb_http_decision *h = &rec->u.http;
	h->mode = GB_MODE_ENFORCE;
	h->status = (uint16_t)q->status;
	h->conn_id = c->id;
	h->src = (struct gb_endpoint){ .host = "", .ip = c->peer_ip, .port = c->peer_port };
	h->dst = (struct gb_endpoint){ .host = host, .ip = "", .port = c->req.port };
	h->id = c->ident.id;
	h->method = q->method;
	h->scheme = l->terminated ? "https" : "http";
	h->path = q->path;
	rq[0] = '\0';
	if (q->has_query)
		l7_redact_query(q->query, rq, rqn);
	h->query = rq;
	h->bytes_req = q->bytes_req;
	h->bytes_resp = q->bytes_resp;
	h->latency_ns = gb_now_ns(CLOCK_MONOTONIC) - q->t0_ns;
	h->tls = l->terminated ? GB_HTTP_TLS_TERMINATED : GB_HTTP_TLS_NONE;
	h->sni = l->ch.sni;
	h->tls_version = l->tls_version ? l->tls_version : "";
}
