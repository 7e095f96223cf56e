/* api/api_slow.c — the request-head deadline (api_int.h: api_slow_*).
 *
 * libmicrohttpd's connection timeout is an idle timeout: a client sending
 * one byte of its request head every few seconds (slowloris) keeps its
 * connection, and its thread, for ever; 64 such clients held every slot and
 * the API answered nobody (issue 20, integration.api_faults).  So every
 * connection is registered when libmicrohttpd accepts it
 * (MHD_OPTION_NOTIFY_CONNECTION), marked when its head is complete (the
 * first call of the request handler), and a sweeper thread shuts down the
 * socket of each connection whose head is not complete API_HEAD_DEADLINE_S
 * after its accept: libmicrohttpd then sees the end of the stream and
 * closes the connection itself.  The sweep runs under the registry's lock,
 * which the CLOSED notification also takes before libmicrohttpd closes the
 * descriptor, so a shutdown never reaches a descriptor number reused by
 * another connection; and the socket's inode is checked before the
 * shutdown, and a slot whose descriptor or connection shows up again is
 * dropped as stale, should a CLOSED notification ever be missed.
 *
 * One registry per process (one API per glassbox serve), bounded by
 * API_SLOW_SLOTS: a connection beyond it is simply not watched. */
#include "api/api_int.h"
#include "common/clock.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#define API_SLOW_SLOTS 1024

struct slot {
	struct MHD_Connection *c; /* NULL = free */
	int fd;
	ino_t ino;                /* the socket's inode: fd numbers are reused */
	bool head_done;
	int64_t t0_ms;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct slot slots[API_SLOW_SLOTS];
static pthread_t sweeper;
static bool running, stop;
static unsigned deadline_s = API_HEAD_DEADLINE_S;
static uint64_t cut; /* connections cut at the deadline */

static int64_t now_ms(void)
{
	return gb_now_ms(CLOCK_MONOTONIC);
}

void api_slow_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                     enum MHD_ConnectionNotificationCode toe)
{
	(void)cls;
	(void)socket_context;
	pthread_mutex_lock(&mu);
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		struct stat st;
		if (!ci || fstat(ci->connect_fd, &st) < 0) {
			pthread_mutex_unlock(&mu);
			return;
		}
		/* a slot with this descriptor or this connection object is stale
		 * (its CLOSED never came): the number and the memory are reused */
		for (size_t i = 0; i < API_SLOW_SLOTS; i++)
			if (slots[i].c && (slots[i].c == c || slots[i].fd == ci->connect_fd))
				slots[i].c = NULL;
		for (size_t i = 0; i < API_SLOW_SLOTS; i++)
			if (!slots[i].c) {
				slots[i] = (struct slot){ c, ci->connect_fd, st.st_ino, false, now_ms() };
				break;
			}
	} else {
		for (size_t i = 0; i < API_SLOW_SLOTS; i++)
			if (slots[i].c == c)
				slots[i].c = NULL;
	}
	pthread_mutex_unlock(&mu);
}

void api_slow_head_done(struct MHD_Connection *c)
{
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < API_SLOW_SLOTS; i++)
		if (slots[i].c == c) {
			slots[i].head_done = true;
			break;
		}
	pthread_mutex_unlock(&mu);
}

static void *sweep(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	while (!stop) {
		int64_t now = now_ms(), limit = (int64_t)deadline_s * 1000;
		for (size_t i = 0; i < API_SLOW_SLOTS; i++) {
			struct slot *s = &slots[i];
			struct stat st;
			if (s->c && !s->head_done && s->fd >= 0 && now - s->t0_ms >= limit) {
				/* the same socket still, never another one on that number */
				if (fstat(s->fd, &st) == 0 && st.st_ino == s->ino && shutdown(s->fd, SHUT_RDWR) == 0)
					cut++;
				s->fd = -1; /* once: its CLOSED notification frees the slot */
			}
		}
		struct timespec until = gb_deadline_ms(250);
		pthread_cond_timedwait(&cv, &mu, &until);
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

int api_slow_start(void)
{
	pthread_mutex_lock(&mu);
	stop = false;
	int rc = 0;
	if (!running) {
		/* its sweeps on CLOCK_MONOTONIC: no waiter yet, so re-made here */
		pthread_cond_destroy(&cv);
		rc = gb_cond_init_monotonic(&cv);
		if (!rc)
			rc = pthread_create(&sweeper, NULL, sweep, NULL);
	}
	if (rc == 0)
		running = true;
	pthread_mutex_unlock(&mu);
	return -rc;
}

void api_slow_stop(void)
{
	pthread_mutex_lock(&mu);
	bool was = running;
	stop = true;
	running = false;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	if (was)
		pthread_join(sweeper, NULL);
}

uint64_t api_slow_cut(void)
{
	pthread_mutex_lock(&mu);
	uint64_t n = cut;
	pthread_mutex_unlock(&mu);
	return n;
}
