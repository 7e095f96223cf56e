/* enforcer/proxy/proxy_conn.c — one proxied connection, from accept to close.
 *
 *   C_HEAD        read the request head (header timeout, size limit)
 *   (decision)    identity -> parse -> policy decision; denials -> refusal
 *   C_RESOLVING   one asynchronous resolution; every address checked
 *                 against the destination tiers; the first that passes is
 *                 the one connected to (nothing resolves twice)
 *   C_CONNECTING  non-blocking connect (connect timeout)
 *   C_RELAY       spliced tunnel / forwarded request (idle timeout)
 *   C_REFUSING    a JSON refusal is written, then the socket closed
 *
 * Records: NET_DECISION at the decision (OPEN, allow or deny) and, for a
 * connection that was relayed, a second NET_DECISION (CLOSE, same conn_id)
 * with bytes and duration; HTTP_DECISION per forwarded request; FINDING for
 * a changed binary and for SSRF blocks.  Records are binary (record.h);
 * nothing here formats JSON except the refusal body sent to the client.
 */
#include "enforcer/proxy/proxy_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/policy_match.h"
#include "common/record.h"
#include "common/ring.h"
#include "enforcer/proxy/inference_int.h"
#include "enforcer/proxy/cred.h"
#include "enforcer/proxy/l7.h"
#include "enforcer/proxy/policy_local_int.h"

#define REFUSE_LINGER_MS 5000
#define HASH_WAIT_MS 300000 /* longest wait for an executable's first hash (4 GiB on a loaded VM: minutes) */

static void list_remove(struct proxy_conn *c)
{
	struct proxy_worker *w = c->w;
	if (c->prev)
		c->prev->next = c->next;
	else if (w->conns == c)
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static void addr_text(const struct sockaddr_storage *ss, char *out, size_t n, uint16_t *port)
{
	out[0] = '\0';
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;
		inet_ntop(AF_INET, &a->sin_addr, out, (socklen_t)n);
		if (port)
			*port = ntohs(a->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, out, (socklen_t)n);
		if (port)
			*port = ntohs(a->sin6_port);
	}
}

/* ---------------- records ---------------- */

void proxy_emit(struct proxy_conn *c, struct gb_record *r)
{
	struct gb_proxy *p = c->w->p;
	if (p->pl)
		pl_note(p->pl, r); /* policy.local's recent denials */
	if (!p->o.ring)
		return;
	static _Thread_local unsigned char buf[GB_RECORD_MAX];
	uint16_t fl = 0;
	int n = gb_rec_encode(r, buf, sizeof buf, &fl);
	if (c->ident.truncated || c->req.truncated)
		fl |= GB_RECF_TRUNCATED;
	int rc = n < 0 ? n
	               : gb_ring_write(p->o.ring, r->type, fl, buf, (size_t)n,
	                               p->o.fail_closed ? GB_RING_WAIT : 0, p->o.fail_closed ? 1000 : 0, NULL);
	if (rc < 0)
		atomic_fetch_add(&p->s_rec_dropped, 1);
}

static void fill_net(struct proxy_conn *c, struct gb_net_decision *n, int phase)
{
	memset(n, 0, sizeof *n);
	n->phase = (uint8_t)phase;
	n->kind = (uint8_t)(c->req.kind ? c->req.kind : GB_NET_CONNECT);
	n->conn_id = c->id;
	n->policy_rev = c->dec.revision;
	n->src = (struct gb_endpoint){ .host = "", .ip = c->peer_ip, .port = c->peer_port };
	n->dst = (struct gb_endpoint){ .host = c->req.host, .ip = c->up_ip, .port = c->req.port };
	n->id = c->ident.id;
	n->reason_text = c->dec.reason_text;
	n->policy_entry = c->entry;
	n->endpoint = c->dec.endpoint;
	n->ssrf_tier = (uint8_t)c->ssrf_tier;
	n->inspected = c->inspected;
}

static bool l7_reason(int reason)
{
	return reason == GB_R_L7_DENY_RULE || reason == GB_R_L7_NOT_PERMITTED || reason == GB_R_L7_BAD_PATH;
}

/* An allowed connection whose request a rule would have refused (audit
 * mode) was allowed as a connection: the request's verdict is the HTTP
 * record's to tell, not the connection's. */
static void net_allow_reason(struct proxy_conn *c, struct gb_net_decision *n, int reason)
{
	n->reason = (uint16_t)(l7_reason(reason) ? GB_R_NONE : reason);
	if (l7_reason(reason))
		n->reason_text = "";
}

void conn_rec_open(struct proxy_conn *c, int verdict, int reason)
{
	struct gb_record r = { .type = GB_REC_NET_DECISION };
	fill_net(c, &r.u.net, GB_NET_OPEN);
	r.u.net.verdict = (uint8_t)verdict;
	r.u.net.reason = (uint16_t)reason;
	if (verdict == GB_VERDICT_ALLOW)
		net_allow_reason(c, &r.u.net, reason);
	proxy_emit(c, &r);
}

static void rec_close(struct proxy_conn *c)
{
	struct gb_record r = { .type = GB_REC_NET_DECISION };
	fill_net(c, &r.u.net, GB_NET_CLOSE);
	r.u.net.verdict = GB_VERDICT_ALLOW;
	net_allow_reason(c, &r.u.net, c->dec.reason);
	r.u.net.bytes_up = c->up.bytes;
	r.u.net.bytes_down = c->down.bytes;
	r.u.net.duration_ns = gb_now_ns(CLOCK_MONOTONIC) - c->t_start_ns;
	proxy_emit(c, &r);
}

