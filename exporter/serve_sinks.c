/* exporter/serve_sinks.c — retention and the sinks' host calls for
 * glassbox serve (contract: serve_sinks.h). */
#include "exporter/serve_sinks.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RETAIN_EVERY_MS 1000

struct deleted {
	uint64_t seg, events;
};

struct gb_serve_sinks {
	pthread_mutex_t *jlock;
	struct gb_journal *j;
	char table[4200];
	struct deleted *v; /* under jlock */
	size_t n, cap;
	struct gb_sinks *sinks;
	struct timespec last;
};

static int add_deleted(struct gb_serve_sinks *ss, uint64_t seg, uint64_t events)
{
	if (ss->n == ss->cap) {
		size_t nc = ss->cap ? ss->cap * 2 : 256;
		struct deleted *nv = realloc(ss->v, nc * sizeof *nv);
		if (!nv)
			return -ENOMEM;
		ss->v = nv;
		ss->cap = nc;
	}
	ss->v[ss->n++] = (struct deleted){ seg, events };
	return 0;
}

static int load_table(struct gb_serve_sinks *ss)
{
	FILE *f = fopen(ss->table, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	unsigned long long s, e;
	int rc = 0;
	while (rc == 0 && fscanf(f, "%llu %llu\n", &s, &e) == 2)
		rc = add_deleted(ss, s, e);
	fclose(f);
	return rc;
}

/* Called by gb_journal_retain with jlock held. */
static void on_delete(void *arg, uint64_t seg, uint64_t events)
{
	struct gb_serve_sinks *ss = arg;
	if (add_deleted(ss, seg, events) < 0)
		fprintf(stderr, "glassbox serve: out of memory recording deleted segment %" PRIu64 "\n", seg);
	int fd = open(ss->table, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	char line[64];
	int len = snprintf(line, sizeof line, "%" PRIu64 " %" PRIu64 "\n", seg, events);
	if (fd < 0 || write(fd, line, (size_t)len) != len || fsync(fd) < 0)
		fprintf(stderr, "glassbox serve: %s: %s\n", ss->table, strerror(errno));
	if (fd >= 0)
		close(fd);
}

static int h_deleted(void *arg, uint64_t from, uint64_t to, uint64_t *events, uint64_t *segs)
{
	struct gb_serve_sinks *ss = arg;
	*events = *segs = 0;
	pthread_mutex_lock(ss->jlock);
	for (size_t i = 0; i < ss->n; i++)
		if (ss->v[i].seg >= from && ss->v[i].seg < to) {
			*events += ss->v[i].events;
			++*segs;
		}
	pthread_mutex_unlock(ss->jlock);
	return 0;
}

static int h_emit(void *arg, const char *line, size_t len, const struct gb_jmeta *m)
{
	struct gb_serve_sinks *ss = arg;
	pthread_mutex_lock(ss->jlock);
	int rc = gb_journal_append(ss->j, line, len, m, NULL);
	pthread_mutex_unlock(ss->jlock);
	return rc;
}

static struct gb_jpos h_end(void *arg)
{
	struct gb_serve_sinks *ss = arg;
	pthread_mutex_lock(ss->jlock);
	struct gb_jpos p = gb_journal_end(ss->j);
	pthread_mutex_unlock(ss->jlock);
	return p;
}

int gb_serve_sinks_start(pthread_mutex_t *jlock, struct gb_journal *j, const char *journal_dir,
                         const char *cursor_dir, const struct gb_sink_conf *confs, size_t n,
                         struct gb_serve_sinks **out, char *err, size_t errlen)
{
	*out = NULL;
	struct gb_serve_sinks *ss = calloc(1, sizeof *ss);
	if (!ss) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ss->jlock = jlock;
	ss->j = j;
	snprintf(ss->table, sizeof ss->table, "%s/.retained", cursor_dir);
	struct gb_sink_host host = { ss, h_deleted, h_emit, h_end };
	/* The table first: a sink may ask about a gap as soon as it runs. */
	int rc = load_table(ss);
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", ss->table, strerror(-rc));
	else
		rc = gb_sinks_start(confs, n, journal_dir, cursor_dir, &host, &ss->sinks, err, errlen);
	if (rc < 0) {
		gb_serve_sinks_stop(ss);
		return rc;
	}
	*out = ss;
	return 0;
}

void gb_serve_sinks_tick(struct gb_serve_sinks *ss)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ms = (now.tv_sec - ss->last.tv_sec) * 1000 + (now.tv_nsec - ss->last.tv_nsec) / 1000000;
	if (ms < RETAIN_EVERY_MS)
		return;
	ss->last = now;
	pthread_mutex_lock(ss->jlock);
	int rc = gb_journal_retain(ss->j, on_delete, ss);
	pthread_mutex_unlock(ss->jlock);
	if (rc < 0)
		fprintf(stderr, "glassbox serve: journal retention: %s\n", strerror(-rc));
}

struct gb_sinks *gb_serve_sinks_running(struct gb_serve_sinks *ss)
{
	return ss ? ss->sinks : NULL;
}

void gb_serve_sinks_stop(struct gb_serve_sinks *ss)
{
	if (!ss)
		return;
	if (ss->sinks) {
		for (size_t i = 0; i < gb_sinks_count(ss->sinks); i++) {
			struct gb_sink_metrics m;
			const char *name = gb_sinks_metrics(ss->sinks, i, &m);
			fprintf(stderr,
			        "glassbox serve: sink %s: sent %" PRIu64 " failed %" PRIu64 " retried %" PRIu64
			        " lost %" PRIu64 " lag %" PRIu64 " bytes\n",
			        name, m.sent, m.failed, m.retried, m.lost, m.lag_bytes);
		}
		gb_sinks_stop(ss->sinks);
	}
	free(ss->v);
	free(ss);
}
