/* exporter/serve.c — ring discovery and drain threads (contract: serve.h). */
#include "exporter/serve.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/record.h"
#include "common/ring.h"
#include "exporter/checkpoint.h"
#include "exporter/journal_held.h"
#include "exporter/ocsf.h"
#include "exporter/serve_hook.h"

#define TICK_MS 100
#define RESCAN_MS 2000  /* safety net behind inotify (e.g. a missed IN_Q_OVERFLOW) */
#define BATCH_MAX 1024  /* records acknowledged per journal write, at most */
#define RETAIN_MS 60000 /* retention pass period (and once at start) */

struct drainer {
	struct gb_serve *s;
	struct drainer *next;
	char name[64];
	char path[GB_PATH_MAX];
	dev_t dev;
	ino_t ino;
	pthread_t thread;
	atomic_bool done;
	bool leftover; /* a finished sandbox's ring in leftover/: removed once journaled */
};

struct gb_serve {
	char *root;                  /* NULL = "/" */
	char sandboxes[GB_PATH_MAX]; /* gb_path_sandboxes(root) */
	char leftover_dir[GB_PATH_MAX]; /* <root>/run/glassbox/leftover (GB_RING_LEFTOVER_DIR) */
	char hostname[256];
	int abandon_ms;
	struct gb_journal *j;
	/* the journal writer is single-threaded: every gb_journal_* call on j
	 * under it.  The journal's own sealer thread (journal_write.c) never
	 * takes it: a rotation only queues the seal, so a drain thread that
	 * rotates holds jlock for a sync and a close, not a compression */
	pthread_mutex_t jlock;
	pthread_t disc;
	int ino, stopfd;
	int lock_fd; /* gb_path_serve_lock(root): one daemon per root */
	atomic_bool stopping;
	struct drainer *drainers; /* discovery thread only, until stop */
	struct gb_sinks *sinks;
	struct gb_ckpt_signer *signer; /* signed checkpoints; under jlock */
	/* for retention: which sinks may lose events, and where their cursors are */
	char journal_dir[GB_PATH_MAX], cursor_dir[GB_PATH_MAX];
	char sink_names[GB_MAX_SINKS][64];
	size_t n_sinks;
	atomic_uint_fast64_t n_rings, n_active, n_events, n_lost, n_errors, n_events_retried;
	/* ring records a killed daemon had journaled, not acknowledged: skipped */
	atomic_uint_fast64_t n_dups;
	/* journal write failures (the non-atomic fields under jlock) */
	atomic_uint_fast64_t n_jerrors;
	atomic_int jfailing;
	uint64_t jfail_first_ms, jfail_count; /* first: wall clock, it names the FINDING */
	int64_t jfail_first_mono; /* how long writes failed: a duration, no wall-clock jump in it */
	char jerr[160];
};

static void sleep_ms(int ms)
{
	struct timespec ts = gb_ms_ts(ms);
	nanosleep(&ts, NULL);
}

static void journal_failed(struct gb_serve *s, const char *who, int rc);

/* Append one event into the journal's batch buffer, indexed with what the
 * mapper classified.  Returns 0 or -errno (the batch is lost and must be
 * re-read from the ring). */
