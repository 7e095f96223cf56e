/* enforcer/proxy/l7_conn.c — an inspected tunnel's thread: what the tunnel
 * carries, TLS on both sides, and the end of the connection (see l7.h).
 *
 * The first bytes are peeked (MSG_PEEK), never consumed, so OpenSSL reads
 * the ClientHello from the socket itself.  Refused with a record, never
 * relayed: the h2c prior-knowledge preface (an HTTP/2 connection would carry
 * requests the HTTP/1 rules never see — OpenShell #1967), anything that is
 * neither TLS nor an HTTP/1 request line, a malformed ClientHello, a client
 * that says nothing within the header timeout.  `tls: skip` relays a TLS
 * tunnel unchanged (recorded as uninspected) in audit mode; in enforce mode
 * the rules could not apply, so the tunnel is refused. */
#include "enforcer/proxy/l7.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/record.h"

#define PEEK_MAX (16384 + 5) /* one TLS record: a ClientHello must fit (or start) there */
#define SIDE_BUF (64 * 1024)
#define L7_STACK (256 * 1024)

/* ---------------- I/O ---------------- */

static int ssl_errno(SSL *s, int rc)
{
	int e = SSL_get_error(s, rc);
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	if (e == SSL_ERROR_SYSCALL)
		return errno ? -errno : 0; /* EOF without close_notify: treated as EOF */
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return -EAGAIN;
	ERR_clear_error();
	return -EPROTO;
}

ssize_t l7_fill(struct l7 *l, int side)
{
	struct l7_side *s = &l->s[side];
	if (s->off == s->len)
		s->off = s->len = 0;
	if (s->len == s->cap) { /* compact; the buffer is bounded */
		if (s->off == 0)
			return -ENOBUFS;
		memmove(s->buf, s->buf + s->off, s->len - s->off);
		s->len -= s->off;
		s->off = 0;
	}
	size_t room = s->cap - s->len;
	ssize_t n;
	if (s->ssl) {
		size_t got = 0;
		int rc = SSL_read_ex(s->ssl, s->buf + s->len, room, &got);
		n = rc == 1 ? (ssize_t)got : ssl_errno(s->ssl, rc);
	} else {
		n = recv(s->fd, s->buf + s->len, room, 0);
		if (n < 0)
			n = -errno;
	}
	if (n > 0)
		s->len += (size_t)n;
	else if (n == 0)
		s->eof = true;
	return n;
}

int l7_next_head(struct l7 *l)
{
	struct l7_side *cl = &l->s[L7_CLIENT];
	for (;;) {
		size_t used = 0;
		enum gb_http1_event ev = gb_http1_feed(l->h1, cl->buf + cl->off, cl->len - cl->off, &used);
		cl->off += used;
		if (ev == GB_HTTP1_HEAD)
			return 1;
		if (ev == GB_HTTP1_ERROR)
			return -1;
		if (ev != GB_HTTP1_END && l7_fill(l, L7_CLIENT) <= 0)
			return 0; /* END: the previous message's end, reported now */
	}
}

