/* enforcer/proxy/proxy.c — the proxy's workers (contract: proxy.h; internals:
 * proxy_int.h).
 *
 * One thread per worker, each with its own epoll set, resolver and
 * connections.  All workers wait on the one listening socket with
 * EPOLLEXCLUSIVE, so a new connection wakes one worker, which then owns it
 * for its whole life (no locks on the connection path).  Timeouts are
 * checked by a sweep every 250 ms.  When accept() runs out of descriptors
 * (EMFILE/ENFILE) the worker stops listening for 100 ms instead of spinning
 * on a listening socket that stays readable.
 */
#include "enforcer/proxy/proxy_int.h"
#include "enforcer/proxy/l7.h"
#include "enforcer/proxy/policy_local_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define SWEEP_MS 250
#define EMFILE_PAUSE_MS 100

int proxy_ep_set(struct proxy_worker *w, struct ep_tag *t, unsigned events, bool add)
{
	if (!add && t->armed && t->ev == events)
		return 0;
	struct epoll_event ev = { .events = events, .data.ptr = t };
	if (epoll_ctl(w->ep, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, t->fd, &ev) < 0)
		return -errno;
	t->ev = events;
	t->armed = true;
	return 0;
}

void proxy_ep_del(struct proxy_worker *w, int fd)
{
	epoll_ctl(w->ep, EPOLL_CTL_DEL, fd, NULL);
}

static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || strlen(s) >= sizeof host)
		return -EINVAL;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		return -EINVAL;
	size_t hl = (size_t)(colon - s);
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof *ss);
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof *a;
		return 0;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
		return -EINVAL;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	*len = sizeof *a;
	return 0;
}

static int bind_listen(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (parse_listen(spec, &ss, &len) < 0)
		return -EINVAL;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1024) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

int gb_proxy_new(const struct gb_proxy_opts *o, struct gb_proxy **out)
{
	if (!o || !o->store)
		return -EINVAL;
	struct gb_proxy *p = calloc(1, sizeof *p);
	if (!p)
		return -ENOMEM;
	p->o = *o;
	pthread_mutex_init(&p->l7_mu, NULL);
	pthread_cond_init(&p->l7_cv, NULL);
	if (o->policy_local && !(p->pl = pl_state_new())) {
		free(p);
		return -ENOMEM;
	}
	if (!p->o.max_conns) {
		/* 4096, or as many as the descriptor limit holds — two sockets a
		 * connection, NOFILE_RESERVE kept for the rest (listener, epoll,
		 * spare pipes, the identity's /proc/PID directories) — up to 16384 (~40 kB of
		 * memory each): a supervisor granted 20 000 descriptors serves
		 * ~9 900 tunnels instead of refusing past 4096.  Past the limit a
		 * connection gets a 503, not an EMFILE. */
		enum { NOFILE_RESERVE = 160, MAX_CONNS_CAP = 16384 };
		struct rlimit rl;
		p->o.max_conns = 4096;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
			rlim_t fit = rl.rlim_cur == RLIM_INFINITY ? MAX_CONNS_CAP
			             : rl.rlim_cur > NOFILE_RESERVE ? (rl.rlim_cur - NOFILE_RESERVE) / 2 : 0;
			if (fit > MAX_CONNS_CAP)
				fit = MAX_CONNS_CAP;
			if (fit > 4096)
				p->o.max_conns = (int)fit;
		}
	}
	if (!p->o.header_timeout_ms)
		p->o.header_timeout_ms = 10000;
	if (!p->o.connect_timeout_ms)
		p->o.connect_timeout_ms = 10000;
	if (!p->o.idle_timeout_ms)
		p->o.idle_timeout_ms = 300000;
	if (!p->o.max_header_bytes)
		p->o.max_header_bytes = 16384;
	p->n_workers = o->workers > 0 ? o->workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (p->n_workers < 1)
		p->n_workers = 1;
	p->lfd = -1;
	p->stopfd = -1;
	int rc;
	if (o->listen_fd >= 0) {
		p->lfd = o->listen_fd;
	} else if ((p->lfd = bind_listen(o->listen ? o->listen : "127.0.0.1:3128")) < 0) {
		rc = p->lfd;
		p->lfd = -1;
		goto fail;
	}
	/* accept() must never block a worker: another one may have taken it */
	int fl = fcntl(p->lfd, F_GETFL);
	if (fl >= 0)
		fcntl(p->lfd, F_SETFL, fl | O_NONBLOCK);
	if ((p->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		rc = -errno;
		goto fail;
	}
	struct gb_identity_opts io = { .proc_root = NULL, .netns_fd = o->netns_fd,
		                       .root_pid = o->clients_root_pid,
		                       .async_hash = true };
	if ((rc = gb_identity_ctx_new(&io, &p->ident)) < 0)
		goto fail;
	p->workers = calloc((size_t)p->n_workers, sizeof *p->workers);
	p->threads = calloc((size_t)p->n_workers, sizeof *p->threads);
	if (!p->workers || !p->threads) {
		rc = -ENOMEM;
		goto fail;
	}
	for (int i = 0; i < p->n_workers; i++)
		p->workers[i].ep = -1; /* -1 = no epoll fd yet, as for every fd here */
	for (int i = 0; i < p->n_workers; i++) {
		struct proxy_worker *w = &p->workers[i];
		w->p = p;
		w->idx = i;
		w->ep = epoll_create1(EPOLL_CLOEXEC);
		if (w->ep < 0) {
			rc = -errno;
			goto fail;
		}
		struct gb_resolver_opts ro = { .hosts_file = o->hosts_file, .resolv_conf = o->resolv_conf };
		if ((rc = gb_resolver_new(&ro, &w->res)) < 0)
			goto fail;
		w->tl = (struct ep_tag){ .kind = TAG_LISTEN, .fd = p->lfd };
		w->ts = (struct ep_tag){ .kind = TAG_STOP, .fd = p->stopfd };
		if ((rc = proxy_ep_set(w, &w->tl, EPOLLIN | EPOLLEXCLUSIVE, true)) < 0 ||
		    (rc = proxy_ep_set(w, &w->ts, EPOLLIN, true)) < 0)
			goto fail;
		w->listening = true;
	}
	*out = p;
	return 0;
fail:
	gb_proxy_free(p);
	return rc;
}