static int journal_event(struct drainer *d, const struct gb_buf *b, const struct gb_ocsf_meta *om,
                         uint64_t ts_ns, uint64_t *writes_after, uint64_t *rollbacks_after)
{
	struct gb_serve *s = d->s;
	struct gb_jmeta m = { .time_ms = (int64_t)(ts_ns / 1000000u), .sandbox = d->name,
		              .class_uid = om->class_uid, .severity_id = om->severity_id,
		              .action_id = om->action_id };
	pthread_mutex_lock(&s->jlock);
	int rc = gb_journal_append(s->j, b->data, b->len, &m, NULL);
	if (rc < 0)
		journal_failed(s, d->name, rc);
	*writes_after = gb_journal_writes(s->j);
	*rollbacks_after = gb_journal_rollbacks(s->j);
	pthread_mutex_unlock(&s->jlock);
	return rc;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A journal write failed (the batch is re-read from the ring): count it,
 * and the first failure of an episode is a FINDING on the operator's log —
 * it cannot be journaled while the journal fails.  Caller holds jlock. */
static void journal_failed(struct gb_serve *s, const char *who, int rc)
{
	atomic_fetch_add(&s->n_errors, 1);
	atomic_fetch_add(&s->n_jerrors, 1);
	snprintf(s->jerr, sizeof s->jerr, "writing for %s: %s", who, strerror(-rc));
	s->jfail_count++;
	if (atomic_load(&s->jfailing))
		return;
	atomic_store(&s->jfailing, 1);
	s->jfail_first_ms = now_ms();
	s->jfail_first_mono = gb_now_ms(CLOCK_MONOTONIC);
	gb_log_error("serve", "FINDING: the journal is failing (%s): events wait in their rings, "
	             "unacknowledged, and are retried", s->jerr);
}

/* Writes work (again): after an episode of failures, say so and journal a
 * FINDING that tells every reader how long the journal could not write and
 * why.  Caller holds jlock, with the journal's buffer empty. */
static void journal_ok(struct gb_serve *s)
{
	if (!atomic_load(&s->jfailing))
		return;
	char detail[400];
	snprintf(detail, sizeof detail, "%llu journal writes failed over %lld ms (%s); the events "
	         "waited in their rings and were journaled when writes resumed",
	         (unsigned long long)s->jfail_count, (long long)(gb_now_ms(CLOCK_MONOTONIC) - s->jfail_first_mono), s->jerr);
	gb_log_warn("serve", "journal writes resumed: %s", detail);
	struct gb_record rec;
	memset(&rec, 0, sizeof rec);
	rec.type = GB_REC_FINDING;
	rec.seq = (uint64_t)s->jfail_first_ms; /* metadata.uid glassbox-journal:START_MS */
	rec.ts_ns = (uint64_t)now_ms() * 1000000u;
	rec.u.finding = (struct gb_finding){ .kind = GB_F_OTHER, .severity = GB_SEV_HIGH,
		                             .title = "journal writes failed", .detail = detail,
		                             .subject = s->journal_dir };
	/* the daemon's own event: log_name "glassbox", as its journal index has it */
	struct gb_ocsf_ctx ctx = { .sandbox_name = "glassbox", .sandbox_id = "glassbox-journal",
		                   .hostname = s->hostname, .product_version = GB_VERSION };
	struct gb_buf b = GB_BUF_INIT;
	struct gb_ocsf_meta om;
	int rc = gb_ocsf_format(&ctx, &rec, &b, &om);
	if (rc == 0) {
		struct gb_jmeta m = { .time_ms = (int64_t)(rec.ts_ns / 1000000u), .sandbox = "glassbox",
			              .class_uid = om.class_uid, .severity_id = om.severity_id };
		rc = gb_journal_append(s->j, b.data, b.len, &m, NULL);
		if (rc == 0)
			rc = gb_journal_flush(s->j);
	}
	gb_buf_free(&b);
	if (rc < 0)
		return; /* still failing after all: the next success tries again */
	atomic_store(&s->jfailing, 0);
	s->jfail_count = 0;
	s->jerr[0] = 0;
}

/* Make the batch durable in the journal, then acknowledge it in the ring.
 * Returns 0, or -errno after rewinding the ring to the last commit (the
 * batch will be read again). */
static int flush_commit(struct drainer *d, struct gb_ring *r, uint64_t rollbacks_at_start)
{
	struct gb_serve *s = d->s;
	pthread_mutex_lock(&s->jlock);
	int rc = gb_journal_flush(s->j);
	if (rc < 0)
		journal_failed(s, d->name, rc);
	/* Someone else's failed flush may have dropped our buffered events. */
	if (rc == 0 && gb_journal_rollbacks(s->j) != rollbacks_at_start)
		rc = -EAGAIN;
	if (rc == 0)
		journal_ok(s);
	pthread_mutex_unlock(&s->jlock);
	if (rc == 0) {
		gb_ring_commit(r);
		return 0;
	}
	gb_ring_rewind(r);
	return rc;
}

static bool ring_still_there(const struct drainer *d)
{
	struct stat st;
	return stat(d->path, &st) == 0 && st.st_dev == d->dev && st.st_ino == d->ino;
}

/* One drain thread's state between the steps below. */
struct drain {
	struct drainer *d;
	struct gb_ring *r;
	struct gb_ocsf_ctx ctx;
	char sid[64];
	struct gb_buf b;   /* one event's JSON */
	unsigned batch;    /* entries consumed since the last commit */
	uint64_t rb_start; /* journal rollbacks when the batch began */
	int failures;      /* journal failures in a row */
	/* counted into the metrics only when their batch is written: a batch
	 * that fails is read again, and must not count twice */
	uint64_t b_events, b_lost;
	/* A batch can fail after part of it reached the disk (the journal
	 * flushed its buffer, or rotated, inside an append; another drainer's
	 * flush wrote ours).  That part is counted when the batch fails and
	 * skipped when the rewound ring hands it out again: no event is
	 * journaled twice.  For entry i of the batch: pend_w[i] = 0 when there
	 * was nothing to write (skipped, unmappable), else the journal's write
	 * count after its append, plus one, and pend_r[i] its rollback count
	 * then (gb_journal_durable: a rollback may have dropped it before a
	 * later write); pend_n[i]/pend_l[i] what it adds to the events and lost
	 * counts. */
	uint64_t pend_w[BATCH_MAX];
	uint64_t pend_r[BATCH_MAX];
	uint32_t pend_n[BATCH_MAX];
	uint64_t pend_l[BATCH_MAX];
	uint8_t pend_d[BATCH_MAX]; /* 1: skipped as journaled by an earlier daemon */
	/* entries after the ring's commit point already journaled: done[i] for
	 * i < skip (not always a prefix: a rollback can drop entries that a
	 * later write then follows) */
	unsigned skip;
	uint8_t done[BATCH_MAX];
	/* Found at attach (skip_journaled): the sequences of the first dup_n
	 * entries after the ring's commit point at attach, and which of them
	 * an earlier daemon journaled and was killed before acknowledging
	 * (dup_held); dup_off of them are committed since. */
	uint64_t dup_seq[BATCH_MAX];
	uint8_t dup_held[BATCH_MAX];
	unsigned dup_n, dup_off;
	uint64_t b_dups;
};

/* Open the ring as its consumer.  The supervisor creates the file, then
 * initialises the header: give it a moment before calling the file broken.
 * Returns 0 or -errno (said here, except a ring already gone). */
static int attach_ring(struct drain *dr)
{
	struct drainer *d = dr->d;
	int rc = -EINVAL;
	for (int i = 0; i < 60 && rc < 0; i++) {
		rc = gb_ring_open_consumer(d->path, &dr->r);
		if (rc == -ENOENT)
			return rc;
		if (rc < 0)
			sleep_ms(50);
	}
	if (rc < 0) {
		gb_log_error("serve", "%s: %s", d->path, strerror(-rc));
		return rc;
	}
	/* Records are acknowledged in batches, after the journal wrote them. */
	gb_ring_consumer_set(dr->r, &(struct gb_ring_consumer_opts){ .abandon_ms = d->s->abandon_ms,
		                                                      .deferred_commit = 1 });
	snprintf(dr->sid, sizeof dr->sid, "%s", gb_ring_sandbox_id(dr->r));
	dr->ctx = (struct gb_ocsf_ctx){ .sandbox_name = d->name,
		                        .sandbox_id = dr->sid[0] ? dr->sid : d->name,
		                        .hostname = d->s->hostname,
		                        .product_version = GB_VERSION };
	gb_log_debug("serve", "draining %s", d->path);
	return 0;
}

/* The record a ring entry stands for: a loss report, the decoded record,
 * or, for a record that does not decode, a LOSS for its sequence (said, not
 * skipped).  detail must outlive rec. */
static void entry_to_record(struct drain *dr, const struct gb_ring_entry *e, struct gb_record *rec,
                            char *detail, size_t detail_len)
{
	struct gb_serve *s = dr->d->s;
	memset(rec, 0, sizeof *rec);
	if (e->is_loss) {
		rec->type = GB_REC_LOSS;
		rec->u.loss = (struct gb_loss){ .cause = e->loss_cause, .count = e->count,
			                        .first_seq = e->first_seq, .last_seq = e->last_seq };
		dr->b_lost += e->count;
	} else if (gb_rec_decode(e->type, e->data, e->len, rec) < 0) {
		snprintf(detail, detail_len, "record type %u of %zu bytes did not decode", (unsigned)e->type,
		         e->len);
		memset(rec, 0, sizeof *rec);
		rec->type = GB_REC_LOSS;
		rec->u.loss = (struct gb_loss){ .cause = GB_LOSS_MALFORMED, .count = 1,
			                        .first_seq = e->seq, .last_seq = e->seq, .detail = detail };
		atomic_fetch_add(&s->n_errors, 1);
	} else {
		rec->type = e->type;
		rec->flags = e->flags;
	}
	rec->seq = e->seq;
	/* A loss happens now; a record keeps the time its producer gave it. */
	rec->ts_ns = rec->type == GB_REC_LOSS ? gb_now_ns(CLOCK_REALTIME) : e->ts_ns;
}

/* Map one entry and append it to the journal batch.  Returns 0 when the
 * entry may be consumed (journaled, or unmappable and said so), or -errno
 * when the journal refused it (the batch is gone with it). */
static int journal_entry(struct drain *dr, const struct gb_ring_entry *e)
{
	struct drainer *d = dr->d;
	unsigned i = dr->batch;
	dr->pend_w[i] = 0;
	dr->pend_n[i] = 0;
	dr->pend_l[i] = 0;
	dr->pend_d[i] = 0;
	if (i < dr->skip && dr->done[i])
		return 0; /* on disk already, and counted, before the rewind */
	unsigned at = dr->dup_off + i;
	if (at < dr->dup_n) {
		if (e->is_loss || e->seq != dr->dup_seq[at])
			dr->dup_n = 0; /* not the entry looked up: skip nothing more */
		else if (dr->dup_held[at]) {
			dr->pend_d[i] = 1; /* an earlier daemon journaled it (skip_journaled) */
			dr->b_dups++;
			return 0;
		}
	}
	struct gb_record rec;
	char detail[96];
	uint64_t lost_before = dr->b_lost;
	entry_to_record(dr, e, &rec, detail, sizeof detail);
	dr->pend_l[i] = dr->b_lost - lost_before;
	dr->b.len = 0;
	struct gb_ocsf_meta meta;
	int rc = gb_ocsf_format(&dr->ctx, &rec, &dr->b, &meta);
	if (rc < 0) {
		gb_log_error("serve", "%s seq %llu: cannot map to OCSF: %s", d->name,
		             (unsigned long long)e->seq, strerror(-rc));
		atomic_fetch_add(&d->s->n_errors, 1);
		return 0;
	}
	uint64_t w, rb;
	if ((rc = journal_event(d, &dr->b, &meta, rec.ts_ns, &w, &rb)) < 0)
		return rc;
	dr->b_events++;
	dr->pend_w[i] = w + 1;
	dr->pend_r[i] = rb;
	dr->pend_n[i] = 1;
	gb_serve_hook_call(d->name, &rec); /* the advisor's denials (serve_hook.h) */
	return 0;
}

/* After a failed batch: how many of its leading entries are on disk
 * anyway (see struct drain), counted now; the rewound ring hands them out
 * again and journal_entry() skips them. */
static void keep_durable(struct drain *dr)
{
	struct gb_serve *s = dr->d->s;
	uint64_t ev = 0, lost = 0, dups = 0;
	pthread_mutex_lock(&s->jlock);
	for (unsigned k = 0; k < dr->batch; k++) {
		bool was = k < dr->skip && dr->done[k];
		bool now = was || dr->pend_w[k] == 0 ||
		           gb_journal_durable(s->j, dr->pend_w[k] - 1, dr->pend_r[k]);
		if (now && !was) {
			ev += dr->pend_n[k];
			lost += dr->pend_l[k];
			dups += dr->pend_d[k];
		}
		dr->done[k] = now;
	}
	pthread_mutex_unlock(&s->jlock);
	if (dr->batch > dr->skip)
		dr->skip = dr->batch; /* the entries after it keep their flags */
	atomic_fetch_add(&s->n_events, ev);
	atomic_fetch_add(&s->n_lost, lost);
	atomic_fetch_add(&s->n_dups, dups);
}

/* The one policy for a batch the journal did not take (a failed append or
 * flush; the ring is rewound, so the batch is read again): count it, say
 * so once per run of failures, wait a little.  True when the drainer should
 * give up: the daemon is stopping and the journal keeps failing (the batch
 * stays unacknowledged, so the next daemon reads it again). */
static bool batch_failed(struct drain *dr, int rc)
{
	struct gb_serve *s = dr->d->s;
	keep_durable(dr);
	dr->batch = 0;
	dr->b_events = dr->b_lost = dr->b_dups = 0;
	atomic_fetch_add(&s->n_events_retried, 1);
	if (dr->failures++ == 0)
		gb_log_warn("serve", "journal write for %s: %s (retrying)", dr->d->name, strerror(-rc));
	if (atomic_load(&s->stopping) && dr->failures > 50)
		return true;
	sleep_ms(100);
	return false;
}

/* The batch is written and acknowledged: now it counts. */
static void batch_counted(struct drain *dr)
{
	atomic_fetch_add(&dr->d->s->n_events, dr->b_events);
	atomic_fetch_add(&dr->d->s->n_lost, dr->b_lost);
	atomic_fetch_add(&dr->d->s->n_dups, dr->b_dups);
	dr->b_events = dr->b_lost = dr->b_dups = 0;
}

/* Commit the batch.  True when the drainer should give up. */
static bool end_batch(struct drain *dr)
{
	int rc = flush_commit(dr->d, dr->r, dr->rb_start);
	if (rc < 0)
		return batch_failed(dr, rc);
	batch_counted(dr);
	dr->dup_off += dr->batch;
	dr->batch = 0;
	dr->skip = 0;
	dr->failures = 0;
	return false;
}

/* A leftover ring (its sandbox has ended) goes once every record in it was
 * journaled and acknowledged: only then is nothing lost by removing it. */
static bool leftover_done(const struct drainer *d, struct gb_ring *r)
{
	struct gb_ring_stats st;
	gb_ring_stats(r, &st);
	if (st.read_seq < st.next_seq)
		return false;
	if (unlink(d->path) == 0)
		gb_log_info("serve", "journaled leftover ring of sandbox '%s' (%llu records): removed %s",
		            d->name, (unsigned long long)st.next_seq, d->path);
	return true;
}

/* Exactly once across a kill -9: a daemon killed between a batch's journal
 * write and its ring commit left records journaled but unacknowledged, and
 * the ring hands them out again.  Look at the entries after the commit
 * point (at most one batch can be in that state: a batch is committed as
 * soon as it is written), ask the journal which leading ones it holds
 * (journal_held.h: same uid and same time, read from the journal's tail),
 * and let journal_entry() skip exactly those.  A loss entry ends the look
 * (its event's time is when it was journaled, not the record's): a LOSS in
 * the cut batch may be journaled twice, with the same uid. */
static void skip_journaled(struct drain *dr)
{
	struct drainer *d = dr->d;
	struct gb_serve *s = d->s;
	struct gb_held_rec *recs = malloc(BATCH_MAX * sizeof *recs);
	if (!recs)
		return; /* then at least once, as before */
	size_t n = 0;
	struct gb_ring_entry e;
	while (n < BATCH_MAX && gb_ring_next(dr->r, &e, 0) == 1 && !e.is_loss) {
		recs[n++] = (struct gb_held_rec){ .seq = e.seq, .time_ms = (int64_t)(e.ts_ns / 1000000u) };
		gb_ring_consume(dr->r);
	}
	gb_ring_rewind(dr->r); /* nothing acknowledged: the drain reads them all */
	int k = 0;
	if (n) {
		/* under jlock: no write of ours moves the tail meanwhile; the
		 * sealer may turn a rotated .jsonl into its .zst as we read, which
		 * the reader follows (same positions, the open file still reads) */
		pthread_mutex_lock(&s->jlock);
		k = gb_journal_held(s->journal_dir, d->name, dr->ctx.sandbox_id, recs, n, dr->dup_held);
		pthread_mutex_unlock(&s->jlock);
	}
	gb_log_debug("serve", "%s: %zu unacknowledged records at attach, %d of them journaled", d->name, n, k);
	if (k < 0)
		gb_log_warn("serve", "%s: cannot tell which records the journal holds already (%s): "
		            "records a killed daemon journaled may be journaled again", d->name, strerror(-k));
	if (k > 0) {
		uint64_t lo = UINT64_MAX, hi = 0;
		for (size_t i = 0; i < n; i++) {
			dr->dup_seq[i] = recs[i].seq;
			if (dr->dup_held[i]) {
				lo = recs[i].seq < lo ? recs[i].seq : lo;
				hi = recs[i].seq > hi ? recs[i].seq : hi;
			}
		}
		dr->dup_n = (unsigned)n;
		gb_log_info("serve", "%s: %d records (sequences %llu-%llu) were journaled by a daemon that "
		            "stopped before acknowledging them: not journaled again", d->name, k,
		            (unsigned long long)lo, (unsigned long long)hi);
	}
	free(recs);
}

static void *drain_main(void *arg)
{
	struct drain dr = { .d = arg, .b = GB_BUF_INIT };
	struct drainer *d = dr.d;
	struct gb_serve *s = d->s;
	if (attach_ring(&dr) < 0)
		goto out;
	skip_journaled(&dr);
	for (;;) {
		struct gb_ring_entry e;
		/* With a batch pending, do not sleep: flush it as soon as the ring
		 * is (momentarily) empty, so events are never held back. */
		int rc = gb_ring_next(dr.r, &e, dr.batch ? 0 : 250);
		if (rc < 0) {
			gb_log_error("serve", "%s: %s", d->path, strerror(-rc));
			break;
		}
		if (rc == 0 || dr.batch >= BATCH_MAX) {
			/* An entry read just now (rc == 1) was not consumed: the next
			 * call hands it out again. */
			if (dr.batch) {
				if (end_batch(&dr))
					break;
				continue;
			}
			/* Empty.  Leave when the sandbox is gone or we are stopping. */
			if (atomic_load(&s->stopping) || !ring_still_there(d))
				break;
			if (d->leftover && leftover_done(d, dr.r))
				break;
			continue;
		}
		if (dr.batch == 0) {
			pthread_mutex_lock(&s->jlock);
			dr.rb_start = gb_journal_rollbacks(s->j);
			pthread_mutex_unlock(&s->jlock);
		}
		if ((rc = journal_entry(&dr, &e)) < 0) {
			gb_ring_rewind(dr.r); /* the batch went with the failed write */
			if (batch_failed(&dr, rc))
				break;
			continue;
		}
		gb_ring_consume(dr.r);
		dr.batch++;
	}
	if (dr.batch && flush_commit(d, dr.r, dr.rb_start) == 0)
		batch_counted(&dr);
	gb_ring_close(dr.r);
	gb_log_debug("serve", "%s: detached", d->path);
out:
	gb_buf_free(&dr.b);
	atomic_fetch_sub(&s->n_active, 1);
	atomic_store(&d->done, true);
	return NULL;
}

static void reap(struct gb_serve *s, bool all)
{
	struct drainer **pp = &s->drainers;
	while (*pp) {
		struct drainer *d = *pp;
		if (all || atomic_load(&d->done)) {
			pthread_join(d->thread, NULL);
			*pp = d->next;
			free(d);
		} else
			pp = &d->next;
	}
}

static void attach_path(struct gb_serve *s, const char *name, const char *path, bool leftover)
{
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	for (struct drainer *d = s->drainers; d; d = d->next)
		if (d->dev == st.st_dev && d->ino == st.st_ino && !atomic_load(&d->done))
			return; /* already draining this very file */
	struct drainer *d = calloc(1, sizeof *d);
	if (!d)
		return;
	d->s = s;
	snprintf(d->name, sizeof d->name, "%.63s", name);
	snprintf(d->path, sizeof d->path, "%s", path);
	d->dev = st.st_dev;
	d->ino = st.st_ino;
	d->leftover = leftover;
	atomic_fetch_add(&s->n_active, 1);
	if (pthread_create(&d->thread, NULL, drain_main, d) != 0) {
		atomic_fetch_sub(&s->n_active, 1);
		free(d);
		return;
	}
	atomic_fetch_add(&s->n_rings, 1);
	d->next = s->drainers;
	s->drainers = d;
}

static void attach(struct gb_serve *s, const char *name)
{
	char path[GB_PATH_MAX];
	if (gb_path_ring(path, sizeof path, s->root, name) < 0)
		return;
	attach_path(s, name, path, false);
}

/* Rings that finished sandboxes left undrained: NAME@TAG.ring. */
static void scan_leftover(struct gb_serve *s)
{
	DIR *dir = opendir(s->leftover_dir);
	if (!dir)
		return;
	struct dirent *e;
	while ((e = readdir(dir))) {
		const char *at = strchr(e->d_name, '@');
		size_t nl = strlen(e->d_name);
		if (e->d_name[0] == '.' || !at || at == e->d_name || at - e->d_name >= 64 || nl < 5 ||
		    strcmp(e->d_name + nl - 5, ".ring"))
			continue;
		char name[64], path[GB_PATH_MAX];
		snprintf(name, sizeof name, "%.*s", (int)(at - e->d_name), e->d_name);
		if ((size_t)snprintf(path, sizeof path, "%s/%s", s->leftover_dir, e->d_name) >= sizeof path)
			continue;
		attach_path(s, name, path, true);
	}
	closedir(dir);
}

static void scan(struct gb_serve *s)
{
	scan_leftover(s);
	DIR *dir = opendir(s->sandboxes);
	if (!dir)
		return;
	struct dirent *e;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= 64)
			continue;
		if (s->ino >= 0) {
			/* watch each sandbox directory for its ring file */
			char p[GB_PATH_MAX];
			if (gb_path_sandbox(p, sizeof p, s->root, e->d_name) < 0)
				continue;
			inotify_add_watch(s->ino, p, IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR);
		}
		attach(s, e->d_name);
	}
	closedir(dir);
}