static void rec_http(struct proxy_conn *c, int verdict, int reason, int status)
{
	struct gb_record r = { .type = GB_REC_HTTP_DECISION };
	struct gb_http_decision *h = &r.u.http;
	h->verdict = (uint8_t)verdict;
	h->mode = (uint8_t)c->dec.mode;
	h->reason = (uint16_t)reason;
	h->status = (uint16_t)status;
	h->conn_id = c->id;
	h->policy_rev = c->dec.revision;
	h->src = (struct gb_endpoint){ .host = "", .ip = c->peer_ip, .port = c->peer_port };
	h->dst = (struct gb_endpoint){ .host = c->req.host, .ip = c->up_ip, .port = c->req.port };
	h->id = c->ident.id;
	h->method = c->req.method;
	h->scheme = "http";
	h->path = c->dec.canonical_path[0] ? c->dec.canonical_path : c->req.path;
	/* Query values can carry secrets: only the keys go into records. */
	char q[2048];
	size_t qn = 0;
	q[0] = '\0';
	if (c->req.has_query) {
		for (const char *s = c->req.query; *s && qn + 4 < sizeof q;) {
			const char *amp = strchr(s, '&'), *end = amp ? amp : s + strlen(s);
			const char *eq = memchr(s, '=', (size_t)(end - s));
			size_t kl = (size_t)((eq ? eq : end) - s);
			if (qn + kl + 6 >= sizeof q)
				break;
			if (qn)
				q[qn++] = '&';
			memcpy(q + qn, s, kl);
			qn += kl;
			if (eq) {
				memcpy(q + qn, "=***", 4);
				qn += 4;
			}
			q[qn] = '\0';
			s = amp ? amp + 1 : end;
		}
	}
	h->query = q;
	h->rule = c->dec.rule;
	h->reason_text = c->dec.reason_text;
	h->policy_entry = c->entry;
	proxy_emit(c, &r);
}

static void rec_finding(struct proxy_conn *c, int kind, int sev, const char *title, const char *detail,
                        const char *subject)
{
	struct gb_record r = { .type = GB_REC_FINDING };
	struct gb_finding *f = &r.u.finding;
	f->kind = (uint16_t)kind;
	f->severity = (uint8_t)sev;
	f->has_identity = c->ident_ok;
	f->id = c->ident.id;
	f->title = title;
	f->detail = detail;
	f->subject = subject;
	proxy_emit(c, &r);
}

/* ---------------- life ---------------- */

static void release_policy(struct proxy_conn *c)
{
	if (c->pol) {
		gb_policy_store_put(c->w->p->o.store, c->pol);
		c->pol = NULL;
	}
}

static void really_free(struct proxy_conn *c)
{
	gb_buf_free(&c->pre);
	gb_buf_free(&c->out);
	gb_http1_free(c->h1);
	free(c->early);
	free(c->head);
	free(c);
}

/* The memory of a closed connection lives until the worker finishes its
 * epoll batch: the batch may still hold an event whose tag points into it. */
static void defer_free(struct proxy_conn *c)
{
	c->next = c->w->dead;
	c->w->dead = c;
}

void proxy_reap(struct proxy_worker *w)
{
	while (w->dead) {
		struct proxy_conn *c = w->dead;
		w->dead = c->next;
		really_free(c);
	}
}

static void close_upstream(struct proxy_conn *c)
{
	if (c->ufd >= 0) {
		proxy_ep_del(c->w, c->ufd);
		c->tu.armed = false;
		close(c->ufd);
		c->ufd = -1;
	}
}

/* The last records of a connection and its byte counts, once: the pending
 * HTTP decision (no response status was seen: upstream closed, client
 * gone), the close, the totals; then its policy reference goes. */
static void conn_account(struct proxy_conn *c, struct gb_proxy *p)
{
	if (c->http_pending) { /* no response status was seen (upstream closed, client gone) */
		c->http_pending = false;
		rec_http(c, GB_VERDICT_ALLOW, c->dec.reason, 0);
	}
	if (c->opened) {
		rec_close(c);
		atomic_fetch_add(&p->s_bytes_up, c->up.bytes);
		atomic_fetch_add(&p->s_bytes_down, c->down.bytes);
		c->opened = false;
	}
	release_policy(c);
}

void conn_free(struct proxy_conn *c)
{
	struct gb_proxy *p = c->w->p;
	conn_account(c, p);
	if (c->cfd >= 0) {
		proxy_ep_del(c->w, c->cfd);
		c->tc.armed = false;
		close(c->cfd);
		c->cfd = -1;
	}
	close_upstream(c);
	relay_close(c, true);
	list_remove(c);
	c->w->n_conns--;
	atomic_fetch_sub(&p->n_conns, 1);
	c->st = C_DONE;
	if (c->resolving)
		return; /* the resolver still holds it: its callback frees it */
	defer_free(c);
}

void conn_detach(struct proxy_conn *c)
{
	proxy_ep_del(c->w, c->cfd);
	if (c->ufd >= 0)
		proxy_ep_del(c->w, c->ufd);
	c->tc.armed = c->tu.armed = false; /* out of the set: a later set must re-add */
	list_remove(c);
	c->w->n_conns--;
}

void conn_finish_detached(struct proxy_conn *c)
{
	struct gb_proxy *p = c->w->p;
	conn_account(c, p);
	if (c->cfd >= 0)
		close(c->cfd);
	if (c->ufd >= 0)
		close(c->ufd);
	relay_close(c, false); /* another thread's: never to the worker's spares */
	atomic_fetch_sub(&p->n_conns, 1);
	really_free(c);
}