ssize_t l7_fill_ready(struct l7 *l, int side)
{
	struct l7_side *s = &l->s[side];
	if (!s->ssl || SSL_pending(s->ssl) > 0)
		return l7_fill(l, side);
	int fl = fcntl(s->fd, F_GETFL);
	if (fl < 0 || fcntl(s->fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return l7_fill(l, side);
	ssize_t n = l7_fill(l, side);
	fcntl(s->fd, F_SETFL, fl);
	return n;
}

int l7_write(struct l7 *l, int side, const void *b, size_t n)
{
	struct l7_side *s = &l->s[side];
	const char *p = b;
	while (n) {
		ssize_t w;
		if (s->ssl) {
			size_t done = 0;
			int rc = SSL_write_ex(s->ssl, p, n, &done);
			w = rc == 1 ? (ssize_t)done : ssl_errno(s->ssl, rc);
			if (w == 0)
				w = -EPIPE;
		} else {
			w = send(s->fd, p, n, MSG_NOSIGNAL);
			if (w < 0)
				w = -errno;
		}
		if (w < 0)
			return (int)w;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int l7_wait(struct l7 *l, unsigned want, int timeout_ms)
{
	unsigned ready = 0;
	for (int i = 0; i < 2; i++)
		if ((want & (1u << i)) &&
		    (l->s[i].off < l->s[i].len || (l->s[i].ssl && SSL_has_pending(l->s[i].ssl))))
			ready |= 1u << i;
	if (ready)
		return (int)ready;
	struct pollfd pf[2];
	int map[2], n = 0;
	for (int i = 0; i < 2; i++)
		if (want & (1u << i)) {
			pf[n] = (struct pollfd){ .fd = l->s[i].fd, .events = POLLIN };
			map[n++] = i;
		}
	int rc = poll(pf, (nfds_t)n, timeout_ms);
	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++)
		if (pf[i].revents)
			ready |= 1u << map[i];
	return (int)ready;
}

void l7_relay_raw(struct l7 *l)
{
	struct proxy_conn *c = l->c;
	bool shut[2] = { false, false };
	while (!(shut[0] && shut[1])) {
		unsigned want = (shut[0] ? 0 : 1u) | (shut[1] ? 0 : 2u);
		int r = l7_wait(l, want, l->timeout_ms);
		if (r <= 0)
			return; /* idle timeout or error */
		for (int i = 0; i < 2; i++) {
			if (!(r & (1 << i)))
				continue;
			struct l7_side *s = &l->s[i];
			if (s->off == s->len) {
				ssize_t n = l7_fill(l, i);
				if (n < 0 && n != -EAGAIN)
					return;
				if (n == 0) {
					shut[i] = true;
					struct l7_side *o = &l->s[1 - i];
					if (o->ssl)
						SSL_shutdown(o->ssl);
					else
						shutdown(o->fd, SHUT_WR);
					continue;
				}
			}
			size_t n = s->len - s->off;
			if (l7_write(l, 1 - i, s->buf + s->off, n) < 0)
				return;
			s->off = s->len;
			if (i == L7_CLIENT)
				c->up.bytes += n;
			else
				c->down.bytes += n;
		}
	}
}

/* ---------------- the tunnel ---------------- */

/* Refuse the tunnel before any request: NET_DECISION deny, a short answer
 * the client can read when it speaks HTTP (none into a TLS handshake). */
static void refuse_tunnel(struct l7 *l, int reason, bool answer, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void refuse_tunnel(struct l7 *l, int reason, bool answer, const char *fmt, ...)
{
	struct proxy_conn *c = l->c;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->dec.reason_text, sizeof c->dec.reason_text, fmt, ap);
	va_end(ap);
	c->dec.verdict = GB_VERDICT_DENY;
	c->dec.reason = (enum gb_reason)reason;
	conn_rec_open(c, GB_VERDICT_DENY, reason);
	atomic_fetch_add(&l->p->s_denied, 1);
	if (answer) {
		/* the peeked bytes are still unread: closing over them would reset
		 * the connection and lose the answer */
		char junk[4096];
		while (recv(c->cfd, junk, sizeof junk, MSG_DONTWAIT) > 0)
			;
		struct gb_buf b = GB_BUF_INIT;
		l7_error_reply(&b, 403, gb_reason_name(reason), c->dec.reason_text, false);
		if (!b.err)
			l7_write(l, L7_CLIENT, b.data, b.len);
		gb_buf_free(&b);
		shutdown(c->cfd, SHUT_WR);
	}
}

/* Peek until the first bytes say what the tunnel is (nothing consumed). */
static enum gb_peek_kind peek(struct l7 *l, unsigned char *pb, size_t *pn)
{
	int64_t until = gb_now_ms(CLOCK_MONOTONIC) + l->p->o.header_timeout_ms;
	enum gb_peek_kind k = GB_PEEK_NEED_MORE;
	size_t want = 24;
	for (;;) {
		int64_t left = until - gb_now_ms(CLOCK_MONOTONIC);
		if (left <= 0 || atomic_load(&l->p->l7_stopping))
			return GB_PEEK_NEED_MORE;
		struct pollfd pf = { .fd = l->s[L7_CLIENT].fd, .events = POLLIN };
		if (poll(&pf, 1, (int)(left < 100 ? left : 100)) <= 0)
			continue;
		ssize_t n = recv(pf.fd, pb, PEEK_MAX, MSG_PEEK | MSG_DONTWAIT);
		if (n <= 0) {
			if (n < 0 && errno == EAGAIN)
				continue;
			*pn = 0;
			return GB_PEEK_OTHER; /* closed before saying anything */
		}
		*pn = (size_t)n;
		k = gb_tls_peek_classify(pb, *pn);
		if (k == GB_PEEK_TLS) {
			/* the whole first record: the ClientHello is checked before OpenSSL */
			size_t rec = *pn >= 5 ? 5 + ((size_t)pb[3] << 8 | pb[4]) : 5;
			if (*pn >= rec || *pn >= PEEK_MAX)
				return k;
			want = rec;
		} else if (k != GB_PEEK_NEED_MORE) {
			return k;
		}
		if ((size_t)n >= PEEK_MAX)
			return GB_PEEK_OTHER;
		(void)want;
		/* wait for more without spinning on the same peeked bytes */
		struct timespec ts = { 0, 2 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

static void ossl_text(char *out, size_t n)
{
	unsigned long e = ERR_peek_last_error();
	if (e)
		ERR_error_string_n(e, out, n);
	else
		snprintf(out, n, "connection closed");
	ERR_clear_error();
}

static int terminate(struct l7 *l, const unsigned char *pb, size_t pn)
{
	struct proxy_conn *c = l->c;
	const char *why = NULL;
	int rc = gb_tls_parse_client_hello(pb, pn, &l->ch, &why);
	if (rc <= 0) {
		refuse_tunnel(l, GB_R_BAD_REQUEST, false, "malformed TLS ClientHello: %s",
		              why ? why : "truncated");
		return -1;
	}
	SSL_CTX *leaf = gb_tls_leaf_ctx(l->p->o.tls, c->req.host, NULL);
	if (!leaf) {
		refuse_tunnel(l, GB_R_LIMIT, false, "no certificate could be made for %s", c->req.host);
		return -1;
	}
	SSL *cs = SSL_new(leaf);
	SSL_CTX_free(leaf); /* the SSL holds its own reference */
	if (!cs || SSL_set_fd(cs, c->cfd) != 1) {
		SSL_free(cs);
		refuse_tunnel(l, GB_R_LIMIT, false, "out of memory");
		return -1;
	}
	l->s[L7_CLIENT].ssl = cs;
	if (SSL_accept(cs) != 1) {
		char e[256];
		ossl_text(e, sizeof e);
		refuse_tunnel(l, GB_R_BAD_REQUEST, false,
		              "TLS handshake with the client failed (does it trust the sandbox CA?): %s", e);
		return -1;
	}
	l->terminated = true;
	l->tls_version = SSL_get_version(cs);
	SSL *us = gb_tls_upstream_ssl(l->p->o.tls, c->ufd, c->req.host);
	if (!us) {
		refuse_tunnel(l, GB_R_UPSTREAM_TLS, false, "out of memory");
		return -1;
	}
	l->s[L7_UPSTREAM].ssl = us;
	if (SSL_connect(us) != 1) {
		long v = SSL_get_verify_result(us);
		char e[256];
		if (v != X509_V_OK)
			snprintf(e, sizeof e, "certificate verify failed: %s", X509_verify_cert_error_string(v));
		else
			ossl_text(e, sizeof e);
		ERR_clear_error();
		refuse_tunnel(l, GB_R_UPSTREAM_TLS, false, "TLS to %s port %u refused: %s", c->req.host,
		              c->req.port, e);
		/* the client's side is up: it gets the reason in HTTP */
		struct gb_buf b = GB_BUF_INIT;
		l7_error_reply(&b, 502, "upstream_tls", c->dec.reason_text, false);
		if (!b.err)
			l7_write(l, L7_CLIENT, b.data, b.len);
		gb_buf_free(&b);
		SSL_free(us);
		l->s[L7_UPSTREAM].ssl = NULL;
		return -1;
	}
	return 0;
}

static void tunnel(struct l7 *l)
{
	struct proxy_conn *c = l->c;
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	if (l7_write(l, L7_CLIENT, ok, sizeof ok - 1) < 0)
		return;
	if (c->hlen > c->head_end) {
		/* bytes pipelined behind the CONNECT were consumed with its head:
		 * they cannot be peeked again, so this tunnel is not inspectable */
		refuse_tunnel(l, GB_R_L7_UNSUPPORTED, false,
		              "the client sent %zu bytes before \"200 Connection established\"",
		              c->hlen - c->head_end);
		return;
	}
	unsigned char *pb = malloc(PEEK_MAX);
	if (!pb)
		return;
	size_t pn = 0;
	enum gb_peek_kind k = peek(l, pb, &pn);
	int rc = 0;
	switch (k) {
	case GB_PEEK_TLS:
		if (c->dec.tls_skip && c->dec.mode == GB_MODE_ENFORCE) {
			/* the rules could not be applied to what passes: refused, like
			 * an enforce-mode tunnel without a CA */
			refuse_tunnel(l, GB_R_L7_NEEDS_INSPECTION, false,
			              "endpoint %s enforces HTTP rules but says tls: skip, so its TLS "
			              "cannot be inspected; the tunnel is refused", c->dec.endpoint);
			rc = -1;
			break;
		}
		if (c->dec.tls_skip) { /* audit: relayed unchanged, recorded as uninspected */
			c->inspected = 0;
			conn_rec_open(c, GB_VERDICT_ALLOW, c->dec.reason);
			c->opened = true;
			atomic_fetch_add(&l->p->s_allowed, 1);
			free(pb);
			l7_relay_raw(l);
			return;
		}
		rc = terminate(l, pb, pn);
		break;
	case GB_PEEK_HTTP1:
		break; /* plain HTTP inside the tunnel: inspected the same way */
	case GB_PEEK_H2C:
		refuse_tunnel(l, GB_R_L7_UNSUPPORTED, true,
		              "HTTP/2 prior-knowledge (h2c) on %s, whose HTTP/1 rules it would bypass",
		              c->dec.endpoint);
		rc = -1;
		break;
	case GB_PEEK_NEED_MORE:
		refuse_tunnel(l, GB_R_L7_UNSUPPORTED, false,
		              "nothing to inspect within %d ms on %s", l->p->o.header_timeout_ms,
		              c->dec.endpoint);
		rc = -1;
		break;
	case GB_PEEK_OTHER:
		if (pn == 0)
			rc = -1; /* closed without a byte: nothing was asked */
		else {
			refuse_tunnel(l, GB_R_L7_UNSUPPORTED, true,
			              "neither TLS nor HTTP/1 on %s, which inspects HTTP", c->dec.endpoint);
			rc = -1;
		}
		break;
	}
	free(pb);
	if (rc < 0)
		return;
	conn_rec_open(c, GB_VERDICT_ALLOW, c->dec.reason);
	c->opened = true;
	atomic_fetch_add(&l->p->s_allowed, 1);
	l7_serve(l);
}

static void set_blocking(int fd, int timeout_ms)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static void l7_free(struct l7 *l)
{
	for (int i = 0; i < 2; i++) {
		if (l->s[i].ssl) {
			if (!l->s[i].eof)
				SSL_shutdown(l->s[i].ssl); /* close_notify, best effort */
			SSL_free(l->s[i].ssl);
		}
		free(l->s[i].buf);
	}
	gb_http1_free(l->h1);
	free(l);
}

static void *l7_main(void *arg)
{
	struct l7 *l = arg;
	struct gb_proxy *p = l->p;
	if (l->run)
		l->run(l);
	else
		tunnel(l);
	struct proxy_conn *c = l->c;
	pthread_mutex_lock(&p->l7_mu);
	/* unlink before the fds close: l7_stop_all shuts down what is listed */
	if (l->prev)
		l->prev->next = l->next;
	else
		p->l7_list = l->next;
	if (l->next)
		l->next->prev = l->prev;
	pthread_mutex_unlock(&p->l7_mu);
	l7_free(l);
	conn_finish_detached(c);
	pthread_mutex_lock(&p->l7_mu);
	p->n_l7--;
	pthread_cond_broadcast(&p->l7_cv);
	pthread_mutex_unlock(&p->l7_mu);
	return NULL;
}

int l7_start(struct proxy_conn *c)
{
	return l7_start_with(c, NULL);
}

int l7_start_with(struct proxy_conn *c, void (*run)(struct l7 *l))
{
	struct gb_proxy *p = c->w->p;
	struct l7 *l = calloc(1, sizeof *l);
	if (!l)
		return -ENOMEM;
	l->c = c;
	l->run = run;
	l->p = p;
	l->timeout_ms = p->o.idle_timeout_ms;
	l->s[L7_CLIENT].fd = c->cfd;
	l->s[L7_UPSTREAM].fd = c->ufd;
	for (int i = 0; i < 2; i++) {
		l->s[i].cap = SIDE_BUF;
		l->s[i].buf = malloc(SIDE_BUF);
	}
	l->h1 = gb_http1_new(&(struct gb_http1_opts){ .max_head = (size_t)p->o.max_header_bytes });
	if (!l->s[0].buf || !l->s[1].buf || !l->h1) {
		l7_free(l);
		return -ENOMEM;
	}
	pthread_mutex_lock(&p->l7_mu);
	if (atomic_load(&p->l7_stopping)) {
		pthread_mutex_unlock(&p->l7_mu);
		l7_free(l);
		return -ESHUTDOWN;
	}
	conn_detach(c);
	set_blocking(c->cfd, l->timeout_ms);
	if (c->ufd >= 0)
		set_blocking(c->ufd, l->timeout_ms);
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, L7_STACK);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_t th;
	int rc = pthread_create(&th, &a, l7_main, l);
	pthread_attr_destroy(&a);
	if (rc != 0) {
		pthread_mutex_unlock(&p->l7_mu);
		l7_free(l);
		/* the connection is out of its worker already: end it here */
		conn_finish_detached(c);
		return 0;
	}
	l->next = p->l7_list;
	if (p->l7_list)
		p->l7_list->prev = l;
	p->l7_list = l;
	p->n_l7++;
	pthread_mutex_unlock(&p->l7_mu);
	return 0;
}

void l7_stop_all(struct gb_proxy *p)
{
	pthread_mutex_lock(&p->l7_mu);
	atomic_store(&p->l7_stopping, true);
	for (struct l7 *l = p->l7_list; l; l = l->next) {
		shutdown(l->s[L7_CLIENT].fd, SHUT_RDWR);
		shutdown(l->s[L7_UPSTREAM].fd, SHUT_RDWR);
	}
	while (p->n_l7 > 0)
		pthread_cond_wait(&p->l7_cv, &p->l7_mu);
	pthread_mutex_unlock(&p->l7_mu);
}