/* ---- retention and the loss it causes to sinks ---- */

struct retain_ctx {
	struct gb_serve *s;
	uint64_t lost[GB_MAX_SINKS];
	uint64_t first_seg[GB_MAX_SINKS], last_seg[GB_MAX_SINKS];
};

static void on_segment_deleted(void *arg, uint64_t segment, uint64_t events)
{
	struct retain_ctx *rc = arg;
	struct gb_serve *s = rc->s;
	for (size_t i = 0; i < s->n_sinks; i++) {
		char p[GB_PATH_MAX];
		struct gb_jpos cur = { 0, 0 };
		if (gb_path_cursor(p, sizeof p, s->cursor_dir, s->sink_names[i]) < 0 ||
		    gb_cursor_load(p, &cur) < 0)
			cur = (struct gb_jpos){ 0, 0 }; /* never delivered anything */
		uint64_t lost = 0;
		if (cur.segment < segment)
			lost = events;
		else if (cur.segment == segment) {
			uint64_t delivered = 0;
			gb_journal_lines_before(s->journal_dir, &cur, &delivered);
			lost = events > delivered ? events - delivered : 0;
		}
		if (!lost)
			continue;
		if (!rc->lost[i])
			rc->first_seg[i] = segment;
		rc->last_seg[i] = segment;
		rc->lost[i] += lost;
	}
}

