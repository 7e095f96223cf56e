/* exporter/sink_int.h — what the sink kinds share with the sink loop
 * (sink.c).  Not a public contract (sink.h is). */
#ifndef GB_EXPORTER_SINK_INT_H
#define GB_EXPORTER_SINK_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "common/buf.h"
#include "common/paths.h"
#include "exporter/journal.h"
#include "exporter/sink.h"

struct sink {
	struct gb_sink_conf c;
	char cursor_path[GB_PATH_MAX];
	const char *journal_dir;
	pthread_t thread;
	atomic_bool *stop;
	atomic_uint_fast64_t sent, failed, retried, lag_segments, lag_bytes;
	atomic_uint_fast64_t damaged; /* events the journal could not give (damage skipped) */
	void *priv; /* the kind's state */
	char err[2 * GB_PATH_MAX]; /* room for two paths (or a URL) and a reason */
};

/* A batch kind (file, HTTP): the loop in sink.c reads a batch from the
 * journal and moves the cursor; the kind opens its destination and delivers
 * one batch of n events (batch holds them as NDJSON: each event followed by
 * '\n').  deliver returns 0 when the destination acknowledged, -errno
 * otherwise; it may set *retry_after_ms (a 429's Retry-After).  Errors are
 * described in s->err. */
struct sink_batch_kind {
	int (*open)(struct sink *s);
	int (*deliver)(struct sink *s, const struct gb_buf *batch, size_t n, int *retry_after_ms);
	void (*close)(struct sink *s);
};
extern const struct sink_batch_kind gb_sink_file_kind;
extern const struct sink_batch_kind gb_sink_http_kind;

/* The Kafka sink owns its whole loop instead, because acknowledgements come
 * event by event and sends are pipelined: reading the journal from `from`
 * (NULL = the oldest), delivering, moving and saving the cursor, until
 * *s->stop. */
void sink_kafka_run(struct sink *s, const struct gb_jpos *from);

/* Shared by the loops (sink.c). */
void sink_sleep_ms(long ms, atomic_bool *stop); /* in slices: a stop cuts it short */
long sink_jitter(long ms);                      /* a delay between ms/2 and ms */
/* Count and report journal damage the reader skipped (loss = its LOSS line). */
void sink_damage(struct sink *s, const char *loss, size_t len);
void sink_update_lag(struct sink *s, const struct gb_jpos *cur, time_t *lag_at);
/* Open the destination with open(s).  On failure count it (a sink that
 * cannot open is stuck, and its metrics must say so), say why (s->err) and
 * wait a second.  Returns true when open. */
bool sink_open(struct sink *s, int (*open)(struct sink *s));
/* The next delay after a failure: 200 ms, then doubling up to the sink's
 * backoff_max_ms (default 30 s); *backoff = 0 starts over.  No jitter. */
long sink_backoff(const struct sink *s, long *backoff);
/* Save the cursor, saying so when it cannot be (delivery goes on: the
 * worst case is events delivered again after a restart). */
void sink_save_cursor(struct sink *s, const struct gb_jpos *cur);

#endif
