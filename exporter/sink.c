/* exporter/sink.c — the loop every sink runs (contract: sink.h): read a
 * batch from the journal at the cursor, deliver it, move and persist the
 * cursor only on acknowledgement, back off with jitter on failure. */
#include "exporter/sink_int.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"

struct gb_sinks {
	struct sink *v;
	size_t n;
	atomic_bool stop;
	char *journal_dir;
};

int gb_cursor_load(const char *path, struct gb_jpos *pos)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	unsigned long long seg, off;
	int n = fscanf(f, "%llu %llu", &seg, &off);
	fclose(f);
	if (n != 2)
		return -EBADMSG;
	pos->segment = seg;
	pos->offset = off;
	return 0;
}

int gb_cursor_save(const char *path, const struct gb_jpos *pos)
{
	char body[64];
	int n = snprintf(body, sizeof body, "%llu %llu\n", (unsigned long long)pos->segment,
	                 (unsigned long long)pos->offset);
	/* all or nothing, and durable: sink.h promises a cursor that survives a
	 * crash and never points into the middle of what it delivered */
	return gb_write_file_atomic(path, body, (size_t)n, 0640, 0);
}

void sink_sleep_ms(long ms, atomic_bool *stop)
{
	/* in slices, so a stop is not held up by a long backoff */
	while (ms > 0 && !atomic_load(stop)) {
		long s = ms > 100 ? 100 : ms;
		struct timespec ts = { 0, s * 1000000L };
		nanosleep(&ts, NULL);
		ms -= s;
	}
}

long sink_jitter(long ms)
{
	unsigned r = 0;
	if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r)
		r = (unsigned)time(NULL);
	/* between half and the full delay: retries of many daemons spread out */
	return ms / 2 + (long)(r % (unsigned)(ms / 2 + 1));
}

void sink_update_lag(struct sink *s, const struct gb_jpos *cur, time_t *lag_at)
{
	/* at most once a second: it reads the index of every segment behind
	 * the cursor */
	struct timespec tn;
	clock_gettime(CLOCK_MONOTONIC, &tn);
	if (tn.tv_sec == *lag_at)
		return;
	uint64_t lseg, lbytes;
	gb_journal_lag(s->journal_dir, cur, &lseg, &lbytes);
	atomic_store(&s->lag_segments, lseg);
	atomic_store(&s->lag_bytes, lbytes);
	*lag_at = tn.tv_sec;
}

void sink_damage(struct sink *s, const char *loss, size_t len)
{
	const char *c = memmem(loss, len, "\"count\":", 8);
	uint64_t n = c ? strtoull(c + 8, NULL, 10) : 0;
	atomic_fetch_add(&s->damaged, n);
	const char *m = memmem(loss, len, "\"message\":\"", 11);
	const char *q = m ? memchr(m + 11, '"', len - (size_t)(m + 11 - loss)) : NULL;
	gb_log_error("serve", "FINDING: sink %s: the journal is damaged, delivered a LOSS event "
	             "instead: %.*s (run glassbox journal verify)", s->c.name,
	             q ? (int)(q - m - 11) : 0, m ? m + 11 : "");
}

bool sink_open(struct sink *s, int (*open)(struct sink *s))
{
	if (open(s) == 0)
		return true;
	atomic_fetch_add(&s->failed, 1);
	gb_log_warn("serve", "sink %s: %s (retrying)", s->c.name, s->err);
	sink_sleep_ms(1000, s->stop);
	return false;
}

long sink_backoff(const struct sink *s, long *backoff)
{
	long max = s->c.backoff_max_ms ? s->c.backoff_max_ms : 30000;
	*backoff = !*backoff ? 200 : *backoff > max / 2 ? max : *backoff * 2;
	return *backoff;
}

void sink_save_cursor(struct sink *s, const struct gb_jpos *cur)
{
	int rc = gb_cursor_save(s->cursor_path, cur);
	if (rc < 0)
		gb_log_error("serve", "sink %s: saving the cursor: %s", s->c.name, strerror(-rc));
}

/* Deliver one batch until acknowledged.  Returns 0, or -EINTR when stopping
 * (the cursor stays before the batch). */
static int deliver_batch(struct sink *s, const struct sink_batch_kind *k, const struct gb_buf *batch,
                         size_t n, long *backoff)
{
	for (;;) {
		int retry_after = 0;
		s->err[0] = 0;
		int d = k->deliver(s, batch, n, &retry_after);
		if (d == 0) {
			atomic_fetch_add(&s->sent, n);
			*backoff = 0;
			return 0;
		}
		atomic_fetch_add(&s->failed, 1);
		if (atomic_load(s->stop))
			return -EINTR;
		/* a destination's Retry-After is obeyed as given; our own backoff
		 * is spread out so that many daemons do not retry in step */
		long wait = retry_after > 0 ? retry_after : sink_jitter(sink_backoff(s, backoff));
		gb_log_warn("serve", "sink %s: %s; retry in %ld ms", s->c.name, s->err[0] ? s->err : strerror(-d),
		            wait);
		sink_sleep_ms(wait, s->stop);
		if (atomic_load(s->stop))
			return -EINTR;
		atomic_fetch_add(&s->retried, 1);
	}
}