/* One retention pass: delete what the limits say, then one LOSS event per
 * sink that had not delivered some of it (appended to the journal, so every
 * sink, the lagging one too, delivers the news).  Caller holds jlock. */
static void retention_pass(struct gb_serve *s)
{
	struct retain_ctx rc = { .s = s };
	int r = gb_journal_retain(s->j, on_segment_deleted, &rc);
	if (r < 0)
		gb_log_error("serve", "retention: %s", strerror(-r));
	struct gb_buf b = GB_BUF_INIT;
	for (size_t i = 0; i < s->n_sinks; i++) {
		if (!rc.lost[i])
			continue;
		char detail[200], id[96];
		snprintf(detail, sizeof detail, "sink %s: deleted by journal retention before delivery "
		         "(segments %llu-%llu)", s->sink_names[i], (unsigned long long)rc.first_seg[i],
		         (unsigned long long)rc.last_seg[i]);
		/* metadata.uid = retention-SINK:SEGMENT: unique per sink and pass */
		snprintf(id, sizeof id, "retention-%s", s->sink_names[i]);
		/* the daemon's own event, named as its journal index names it */
		struct gb_ocsf_ctx ctx = { .sandbox_name = "glassbox", .sandbox_id = id, .hostname = s->hostname,
			                   .product_version = GB_VERSION };
		struct gb_record rec;
		memset(&rec, 0, sizeof rec);
		rec.type = GB_REC_LOSS;
		rec.seq = rc.last_seg[i];
		rec.ts_ns = gb_now_ns(CLOCK_REALTIME);
		rec.u.loss = (struct gb_loss){ .cause = GB_LOSS_RETENTION, .count = rc.lost[i], .detail = detail };
		b.len = 0;
		struct gb_ocsf_meta om;
		if (gb_ocsf_format(&ctx, &rec, &b, &om) == 0) {
			struct gb_jmeta m = { .time_ms = (int64_t)(rec.ts_ns / 1000000u), .sandbox = "glassbox",
				              .class_uid = om.class_uid, .severity_id = om.severity_id };
			if (gb_journal_append(s->j, b.data, b.len, &m, NULL) < 0 || gb_journal_flush(s->j) < 0)
				gb_log_error("serve", "cannot journal the retention loss of sink %s", s->sink_names[i]);
		}
		gb_log_warn("serve", "sink %s lost %llu events to retention", s->sink_names[i],
		            (unsigned long long)rc.lost[i]);
	}
	gb_buf_free(&b);
}

