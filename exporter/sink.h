/* exporter/sink.h — delivering the journal to where SOCs read it.
 *
 * Each sink tails the journal (journal.h reader) from its own durable
 * cursor, <cursor_dir>/NAME, and moves the cursor only over what the
 * destination acknowledged: a sink that is down falls behind and catches
 * up, and a daemon killed at any moment re-sends at most what was in
 * flight (consumers drop duplicates by metadata.uid).
 *
 * Kinds:
 *   file  JSONL copy for a log shipper, rotated by size (NAME.jsonl,
 *         NAME.jsonl.1 ...), fsync'ed before the cursor moves.
 *   http  batches POSTed with libcurl: NDJSON, Splunk HEC ({"event": ...})
 *         or Elasticsearch _bulk; an auth header read from a file; TLS
 *         verification always on (ca_file optional); 2xx acknowledges; 429
 *         waits Retry-After; other failures retry with exponential backoff
 *         and jitter.
 *   kafka librdkafka producer: idempotent, acks=all, zstd; key = the
 *         event's sandbox (metadata.log_name); every `kafka.*` config key is
 *         passed to librdkafka as is.  Acknowledged event by event, with
 *         up to batch_max events in flight; the cursor is the end of the
 *         highest contiguous acknowledged event.  While the cluster is
 *         away librdkafka retries (without duplicates) by itself; an event
 *         it reports failed is re-sent alone after a backoff.
 *
 * Ownership: gb_sinks_start copies the configuration; gb_sinks_stop joins
 * and frees everything.
 */
#ifndef GB_EXPORTER_SINK_H
#define GB_EXPORTER_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "common/paths.h"
#include "exporter/journal.h"

enum gb_sink_kind { GB_SINK_FILE = 1, GB_SINK_HTTP, GB_SINK_KAFKA };

#define GB_MAX_SINKS 16 /* per daemon: the config and gb_serve_start refuse more */

#define GB_KAFKA_MAX_PROPS 32
enum gb_http_format { GB_HTTP_NDJSON = 0, GB_HTTP_HEC, GB_HTTP_BULK };

struct gb_sink_conf {
	char name[64];
	enum gb_sink_kind kind;
	uint32_t batch_max;      /* events per delivery; 0 = 500 (kafka: events in
	                          * flight, 0 = 65536) */
	uint32_t backoff_max_ms; /* retry delay cap; 0 = 30000 */
	/* file */
	char path[GB_PATH_MAX];  /* NAME.jsonl is written here (a file path) */
	uint64_t rotate_bytes;   /* 0 = 64 MiB */
	uint32_t keep;           /* rotated files kept; 0 = 5 */
	/* http */
	char url[2048];
	enum gb_http_format format;
	char auth_file[GB_PATH_MAX]; /* one line: "Header-Name: value"; "" = none */
	char ca_file[GB_PATH_MAX];   /* "" = the system CAs */
	char index[256];         /* _bulk index name; "" = "glassbox" */
	uint32_t timeout_ms;     /* per request; 0 = 10000 */
	/* kafka */
	char brokers[1024];      /* bootstrap.servers */
	char topic[256];
	struct { char key[128], value[512]; } props[GB_KAFKA_MAX_PROPS]; /* kafka.* keys, verbatim */
	size_t n_props;
};

struct gb_sink_metrics {
	char name[64];
	uint64_t sent;     /* events acknowledged */
	uint64_t failed;   /* deliveries that failed */
	uint64_t damaged;  /* events skipped as unreadable journal damage (each
	                    * range delivered as a LOSS event) */
	uint64_t retried;  /* retries after a failure */
	uint64_t lag_segments; /* journal segments from the cursor's to the newest
	                        * (0 = caught up, or in the newest segment) */
	uint64_t lag_bytes;    /* journal bytes (uncompressed) between the cursor and
	                        * the end, when the last batch was read (0 = caught up) */
};

struct gb_sinks;

int gb_sinks_start(const struct gb_sink_conf *conf, size_t n, const char *journal_dir,
                   const char *cursor_dir, struct gb_sinks **out, char *err, size_t errlen);
/* metrics for up to max sinks; returns how many */
size_t gb_sinks_metrics(struct gb_sinks *s, struct gb_sink_metrics *m, size_t max);
void gb_sinks_stop(struct gb_sinks *s);

/* Cursor files (exposed for tests): a position written atomically. */
int gb_cursor_load(const char *path, struct gb_jpos *pos);
int gb_cursor_save(const char *path, const struct gb_jpos *pos);

#endif
