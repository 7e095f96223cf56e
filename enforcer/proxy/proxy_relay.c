/* enforcer/proxy/proxy_relay.c — moving bytes once a connection is allowed.
 *
 * A direction starts by copying: recv() into a small buffer, send() on.
 * The first read that fills the buffer marks it bulk, and from then on it
 * goes socket -> pipe -> socket with splice(), so a large payload never
 * enters user space.  (splice costs more than a copy for the few hundred
 * bytes most connections carry — a pipe buffer per skb, two calls per
 * hop, and a read that finds nothing costs a splice too — while a copy of
 * megabytes costs more than splice: bench_proxy's connection rate and its
 * bulk download pull opposite ways, HAProxy's splice-auto decides alike.)
 * Backpressure: a direction reads from its source only while its pipe is
 * empty, and waits for EPOLLOUT on its destination while the pipe holds
 * data; what a copy could not send goes into the pipe, so the pipe stays
 * the one place a direction holds bytes.  Half-close: when a source reaches
 * EOF and its pipe is drained, the destination gets shutdown(SHUT_WR) and
 * the other direction keeps flowing until it ends too.
 *
 * Before splicing, the bytes the proxy itself must send (the forward
 * request's rewritten head to upstream, "200 Connection established" or
 * bytes the client sent early to the client side) are flushed from the
 * connection's pre/out buffers. */
#include "enforcer/proxy/proxy_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define PIPE_CHUNK (64 * 1024)
/* A read of this much makes a direction bulk (spliced).  One page
 * (PIPE_BUF): the smallest capacity a pipe can have (a user over
 * pipe-user-pages-soft gets one-page pipes), so what a send leaves always
 * fits into the empty pipe, in one atomic write. */
#define COPY_CHUNK 4096

/* Pipes are lent, not owned: a direction takes one from its worker's
 * spares (or makes one) when it reads from its source, and gives it back
 * as soon as the pipe is empty again.  A pipe holds bytes only while the
 * destination is full, so a thousand idle tunnels hold no pipe at all and
 * cost two descriptors each instead of six — the difference between ~3 300
 * and ~9 900 tunnels under a 20 000-descriptor limit.  Only the worker's
 * own thread touches its spares (a connection lives on one worker). */
int relay_init(struct proxy_conn *c)
{
	c->up = (struct relay_dir){ .pipe_r = -1, .pipe_w = -1 };
	c->down = (struct relay_dir){ .pipe_r = -1, .pipe_w = -1 };
	return 0;
}

static int pipe_take(struct proxy_worker *w, struct relay_dir *d)
{
	if (d->pipe_r >= 0)
		return 0;
	if (w->n_spare > 0) {
		w->n_spare--;
		d->pipe_r = w->spare_r[w->n_spare];
		d->pipe_w = w->spare_w[w->n_spare];
		return 0;
	}
	int a[2];
	if (pipe2(a, O_NONBLOCK | O_CLOEXEC) < 0)
		return -errno;
	d->pipe_r = a[0];
	d->pipe_w = a[1];
	return 0;
}

/* d's pipe back to the spares when it is empty and spare is allowed;
 * closed otherwise (bytes left in it are the connection's, and die with it). */
static void pipe_give(struct proxy_worker *w, struct relay_dir *d, bool spare)
{
	if (d->pipe_r < 0)
		return;
	if (spare && !d->inpipe && w->n_spare < PROXY_SPARE_PIPES) {
		w->spare_r[w->n_spare] = d->pipe_r;
		w->spare_w[w->n_spare++] = d->pipe_w;
	} else {
		close(d->pipe_r);
		close(d->pipe_w);
	}
	d->pipe_r = d->pipe_w = -1;
}

void relay_close(struct proxy_conn *c, bool spare)
{
	pipe_give(c->w, &c->up, spare);
	pipe_give(c->w, &c->down, spare);
}

void relay_spares_free(struct proxy_worker *w)
{
	while (w->n_spare > 0) {
		w->n_spare--;
		close(w->spare_r[w->n_spare]);
		close(w->spare_w[w->n_spare]);
	}
}