static void *disc_main(void *arg)
{
	struct gb_serve *s = arg;
	struct timespec last_scan, last_retain;
	clock_gettime(CLOCK_MONOTONIC, &last_scan);
	last_retain = last_scan;
	scan(s);
	for (;;) {
		struct pollfd p[2] = { { .fd = s->stopfd, .events = POLLIN },
			               { .fd = s->ino, .events = POLLIN } };
		int n = poll(p, s->ino >= 0 ? 2 : 1, TICK_MS);
		if (n > 0 && (p[0].revents & POLLIN))
			break;
		bool changed = false;
		if (n > 0 && s->ino >= 0 && (p[1].revents & POLLIN)) {
			char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
			while (read(s->ino, buf, sizeof buf) > 0)
				changed = true;
		}
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (changed || gb_ts_diff_ms(&last_scan, &now) >= RESCAN_MS) {
			scan(s);
			last_scan = now;
		}
		reap(s, false);
		pthread_mutex_lock(&s->jlock);
		int rc = gb_journal_tick(s->j);
		if (rc == 0 && s->signer && (rc = gb_ckpt_signer_tick(s->signer, s->j, false)) > 0)
			rc = 0;
		if (gb_ts_diff_ms(&last_retain, &now) >= RETAIN_MS) {
			retention_pass(s);
			last_retain = now;
		}
		pthread_mutex_unlock(&s->jlock);
		if (rc < 0)
			gb_log_error("serve", "journal: %s", strerror(-rc));
	}
	return NULL;
}

