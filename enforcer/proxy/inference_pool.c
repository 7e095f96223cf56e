/* enforcer/proxy/inference_pool.c — idle provider connections of the
 * current inference route, kept for the next request (see inference_int.h).
 *
 * Why: a connection per request cost every call a TCP handshake with the
 * provider (and a TLS one for an https base URL) before the first byte,
 * most of what inference.local added over a direct call.
 *
 * What keeps it safe:
 * - an entry belongs to one route generation (a route change, even to the
 *   same URL and credential file, is a new generation); reset() closes every
 *   entry at a change, and a connection of an older generation offered back
 *   later is closed, not kept — so a connection never carries two routes'
 *   (two credentials') requests;
 * - only a connection whose response ended cleanly, on a keep-alive
 *   response, with no byte after it, is offered back (inference_upstream.c);
 * - take() closes an entry that became readable while idle (the provider
 *   closed it, or sent bytes nobody asked for: a desynchronised response
 *   must never answer the next request) and one idle longer than idle_ms;
 * - bounded: at most max entries, the oldest closed first.
 * The client side is unaffected: a pooled provider connection carries
 * requests of one route only, whichever sandbox connection they came on. */
#include "enforcer/proxy/inference_int.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/clock.h"

struct entry {
	int fd;
	SSL *ssl;
	int64_t since_ms;
};

struct inf_pool {
	pthread_mutex_t mu;
	uint64_t gen;   /* the generation connections may be kept for */
	size_t max;
	int idle_ms;
	size_t n;       /* e[0] oldest .. e[n-1] newest */
	struct entry *e;
};

int inf_pool_new(struct inf_pool **out, size_t max, int idle_ms)
{
	struct inf_pool *p = calloc(1, sizeof *p);
	if (!p || !(p->e = calloc(max ? max : 1, sizeof *p->e))) {
		free(p);
		return -ENOMEM;
	}
	pthread_mutex_init(&p->mu, NULL);
	p->max = max > GB_INF_POOL_MAX ? GB_INF_POOL_MAX : max;
	p->idle_ms = idle_ms;
	*out = p;
	return 0;
}

static void close_entry(struct entry *e)
{
	SSL_free(e->ssl); /* no close_notify: the peer sees the TCP close */
	close(e->fd);
}

/* Move every entry out under the lock, close them without it. */
static void drain(struct inf_pool *p, struct entry *out, size_t *n)
{
	*n = p->n;
	for (size_t i = 0; i < p->n; i++)
		out[i] = p->e[i];
	p->n = 0;
}

void inf_pool_reset(struct inf_pool *p, uint64_t gen)
{
	if (!p)
		return;
	struct entry gone[GB_INF_POOL_MAX];
	size_t n;
	pthread_mutex_lock(&p->mu);
	p->gen = gen;
	drain(p, gone, &n);
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < n; i++)
		close_entry(&gone[i]);
}

void inf_pool_free(struct inf_pool *p)
{
	if (!p)
		return;
	inf_pool_reset(p, 0);
	pthread_mutex_destroy(&p->mu);
	free(p->e);
	free(p);
}

/* Idle and silent: nothing to read, no hang-up, no buffered TLS bytes. */
static bool quiet(const struct entry *e)
{
	if (e->ssl && SSL_pending(e->ssl) > 0)
		return false;
	struct pollfd pf = { .fd = e->fd, .events = POLLIN | POLLRDHUP };
	return poll(&pf, 1, 0) == 0;
}

int inf_pool_take(struct inf_pool *p, uint64_t gen, int *fd, SSL **ssl)
{
	if (!p || !gen)
		return 0;
	for (;;) {
		struct entry e;
		pthread_mutex_lock(&p->mu);
		if (p->gen != gen || !p->n) {
			pthread_mutex_unlock(&p->mu);
			return 0;
		}
		e = p->e[--p->n]; /* the newest: the least likely to be closed by now */
		pthread_mutex_unlock(&p->mu);
		if (gb_now_ms(CLOCK_MONOTONIC) - e.since_ms <= p->idle_ms && quiet(&e)) {
			*fd = e.fd;
			*ssl = e.ssl;
			return 1;
		}
		close_entry(&e);
	}
}

void inf_pool_give(struct inf_pool *p, uint64_t gen, int fd, SSL *ssl)
{
	struct entry e = { fd, ssl, gb_now_ms(CLOCK_MONOTONIC) }, old = { -1, NULL, 0 };
	bool keep = false;
	if (p && gen && p->max) {
		pthread_mutex_lock(&p->mu);
		if (p->gen == gen) {
			if (p->n == p->max) {
				old = p->e[0];
				for (size_t i = 1; i < p->n; i++)
					p->e[i - 1] = p->e[i];
				p->n--;
			}
			p->e[p->n++] = e;
			keep = true;
		}
		pthread_mutex_unlock(&p->mu);
	}
	if (old.fd >= 0)
		close_entry(&old);
	if (!keep)
		close_entry(&e);
}

size_t inf_pool_idle(struct inf_pool *p)
{
	pthread_mutex_lock(&p->mu);
	size_t n = p->n;
	pthread_mutex_unlock(&p->mu);
	return n;
}