static void identify_at_accept(struct proxy_conn *c);

struct proxy_conn *conn_new(struct proxy_worker *w, int cfd)
{
	struct gb_proxy *p = w->p;
	struct proxy_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->head = malloc((size_t)p->o.max_header_bytes + 1);
	c->h1 = gb_http1_new(&(struct gb_http1_opts){ .max_head = (size_t)p->o.max_header_bytes });
	if (!c->head || !c->h1) {
		gb_http1_free(c->h1);
		free(c->head);
		free(c);
		return NULL;
	}
	c->w = w;
	c->cfd = cfd;
	c->ufd = -1;
	c->up.pipe_r = c->up.pipe_w = c->down.pipe_r = c->down.pipe_w = -1;
	c->id = atomic_fetch_add(&p->next_id, 1) + 1;
	c->t_start_ns = gb_now_ns(CLOCK_MONOTONIC);
	socklen_t l = sizeof c->peer;
	getpeername(cfd, (struct sockaddr *)&c->peer, &l);
	l = sizeof c->local;
	getsockname(cfd, (struct sockaddr *)&c->local, &l);
	addr_text(&c->peer, c->peer_ip, sizeof c->peer_ip, &c->peer_port);
	c->tc = (struct ep_tag){ .kind = TAG_CLIENT, .fd = cfd, .c = c };
	c->tu = (struct ep_tag){ .kind = TAG_UPSTREAM, .fd = -1, .c = c };
	c->st = C_HEAD;
	c->deadline_ms = gb_now_ms(CLOCK_MONOTONIC) + p->o.header_timeout_ms;
	if (proxy_ep_set(w, &c->tc, EPOLLIN, true) < 0) {
		gb_http1_free(c->h1);
		free(c->head);
		free(c);
		return NULL;
	}
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	w->n_conns++;
	atomic_fetch_add(&p->n_conns, 1);
	identify_at_accept(c);
	return c;
}

static void lookup(struct proxy_conn *c, struct gb_ident_buf *b, bool *ok)
{
	int rc = gb_identity_lookup(c->w->p->ident, (struct sockaddr *)&c->peer,
	                            (struct sockaddr *)&c->local, b);
	*ok = rc == 0;
	if (!b->id.exe)
		b->id.exe = b->id.sha256 = b->id.script = "";
}

/* At accept: who connected, seen before it can exec another binary or hand
 * the socket over and close its copy. */
static void identify_at_accept(struct proxy_conn *c)
{
	int rc = gb_identity_lookup_quick(c->w->p->ident, (struct sockaddr *)&c->peer,
	                                  (struct sockaddr *)&c->local, &c->ident);
	c->ident_ok = rc == 0;
	if (!c->ident.id.exe)
		c->ident.id.exe = c->ident.id.sha256 = c->ident.id.script = "";
	c->ident_tried = c->ident_ok; /* a quick miss: the head-time lookup is the whole story */
}

/* When the request is complete: who holds the socket now.  On the host the
 * accept-time holders are re-checked (one descriptor search and readlink
 * each) and looked up again only if one changed; in a sandbox, whose few
 * processes are all searched, it is always looked up again (a sibling may
 * have received the socket meanwhile).  When the two views differ, both
 * are decided on.  Failures are kept in the flags and decided on later. */
static void identify(struct proxy_conn *c)
{
	struct gb_proxy *p = c->w->p;
	if (c->ident_final)
		return;
	c->ident_final = true;
	if (!c->ident_tried) {
		lookup(c, &c->ident, &c->ident_ok);
		return;
	}
	if (c->ident_ok && p->o.clients_root_pid <= 0 && gb_identity_recheck(p->ident, &c->ident) == 1)
		return;
	if (c->ident_ok && (c->early = malloc(sizeof *c->early)))
		gb_ident_copy(c->early, &c->ident);
	lookup(c, &c->ident, &c->ident_ok);
	if (!c->ident_ok && c->early) {
		/* Nobody holds the socket any more: its last holder wrote the
		 * request and exited before the head was read (a client that
		 * connects, execs a tool that writes and exits).  What was seen
		 * at accept is still true of who connected, so it is decided
		 * on — never allowed (decide: holders_gone) — and recorded,
		 * rather than an anonymous identity_failed. */
		gb_ident_copy(&c->ident, c->early);
		free(c->early);
		c->early = NULL;
		c->ident_ok = c->holders_gone = true;
		return;
	}
	if (c->early && c->ident_ok && c->early->n_holders == c->ident.n_holders &&
	    c->early->id.pid == c->ident.id.pid && !strcmp(c->early->id.exe, c->ident.id.exe)) {
		free(c->early); /* the same view: nothing more to decide */
		c->early = NULL;
	}
}

static void dest_text(struct proxy_conn *c, char *out, size_t n)
{
	if (!c->req.host[0])
		snprintf(out, n, "%s", "");
	else if (strchr(c->req.host, ':'))
		snprintf(out, n, "[%s]:%u", c->req.host, c->req.port);
	else
		snprintf(out, n, "%s:%u", c->req.host, c->req.port);
}