int gb_serve_start(const struct gb_serve_opts *o, struct gb_serve **out, char *err, size_t errlen)
{
	*out = NULL;
	if (o->n_sinks > GB_MAX_SINKS) {
		/* retention accounts for every sink that is started */
		snprintf(err, errlen, "at most %d sinks, got %zu", GB_MAX_SINKS, o->n_sinks);
		return -E2BIG;
	}
	struct gb_serve *s = calloc(1, sizeof *s);
	if (!s || (o->root && !(s->root = strdup(o->root)))) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->abandon_ms = o->abandon_ms;
	s->ino = s->stopfd = s->lock_fd = -1;

	if (o->hostname)
		snprintf(s->hostname, sizeof s->hostname, "%s", o->hostname);
	else if (gethostname(s->hostname, sizeof s->hostname - 1) < 0)
		snprintf(s->hostname, sizeof s->hostname, "unknown");
	pthread_mutex_init(&s->jlock, NULL);
	char lock[GB_PATH_MAX];
	int rc = gb_path_sandboxes(s->sandboxes, sizeof s->sandboxes, s->root);
	if (rc == 0)
		rc = gb_path_serve_lock(lock, sizeof lock, s->root);
	if (rc == 0)
		rc = gb_path_under_root(s->leftover_dir, sizeof s->leftover_dir, s->root,
		                        GB_REL_RUNTIME "/" GB_RING_LEFTOVER_DIR);
	if (rc < 0) {
		snprintf(err, errlen, "root %s: %s", s->root ? s->root : "/", strerror(-rc));
		goto fail;
	}
	if ((rc = gb_mkdir_p(s->sandboxes, 0755, 0755)) < 0) {
		snprintf(err, errlen, "creating %s: %s", s->sandboxes, strerror(-rc));
		goto fail;
	}
	/* Supervisors look at this lock to know a daemon will drain their ring,
	 * and wait for it before removing the ring at exit (sandbox_out.c finds
	 * it through the same gb_path_serve_lock). */
	s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", lock,
		         rc == -EWOULDBLOCK ? "another glassbox serve runs for this root" : strerror(-rc));
		goto fail;
	}
	struct gb_journal_opts jo = o->journal;
	if (!jo.buffer_bytes)
		jo.buffer_bytes = 1u << 20; /* a batch of events per write (flush_commit) */
	if ((rc = gb_journal_open(&jo, &s->j, err, errlen)) < 0)
		goto fail;
	snprintf(s->journal_dir, sizeof s->journal_dir, "%s", o->journal.dir);
	char keys[GB_PATH_MAX];
	if (o->keys_dir)
		snprintf(keys, sizeof keys, "%s", o->keys_dir);
	else if ((rc = gb_path_keys(keys, sizeof keys, s->root)) < 0) {
		snprintf(err, errlen, "keys directory: %s", strerror(-rc));
		goto fail;
	}
	if ((rc = gb_ckpt_signer_open(keys, s->journal_dir, o->checkpoint_interval_s, s->hostname,
	                              &s->signer, err, errlen)) < 0)
		goto fail;
	snprintf(s->cursor_dir, sizeof s->cursor_dir, "%s", o->cursor_dir ? o->cursor_dir : "");
	for (size_t i = 0; i < o->n_sinks; i++)
		snprintf(s->sink_names[s->n_sinks++], sizeof s->sink_names[0], "%s", o->sinks[i].name);
	/* retention first: a sink that starts now learns of what it lost */
	retention_pass(s);
	if (o->n_sinks &&
	    (rc = gb_sinks_start(o->sinks, o->n_sinks, o->journal.dir, o->cursor_dir, &s->sinks, err, errlen)) < 0)
		goto fail;
	s->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->stopfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(-rc));
		goto fail;
	}
	s->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->ino < 0 ||
	    inotify_add_watch(s->ino, s->sandboxes, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR) < 0) {
		rc = -errno;
		/* Out of inotify instances or watches (a per-user limit the whole
		 * host shares): the rescan finds new sandboxes anyway, up to
		 * RESCAN_MS late — not a reason to refuse to run. */
		if (rc != -EMFILE && rc != -ENFILE && rc != -ENOSPC && rc != -ENOMEM) {
			snprintf(err, errlen, "watching %s: %s", s->sandboxes, strerror(-rc));
			goto fail;
		}
		gb_log_warn("serve", "watching %s: %s: new sandboxes are found by a rescan every %d ms "
		            "instead (raise fs.inotify.max_user_instances / max_user_watches)",
		            s->sandboxes, strerror(-rc), RESCAN_MS);
		if (s->ino >= 0)
			close(s->ino);
		s->ino = -1;
	}
	/* Rings moved there while we run are picked up at once (rescan anyway). */
	if ((mkdir(s->leftover_dir, 0700) == 0 || errno == EEXIST) && s->ino >= 0)
		inotify_add_watch(s->ino, s->leftover_dir, IN_MOVED_TO | IN_ONLYDIR);
	if (pthread_create(&s->disc, NULL, disc_main, s) != 0) {
		rc = -EAGAIN;
		snprintf(err, errlen, "cannot start a thread");
		goto fail;
	}
	*out = s;
	return 0;
