/* exporter/serve.h — the exporter half of `glassbox serve`: find every
 * sandbox's ring, drain it, turn each record into an OCSF event and append
 * it to the journal.
 *
 * Discovery: inotify on the sandboxes directory (gb_path_sandboxes: the
 * root's run/glassbox/sandboxes) and on each sandbox directory in it, plus
 * a scan at start, so rings that exist before the daemon and rings that
 * appear later are both found.  Each
 * ring gets a drain thread that sleeps on the ring's futex; when the ring
 * file disappears (the sandbox ended) the thread drains what is left and
 * ends.
 *
 * Delivery: a record is acknowledged in the ring (gb_ring_consume) only
 * after its event is in the journal (written; durable at the next group
 * commit), so a daemon killed at any point re-reads at most the records it
 * had not acknowledged: at least once, and metadata.uid (sandbox id +
 * sequence) lets consumers drop the duplicate.  Ring losses (full, abandoned
 * reservation, new generation) become LOSS events with exact ranges.
 *
 * Ownership: gb_serve_start copies what it needs from the options; the
 * handle is released by gb_serve_stop.
 */
#ifndef GB_EXPORTER_SERVE_H
#define GB_EXPORTER_SERVE_H

#include <stdint.h>

#include "exporter/journal.h"
#include "exporter/sink.h"

struct gb_serve_opts {
	/* --root (NULL = "/").  The sandboxes directory and serve.lock come from
	 * it through common/paths.h, exactly as the supervisors derive them:
	 * they are not separately configurable, or supervisors would stop
	 * finding the lock that tells them to wait for the drain. */
	const char *root;
	struct gb_journal_opts journal; /* journal.dir required */
	const char *hostname;           /* device.hostname; NULL = gethostname() */
	int abandon_ms;                 /* ring abandon window; 0 = ring default */
	const struct gb_sink_conf *sinks; /* delivered from the journal (sink.h) */
	size_t n_sinks;                 /* at most GB_MAX_SINKS (else -E2BIG) */
	const char *cursor_dir;         /* the sinks' durable cursors */
	const char *keys_dir;           /* checkpoint signing key; NULL = gb_path_keys(root) */
	uint32_t checkpoint_interval_s; /* tail checkpoints (checkpoint.h); 0 = 600 */
};

struct gb_serve_stats {
	uint64_t rings;    /* rings attached, all time */
	uint64_t active;   /* rings attached now */
	uint64_t events;   /* events journaled (counted when their batch is written) */
	uint64_t lost;     /* records reported lost by the rings (journaled) */
	uint64_t errors;   /* records that could not be decoded, and failed journal writes */
	uint64_t duplicates; /* ring records found journaled already at attach (a daemon
	                      * killed before acknowledging them), skipped, not counted
	                      * in events */
	uint64_t journal_errors; /* failed journal writes (each retried from the ring) */
	int journal_failing;     /* 1 while writes fail (a FINDING said so) */
	char journal_error[160]; /* why the last write failed, "" if none */
};

struct gb_serve;

/* Per-sink delivery metrics (sink.h); returns how many. */
size_t gb_serve_sink_metrics(struct gb_serve *s, struct gb_sink_metrics *m, size_t max);

/* The counters (stats and every sink's metrics) as one JSON object plus a
 * newline, appended to out; and written atomically to path (tmp + rename).
 * 0 or negative errno. */
struct gb_buf;
int gb_serve_metrics_json(struct gb_serve *s, struct gb_buf *out);
int gb_serve_metrics_write(struct gb_serve *s, const char *path);

int gb_serve_start(const struct gb_serve_opts *o, struct gb_serve **out, char *err, size_t errlen);
void gb_serve_stats(struct gb_serve *s, struct gb_serve_stats *st);
/* Stop discovery, let each drain thread empty its ring, seal nothing (the
 * active segment stays active), close the journal. */
void gb_serve_stop(struct gb_serve *s);

#endif