/* Answer with a refusal and record the denial.  Ends the connection. */
static void refuse(struct proxy_conn *c, int status, const char *error, int reason, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void refuse(struct proxy_conn *c, int status, const char *error, int reason, const char *fmt, ...)
{
	struct gb_proxy *p = c->w->p;
	release_policy(c);
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->dec.reason_text, sizeof c->dec.reason_text, fmt, ap);
		va_end(ap);
	}
	c->dec.verdict = GB_VERDICT_DENY;
	c->dec.reason = (enum gb_reason)reason;
	close_upstream(c);
	if (!c->req.kind && c->hlen) {
		/* Refused before the head was parsed (framing error, size limit):
		 * what its request line says, as far as it can be read, so a
		 * malformed GET is recorded as the request it is. */
		const char *why2;
		(void)http_parse_head(c->head, c->hlen, &c->req, &why2);
		if (!c->req.kind)
			c->req.kind = c->hlen >= 8 && !memcmp(c->head, "CONNECT ", 8) ? GB_NET_CONNECT
			                                                               : GB_NET_FORWARD;
	}
	conn_rec_open(c, GB_VERDICT_DENY, reason);
	if (c->req.kind == GB_NET_FORWARD)
		rec_http(c, GB_VERDICT_DENY, reason, (uint16_t)status);
	atomic_fetch_add(&p->s_denied, 1);
	char dest[300];
	dest_text(c, dest, sizeof dest);
	gb_buf_reset(&c->out);
	c->out_off = 0;
	http_refusal(&c->out, status, error, c->dec.reason_text, gb_reason_name(reason), c->entry,
	             c->ident.id.exe, dest, p->o.policy_local != NULL && status == 403);
	c->st = C_REFUSING;
	c->deadline_ms = gb_now_ms(CLOCK_MONOTONIC) + REFUSE_LINGER_MS;
	shutdown(c->cfd, SHUT_RD); /* nothing more is read from a refused client */
	proxy_ep_set(c->w, &c->tc, EPOLLOUT, false);
}

static void flush_refusal(struct proxy_conn *c)
{
	if (proxy_send_buf(c->cfd, &c->out, &c->out_off) == 0)
		return; /* the rest on EPOLLOUT */
	conn_free(c); /* all sent, or the client is gone */
}

/* ---------------- connect and relay ---------------- */

/* Move what can move, then wait for what the relay needs next; a relay
 * that finished or failed ends the connection. */
/* The status of a forward request's response, peeked at before the relay
 * splices it on (the bytes stay in the socket).  A first segment shorter
 * than a status line is recorded without a status: once spliced, the line
 * is out of sight. */