fail:
	gb_sinks_stop(s->sinks);
	gb_ckpt_signer_close(s->signer);
	gb_journal_close(s->j);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	if (s->ino >= 0)
		close(s->ino);
	if (s->stopfd >= 0)
		close(s->stopfd);
	pthread_mutex_destroy(&s->jlock);
	free(s->root);
	free(s);
	return rc;
}

size_t gb_serve_sink_metrics(struct gb_serve *s, struct gb_sink_metrics *m, size_t max)
{
	return gb_sinks_metrics(s->sinks, m, max);
}

void gb_serve_stats(struct gb_serve *s, struct gb_serve_stats *st)
{
	st->rings = atomic_load(&s->n_rings);
	st->active = atomic_load(&s->n_active);
	st->events = atomic_load(&s->n_events);
	st->lost = atomic_load(&s->n_lost);
	st->errors = atomic_load(&s->n_errors);
	st->duplicates = atomic_load(&s->n_dups);
	st->journal_errors = atomic_load(&s->n_jerrors);
	st->journal_failing = atomic_load(&s->jfailing);
	pthread_mutex_lock(&s->jlock);
	snprintf(st->journal_error, sizeof st->journal_error, "%s", s->jerr);
	pthread_mutex_unlock(&s->jlock);
}

void gb_serve_stop(struct gb_serve *s)
{
	if (!s)
		return;
	uint64_t one = 1;
	ssize_t w = write(s->stopfd, &one, sizeof one);
	(void)w;
	pthread_join(s->disc, NULL);
	atomic_store(&s->stopping, true);
	reap(s, true); /* each drains to empty, then ends */
	/* a last tail checkpoint: a cleanly stopped journal is proven to its end */
	if (gb_ckpt_signer_tick(s->signer, s->j, true) < 0)
		gb_log_error("serve", "cannot journal the final checkpoint");
	gb_ckpt_signer_close(s->signer);
	gb_journal_close(s->j);
	gb_sinks_stop(s->sinks); /* their cursors stay where delivery got to */
	if (s->ino >= 0)
		close(s->ino);
	close(s->stopfd);
	close(s->lock_fd);
	pthread_mutex_destroy(&s->jlock);
	free(s->root);
	free(s);
}
