/* exporter/sink.h — sinks: each one tails the journal from a durable cursor
 * and delivers events to a destination (a JSONL file, an HTTP collector, a
 * Kafka topic).  The cursor moves only on acknowledgement.
 *
 * Cursor: <cursor_dir>/<name>, one JSON line
 *   {"segment":S,"offset":O,"index":I,"loss_through":L}
 * {S,O} is the journal position of the next event to deliver, I the number
 * of events of segment S before it, L the first segment whose retention loss
 * has not been reported yet.  Written as tmp + fsync + rename + fsync(dir),
 * so a crash leaves the old or the new cursor, never a torn one.  A missing
 * cursor means "from the oldest retained event".
 *
 * Loop (one thread per sink): read up to batch_max events from the reader,
 * hand them to the driver's deliver(); it returns how many leading events
 * the destination acknowledged.  The cursor advances past those and is
 * persisted; the rest is retried (same events, same order) after an
 * exponential backoff with full jitter, capped at backoff_max_ms, or after
 * the destination's Retry-After.  When the journal has nothing new the
 * thread sleeps in gb_jreader_wait (inotify), not in a poll loop.
 * Delivery is at least once: a crash between the destination's ack and the
 * cursor write re-sends that batch; metadata.uid identifies duplicates.
 *
 * Loss: segment numbers are contiguous, so when the reader's next event is
 * in a later segment than the one the sink stands in, the segments between
 * were deleted by retention.  The host (glassbox serve) keeps, under its
 * journal lock, the event count of every segment retention deleted; the sink
 * asks it for the events of the skipped segments, subtracts those of its own
 * segment it had already read, and when the result is not zero emits exactly
 * one LOSS event (cause retention, count, which segments) into the journal,
 * from where it reaches this sink and every other one.  loss_through in the
 * cursor is written right after the event, so a restart does not report it
 * again; should the daemon die between the two, the repeat carries the same
 * metadata.uid (sink name + first deleted segment) and can be dropped.
 *
 * Ownership: gb_sinks_start copies the configs; the handle is released by
 * gb_sinks_stop.  Drivers are called from the sink's thread only.
 */
#ifndef GB_EXPORTER_SINK_H
#define GB_EXPORTER_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "exporter/journal.h"

enum gb_sink_type { GB_SINK_FILE = 1, GB_SINK_HTTP, GB_SINK_KAFKA };
enum gb_http_format { GB_HTTP_NDJSON = 0, GB_HTTP_SPLUNK_HEC, GB_HTTP_ES_BULK };

#define GB_SINK_MAX_PROPS 32

struct gb_sink_prop {
	char key[128];   /* without the "kafka." prefix */
	char value[1024];
	int line, column; /* of the config entry, for error messages */
};

struct gb_sink_conf {
	char name[64];
	enum gb_sink_type type;
	uint32_t batch_max;      /* events per delivery; 0 = 500 */
	uint32_t backoff_min_ms; /* 0 = 100 */
	uint32_t backoff_max_ms; /* 0 = 30000 */
	struct {
		char path[4096];
		uint64_t max_bytes; /* rotate at this size; 0 = 64 MiB */
		uint32_t keep;      /* rotated files kept (path.1 .. path.N); 0 = 5 */
	} file;
	struct {
		char url[2048];
		enum gb_http_format format;
		char auth_file[4096]; /* one header line, e.g. "Authorization: Splunk T" */
		char ca_path[4096];   /* CA bundle; "" = system default */
		char index[256];      /* _bulk index; "" = "glassbox" */
		uint32_t timeout_ms;  /* 0 = 10000 */
	} http;
	struct {
		char topic[256];
		char key[256]; /* "" = metadata.log_name of each event */
		size_t nprops;
		struct gb_sink_prop props[GB_SINK_MAX_PROPS]; /* kafka.* verbatim */
	} kafka;
};

struct gb_sink_metrics {
	uint64_t sent;      /* events acknowledged by the destination */
	uint64_t failed;    /* deliveries that failed (each retried) */
	uint64_t retried;   /* events sent again after a failure */
	uint64_t lost;      /* events reported lost to retention */
	uint64_t lag_bytes; /* journal bytes between the cursor and the end */
	struct gb_jpos cursor;
};

/* One event handed to a driver; line is valid for the call only. */
struct gb_sink_event {
	const char *line;
	size_t len;
	struct gb_jpos pos;
};

/* A destination.  deliver() returns how many leading events were
 * acknowledged (0..n), or -errno when none were; *retry_after_ms may be set
 * to the destination's own delay.  err gets a sentence on failure. */
struct gb_sink_driver {
	int (*open)(const struct gb_sink_conf *c, void **state, char *err, size_t errlen);
	long (*deliver)(void *state, const struct gb_sink_event *ev, size_t n, int *retry_after_ms,
	                char *err, size_t errlen);
	void (*close)(void *state);
};

extern const struct gb_sink_driver gb_sink_file_driver;
extern const struct gb_sink_driver gb_sink_http_driver;
extern const struct gb_sink_driver gb_sink_kafka_driver;

/* What a sink needs from the daemon that owns the journal writer. */
struct gb_sink_host {
	void *arg;
	/* Events in deleted segments [from, to): *segments of them were
	 * deleted.  Must be consistent with the reader (take the journal lock). */
	int (*deleted)(void *arg, uint64_t from, uint64_t to, uint64_t *events, uint64_t *segments);
	/* Append one OCSF event to the journal. */
	int (*emit)(void *arg, const char *line, size_t len, const struct gb_jmeta *m);
	/* Position the next append will get. */
	struct gb_jpos (*end)(void *arg);
};

/* ---- cursor file ---- */
struct gb_sink_cursor {
	struct gb_jpos pos;
	uint64_t index;
	uint64_t loss_through;
};
/* 0, -ENOENT (none yet: *c zeroed), -EBADMSG, -errno. */
int gb_sink_cursor_load(const char *dir, const char *name, struct gb_sink_cursor *c);
int gb_sink_cursor_save(const char *dir, const char *name, const struct gb_sink_cursor *c);

/* ---- running sinks ---- */
struct gb_sinks;

int gb_sinks_start(const struct gb_sink_conf *confs, size_t n, const char *journal_dir,
                   const char *cursor_dir, const struct gb_sink_host *host, struct gb_sinks **out,
                   char *err, size_t errlen);
size_t gb_sinks_count(const struct gb_sinks *s);
/* Metrics of sink i; returns its name. */
const char *gb_sinks_metrics(struct gb_sinks *s, size_t i, struct gb_sink_metrics *m);
/* Stop every sink after its current delivery attempt; cursors stay. */
void gb_sinks_stop(struct gb_sinks *s);

/* Backoff for the attempt-th consecutive failure (1, 2, ...): a uniform
 * draw in [0, min(max, base * 2^(attempt-1))] ("full jitter"), at least 1. */
uint32_t gb_sink_backoff_ms(uint32_t base, uint32_t max, unsigned attempt, uint64_t *rng);

#endif
