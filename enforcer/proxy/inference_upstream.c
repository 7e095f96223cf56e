/* enforcer/proxy/inference_upstream.c — the provider call of one
 * inference.local request (see inference_int.h).
 *
 * Resolution goes through the proxy's own resolver (c-ares with the hosts
 * file override, run to completion on this thread); TLS towards an https
 * base URL through the proxy's upstream context (system store plus
 * --upstream-ca, peer and hostname verification).  The route names the
 * provider, so no destination tier applies: a local model server on the
 * host is a legitimate provider, and the sandbox cannot choose the address.
 *
 * The response is parsed by libhttp-parser (HTTP_RESPONSE) and re-framed
 * for the client: its decoded body goes out as it arrives (chunked
 * transfer coding to an HTTP/1.1 client, close-delimited to 1.0), what one
 * read of the provider brought in one write (one TLS record, one wake of
 * the client) before the next read, so an SSE stream is never batched.  Timeouts: the route's timeout until
 * the response head, then the same timeout for the whole of a
 * non-streaming response; a stream may pause GB_INF_IDLE_MS between
 * chunks and last GB_INF_STREAM_MAX_MS, and no response is longer than
 * GB_INF_STREAM_CAP bytes.  When a stream is cut (cap, idle, the provider
 * failing), a final SSE frame says why, in OpenShell's shape. */
#include "enforcer/proxy/inference_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/jsonw.h"
#include "enforcer/proxy/cred.h"
#include "enforcer/proxy/resolve.h"

#define USAGE_MAX (1u << 20) /* bytes of a non-streamed body kept for its usage */
#define LINE_MAX_ (64u << 10) /* longest SSE line scanned for usage */

struct res_wait {
	bool done;
	struct gb_resolve_result r;
};

static void on_res(void *arg, const struct gb_resolve_result *r)
{
	struct res_wait *w = arg;
	w->r = *r;
	w->done = true;
}

static int resolve(struct gb_proxy *p, const char *host, struct sockaddr_storage *out,
                   int64_t until_ms)
{
	struct gb_resolver *rs;
	int rc = gb_resolver_new(&(struct gb_resolver_opts){ .hosts_file = p->o.hosts_file,
	                                                     .resolv_conf = p->o.resolv_conf },
	                         &rs);
	if (rc < 0)
		return rc;
	struct res_wait w = { 0 };
	rc = gb_resolve_start(rs, host, on_res, &w);
	while (rc == 0 && !w.done) {
		struct gb_resolve_fd fds[8];
		int tmo = -1;
		size_t n = gb_resolver_fds(rs, fds, 8, &tmo);
		int64_t left = until_ms - gb_now_ms(CLOCK_MONOTONIC);
		if (left <= 0) {
			rc = -ETIMEDOUT;
			break;
		}
		if (tmo < 0 || tmo > left)
			tmo = (int)left;
		struct pollfd pf[8];
		for (size_t i = 0; i < n; i++)
			pf[i] = (struct pollfd){ .fd = fds[i].fd,
				                 .events = (short)(((fds[i].events & 1u) ? POLLIN : 0) |
				                                   ((fds[i].events & 4u) ? POLLOUT : 0)) };
		int k = poll(pf, (nfds_t)n, tmo);
		if (k == 0) {
			gb_resolve_process(rs, -1, 0);
			continue;
		}
		for (size_t i = 0; i < n; i++)
			if (pf[i].revents)
				gb_resolve_process(rs, pf[i].fd,
				                   ((pf[i].revents & (POLLIN | POLLHUP | POLLERR)) ? 1u : 0) |
				                   ((pf[i].revents & POLLOUT) ? 4u : 0));
	}
	gb_resolver_free(rs);
	if (rc < 0)
		return rc;
	if (w.r.status < 0)
		return w.r.status;
	if (!w.r.n)
		return -ENOENT;
	*out = w.r.addrs[0];
	return 0;
}