int conn_response_status(struct proxy_conn *c)
{
	char b[16];
	ssize_t n = recv(c->ufd, b, sizeof b - 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	int status = 0;
	if (n >= 12 && !memcmp(b, "HTTP/1.", 7) && b[8] == ' ' && b[9] >= '1' && b[9] <= '5' &&
	    b[10] >= '0' && b[10] <= '9' && b[11] >= '0' && b[11] <= '9')
		status = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
	c->http_pending = false;
	rec_http(c, GB_VERDICT_ALLOW, c->dec.reason, status);
	return 1;
}

static void relay_step(struct proxy_conn *c)
{
	if (relay_pump(c) != 0) {
		conn_free(c);
		return;
	}
	c->deadline_ms = gb_now_ms(CLOCK_MONOTONIC) + c->w->p->o.idle_timeout_ms;
	relay_interest(c);
}

static void start_relay(struct proxy_conn *c)
{
	struct gb_proxy *p = c->w->p;
	/* An inspected endpoint's tunnel is read request by request (l7.h). */
	if (c->req.kind == GB_NET_CONNECT && c->inspected && p->o.tls) {
		int rc = l7_start(c);
		if (rc == 0)
			return;
		refuse(c, 503, "proxy_error", GB_R_LIMIT, "no inspection thread: %s", strerror(-rc));
		return;
	}
	if (relay_init(c) < 0) {
		refuse(c, 502, "proxy_error", GB_R_UPSTREAM_FAILED, "out of pipes");
		return;
	}
	/* A tunnel carries whatever the client sent ahead; a forward request
	 * carries exactly its body, and a pipelined request after it is never
	 * sent (the connection closes after this answer). */
	const char *early = c->head + c->head_end;
	size_t early_n = c->req.kind == GB_NET_CONNECT ? c->hlen - c->head_end : c->body_early;
	if (c->req.kind == GB_NET_CONNECT) {
		gb_buf_puts(&c->out, "HTTP/1.1 200 Connection established\r\n\r\n");
	} else {
		const char *path = c->dec.canonical_path[0] ? c->dec.canonical_path : c->req.path;
		if (http_upstream_head(c->head, c->hlen, &c->req, path, &c->pre) < 0) {
			refuse(c, 502, "proxy_error", GB_R_UPSTREAM_FAILED, "out of memory");
			return;
		}
	}
	gb_buf_append(&c->pre, early, early_n); /* bytes the client sent ahead */
	conn_rec_open(c, GB_VERDICT_ALLOW, c->dec.reason);
	/* The request's record carries the response status: written when the
	 * status line arrives (conn_response_status), or at the end without one. */
	c->http_pending = c->req.kind == GB_NET_FORWARD;
	c->opened = true;
	atomic_fetch_add(&p->s_allowed, 1);
	c->st = C_RELAY;
	proxy_ep_set(c->w, &c->tc, 0, false);
	relay_step(c);
}

static void connected(struct proxy_conn *c)
{
	int err = 0;
	socklen_t l = sizeof err;
	if (getsockopt(c->ufd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
		err = errno;
	if (err) {
		refuse(c, 502, "upstream_failed", GB_R_UPSTREAM_FAILED, "connect to %s port %u failed: %s",
		       c->up_ip, c->req.port, strerror(err));
		return;
	}
	start_relay(c);
}

static enum gb_addr_class addr_class(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return gb_addr_classify(AF_INET, (const uint8_t *)&((const struct sockaddr_in *)(const void *)a)->sin_addr);
	return gb_addr_classify(AF_INET6, ((const struct sockaddr_in6 *)(const void *)a)->sin6_addr.s6_addr);
}

static void on_resolved(void *arg, const struct gb_resolve_result *r)
{
	struct proxy_conn *c = arg;
	c->resolving = false;
	if (c->st == C_DONE) { /* closed while waiting */
		defer_free(c);
		return;
	}
	if (c->st != C_RESOLVING)
		return; /* already refused (resolution timed out) */
	if (r->status < 0) {
		refuse(c, 502, "dns_failed", GB_R_DNS_FAILED, "%s did not resolve: %s", c->req.host,
		       strerror(-r->status));
		return;
	}
	const struct sockaddr_storage *pick = NULL;
	int first_tier = 0;
	char first_ip[64] = "";
	for (size_t i = 0; i < r->n && !pick; i++) {
		struct sockaddr_storage a = r->addrs[i];
		if (a.ss_family == AF_INET)
			((struct sockaddr_in *)&a)->sin_port = htons(c->req.port);
		else
			((struct sockaddr_in6 *)&a)->sin6_port = htons(c->req.port);
		int tier = gb_policy_dest_check(&c->dec, (struct sockaddr *)&a, c->req.port);
		enum gb_addr_class cls = addr_class(&a);
		if (tier == GB_SSRF_NONE && cls == GB_ADDR_INTERNAL && c->w->p->o.internal_needs_allowed_ips &&
		    !c->dec.n_allowed_ips)
			tier = GB_SSRF_INTERNAL; /* the operator asked for allowed_ips here */
		if (tier == GB_SSRF_NONE) {
			c->addr_class = cls;
			c->upstream = a;
			pick = &c->upstream;
		} else if (!first_tier) {
			first_tier = tier;
			addr_text(&a, first_ip, sizeof first_ip, NULL);
		}
	}
	release_policy(c); /* the decision's pointers are no longer needed */
	if (!pick) {
		c->ssrf_tier = first_tier;
		snprintf(c->up_ip, sizeof c->up_ip, "%s", first_ip);
		char detail[400];
		snprintf(detail, sizeof detail, "%s resolved to %s, refused by the %s check%s", c->req.host,
		         first_ip, gb_ssrf_tier_name(first_tier), r->n > 1 ? " (and no other address passed)" : "");
		rec_finding(c, GB_F_SSRF_BLOCKED, GB_SEV_HIGH, "Destination address refused", detail, first_ip);
		refuse(c, 403, "ssrf_blocked", GB_R_SSRF, "%s", detail);
		return;
	}
	addr_text(&c->upstream, c->up_ip, sizeof c->up_ip, NULL);
	if (c->addr_class != GB_ADDR_PUBLIC && !c->dec.reason_text[0])
		/* allowed (an exactly named host may resolve internally), but the
		 * record says which class of address it reached */
		snprintf(c->dec.reason_text, sizeof c->dec.reason_text, "address class %s: %s",
		         gb_addr_class_name(c->addr_class), c->up_ip);
	int fd = socket(c->upstream.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		refuse(c, 502, "upstream_failed", GB_R_UPSTREAM_FAILED, "socket: %s", strerror(errno));
		return;
	}
	c->ufd = fd;
	c->tu.fd = fd;
	socklen_t al = c->upstream.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	int rc = connect(fd, (struct sockaddr *)&c->upstream, al);
	if (rc < 0 && errno != EINPROGRESS) {
		refuse(c, 502, "upstream_failed", GB_R_UPSTREAM_FAILED, "connect to %s port %u failed: %s",
		       c->up_ip, c->req.port, strerror(errno));
		return;
	}
	if (proxy_ep_set(c->w, &c->tu, EPOLLOUT, true) < 0) {
		refuse(c, 502, "upstream_failed", GB_R_UPSTREAM_FAILED, "epoll: %s", strerror(errno));
		return;
	}
	c->st = C_CONNECTING;
	c->deadline_ms = gb_now_ms(CLOCK_MONOTONIC) + c->w->p->o.connect_timeout_ms;
}

/* ---------------- the decision ---------------- */

/* Every other process that holds the client socket — now or at accept
 * (a process that exec'd since is decided as both binaries) — is decided
 * as if it had asked: any of them could have written the request, so one
 * that is not allowed denies the connection.  All of them are recorded in
 * a FINDING.  Returns 0 (all allowed) or -1 (refused). */
static int decide_other_holders(struct proxy_conn *c, const struct gb_decide_in *in0)
{
	const struct gb_holder *h[2 * (GB_ID_MAX_OTHERS + 1)];
	struct gb_holder early_id;
	size_t n = 0;
	for (unsigned i = 0; i < c->ident.n_others; i++)
		h[n++] = &c->ident.others[i];
	if (c->early) {
		const struct gb_identity *e = &c->early->id;
		early_id = (struct gb_holder){ .pid = e->pid, .uid = e->uid, .exe = e->exe,
			                       .n_ancestors = e->n_ancestors };
		memcpy(early_id.ancestors, e->ancestors, sizeof early_id.ancestors);
		h[n++] = &early_id;
		for (unsigned i = 0; i < c->early->n_others; i++)
			h[n++] = &c->early->others[i];
	}
	char detail[1024];
	size_t dl = (size_t)snprintf(detail, sizeof detail, "pid %d %s (allowed)", (int)c->ident.id.pid,
	                             c->ident.id.exe);
	const struct gb_holder *denied = NULL;
	struct gb_decision d, first_deny;
	size_t listed = 0;
	for (size_t i = 0; i < n; i++) {
		bool seen = h[i]->pid == c->ident.id.pid && !strcmp(h[i]->exe, c->ident.id.exe);
		for (size_t j = 0; j < i && !seen; j++)
			seen = h[j]->pid == h[i]->pid && !strcmp(h[j]->exe, h[i]->exe);
		if (seen)
			continue;
		struct gb_decide_in in = *in0;
		in.exe = h[i]->exe;
		in.ancestors = (const char *const *)h[i]->ancestors;
		in.n_ancestors = h[i]->n_ancestors;
		in.script = "";
		gb_policy_decide(c->pol, &in, &d);
		proxy_learn(&c->w->p->o, &d, in.host);
		bool ok = d.verdict == GB_VERDICT_ALLOW;
		if (!ok && !denied) {
			denied = h[i];
			first_deny = d;
		}
		listed++;
		if (dl < sizeof detail)
			dl += (size_t)snprintf(detail + dl, sizeof detail - dl, "; pid %d %s (%s)", (int)h[i]->pid,
			                       h[i]->exe, ok ? "allowed" : gb_reason_name(d.reason));
	}
	if (!listed)
		return 0;
	if (!denied) {
		rec_finding(c, GB_F_OTHER, GB_SEV_LOW, "Connection socket held by several processes", detail,
		            c->ident.id.exe);
		return 0;
	}
	rec_finding(c, GB_F_BYPASS_ATTEMPT, GB_SEV_HIGH,
	            "Connection socket held by a process that is not allowed", detail, denied->exe);
	refuse(c, 403, "policy_denied", first_deny.reason, "socket also held by pid %d (%s): %s", (int)denied->pid,
	       denied->exe, first_deny.reason_text);
	return -1;
}

/* No process held the socket when the head was complete (identify):
 * whoever wrote the request exited, so it cannot be decided.  Fail closed
 * under the accept-time identity's own verdict when that is a denial (the
 * record names who connected), identity_failed otherwise; a FINDING says
 * who held the socket at accept. */
static void refuse_holders_gone(struct proxy_conn *c)
{
	bool denied = c->dec.verdict != GB_VERDICT_ALLOW;
	char detail[1024];
	size_t dl = (size_t)snprintf(detail, sizeof detail, "pid %d %s (%s)", (int)c->ident.id.pid,
	                             c->ident.id.exe, denied ? gb_reason_name(c->dec.reason) : "allowed");
	for (unsigned i = 0; i < c->ident.n_others && dl < sizeof detail; i++)
		dl += (size_t)snprintf(detail + dl, sizeof detail - dl, "; pid %d %s", (int)c->ident.others[i].pid,
		                       c->ident.others[i].exe);
	if (dl < sizeof detail)
		snprintf(detail + dl, sizeof detail - dl,
		         " held the socket at accept; no process held it when the request was complete");
	rec_finding(c, denied ? GB_F_BYPASS_ATTEMPT : GB_F_OTHER, denied ? GB_SEV_HIGH : GB_SEV_MEDIUM,
	            "Connection socket's holders exited before the request was decided", detail,
	            c->ident.id.exe);
	if (denied)
		refuse(c, 403, "policy_denied", c->dec.reason, NULL);
	else
		refuse(c, 403, "identity_failed", GB_R_IDENTITY_FAILED,
		       "no process held the connection's socket when the request was complete "
		       "(pid %d %s held it at accept); the writer cannot be identified",
		       (int)c->ident.id.pid, c->ident.id.exe);
}

/* The Host header must name what is decided: a front end that routes by
 * Host would otherwise serve a host nobody decided on (a second Host is
 * refused by http1.c).  Port: absent means the target's default. */
static int check_host(struct proxy_conn *c)
{
	const struct gb_http1_head *h = gb_http1_head(c->h1);
	if (!h || !h->n_host)
		return 0;
	char host[256];
	uint16_t port = 0;
	int ok = http_parse_host(h->host, h->host_len, host, sizeof host, &port);
	bool same = ok == 0 && !strcasecmp(host, c->req.host);
	if (same && port)
		same = port == c->req.port;
	else if (same && c->req.kind == GB_NET_FORWARD)
		same = c->req.port == 80;
	if (same)
		return 0;
	char dest[300];
	dest_text(c, dest, sizeof dest);
	refuse(c, 400, "bad_request", GB_R_BAD_REQUEST,
	       "Host header '%.*s' differs from the decided destination %s", (int)(h->host_len > 200 ? 200 : h->host_len),
	       h->host, dest);
	return -1;
}

/* A forward request's body is framed now, as far as it has arrived: a
 * smuggling shape (RFC 9112 §6.3) is refused before anything goes upstream,
 * and bytes after the body (a pipelined request) are never sent. */
static int frame_early_body(struct proxy_conn *c)
{
	if (c->req.kind != GB_NET_FORWARD)
		return 0;
	size_t off = c->head_end;
	for (;;) {
		size_t used = 0;
		enum gb_http1_event ev = gb_http1_feed(c->h1, c->head + off, c->hlen - off, &used);
		off += used;
		if (ev == GB_HTTP1_ERROR) {
			refuse(c, 400, "bad_request", GB_R_BAD_REQUEST, "%s", gb_http1_error(c->h1));
			return -1;
		}
		if (ev == GB_HTTP1_END) {
			c->body_done = true;
			break;
		}
		if (ev == GB_HTTP1_MORE || off == c->hlen)
			break;
	}
	c->body_early = off - c->head_end;
	return 0;
}

static void decide(struct proxy_conn *c);

static void on_head(struct proxy_conn *c)
{
	proxy_ep_set(c->w, &c->tc, 0, false); /* read nothing more until decided */
	identify(c);
	const char *why = NULL;
	if (http_parse_head(c->head, c->head_end, &c->req, &why) < 0) {
		refuse(c, 400, "bad_request", GB_R_BAD_REQUEST, "%s", why);
		return;
	}
	if (check_host(c) < 0 || frame_early_body(c) < 0)
		return;
	if (gb_inference_host(c->req.host)) { /* the proxy answers it: before any policy */
		int rc = l7_start_with(c, inference_conn);
		if (rc < 0)
			refuse(c, 503, "proxy_error", GB_R_LIMIT, "no thread for inference.local: %s",
			       strerror(-rc));
		return;
	}
	if (c->w->p->o.policy_local && gb_policy_local_host(c->req.host)) { /* --policy-local */
		int rc = l7_start_with(c, policy_local_conn);
		if (rc < 0)
			refuse(c, 503, "proxy_error", GB_R_LIMIT, "no thread for policy.local: %s",
			       strerror(-rc));
		return;
	}
	if (!c->ident_ok) {
		refuse(c, 403, "identity_failed", GB_R_IDENTITY_FAILED,
		       "the process that opened this connection could not be identified; "
		       "connections from unidentified processes are denied");
		return;
	}
	if (c->ident.hash_pending) {
		/* A large executable seen for the first time is being hashed by
		 * the identity's thread: this connection waits (polled by the
		 * sweep), the worker serves the others meanwhile. */
		c->st = C_HASHING;
		c->hash_until_ms = gb_now_ms(CLOCK_MONOTONIC) + HASH_WAIT_MS;
		c->deadline_ms = gb_now_ms(CLOCK_MONOTONIC) + 1;
		return;
	}
	decide(c);
}

/* Credentials travel only where the proxy reads each request (cred.h): a
 * placeholder in plain HTTP, or a tunnel to a host a credential is bound
 * to that would not be terminated (L4, `tls: skip`, no CA), is refused. */
static int cred_refused(struct proxy_conn *c)
{
	struct gb_proxy *p = c->w->p;
	char name[GB_CRED_NAME_MAX];
	if (c->req.kind == GB_NET_FORWARD && (gb_creds_has_placeholder(c->head, c->head_end) ||
	                                      gb_creds_basic_has_placeholder(c->head, c->head_end))) {
		refuse(c, 403, "credential_uninspected", GB_R_CRED_UNINSPECTED,
		       "a credential placeholder in plain HTTP to %s: credentials are sent only over "
		       "HTTPS the proxy terminates (use https://)", c->req.host);
		return -1;
	}
	if (c->req.kind == GB_NET_CONNECT && (!c->inspected || c->dec.tls_skip || !p->o.tls) &&
	    gb_creds_bound(p->o.creds, c->req.host, c->req.port, name, sizeof name)) {
		refuse(c, 403, "credential_uninspected", GB_R_CRED_UNINSPECTED,
		       "%s port %u is bound to credential '%s' but endpoint %s is not inspected (%s): "
		       "a credential could not be rewritten there, so the tunnel is refused",
		       c->req.host, c->req.port, name, c->dec.endpoint,
		       c->dec.tls_skip ? "tls: skip" : !c->dec.l7 ? "no protocol: L4" : "no CA");
		return -1;
	}
	return 0;
}

/* The decision, once the identity (and its hash) is known. */
static void decide(struct proxy_conn *c)
{
	struct gb_proxy *p = c->w->p;
	if (c->ident.id.flags & GB_ID_HASH_MISMATCH) {
		char detail[600];
		snprintf(detail, sizeof detail, "%s changed since first use: sha256 %s, first seen %s",
		         c->ident.id.exe, c->ident.id.sha256, c->ident.prev_sha256);
		rec_finding(c, GB_F_BINARY_CHANGED, GB_SEV_HIGH, "Binary changed since first use", detail,
		            c->ident.id.exe);
		refuse(c, 403, "binary_changed", GB_R_BINARY_CHANGED, "%s", detail);
		return;
	}
	const struct gb_identity *id = &c->ident.id;
	struct gb_decide_in in = {
		.host = c->req.host, .port = c->req.port, .exe = id->exe,
		.ancestors = (const char *const *)id->ancestors, .n_ancestors = id->n_ancestors,
		.script = id->script,
	};
	if (c->req.kind == GB_NET_FORWARD) {
		in.method = c->req.method;
		in.path = c->req.path;
		in.query = c->req.has_query ? c->req.query : NULL;
	}
	c->pol = gb_policy_store_get(p->o.store);
	gb_policy_decide(c->pol, &in, &c->dec);
	proxy_learn(&p->o, &c->dec, c->req.host);
	snprintf(c->entry, sizeof c->entry, "%s", c->dec.entry ? c->dec.entry : "");
	c->dec.entry = NULL; /* points into the compiled policy: use c->entry */
	if (c->holders_gone) {
		refuse_holders_gone(c);
		return;
	}
	if (c->dec.verdict != GB_VERDICT_ALLOW) {
		refuse(c, 403, "policy_denied", c->dec.reason, NULL);
		return;
	}
	if (decide_other_holders(c, &in) < 0)
		return;
	if (c->req.kind == GB_NET_CONNECT && c->dec.l7) {
		if (p->o.tls) {
			c->inspected = 1; /* TLS terminated (or plain HTTP read) request by request */
		} else if (c->dec.mode == GB_MODE_ENFORCE) {
			refuse(c, 403, "inspection_required", GB_R_L7_NEEDS_INSPECTION,
			       "endpoint %s enforces HTTP rules, which a CONNECT tunnel would bypass; "
			       "this proxy has no CA to inspect TLS with, so the tunnel is refused",
			       c->dec.endpoint);
			return;
		} else {
			c->inspected = 0; /* audit without a CA: relayed, recorded as uninspected */
		}
	} else {
		c->inspected = c->dec.l7;
	}
	if (cred_refused(c) < 0)
		return;
	int tier = gb_policy_dest_check_static(&c->dec, c->req.host, c->req.port);
	if (tier != GB_SSRF_NONE) { /* needs no DNS answer: refused before any query */
		c->ssrf_tier = tier;
		char detail[400];
		snprintf(detail, sizeof detail, "%s port %u refused by the %s check", c->req.host, c->req.port,
		         gb_ssrf_tier_name(tier));
		rec_finding(c, GB_F_SSRF_BLOCKED, GB_SEV_HIGH, "Destination refused", detail, c->req.host);
		refuse(c, 403, "ssrf_blocked", GB_R_SSRF, "%s", detail);
		return;
	}
	c->st = C_RESOLVING;
	c->resolving = true;
	int rc = gb_resolve_start(c->w->res, c->req.host, on_resolved, c);
	if (rc < 0) {
		c->resolving = false;
		refuse(c, 502, "dns_failed", GB_R_DNS_FAILED, "resolver: %s", strerror(-rc));
	}
	/* on_resolved may have run already (literal or hosts file) */
}

static void read_head(struct proxy_conn *c)
{
	struct gb_proxy *p = c->w->p;
	size_t max = (size_t)p->o.max_header_bytes;
	for (;;) {
		if (c->hlen == max) {
			identify(c);
			refuse(c, 400, "bad_request", GB_R_LIMIT, "request head larger than %zu bytes", max);
			return;
		}
		ssize_t n = recv(c->cfd, c->head + c->hlen, max - c->hlen, 0);
		if (n == 0) { /* closed before a request: nothing was asked */
			conn_free(c);
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			conn_free(c);
			return;
		}
		size_t at = c->hlen, used = 0;
		c->hlen += (size_t)n;
		c->head[c->hlen] = '\0';
		enum gb_http1_event ev = gb_http1_feed(c->h1, c->head + at, (size_t)n, &used);
		if (ev == GB_HTTP1_ERROR) {
			identify(c);
			int st = gb_http1_status(c->h1);
			refuse(c, 400, "bad_request", st == 431 ? GB_R_LIMIT : GB_R_BAD_REQUEST, "%s",
			       gb_http1_error(c->h1));
			return;
		}
		if (ev == GB_HTTP1_HEAD) {
			c->head_end = at + used;
			on_head(c);
			return;
		}
	}
}

void conn_event(struct proxy_conn *c, enum tag_kind which, unsigned events)
{
	switch (c->st) {
	case C_HEAD:
		if (which == TAG_CLIENT)
			read_head(c);
		break;
	case C_HASHING:
	case C_RESOLVING:
		if (which == TAG_CLIENT && (events & (EPOLLHUP | EPOLLERR)))
			conn_free(c); /* the client gave up */
		break;
	case C_CONNECTING:
		if (which == TAG_UPSTREAM)
			connected(c);
		else if (events & (EPOLLHUP | EPOLLERR))
			conn_free(c);
		break;
	case C_RELAY:
		if (events & EPOLLERR)
			conn_free(c);
		else
			relay_step(c);
		break;
	case C_REFUSING:
		if (events & (EPOLLHUP | EPOLLERR))
			conn_free(c);
		else
			flush_refusal(c);
		break;
	case C_DONE:
		break; /* closed earlier in this epoll batch */
	}
}

void conn_timeout(struct proxy_conn *c)
{
	switch (c->st) {
	case C_HEAD:
		if (c->hlen == 0) { /* connected and said nothing: not a request */
			conn_free(c);
			return;
		}
		identify(c);
		refuse(c, 400, "bad_request", GB_R_BAD_REQUEST, "request head not complete within %d ms",
		       c->w->p->o.header_timeout_ms);
		break;
	case C_HASHING: {
		int r = gb_identity_hash_poll(c->w->p->ident, &c->ident);
		if (r == 1) {
			c->deadline_ms = 0;
			decide(c);
		} else if (r < 0 || gb_now_ms(CLOCK_MONOTONIC) >= c->hash_until_ms) {
			refuse(c, 403, "identity_failed", GB_R_IDENTITY_FAILED,
			       "the executable %s could not be hashed%s", c->ident.id.exe,
			       r < 0 ? "" : " in time");
		} else {
			c->deadline_ms = gb_now_ms(CLOCK_MONOTONIC) + 1; /* poll at the next sweep */
		}
		break;
	}
	case C_RESOLVING:
		c->ssrf_tier = 0;
		refuse(c, 504, "dns_timeout", GB_R_DNS_FAILED, "%s did not resolve in time", c->req.host);
		break;
	case C_CONNECTING:
		refuse(c, 504, "upstream_timeout", GB_R_UPSTREAM_FAILED,
		       "connect to %s port %u timed out after %d ms", c->up_ip, c->req.port,
		       c->w->p->o.connect_timeout_ms);
		break;
	case C_RELAY:
	case C_REFUSING:
	case C_DONE:
		conn_free(c);
		break;
	}
}
