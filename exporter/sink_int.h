/* exporter/sink_int.h — what the sink kinds share with the sink loop
 * (sink.c).  Not a public contract (sink.h is). */
#ifndef GB_EXPORTER_SINK_INT_H
#define GB_EXPORTER_SINK_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "common/buf.h"
#include "exporter/journal.h"
#include "exporter/sink.h"

struct sink {
	struct gb_sink_conf c;
	char cursor_path[4200];
	const char *journal_dir;
	pthread_t thread;
	atomic_bool *stop;
	atomic_uint_fast64_t sent, failed, retried, lag_segments, lag_bytes;
	atomic_uint_fast64_t damaged; /* events the journal could not give (damage skipped) */
	void *priv; /* the kind's state */
	char err[9000]; /* room for a path or URL and a reason */
};

/* A kind: open its destination, deliver one batch of n events (batch holds
 * them as NDJSON: each event followed by '\n').  deliver returns 0 when the
 * destination acknowledged, -errno otherwise; it may set *retry_after_ms
 * (a 429's Retry-After).  Errors are described in s->err.
 * A kind with `run` instead owns the whole loop (reading the journal from
 * `from`, NULL = the oldest, delivering, moving and saving the cursor)
 * until *s->stop: the Kafka sink, whose acknowledgements come event by
 * event and whose sends are pipelined. */
struct sink_kind {
	int (*open)(struct sink *s);
	int (*deliver)(struct sink *s, const struct gb_buf *batch, size_t n, int *retry_after_ms);
	void (*close)(struct sink *s);
	void (*run)(struct sink *s, const struct gb_jpos *from);
};

/* Shared by the loops (sink.c). */
void sink_sleep_ms(long ms, atomic_bool *stop); /* in slices: a stop cuts it short */
long sink_jitter(long ms);                      /* a delay between ms/2 and ms */
/* Count and report journal damage the reader skipped (loss = its LOSS line). */
void sink_damage(struct sink *s, const char *loss, size_t len);
void sink_update_lag(struct sink *s, const struct gb_jpos *cur, time_t *lag_at);
extern const struct sink_kind gb_sink_file_kind;
extern const struct sink_kind gb_sink_http_kind;
extern const struct sink_kind gb_sink_kafka_kind;

#endif