static void set_timeouts(int fd, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static void install(struct l7 *l, int fd, SSL *ssl)
{
	struct l7_side *up = &l->s[L7_UPSTREAM];
	pthread_mutex_lock(&l->p->l7_mu); /* l7_stop_all shuts this fd down */
	up->fd = fd;
	pthread_mutex_unlock(&l->p->l7_mu);
	up->ssl = ssl;
	up->off = up->len = 0;
	up->eof = false;
}

/* The route's provider into the upstream side: an idle connection of the
 * route's pool when pooled and one is there (*reused), else a new one
 * (connect, TLS). */
static int connect_provider(struct l7 *l, const struct gb_inf_route *rt, int64_t until_ms,
                            bool pooled, bool *reused, char *err, size_t errlen)
{
	struct gb_proxy *p = l->p;
	int64_t left0 = until_ms - gb_now_ms(CLOCK_MONOTONIC);
	int pfd;
	SSL *pssl;
	*reused = false;
	if (pooled && left0 > 0 &&
	    inf_pool_take(gb_inference_pool(p->o.inference), rt->generation, &pfd, &pssl)) {
		set_timeouts(pfd, (int)(left0 > 1000 ? left0 : 1000));
		install(l, pfd, pssl);
		*reused = true;
		return 0;
	}
	struct sockaddr_storage ss;
	if (!gb_inference_addr_recall(p->o.inference, rt, &ss)) {
		int rc = resolve(p, rt->host, &ss, until_ms);
		if (rc < 0) {
			snprintf(err, errlen, "%s did not resolve: %s", rt->host, strerror(-rc));
			return -1;
		}
		gb_inference_addr_remember(p->o.inference, rt, &ss);
	}
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(rt->port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(rt->port);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	socklen_t sl = ss.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		snprintf(err, errlen, "connect to %s port %u: %s", rt->host, rt->port, strerror(errno));
		close(fd);
		return -1;
	}
	int64_t left = until_ms - gb_now_ms(CLOCK_MONOTONIC);
	struct pollfd pf = { .fd = fd, .events = POLLOUT };
	int e = 0;
	socklen_t el = sizeof e;
	if (left <= 0 || poll(&pf, 1, (int)left) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e) {
		snprintf(err, errlen, "connect to %s port %u: %s", rt->host, rt->port,
		         e ? strerror(e) : "timed out");
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	set_timeouts(fd, (int)(left > 1000 ? left : 1000));
	SSL *ssl = NULL;
	if (rt->tls) {
		if (!p->o.tls || !(ssl = gb_tls_upstream_ssl(p->o.tls, fd, rt->host))) {
			snprintf(err, errlen, "no TLS context for https://%s", rt->host);
			close(fd);
			return -1;
		}
		if (SSL_connect(ssl) != 1) {
			long v = SSL_get_verify_result(ssl);
			char e2[256] = "handshake failed";
			unsigned long ec = ERR_peek_last_error();
			if (v != X509_V_OK)
				snprintf(e2, sizeof e2, "certificate verify failed: %s",
				         X509_verify_cert_error_string(v));
			else if (ec)
				ERR_error_string_n(ec, e2, sizeof e2);
			ERR_clear_error();
			snprintf(err, errlen, "TLS to %.200s port %u refused: %.150s", rt->host, rt->port, e2);
			SSL_free(ssl);
			close(fd);
			return -1;
		}
	}
	install(l, fd, ssl);
	return 0;
}

static void close_provider(struct l7 *l)
{
	struct l7_side *up = &l->s[L7_UPSTREAM];
	if (up->ssl) {
		SSL_free(up->ssl);
		up->ssl = NULL;
	}
	pthread_mutex_lock(&l->p->l7_mu);
	int fd = up->fd;
	up->fd = -1;
	pthread_mutex_unlock(&l->p->l7_mu);
	if (fd >= 0)
		close(fd);
	up->off = up->len = 0;
}

/* A provider connection whose response ended cleanly goes back to the
 * route's pool (which closes it when the route changed meanwhile). */
static void keep_provider(struct l7 *l, const struct gb_inf_route *rt)
{
	struct l7_side *up = &l->s[L7_UPSTREAM];
	SSL *ssl = up->ssl;
	up->ssl = NULL;
	pthread_mutex_lock(&l->p->l7_mu);
	int fd = up->fd;
	up->fd = -1;
	pthread_mutex_unlock(&l->p->l7_mu);
	up->off = up->len = 0;
	if (fd >= 0)
		inf_pool_give(gb_inference_pool(l->p->o.inference), rt->generation, fd, ssl);
	else
		SSL_free(ssl);
}

/* ---- the response ---- */

struct relay {
	struct l7 *l;
	struct inf_req *r;
	http_parser hp;
	http_parser_settings cb;
	struct gb_buf head;   /* the head for the client */
	struct gb_buf name, value;
	bool in_value;
	char reason[64];
	bool head_sent, done, chunked, no_body;
	int werr;
	struct gb_buf keep;   /* non-streamed body (bounded) or the current SSE line */
	struct gb_cred_mask mask; /* the route's secret, masked in the body */
	/* what one provider read makes for the client, written at its end
	 * (relay_flush): one write, one TLS record, for the head and the first
	 * event or the last event and the chunked end when they came in one
	 * read.  Bounded by one read (l7 side buffer, 64 KiB) and the head
	 * (http_parser's header limit) plus the chunk framing. */
	struct gb_buf out;
	struct gb_buf masked; /* scratch of on_body, kept between calls */
};

static bool drop_resp_header(const char *n, size_t l)
{
	static const char *const drop[] = { "connection", "keep-alive", "transfer-encoding",
		                            "content-length", "proxy-connection", "te", "trailer",
		                            "upgrade", "proxy-authenticate" };
	for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
		if (strlen(drop[i]) == l && !strncasecmp(drop[i], n, l))
			return true;
	return false;
}

static int on_body_piece(struct relay *x, const char *at, size_t n);

static void flush_header(struct relay *x)
{
	if (!x->name.len)
		return;
	size_t sl;
	const char *sec = gb_inf_secret(x->r->route, &sl);
	for (char *p = x->value.data; sl >= 8 && p &&
	     (p = memmem(p, x->value.len - (size_t)(p - x->value.data), sec, sl)); p += sl)
		memset(p, '*', sl); /* a header quoting the key */
	if (!drop_resp_header(x->name.data, x->name.len)) {
		gb_buf_append(&x->head, x->name.data, x->name.len);
		gb_buf_puts(&x->head, ": ");
		gb_buf_append(&x->head, x->value.data, x->value.len);
		gb_buf_puts(&x->head, "\r\n");
		if (x->name.len == 12 && !strncasecmp(x->name.data, "content-type", 12) &&
		    x->value.len >= 17 && !strncasecmp(x->value.data, "text/event-stream", 17))
			x->r->stream = true;
	}
	gb_buf_reset(&x->name);
	gb_buf_reset(&x->value);
	x->in_value = false;
}

static int on_status(http_parser *hp, const char *at, size_t n)
{
	struct relay *x = hp->data;
	size_t have = strlen(x->reason);
	for (size_t i = 0; i < n && have + 1 < sizeof x->reason; i++)
		if ((unsigned char)at[i] >= 0x20 && at[i] != 0x7f)
			x->reason[have++] = at[i];
	x->reason[have] = '\0';
	return 0;
}

static int on_field(http_parser *hp, const char *at, size_t n)
{
	struct relay *x = hp->data;
	if (x->in_value)
		flush_header(x);
	gb_buf_append(&x->name, at, n);
	return x->name.len > 8192 ? -1 : 0;
}

static int on_value(http_parser *hp, const char *at, size_t n)
{
	struct relay *x = hp->data;
	x->in_value = true;
	gb_buf_append(&x->value, at, n);
	return x->value.len > 65536 ? -1 : 0;
}

/* Queued for the client (relay_flush writes it). */
static int send_client(struct relay *x, const void *b, size_t n)
{
	if (x->werr)
		return -1;
	gb_buf_append(&x->out, b, n);
	if (x->out.err) {
		x->werr = 1;
		return -1;
	}
	return 0;
}

/* The queue to the client; its bytes are counted once written. */
static int relay_flush(struct relay *x)
{
	if (!x->werr && x->out.len) {
		if (l7_write(x->l, L7_CLIENT, x->out.data, x->out.len) < 0)
			x->werr = 1;
		else
			x->r->q.bytes_resp += x->out.len;
	}
	gb_buf_reset(&x->out);
	return x->werr ? -1 : 0;
}

static int on_headers(http_parser *hp)
{
	struct relay *x = hp->data;
	flush_header(x);
	struct inf_req *r = x->r;
	int st = (int)hp->status_code;
	r->q.status = st;
	x->no_body = st == 204 || st == 304 || (st >= 100 && st < 200);
	x->chunked = r->client_11 && !x->no_body;
	struct gb_buf out = GB_BUF_INIT;
	gb_buf_printf(&out, "HTTP/1.1 %d %s\r\n", st, x->reason[0] ? x->reason : "-");
	gb_buf_append(&out, x->head.data, x->head.len);
	if (x->chunked)
		gb_buf_puts(&out, "Transfer-Encoding: chunked\r\n");
	else if (!x->no_body)
		r->client_keep = false; /* close-delimited for an HTTP/1.0 client */
	if (r->stream)
		gb_buf_puts(&out, "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n");
	gb_buf_printf(&out, "X-Glassbox-Inference: %s\r\nConnection: %s\r\n\r\n", r->route->provider,
	              r->client_keep ? "keep-alive" : "close");
	int rc = out.err ? -1 : send_client(x, out.data, out.len);
	gb_buf_free(&out);
	x->head_sent = true;
	return rc < 0 ? -1 : (st >= 100 && st < 200 ? 0 : 0);
}

static void scan_line(struct relay *x)
{
	const char *s = x->keep.data;
	size_t n = x->keep.len;
	while (n && (s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	if (n > 5 && !strncmp(s, "data:", 5)) {
		s += 5;
		n -= 5;
		while (n && *s == ' ')
			s++, n--;
		if (gb_inf_usage_wanted(s, n, &x->r->usage))
			gb_inf_usage_scan(s, n, &x->r->usage);
	}
	gb_buf_reset(&x->keep);
}

static void keep_body(struct relay *x, const char *at, size_t n)
{
	if (!x->r->stream) {
		if (x->keep.len + n <= USAGE_MAX)
			gb_buf_append(&x->keep, at, n);
		return;
	}
	while (n) {
		const char *nl = memchr(at, '\n', n);
		size_t take = nl ? (size_t)(nl - at + 1) : n;
		if (x->keep.len + take <= LINE_MAX_)
			gb_buf_append(&x->keep, at, take);
		else
			x->keep.len = LINE_MAX_ + 1; /* too long to scan: dropped at its end */
		if (nl) {
			if (x->keep.len <= LINE_MAX_)
				scan_line(x);
			else
				gb_buf_reset(&x->keep);
		}
		at += take;
		n -= take;
	}
}

/* A provider that echoes the key (an error that quotes it) must not hand it
 * to the sandbox: every copy is masked, also one split across two reads or
 * two chunks (cred_mask.c holds back only a tail that could begin it). */
static int on_body(http_parser *hp, const char *at, size_t n)
{
	struct relay *x = hp->data;
	if (!n)
		return 0;
	gb_buf_reset(&x->masked);
	int rc = gb_cred_mask_feed(&x->mask, at, n, &x->masked);
	if (rc == 0 && x->masked.len)
		rc = on_body_piece(x, x->masked.data, x->masked.len);
	return rc;
}

static int on_body_piece(struct relay *x, const char *at, size_t n)
{
	keep_body(x, at, n);
	if (!x->chunked)
		return send_client(x, at, n);
	/* the chunk whole in the read's one write: size line, bytes, CRLF */
	char sz[24];
	int k = snprintf(sz, sizeof sz, "%zx\r\n", n);
	if (send_client(x, sz, (size_t)k) < 0 || send_client(x, at, n) < 0)
		return -1;
	return send_client(x, "\r\n", 2);
}

static int on_complete(http_parser *hp)
{
	struct relay *x = hp->data;
	x->done = true;
	struct gb_buf tail = GB_BUF_INIT;
	int rc = gb_cred_mask_flush(&x->mask, &tail);
	if (rc == 0 && tail.len)
		rc = on_body_piece(x, tail.data, tail.len);
	gb_buf_free(&tail);
	if (rc < 0 || (x->chunked && send_client(x, "0\r\n\r\n", 5) < 0))
		return -1;
	http_parser_pause(hp, 1); /* anything after it is not this response */
	return 0;
}

/* A stream cut short: the final frame, then the end of the chunked body. */
static void stream_error(struct relay *x, const char *why)
{
	struct gb_buf f = GB_BUF_INIT;
	gb_buf_puts(&f, "data: {\"error\":{\"message\":\"response truncated: ");
	gb_json_escape(&f, why, strlen(why));
	gb_buf_puts(&f, "\",\"type\":\"proxy_stream_error\"}}\n\n");
	if (x->chunked) {
		struct gb_buf c = GB_BUF_INIT;
		gb_buf_printf(&c, "%zx\r\n", f.len);
		gb_buf_append(&c, f.data, f.len);
		gb_buf_puts(&c, "\r\n0\r\n\r\n");
		if (!c.err)
			send_client(x, c.data, c.len);
		gb_buf_free(&c);
	} else if (!f.err) {
		send_client(x, f.data, f.len);
	}
	gb_buf_free(&f);
	relay_flush(x);
}

static void inf_relay_init(struct relay *x, struct l7 *l, struct inf_req *r)
{
	memset(x, 0, sizeof *x);
	x->l = l;
	x->r = r;
	http_parser_init(&x->hp, HTTP_RESPONSE);
	x->hp.data = x;
	gb_cred_mask_init(&x->mask);
	size_t sl;
	const char *sec = gb_inf_secret(r->route, &sl);
	gb_cred_mask_add(&x->mask, sec, sl);
	http_parser_settings_init(&x->cb);
	x->cb.on_status = on_status;
	x->cb.on_header_field = on_field;
	x->cb.on_header_value = on_value;
	x->cb.on_headers_complete = on_headers;
	x->cb.on_body = on_body;
	x->cb.on_message_complete = on_complete;
}

static int send_request(struct l7 *l, struct gb_buf *head, const char *body, size_t bn)
{
	if (head->err || l7_write(l, L7_UPSTREAM, head->data, head->len) < 0 ||
	    (bn && l7_write(l, L7_UPSTREAM, body, bn) < 0))
		return -1;
	return 0;
}

int inf_call(struct l7 *l, struct inf_req *r, struct gb_buf *head, const char *body, size_t bn)
{
	const struct gb_inf_route *rt = r->route;
	int64_t t0 = gb_now_ms(CLOCK_MONOTONIC);
	int64_t until = t0 + rt->timeout_ms;
	char err[400] = "";
	bool reused = false;
	if (connect_provider(l, rt, until, true, &reused, err, sizeof err) < 0) {
		snprintf(r->error, sizeof r->error, "%.299s", err);
		struct gb_buf b = GB_BUF_INIT;
		bool tmo = gb_now_ms(CLOCK_MONOTONIC) >= until;
		inf_reply(&b, tmo ? 504 : 502, "upstream_error", err, r->client_keep);
		r->q.status = tmo ? 504 : 502;
		int w = b.err ? -1 : l7_write(l, L7_CLIENT, b.data, b.len);
		r->q.bytes_resp = b.len;
		gb_buf_free(&b);
		return w < 0 ? -1 : 0;
	}
	int ret = 1;
	bool keep_up = false;
	struct relay x;
	inf_relay_init(&x, l, r);
	if (bn && bn <= 65536) { /* one write, one segment for a small request */
		gb_buf_append(head, body, bn);
		bn = head->err ? bn : 0;
	}
	struct l7_side *up = &l->s[L7_UPSTREAM];
	/* A pooled connection the provider closed while we were sending (its
	 * idle timeout racing ours) fails before any response byte: the request
	 * goes once more on a new connection.  Nothing was answered on the old
	 * one, and a provider that processed a request and then closed without
	 * a byte of answer is broken anyway. */
	bool retried = false;
	int sent = send_request(l, head, body, bn);
	if (sent < 0 && reused) {
	retry:
		retried = true;
		close_provider(l);
		gb_buf_free(&x.head);
		gb_buf_free(&x.name);
		gb_buf_free(&x.value);
		gb_buf_free(&x.keep);
		gb_buf_free(&x.out);
		gb_buf_free(&x.masked);
		gb_cred_mask_drop(&x.mask);
		inf_relay_init(&x, l, r);
		if (connect_provider(l, rt, until, false, &reused, err, sizeof err) < 0) {
			snprintf(r->error, sizeof r->error, "%.299s", err);
			goto fail;
		}
		sent = send_request(l, head, body, bn);
	}
	if (sent < 0) {
		snprintf(r->error, sizeof r->error, "the provider closed the connection");
		goto fail;
	}
	r->up_bytes_req = head->len + bn;
	r->q.bytes_resp = 0;
	int64_t stream_until = 0;
	bool got_any = false; /* a byte of response came on this connection */
	while (!x.done) {
		int64_t now = gb_now_ms(CLOCK_MONOTONIC);
		int64_t left;
		if (x.head_sent && r->stream) {
			if (!stream_until)
				stream_until = now + GB_INF_STREAM_MAX_MS;
			left = stream_until - now;
			if (left > GB_INF_IDLE_MS)
				left = GB_INF_IDLE_MS;
		} else {
			left = until - now;
		}
		if (left <= 0 || atomic_load(&l->p->l7_stopping)) {
			snprintf(r->error, sizeof r->error, "%s",
			         !x.head_sent ? "the provider did not answer in time"
			         : r->stream  ? "the provider sent nothing for too long"
			                      : "the provider's response did not complete in time");
			goto fail;
		}
		int w = l7_wait(l, 2u, (int)(left > 1000 ? 1000 : left));
		if (w < 0) {
			snprintf(r->error, sizeof r->error, "waiting for the provider: %s", strerror(-w));
			goto fail;
		}
		if (w == 0)
			continue;
		if (up->off == up->len) {
			ssize_t n = l7_fill(l, L7_UPSTREAM);
			/* ACK at once, every read: on a kept connection the kernel's
			 * quick-ACK start is over, and a provider without TCP_NODELAY
			 * would hold each small SSE write back (Nagle) until our
			 * delayed ACK, up to 40 ms, batching the stream */
			int one = 1;
			setsockopt(up->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
			if (n == -EAGAIN)
				continue;
			if (n <= 0 && reused && !got_any && !retried)
				goto retry;
			if (n < 0) {
				snprintf(r->error, sizeof r->error, "reading from the provider: %s",
				         strerror((int)-n));
				goto fail;
			}
			if (n == 0) {
				http_parser_execute(&x.hp, &x.cb, NULL, 0); /* a close-delimited end */
				if (relay_flush(&x) < 0)
					goto out;
				if (!x.done) {
					snprintf(r->error, sizeof r->error,
					         "the provider closed the connection before the response ended");
					goto fail;
				}
				break;
			}
		}
		got_any = true;
		if (!r->ttfb_ns)
			r->ttfb_ns = gb_now_ns(CLOCK_MONOTONIC) - r->q.t0_ns;
		size_t avail = up->len - up->off;
		size_t used = http_parser_execute(&x.hp, &x.cb, up->buf + up->off, avail);
		up->off += used;
		/* what this read made goes out now, before anything waits again:
		 * a stream is never held back behind the next read */
		if (relay_flush(&x) < 0)
			goto out; /* the client left */
		if (HTTP_PARSER_ERRNO(&x.hp) != HPE_OK && HTTP_PARSER_ERRNO(&x.hp) != HPE_PAUSED) {
			snprintf(r->error, sizeof r->error, "malformed response from the provider: %s",
			         http_errno_description(HTTP_PARSER_ERRNO(&x.hp)));
			goto fail;
		}
		if (r->q.bytes_resp > GB_INF_STREAM_CAP) {
			snprintf(r->error, sizeof r->error, "the response exceeded %u bytes",
			         GB_INF_STREAM_CAP);
			goto fail;
		}
	}
	if (!r->stream && x.keep.len)
		gb_inf_usage_scan(x.keep.data, x.keep.len, &r->usage);
	ret = r->client_keep ? 0 : 1;
	/* kept for the route's next request only when this response ended
	 * cleanly where the provider said it would, the provider keeps the
	 * connection, and nothing came after it (bytes beyond the response
	 * would answer the next request: such a connection is closed) */
	keep_up = x.done && !up->eof && up->off == up->len && http_should_keep_alive(&x.hp) &&
	          !(up->ssl && SSL_pending(up->ssl) > 0);
	goto out;
fail:
	if (!x.head_sent) {
		struct gb_buf b = GB_BUF_INIT;
		bool tmo = gb_now_ms(CLOCK_MONOTONIC) >= until;
		inf_reply(&b, tmo ? 504 : 502, "upstream_error", r->error, false);
		r->q.status = tmo ? 504 : 502;
		if (!b.err)
			l7_write(l, L7_CLIENT, b.data, b.len);
		r->q.bytes_resp = b.len;
		gb_buf_free(&b);
	} else if (r->stream) {
		stream_error(&x, r->error);
	}
	ret = -1;
out:
	if (keep_up)
		keep_provider(l, rt);
	else
		close_provider(l);
	gb_buf_free(&x.head);
	gb_buf_free(&x.name);
	gb_buf_free(&x.value);
	gb_buf_free(&x.keep);
	gb_buf_free(&x.out);
	gb_buf_free(&x.masked);
	gb_cred_mask_drop(&x.mask); /* a cut stream: held bytes are never sent */
	return ret;
}