/* The loop of a batch kind (file, HTTP). */
static void batch_loop(struct sink *s, const struct sink_batch_kind *k, struct gb_jpos cur, int have)
{
	time_t lag_at = 0;
	struct gb_buf batch = GB_BUF_INIT;
	uint32_t max = s->c.batch_max ? s->c.batch_max : 500;
	long backoff = 0;
	while (!atomic_load(s->stop) && !sink_open(s, k->open))
		;
	struct gb_jreader *r = NULL;
	while (!atomic_load(s->stop)) {
		if (!r && gb_jreader_open(s->journal_dir, NULL, have ? &cur : NULL, &r) < 0) {
			sink_sleep_ms(1000, s->stop);
			continue;
		}
		batch.len = 0;
		size_t n = 0;
		struct gb_jpos next = cur;
		const char *line;
		size_t len;
		struct gb_jpos pos;
		int rc = 0;
		while (n < max && (rc = gb_jreader_next(r, &line, &len, &pos)) >= 1) {
			if (rc == 2)
				sink_damage(s, line, len);
			gb_buf_append(&batch, line, len);
			gb_buf_append(&batch, "\n", 1);
			next = gb_jreader_tell(r);
			n++;
		}
		if (rc < 0) {
			atomic_fetch_add(&s->failed, 1); /* stuck here: the metrics say so */
			sink_update_lag(s, &cur, &lag_at);
			gb_log_error("serve", "sink %s: reading the journal: %s", s->c.name, strerror(-rc));
			gb_jreader_close(r);
			r = NULL;
			sink_sleep_ms(1000, s->stop);
			continue;
		}
		if (n == 0) {
			atomic_store(&s->lag_segments, 0);
			atomic_store(&s->lag_bytes, 0);
			gb_jreader_wait(r, 500);
			continue;
		}
		sink_update_lag(s, &cur, &lag_at);
		if (deliver_batch(s, k, &batch, n, &backoff) < 0)
			break; /* stopping: the cursor stays */
		cur = next;
		have = 1;
		sink_save_cursor(s, &cur);
	}
	gb_jreader_close(r);
	gb_buf_free(&batch);
	k->close(s);
}

static void *sink_main(void *arg)
{
	struct sink *s = arg;
	struct gb_jpos cur = { 0, 0 };
	int have = gb_cursor_load(s->cursor_path, &cur) == 0;
	switch (s->c.kind) {
	case GB_SINK_FILE: batch_loop(s, &gb_sink_file_kind, cur, have); break;
	case GB_SINK_HTTP: batch_loop(s, &gb_sink_http_kind, cur, have); break;
	case GB_SINK_KAFKA: sink_kafka_run(s, have ? &cur : NULL); break;
	}
	return NULL;
}

int gb_sinks_start(const struct gb_sink_conf *conf, size_t n, const char *journal_dir,
                   const char *cursor_dir, struct gb_sinks **out, char *err, size_t errlen)
{
	*out = NULL;
	struct gb_sinks *ss = calloc(1, sizeof *ss);
	if (!ss || (n && !(ss->v = calloc(n, sizeof *ss->v))) || !(ss->journal_dir = strdup(journal_dir))) {
		if (ss)
			free(ss->v);
		free(ss);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = n ? gb_mkdir_p(cursor_dir, 0750, 0750) : 0;
	if (rc < 0)
		snprintf(err, errlen, "creating %s: %s", cursor_dir, strerror(-rc));
	for (size_t i = 0; i < n && rc == 0; i++)
		if ((rc = gb_path_cursor(ss->v[i].cursor_path, sizeof ss->v[i].cursor_path, cursor_dir,
		                         conf[i].name)) < 0)
			snprintf(err, errlen, "sink %s: no cursor file of that name in %s: %s", conf[i].name,
			         cursor_dir, strerror(-rc));
	if (rc < 0) {
		free(ss->journal_dir);
		free(ss->v);
		free(ss);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		struct sink *s = &ss->v[i];
		s->c = conf[i];
		s->journal_dir = ss->journal_dir;
		s->stop = &ss->stop;
		if (pthread_create(&s->thread, NULL, sink_main, s) != 0) {
			atomic_store(&ss->stop, true);
			for (size_t j = 0; j < i; j++)
				pthread_join(ss->v[j].thread, NULL);
			snprintf(err, errlen, "cannot start a thread for sink %s", s->c.name);
			free(ss->journal_dir);
			free(ss->v);
			free(ss);
			return -EAGAIN;
		}
		ss->n++;
	}
	*out = ss;
	return 0;
}

size_t gb_sinks_metrics(struct gb_sinks *ss, struct gb_sink_metrics *m, size_t max)
{
	size_t k = 0;
	for (; ss && k < ss->n && k < max; k++) {
		struct sink *s = &ss->v[k];
		snprintf(m[k].name, sizeof m[k].name, "%s", s->c.name);
		m[k].sent = atomic_load(&s->sent);
		m[k].failed = atomic_load(&s->failed);
		m[k].damaged = atomic_load(&s->damaged);
		m[k].retried = atomic_load(&s->retried);
		m[k].lag_segments = atomic_load(&s->lag_segments);
		m[k].lag_bytes = atomic_load(&s->lag_bytes);
	}
	return k;
}

void gb_sinks_stop(struct gb_sinks *ss)
{
	if (!ss)
		return;
	atomic_store(&ss->stop, true);
	for (size_t i = 0; i < ss->n; i++)
		pthread_join(ss->v[i].thread, NULL);
	free(ss->journal_dir);
	free(ss->v);
	free(ss);
}