int proxy_send_buf(int fd, const struct gb_buf *b, size_t *off)
{
	while (*off < b->len) {
		ssize_t n = send(fd, b->data + *off, b->len - *off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		*off += (size_t)n;
	}
	return 1;
}

/* One read of a direction that is not bulk yet: recv, send on, and what
 * the destination would not take into the (empty) pipe.  1: go on reading,
 * 0: stop for now (nothing to read, destination full, EOF), -errno. */
static int copy_once(struct proxy_worker *w, struct relay_dir *d, int src, int dst)
{
	char buf[COPY_CHUNK];
	ssize_t n = recv(src, buf, sizeof buf, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	if (n == 0) {
		d->eof = true;
		return 0;
	}
	if ((size_t)n == sizeof buf)
		d->bulk = true;
	ssize_t s = send(dst, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (s < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		s = 0;
	}
	d->bytes += (uint64_t)s;
	if (s == n)
		return 1;
	int rc = pipe_take(w, d);
	if (rc < 0)
		return rc;
	/* the pipe is empty and holds at least COPY_CHUNK: the rest goes in whole */
	ssize_t k = write(d->pipe_w, buf + s, (size_t)(n - s));
	if (k != n - s)
		return k < 0 ? -errno : -EIO;
	d->inpipe = (size_t)k;
	return 0;
}

/* One direction: returns 0 or negative errno.  Its pipe is taken before
 * a splice and given back whenever it is left empty. */
static int pump_dir(struct proxy_worker *w, struct relay_dir *d, int src, int dst)
{
	int rc = 0;
	for (int rounds = 0; rounds < 16; rounds++) {
		if (d->inpipe) {
			ssize_t n = splice(d->pipe_r, NULL, dst, NULL, d->inpipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n < 0) {
				if (errno == EAGAIN)
					return 0; /* destination full: wait for EPOLLOUT (the pipe stays) */
				return -errno;
			}
			d->inpipe -= (size_t)n;
			d->bytes += (uint64_t)n;
			if (d->inpipe)
				return 0;
		}
		if (d->eof)
			break;
		if (!d->bulk) {
			if ((rc = copy_once(w, d, src, dst)) != 1)
				break;
			continue;
		}
		if ((rc = pipe_take(w, d)) < 0)
			return rc;
		ssize_t n = splice(src, NULL, d->pipe_w, NULL, PIPE_CHUNK, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n < 0) {
			rc = errno == EAGAIN ? 0 : -errno;
			break;
		}
		if (n == 0) {
			d->eof = true;
			break;
		}
		d->inpipe = (size_t)n;
	}
	if (!d->inpipe)
		pipe_give(w, d, true);
	if (rc < 0)
		return rc;
	if (d->eof && !d->inpipe && !d->shut) {
		shutdown(dst, SHUT_WR);
		d->shut = true;
	}
	return 0;
}

/* A forward request: the client's bytes go upstream only as far as the
 * request's declared body, framed by http1.c; then nothing more is read from
 * the client.  The upstream was told "Connection: close", so the next
 * request comes on a new connection and is decided on its own: a pipelined
 * request can never follow a decided one upstream.  User space, not splice:
 * the framing must see the bytes (a chunked body's sizes). */
static int pump_body(struct proxy_conn *c)
{
	struct relay_dir *d = &c->up;
	char buf[16384];
	for (int rounds = 0; rounds < 16 && !c->body_done; rounds++) {
		if (c->pre_off < c->pre.len)
			return 0; /* upstream full: wait for EPOLLOUT */
		gb_buf_reset(&c->pre);
		c->pre_off = 0;
		ssize_t n = recv(c->cfd, buf, sizeof buf, MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		if (n == 0)
			return -ECONNRESET; /* EOF inside the body: the request is incomplete */
		size_t off = 0;
		while (off < (size_t)n && !c->body_done) {
			size_t used = 0;
			enum gb_http1_event ev = gb_http1_feed(c->h1, buf + off, (size_t)n - off, &used);
			if (ev == GB_HTTP1_ERROR)
				return -EPROTO; /* e.g. a bad chunk size mid-body: close both sides */
			gb_buf_append(&c->pre, buf + off, used);
			off += used;
			if (ev == GB_HTTP1_END)
				c->body_done = true;
			else if (ev != GB_HTTP1_BODY)
				break;
		}
		/* off < n now: bytes after the body, dropped */
		size_t before = c->pre_off;
		int r = proxy_send_buf(c->ufd, &c->pre, &c->pre_off);
		d->bytes += c->pre_off - before;
		if (r < 0)
			return r;
	}
	if (c->body_done && c->pre_off == c->pre.len)
		d->eof = d->shut = true; /* no shutdown(): some servers take a FIN as an abort */
	return 0;
}

int relay_pump(struct proxy_conn *c)
{
	/* What the proxy sends upstream on the client's behalf (a forward
	 * request's head, early client bytes) counts as bytes up; the proxy's
	 * own answers to the client do not count as bytes down. */
	size_t before = c->pre_off;
	int r = proxy_send_buf(c->ufd, &c->pre, &c->pre_off);
	c->up.bytes += c->pre_off - before;
	if (r < 0)
		return r;
	bool pre_done = r == 1;
	r = proxy_send_buf(c->cfd, &c->out, &c->out_off);
	if (r < 0)
		return r;
	bool out_done = r == 1;
	if (pre_done) {
		r = c->req.kind == GB_NET_FORWARD ? pump_body(c) : pump_dir(c->w, &c->up, c->cfd, c->ufd);
		if (r < 0)
			return r;
	}
	/* A forward request's response is seen before any of it is spliced
	 * (its status goes into the HTTP record); until it arrives nothing is
	 * read from upstream, and the level-triggered EPOLLIN brings it. */
	if (out_done && (!c->http_pending || conn_response_status(c))) {
		r = pump_dir(c->w, &c->down, c->ufd, c->cfd);
		if (r < 0)
			return r;
	}
	c->last_io_ms = gb_now_ms(CLOCK_MONOTONIC);
	return c->up.shut && c->down.shut ? 1 : 0;
}

void relay_interest(struct proxy_conn *c)
{
	bool pre_pending = c->pre_off < c->pre.len, out_pending = c->out_off < c->out.len;
	unsigned ce = 0, ue = 0;
	if (!c->up.eof && !c->up.inpipe && !pre_pending)
		ce |= EPOLLIN;
	if (c->down.inpipe || out_pending)
		ce |= EPOLLOUT;
	if (!c->down.eof && !c->down.inpipe && !out_pending)
		ue |= EPOLLIN;
	if (c->up.inpipe || pre_pending)
		ue |= EPOLLOUT;
	proxy_ep_set(c->w, &c->tc, ce, false);
	proxy_ep_set(c->w, &c->tu, ue, false);
}