static void do_accept(struct proxy_worker *w)
{
	struct gb_proxy *p = w->p;
	for (int n = 0; n < 64; n++) {
		int fd = accept4(p->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* Out of descriptors: stop listening for a moment rather
				 * than spin on a socket that stays readable. */
				proxy_ep_del(w, p->lfd);
				w->listening = false;
				w->accept_paused_until = gb_now_ms(CLOCK_MONOTONIC) + EMFILE_PAUSE_MS;
			}
			return; /* EAGAIN: another worker took it, or nothing left */
		}
		atomic_fetch_add(&p->s_accepted, 1);
		if (atomic_load(&p->n_conns) >= p->o.max_conns) {
			/* Over the limit: a refusal, written best effort, then close. */
			struct gb_buf b = GB_BUF_INIT;
			http_refusal(&b, 503, "limit", "too many connections through the proxy", "limit",
			             NULL, NULL, NULL, false);
			ssize_t wr = send(fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
			(void)wr;
			gb_buf_free(&b);
			close(fd);
			atomic_fetch_add(&p->s_denied, 1);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (!conn_new(w, fd))
			close(fd);
	}
}

/* Keep the epoll set in step with the sockets c-ares wants watched. */
static void sync_resolver(struct proxy_worker *w)
{
	struct gb_resolve_fd fds[16];
	int tmo;
	size_t n = gb_resolver_fds(w->res, fds, 16, &tmo);
	w->res_timeout_ms = tmo;
	for (size_t i = 0; i < w->n_res; i++) {
		bool keep = false;
		for (size_t j = 0; j < n; j++)
			keep |= fds[j].fd == w->res_fds[i];
		if (!keep)
			proxy_ep_del(w, w->res_fds[i]);
	}
	for (size_t j = 0; j < n; j++) {
		bool had = false;
		for (size_t i = 0; i < w->n_res; i++)
			had |= fds[j].fd == w->res_fds[i];
		w->tres[j] = (struct ep_tag){ .kind = TAG_RESOLVER, .fd = fds[j].fd };
		if (proxy_ep_set(w, &w->tres[j], fds[j].events, !had) < 0 && had)
			proxy_ep_set(w, &w->tres[j], fds[j].events, true);
	}
	for (size_t j = 0; j < n; j++) {
		w->res_fds[j] = fds[j].fd;
		w->res_ev[j] = fds[j].events;
	}
	w->n_res = n;
}

static void sweep(struct proxy_worker *w, int64_t now)
{
	struct proxy_conn *c = w->conns, *next;
	for (; c; c = next) {
		next = c->next;
		if (c->deadline_ms && now >= c->deadline_ms)
			conn_timeout(c);
	}
}

static void *worker_main(void *arg)
{
	struct proxy_worker *w = arg;
	struct epoll_event evs[64];
	int64_t next_sweep = gb_now_ms(CLOCK_MONOTONIC) + SWEEP_MS;
	for (;;) {
		sync_resolver(w);
		int64_t now = gb_now_ms(CLOCK_MONOTONIC);
		int tmo = (int)(next_sweep > now ? next_sweep - now : 0);
		if (w->res_timeout_ms >= 0 && w->res_timeout_ms < tmo)
			tmo = w->res_timeout_ms;
		int n = epoll_wait(w->ep, evs, 64, tmo);
		if (n < 0 && errno != EINTR)
			break;
		bool stop = false, res_ran = false;
		for (int i = 0; i < n; i++) {
			struct ep_tag *t = evs[i].data.ptr;
			switch (t->kind) {
			case TAG_STOP:
				stop = true;
				break;
			case TAG_LISTEN:
				do_accept(w);
				break;
			case TAG_RESOLVER:
				gb_resolve_process(w->res, t->fd, evs[i].events);
				res_ran = true;
				break;
			case TAG_CLIENT:
			case TAG_UPSTREAM:
				conn_event(t->c, t->kind, evs[i].events);
				break;
			}
		}
		if (stop)
			break;
		now = gb_now_ms(CLOCK_MONOTONIC);
		if (!res_ran && w->res_timeout_ms >= 0 && n == 0)
			gb_resolve_process(w->res, -1, 0); /* resolver timeouts */
		if (!w->listening && now >= w->accept_paused_until) {
			if (proxy_ep_set(w, &w->tl, EPOLLIN | EPOLLEXCLUSIVE, true) == 0)
				w->listening = true;
		}
		if (now >= next_sweep) {
			sweep(w, now);
			next_sweep = now + SWEEP_MS;
		}
		proxy_reap(w);
	}
	/* Shutting down: every connection gets its records and is closed. */
	while (w->conns)
		conn_free(w->conns);
	proxy_reap(w);
	return NULL;
}

int gb_proxy_start(struct gb_proxy *p)
{
	for (int i = 0; i < p->n_workers; i++) {
		if (pthread_create(&p->threads[i], NULL, worker_main, &p->workers[i]) != 0) {
			uint64_t one = 1;
			ssize_t wr = write(p->stopfd, &one, sizeof one);
			(void)wr;
			for (int j = 0; j < i; j++)
				pthread_join(p->threads[j], NULL);
			return -EAGAIN;
		}
	}
	p->started = true;
	return 0;
}

void gb_proxy_stop(struct gb_proxy *p)
{
	if (!p)
		return;
	uint64_t one = 1;
	ssize_t wr = write(p->stopfd, &one, sizeof one); /* eventfd: async-signal-safe */
	(void)wr;
	if (p->started) {
		for (int i = 0; i < p->n_workers; i++)
			pthread_join(p->threads[i], NULL);
		p->started = false;
	}
	l7_stop_all(p); /* after the workers: none can start another */
}

void gb_proxy_free(struct gb_proxy *p)
{
	if (!p)
		return;
	if (p->started)
		gb_proxy_stop(p);
	for (int i = 0; p->workers && i < p->n_workers; i++) {
		struct proxy_worker *w = &p->workers[i];
		while (w->conns)
			conn_free(w->conns);
		if (w->res)
			gb_resolver_free(w->res); /* may hand back connections still resolving */
		proxy_reap(w);
		relay_spares_free(w);
		if (w->ep >= 0)
			close(w->ep);
	}
	l7_stop_all(p);
	pl_state_free(p->pl);
	pthread_cond_destroy(&p->l7_cv);
	pthread_mutex_destroy(&p->l7_mu);
	free(p->workers);
	free(p->threads);
	gb_identity_ctx_free(p->ident);
	if (p->stopfd >= 0)
		close(p->stopfd);
	if (p->lfd >= 0)
		close(p->lfd);
	free(p);
}

void gb_proxy_stats(const struct gb_proxy *p, struct gb_proxy_stats *s)
{
	struct gb_proxy *q = (struct gb_proxy *)p;
	s->accepted = atomic_load(&q->s_accepted);
	s->allowed = atomic_load(&q->s_allowed);
	s->denied = atomic_load(&q->s_denied);
	s->active = (uint64_t)atomic_load(&q->n_conns);
	s->bytes_up = atomic_load(&q->s_bytes_up);
	s->bytes_down = atomic_load(&q->s_bytes_down);
	s->records_dropped = atomic_load(&q->s_rec_dropped);
}
