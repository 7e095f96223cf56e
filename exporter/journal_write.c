/* exporter/journal_write.c — the journal's single writer: append, group
 * commit, rotation, retention and crash recovery (contract: journal.h).
 *
 * Sealing runs on a thread of the journal's own (the sealer), not on the
 * thread that appends: a rotation fdatasyncs and closes the active segment,
 * hands it (its struct jseg and counters) to the sealer and opens the next
 * one; the sealer compresses it, writes its index and head.json and
 * removes the .jsonl (jseal, journal_seal.c).  Ownership: the handle owns
 * the sealer — started at the first rotation, joined by gb_journal_close
 * after it has sealed everything handed to it.  The appender's fields are
 * the caller's to serialise (serve's jlock) as before; what the two threads
 * share is under slock (below).
 *
 * Seals run strictly in rotation order on that one thread: segment N's
 * index carries N-1's SHA-256, so N-1 must be sealed first.  Until its seal
 * ends, a rotated segment is an unsealed .jsonl that is not the newest;
 * readers take it as they take the active one (a complete .jsonl: the next
 * segment exists only after it was closed), retention stops before it,
 * and a crash leaves it for recover() to seal at the next open.
 *
 * A seal that fails (disk full, EIO) is retried, never stepped over: were
 * N+1 sealed first, its prev_sha256 would name N-1 and the chain would be
 * broken for good once N is sealed.  The sealer retries the failed segment
 * after a growing pause (J_RETRY_MIN_MS doubled per try, at most
 * J_RETRY_MAX_MS: a try may compress a whole segment before it fails, so
 * not at every append); meanwhile rotations fill the queue, and once it is
 * full the active segment simply grows past segment_bytes instead of the
 * appender blocking on a seal that may not succeed soon. */
#include "exporter/journal_int.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* Rotated segments that may wait unsealed at once (the one being sealed
 * included).  When the sealer is this far behind, the next rotation waits
 * for it (backpressure): the disk an unsealed backlog takes (2 x
 * segment_size), and what recover() must redo after a crash, stay bounded
 * instead of growing with a sealer that cannot keep up. */
#define J_SEAL_PENDING 2

/* The pause before a failed seal is tried again: doubled per failure. */
#define J_RETRY_MIN_MS 250
#define J_RETRY_MAX_MS 30000

/* A rotated segment waiting for the sealer: its name and its counters
 * (block table included), moved out of the appender's struct. */
struct jseal_job {
	struct jseg s;
	struct jidx x;
};

struct gb_journal {
	struct gb_journal_opts o;
	char *dir;
	int lock_fd;
	int fd;            /* active segment, or -1 */
	struct jseg cur;   /* active segment */
	struct jidx x;     /* its counters */
	uint64_t next_n;   /* number of the next new segment */
	/* ---- shared with the sealer: everything here under slock ---- */
	pthread_mutex_t slock;
	pthread_cond_t s_work;  /* a job was queued, stop, hold or kick changed (CLOCK_MONOTONIC) */
	pthread_cond_t s_done;  /* a job finished: room in the queue, a seal to wait for */
	pthread_t sealer;
	bool sealer_up;         /* the thread runs (started at the first rotation) */
	bool s_stop;            /* gb_journal_close: seal what is queued, then end */
	bool s_hold;            /* jseal_hold (tests): start no seal meanwhile */
	bool s_kick;            /* retry the failed seal now (gb_journal_close) */
	int64_t retry_min_ms, retry_max_ms; /* the pause (jseal_retry_pause for tests) */
	unsigned s_tries;       /* failed tries of q[q_head] so far: nonzero while its seal fails */
	bool grow_said;         /* the appender logged that its segment grows past the limit */
	/* q[q_head] is being sealed (or next), q_len jobs in all; the sealer
	 * works on q[q_head] outside the lock while the appender fills only
	 * the slot after the last, never the same one */
	struct jseal_job q[J_SEAL_PENDING];
	size_t q_head, q_len;
	char prev_sha[65];      /* of the newest sealed segment: the next seal's prev_sha256 */
	uint64_t done_n;        /* newest segment the sealer sealed (they end in order) */
	int fail_rc;            /* why the last failed try failed */
	int settle_rc;          /* a failure gb_journal_settle has not reported yet */
	/* newest segment sealed (by the sealer, or found at open): written
	 * under slock, read without it by gb_journal_sealed (the checkpoint
	 * signer polls it every tick), hence atomic */
	_Atomic uint64_t sealed_n;
	/* ---- the appender's ---- */
	/* CLOCK_MONOTONIC: the group commit and the segment's age are
	 * durations, which a wall-clock jump must not stretch or cut (the
	 * index keeps the wall-clock opened_ms) */
	int64_t last_sync_ms;
	int64_t opened_mono_ms;
	int dirty;
	/* buffered appends (buffer_bytes) */
	char *wbuf;
	size_t wlen;
	struct jidx x_flushed; /* counters as of the last flush, to undo a failed one */
	bool have_flushed;
	uint64_t rollbacks;
	uint64_t rb_writes[64]; /* writes when rollback k+1 happened, [k % 64] (gb_journal_durable) */
	size_t blk_written; /* blocks of the active segment in its .blk.json */
	uint64_t writes;     /* gb_journal_writes() */
	uint64_t wb_from;    /* active segment: writeback not yet started from here (kick_writeback) */
};

static void snapshot(struct gb_journal *j);

static void day_of(int64_t ms, char out[11])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Read a .jsonl, rebuild its counters, cut a torn last line. */
static int rebuild(const char *path, struct jidx *x, uint64_t *torn)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	size_t len = (size_t)st.st_size, good = 0;
	if (len) {
		char *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED) {
			int e = -errno;
			close(fd);
			return e;
		}
		for (size_t off = 0; off < len;) {
			char *nl = memchr(m + off, '\n', len - off);
			if (!nl)
				break;
			size_t l = (size_t)(nl - (m + off));
			struct gb_jmeta meta;
			char sb[64];
			if (gb_jmeta_parse(m + off, l, &meta, sb, sizeof sb) < 0) {
				memset(&meta, 0, sizeof meta); /* kept, counted as class 0 */
				gb_log_warn("journal", "%s: the line at offset %zu (%zu bytes) is not an OCSF "
				            "event (kept; glassbox journal verify lists such lines)", path, off, l);
			}
			jidx_count(x, &meta, l + 1);
			off += l + 1;
			good = off;
		}
		munmap(m, len);
	}
	int rc = 0;
	if (good < len) {
		/* The process died inside a write: the partial line was never
		 * acknowledged to anyone, so cutting it loses nothing delivered. */
		if (torn)
			(*torn)++;
		/* Said aloud: the cut is right for a torn write, but a line cut by
		 * anything else (disk, a person) held an acknowledged event. */
		gb_log_warn("journal", "%s: cut a truncated last line (%zu bytes at offset %zu, no line "
		            "end); a record that was never acknowledged is re-read from its ring, an "
		            "acknowledged one is lost", path, len - good, good);
		if (ftruncate(fd, (off_t)good) < 0 || fsync(fd) < 0)
			rc = -errno;
	}
	close(fd);
	return rc;
}

/* Under slock: a try to seal segment n ended with rc (x: its finished
 * index).  Only a success moves the chain (prev_sha) and done_n on. */
static void seal_ended(struct gb_journal *j, uint64_t n, const struct jidx *x, int rc)
{
	if (rc == 0) {
		snprintf(j->prev_sha, sizeof j->prev_sha, "%s", x->sha256);
		atomic_store(&j->sealed_n, n);
		j->done_n = n;
	} else {
		j->fail_rc = rc;
	}
	pthread_cond_broadcast(&j->s_done);
}

/* Seal s on this thread: recover() at open, before any sealer thread, so
 * no other seal runs meanwhile; the lock only keeps prev_sha's rule simple. */
static int seal_now(struct gb_journal *j, const struct jseg *s, struct jidx *x)
{
	pthread_mutex_lock(&j->slock);
	snprintf(x->prev_sha256, sizeof x->prev_sha256, "%s", j->prev_sha);
	pthread_mutex_unlock(&j->slock);
	int rc = jseal(j->dir, s, x, j->o.frame_bytes, j->o.zstd_level);
	pthread_mutex_lock(&j->slock);
	seal_ended(j, s->n, x, rc);
	pthread_mutex_unlock(&j->slock);
	return rc;
}

/* Under slock: may the sealer start the job at q[q_head]?  A hold
 * (tests) does not outlast gb_journal_close. */
static bool job_ready(const struct gb_journal *j)
{
	return j->q_len && (!j->s_hold || j->s_stop);
}

/* Under slock, while the head's seal is failing: wait out the pause before
 * its next try (or a kick, or stop).  False: stopping, give up. */
static bool retry_pause(struct gb_journal *j)
{
	unsigned shift = j->s_tries - 1 < 16 ? j->s_tries - 1 : 16;
	int64_t pause = j->retry_min_ms << shift;
	if (pause > j->retry_max_ms)
		pause = j->retry_max_ms;
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += pause / 1000;
	until.tv_nsec += (pause % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	while (!j->s_kick && !j->s_stop)
		if (pthread_cond_timedwait(&j->s_work, &j->slock, &until) == ETIMEDOUT)
			break;
	/* stopping: the .jsonl stays, recover() seals it, in order, at the
	 * next open; the queued ones after it must wait for it there too */
	if (j->s_stop && !j->s_kick)
		return false;
	j->s_kick = false;
	return true;
}

/* Under slock (dropped meanwhile): one try to seal q[q_head]; on success
 * it leaves the queue, on failure it stays the head (s_tries counts).  A
 * failure is logged and reported to gb_journal_settle once, at its first try. */
static int seal_head(struct gb_journal *j)
{
	struct jseal_job *job = &j->q[j->q_head];
	snprintf(job->x.prev_sha256, sizeof job->x.prev_sha256, "%s", j->prev_sha);
	pthread_mutex_unlock(&j->slock);
	/* outside the lock: the appender may queue the next job (another
	 * slot) meanwhile */
	int rc = jseal(j->dir, &job->s, &job->x, j->o.frame_bytes, j->o.zstd_level);
	pthread_mutex_lock(&j->slock);
	if (rc < 0) {
		if (!j->s_tries++) {
			gb_log_error("journal", "sealing segment %llu: %s; it stays a readable .jsonl and "
			             "is tried again, the segments after it wait",
			             (unsigned long long)job->s.n, strerror(-rc));
			j->settle_rc = rc;
		}
	} else if (j->s_tries) {
		gb_log_info("journal", "segment %llu sealed after %u failed tries",
		            (unsigned long long)job->s.n, j->s_tries);
	}
	seal_ended(j, job->s.n, &job->x, rc);
	if (rc < 0)
		return rc;
	j->s_tries = 0;
	jidx_free(&job->x);
	j->q_head = (j->q_head + 1) % J_SEAL_PENDING;
	j->q_len--;
	return 0;
}

/* The sealer thread: queued segments, oldest first, one at a time, until
 * gb_journal_close asks it to stop and nothing is queued.  A failed seal
 * is logged and tried again (retry_pause) — the segments behind it wait,
 * so the chain stays in order; its .jsonl reads meanwhile. */
static void *sealer_main(void *arg)
{
	struct gb_journal *j = arg;
	pthread_mutex_lock(&j->slock);
	for (;;) {
		while (!job_ready(j) && !(j->s_stop && !j->q_len))
			pthread_cond_wait(&j->s_work, &j->slock);
		if (!j->q_len)
			break; /* stopping, and everything handed over is done */
		if (j->s_tries && !retry_pause(j))
			break;
		seal_head(j);
	}
	pthread_mutex_unlock(&j->slock);
	return NULL;
}

/* Hand the closed active segment (j->cur and its counters j->x, which move)
 * to the sealer, starting it at the first rotation; room_to_rotate made
 * room in the queue.  When no thread can be started, the queue is sealed
 * here, in order; a failure stays queued for the next rotation to try
 * again first, as the thread would (gb_journal_rotate reports it). */
static int seal_later(struct gb_journal *j)
{
	pthread_mutex_lock(&j->slock);
	struct jseal_job *job = &j->q[(j->q_head + j->q_len) % J_SEAL_PENDING];
	job->s = j->cur;
	job->x = j->x;
	j->q_len++;
	memset(&j->x, 0, sizeof j->x); /* the frames went with the job; open_new starts afresh */
	int e = j->sealer_up ? 0 : pthread_create(&j->sealer, NULL, sealer_main, j);
	if (e == 0)
		j->sealer_up = true;
	if (j->sealer_up) {
		pthread_cond_signal(&j->s_work);
	} else {
		/* (out of threads) sealing as before, on this thread: slower */
		gb_log_warn("journal", "cannot start the sealer thread (%s): segment %llu is sealed by "
		            "the appending thread", strerror(e), (unsigned long long)job->s.n);
		while (j->q_len && seal_head(j) == 0)
			;
	}
	pthread_mutex_unlock(&j->slock);
	return 0;
}

/* Wait until segment n is sealed (0) or a seal it waits for — its own or
 * an earlier one — has failed (that failure; the sealer goes on trying). */
static int seal_wait(struct gb_journal *j, uint64_t n)
{
	pthread_mutex_lock(&j->slock);
	while (j->done_n < n && !j->s_tries)
		pthread_cond_wait(&j->s_done, &j->slock);
	int rc = j->done_n >= n ? 0 : j->fail_rc;
	pthread_mutex_unlock(&j->slock);
	return rc;
}

/* gb_journal_close: the sealer finishes what is queued (a failing seal gets
 * one last try), then ends; what it could not seal is recover()'s. */
static void sealer_stop(struct gb_journal *j)
{
	pthread_mutex_lock(&j->slock);
	bool up = j->sealer_up;
	j->s_stop = true;
	j->s_kick = true;
	pthread_cond_broadcast(&j->s_work);
	pthread_mutex_unlock(&j->slock);
	if (up)
		pthread_join(j->sealer, NULL);
	for (; j->q_len; j->q_len--, j->q_head = (j->q_head + 1) % J_SEAL_PENDING)
		jidx_free(&j->q[j->q_head].x);
}

/* May the appender rotate now?  Waits while J_SEAL_PENDING segments are
 * queued and sealing goes well (the backpressure); false when the queue is
 * full behind a failing seal — the active segment then grows instead
 * (said once per such spell). */
static bool room_to_rotate(struct gb_journal *j)
{
	pthread_mutex_lock(&j->slock);
	while (j->q_len == J_SEAL_PENDING && !j->s_tries)
		pthread_cond_wait(&j->s_done, &j->slock);
	bool room = j->q_len < J_SEAL_PENDING;
	bool say = !room && !j->grow_said;
	uint64_t stuck = j->q_len ? j->q[j->q_head].s.n : 0;
	j->grow_said = !room;
	pthread_mutex_unlock(&j->slock);
	if (say)
		gb_log_warn("journal", "segment %llu grows past segment_bytes: segment %llu cannot be "
		            "sealed yet and the segments after it wait for it",
		            (unsigned long long)j->cur.n, (unsigned long long)stuck);
	return room;
}

void jseal_retry_pause(struct gb_journal *j, int64_t min_ms, int64_t max_ms)
{
	pthread_mutex_lock(&j->slock);
	j->retry_min_ms = min_ms;
	j->retry_max_ms = max_ms;
	pthread_cond_broadcast(&j->s_work);
	pthread_mutex_unlock(&j->slock);
}

void jseal_hold(struct gb_journal *j, bool hold)
{
	pthread_mutex_lock(&j->slock);
	j->s_hold = hold;
	pthread_cond_broadcast(&j->s_work);
	pthread_mutex_unlock(&j->slock);
}

int gb_journal_settle(struct gb_journal *j)
{
	pthread_mutex_lock(&j->slock);
	while (j->q_len && !j->s_tries)
		pthread_cond_wait(&j->s_done, &j->slock);
	int rc = j->settle_rc;
	j->settle_rc = 0;
	pthread_mutex_unlock(&j->slock);
	return rc;
}

uint64_t gb_journal_sealed(const struct gb_journal *j)
{
	return atomic_load(&j->sealed_n);
}

static int recover(struct gb_journal *j, uint64_t *torn, char *err, size_t errlen)
{
	struct jseg *v;
	size_t n;
	int rc = jseg_list(j->dir, &v, &n);
	if (rc < 0) {
		snprintf(err, errlen, "listing %s: %s", j->dir, strerror(-rc));
		return rc;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct jseg *s = &v[i];
		char p[GB_PATH_MAX];
		j->next_n = s->n + 1;
		if (!s->active) {
			if (s->has_jsonl && jseg_path(p, sizeof p, j->dir, s, ".jsonl") == 0)
				unlink(p); /* the seal finished; only the unlink was missed */
			if (jseg_path(p, sizeof p, j->dir, s, ".blk.json") == 0)
				unlink(p); /* the index took over */
			if (s->sealed && s->has_idx && jseg_path(p, sizeof p, j->dir, s, ".idx.json") == 0) {
				struct jidx x;
				if (jidx_read(p, &x) == 0) {
					snprintf(j->prev_sha, sizeof j->prev_sha, "%s", x.sha256);
					atomic_store(&j->sealed_n, s->n);
					/* a seal killed after its index may not have moved
					 * head.json yet; seals run in order, so this is the
					 * newest sealed segment so far */
					if (s->has_jsonl)
						jchain_write(j->dir, "head.json", s->n, x.sha256);
					jidx_free(&x);
				}
			}
			continue;
		}
		if ((rc = jseg_path(p, sizeof p, j->dir, s, ".jsonl")) < 0)
			break;
		struct jidx x;
		jidx_init(&x, s->n, gb_now_ms(CLOCK_REALTIME));
		x.frame_bytes = j->o.frame_bytes;
		if ((rc = rebuild(p, &x, torn)) < 0) {
			snprintf(err, errlen, "recovering %s: %s", p, strerror(-rc));
			jidx_free(&x);
			break;
		}
		if (x.first_ms)
			x.opened_ms = x.first_ms;
		if (i + 1 == n) { /* the newest: keep appending to it */
			j->fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
			if (j->fd < 0) {
				rc = -errno;
				snprintf(err, errlen, "opening %s: %s", p, strerror(-rc));
				jidx_free(&x);
				break;
			}
			j->cur = *s;
			j->x = x;
			j->wb_from = x.bytes;
			/* its age so far by the wall clock, at most segment_age (a
			 * clock set back since counts as no age, not a negative one) */
			int64_t age = gb_now_ms(CLOCK_REALTIME) - x.opened_ms;
			int64_t max_age = (int64_t)(j->o.segment_age_s ? j->o.segment_age_s : 3600) * 1000;
			j->opened_mono_ms = gb_now_ms(CLOCK_MONOTONIC_COARSE) - (age < 0 ? 0 : age > max_age ? max_age : age);
			/* the sidecar from the data, whatever a crash left of it; a
			 * failure only costs readers the skip */
			if (jblk_rewrite(j->dir, s, &j->x) < 0)
				gb_log_warn("journal", "segment %llu: cannot write its block index",
				            (unsigned long long)s->n);
			j->blk_written = j->x.n_frames;
			continue;
		}
		/* An older unsealed segment (a crash before or during its seal,
		 * up to J_SEAL_PENDING of them): finish it, oldest first. */
		rc = seal_now(j, s, &x);
		if (rc < 0)
			snprintf(err, errlen, "sealing %s: %s", p, strerror(-rc));
		jidx_free(&x);
	}
	free(v);
	if (j->next_n == 0)
		j->next_n = 1;
	return rc;
}

int gb_journal_open(const struct gb_journal_opts *o, struct gb_journal **out, char *err,
                    size_t errlen)
{
	*out = NULL;
	if (!o || !o->dir || !*o->dir) {
		snprintf(err, errlen, "no journal directory");
		return -EINVAL;
	}
	struct gb_journal *j = calloc(1, sizeof *j);
	if (!j || !(j->dir = strdup(o->dir))) {
		free(j);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&j->slock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* retry_pause: a clock jump must not stretch it */
	pthread_cond_init(&j->s_work, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&j->s_done, NULL);
	j->retry_min_ms = J_RETRY_MIN_MS;
	j->retry_max_ms = J_RETRY_MAX_MS;
	j->o = *o;
	j->o.dir = j->dir;
	if (!j->o.segment_bytes)
		j->o.segment_bytes = 64ull << 20;
	if (!j->o.segment_age_s)
		j->o.segment_age_s = 3600;
	if (!j->o.frame_bytes)
		j->o.frame_bytes = 1u << 20;
	if (!j->o.zstd_level)
		j->o.zstd_level = 3;
	if (!j->o.fsync_interval_ms)
		j->o.fsync_interval_ms = 100;
	if (j->o.buffer_bytes && !(j->wbuf = malloc(j->o.buffer_bytes))) {
		j->fd = j->lock_fd = -1;
		gb_journal_close(j);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	j->fd = -1;
	j->lock_fd = -1;
	int rc = gb_mkdir_p(j->dir, 0750, 0750);
	char p[GB_PATH_MAX];
	if (rc == 0) {
		snprintf(p, sizeof p, "%s/.lock", j->dir);
		j->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
		if (j->lock_fd < 0)
			rc = -errno;
		else if (flock(j->lock_fd, LOCK_EX | LOCK_NB) < 0)
			rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (rc == -EBUSY)
			snprintf(err, errlen, "%s is in use by another writer (glassbox serve?)", j->dir);
		else if (rc < 0)
			snprintf(err, errlen, "%s: %s", p, strerror(-rc));
	} else
		snprintf(err, errlen, "creating %s: %s", j->dir, strerror(-rc));
	if (rc == 0)
		rc = recover(j, NULL, err, errlen);
	if (rc < 0) {
		gb_journal_close(j);
		return rc;
	}
	j->last_sync_ms = gb_now_ms(CLOCK_MONOTONIC);
	if (j->fd >= 0)
		snapshot(j);
	*out = j;
	return 0;
}

static int open_new(struct gb_journal *j)
{
	int64_t now = gb_now_ms(CLOCK_REALTIME);
	memset(&j->cur, 0, sizeof j->cur);
	j->cur.n = j->next_n;
	day_of(now, j->cur.day);
	char p[GB_PATH_MAX];
	snprintf(p, sizeof p, "%s/%s", j->dir, j->cur.day);
	int rc = gb_mkdir_p(p, 0750, 0750);
	if (rc < 0)
		return rc;
	if ((rc = jseg_path(p, sizeof p, j->dir, &j->cur, ".jsonl")) < 0)
		return rc;
	j->fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (j->fd < 0)
		return -errno;
	j->next_n++;
	j->cur.active = j->cur.has_jsonl = true;
	jidx_init(&j->x, j->cur.n, now);
	j->opened_mono_ms = gb_now_ms(CLOCK_MONOTONIC_COARSE); /* never ahead of a later coarse read */
	j->x.frame_bytes = j->o.frame_bytes;
	j->blk_written = 0;
	j->wb_from = 0;
	return gb_fsync_dir(p);
}

static void snapshot(struct gb_journal *j)
{
	j->x_flushed = j->x;
	j->x_flushed.frames = NULL; /* only the count of blocks is restored */
	j->have_flushed = true;
}

/* Undo to the last flush: blocks are only ever appended, so the table is
 * cut back to the count it had then. */
static void restore(struct gb_journal *j)
{
	struct jidx_frame *fr = j->x.frames;
	size_t cap = j->x.cap_frames;
	j->x = j->x_flushed;
	j->x.frames = fr;
	j->x.cap_frames = cap;
}

/* Start the disk writes of what was flushed, every WB_KICK_BYTES, without
 * waiting for them (SYNC_FILE_RANGE_WRITE: no durability is claimed by it).
 * A host with much memory keeps a whole 64 MiB segment dirty until the
 * rotation's fdatasync, which then wrote all of it while the appender
 * waited (20-70 ms a rotation, a tenth to a fifth of the ring -> journal
 * pipeline's wall time in bench_sink_kafka); begun early, the writes run
 * beside the appends and the rotation waits only for the last few. */
#define WB_KICK_BYTES (4u << 20)
static void kick_writeback(struct gb_journal *j)
{
	uint64_t end = j->x.bytes;
	if (j->o.fsync == GB_FSYNC_NEVER || j->wb_from > end || end - j->wb_from < WB_KICK_BYTES)
		return;
	/* a hint: an error here shows at the next fdatasync, if it lasts */
	(void)sync_file_range(j->fd, (off64_t)j->wb_from, (off64_t)(end - j->wb_from), SYNC_FILE_RANGE_WRITE);
	j->wb_from = end;
}

/* Blocks closed by data now written go to the sidecar. */
static void blocks_out(struct gb_journal *j)
{
	if (j->x.n_frames <= j->blk_written)
		return;
	if (jblk_append(j->dir, &j->cur, &j->x, j->blk_written) == 0)
		j->blk_written = j->x.n_frames;
}

int gb_journal_flush(struct gb_journal *j)
{
	if (!j->wlen) {
		if (j->fd >= 0)
			snapshot(j);
		return 0;
	}
	off_t base = (off_t)(j->x.bytes - j->wlen);
	int rc = gb_write_all(j->fd, j->wbuf, j->wlen);
	if (rc < 0) {
		/* Undo the whole batch: cut the file back, restore the counters. */
		if (ftruncate(j->fd, base) < 0)
			rc = -errno;
		if (j->have_flushed)
			restore(j);
		j->wlen = 0;
		j->rb_writes[j->rollbacks % 64] = j->writes;
		j->rollbacks++;
		return rc;
	}
	j->wlen = 0;
	j->writes++;
	j->dirty = 1;
	snapshot(j);
	blocks_out(j);
	kick_writeback(j);
	if (j->o.fsync == GB_FSYNC_ALWAYS) {
		j->dirty = 0;
		return fdatasync(j->fd) < 0 ? -errno : 0;
	}
	return 0;
}

uint64_t gb_journal_writes(const struct gb_journal *j)
{
	return j->writes;
}

uint64_t gb_journal_rollbacks(const struct gb_journal *j)
{
	return j->rollbacks;
}

bool gb_journal_durable(const struct gb_journal *j, uint64_t w, uint64_t r)
{
	if (j->writes <= w)
		return false; /* nothing written since: still buffered (or dropped) */
	if (j->rollbacks == r)
		return true; /* written, and no rollback since */
	if (j->rollbacks - r > 64)
		return false; /* too long ago to tell: not proven */
	/* which came first after the append: write w+1 or rollback r+1 */
	return j->rb_writes[r % 64] > w;
}

/* A rotation on the appending thread: the segment's last batch written and
 * on disk, closed, handed to the sealer — no compression here.  *n gets
 * its number (0: nothing to rotate).  A failed seal leaves the .jsonl: the
 * next open redoes it. */
static int rotate_out(struct gb_journal *j, uint64_t *n)
{
	*n = 0;
	if (j->fd < 0 || j->x.events == 0 || !room_to_rotate(j))
		return 0;
	int frc = gb_journal_flush(j);
	if (frc < 0)
		return frc;
	if (fdatasync(j->fd) < 0)
		return -errno;
	close(j->fd);
	j->fd = -1;
	j->dirty = 0;
	*n = j->cur.n;
	return seal_later(j);
}

int gb_journal_rotate(struct gb_journal *j)
{
	uint64_t n;
	int rc = rotate_out(j, &n);
	return rc < 0 || !n ? rc : seal_wait(j, n);
}

static int sync_due(struct gb_journal *j, int64_t now, int force)
{
	if (j->fd < 0 || !j->dirty || j->o.fsync == GB_FSYNC_NEVER)
		return 0;
	if (!force && now - j->last_sync_ms < (int64_t)j->o.fsync_interval_ms)
		return 0;
	j->last_sync_ms = now;
	j->dirty = 0;
	return fdatasync(j->fd) < 0 ? -errno : 0;
}

int gb_journal_append(struct gb_journal *j, const char *line, size_t len,
                      const struct gb_jmeta *m, struct gb_jpos *pos)
{
	if (!len || memchr(line, '\n', len))
		return -EINVAL; /* one event is one line */
	/* The coarse clock (the last tick's time, a few ms old at most): this
	 * runs once per event, and only the segment's age (seconds) and the
	 * group-commit interval (100 ms) are judged by it. */
	int64_t now = gb_now_ms(CLOCK_MONOTONIC_COARSE);
	int rc;
	uint64_t rotated;
	if (j->fd >= 0 && j->x.events &&
	    (j->x.bytes + len + 1 > j->o.segment_bytes ||
	     now - j->opened_mono_ms >= (int64_t)j->o.segment_age_s * 1000))
		if ((rc = rotate_out(j, &rotated)) < 0)
			return rc;
	if (j->fd < 0) {
		if ((rc = open_new(j)) < 0)
			return rc;
		snapshot(j);
	}
	uint64_t off = j->x.bytes;
	if (j->wbuf) {
		if (j->wlen + len + 1 > j->o.buffer_bytes && (rc = gb_journal_flush(j)) < 0)
			return rc;
		if (len + 1 <= j->o.buffer_bytes) {
			memcpy(j->wbuf + j->wlen, line, len);
			j->wbuf[j->wlen + len] = '\n';
			j->wlen += len + 1;
			struct gb_jmeta none = { 0 };
			jidx_count(&j->x, m ? m : &none, len + 1);
			if (pos) {
				pos->segment = j->cur.n;
				pos->offset = off;
			}
			return 0;
		}
		/* larger than the buffer: written directly below (buffer is empty) */
	}
	struct iovec iov[2] = { { (void *)line, len }, { "\n", 1 } };
	size_t left = len + 1;
	ssize_t w = writev(j->fd, iov, 2);
	if (w < 0)
		return -errno;
	if ((size_t)w < left) {
		/* Short write (disk full?): finish the line or cut it off, so the
		 * segment never keeps half an event. */
		size_t done = (size_t)w;
		while (done < left) {
			const char *src = done < len ? line + done : "\n";
			size_t n = done < len ? len - done : 1;
			ssize_t k = write(j->fd, src, n);
			if (k <= 0) {
				int e = k < 0 ? -errno : -EIO;
				if (ftruncate(j->fd, (off_t)off) < 0)
					return -errno;
				return e;
			}
			done += (size_t)k;
		}
	}
	struct gb_jmeta none = { 0 };
	jidx_count(&j->x, m ? m : &none, len + 1);
	if (pos) {
		pos->segment = j->cur.n;
		pos->offset = off;
	}
	j->writes++;
	j->dirty = 1;
	if (!j->wlen)
		blocks_out(j);
	if (j->o.fsync == GB_FSYNC_ALWAYS)
		return sync_due(j, now, 1);
	return sync_due(j, now, 0);
}

int gb_journal_tick(struct gb_journal *j)
{
	int64_t now = gb_now_ms(CLOCK_MONOTONIC);
	int rc = gb_journal_flush(j);
	if (rc == 0)
		rc = sync_due(j, now, 0);
	uint64_t rotated;
	if (rc == 0 && j->fd >= 0 && j->x.events &&
	    now - j->opened_mono_ms >= (int64_t)j->o.segment_age_s * 1000)
		rc = rotate_out(j, &rotated);
	return rc;
}

struct gb_jpos gb_journal_end(const struct gb_journal *j)
{
	if (j->fd >= 0)
		return (struct gb_jpos){ j->cur.n, j->x.bytes };
	return (struct gb_jpos){ j->next_n, 0 };
}

static uint64_t file_size(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? (uint64_t)st.st_size : 0;
}

int gb_journal_retain(struct gb_journal *j,
                      void (*on_delete)(void *arg, uint64_t segment, uint64_t events), void *arg)
{
	if (!j->o.retain_bytes && !j->o.retain_age_s)
		return 0;
	struct jseg *v;
	size_t n;
	int rc = jseg_list(j->dir, &v, &n);
	if (rc < 0)
		return rc;
	/* Only segments whose seal has ended: one the sealer is working on can
	 * already list as sealed (its .zst and index are in place before
	 * head.json moves and its .jsonl goes), and must not be deleted under
	 * it.  Seals end in order, so everything up to sealed_n is done. */
	uint64_t sealed = atomic_load(&j->sealed_n);
	while (n && v[n - 1].n > sealed)
		n--;
	uint64_t total = 0;
	char p[GB_PATH_MAX];
	for (size_t i = 0; i < n; i++)
		if (v[i].sealed && v[i].has_idx && !v[i].active &&
		    jseg_path(p, sizeof p, j->dir, &v[i], ".jsonl.zst") == 0)
			total += file_size(p);
	int64_t cutoff = j->o.retain_age_s ? gb_now_ms(CLOCK_REALTIME) - (int64_t)j->o.retain_age_s * 1000 : 0;
	for (size_t i = 0; i < n; i++) {
		struct jseg *s = &v[i];
		if (!s->sealed || !s->has_idx || s->active)
			break; /* never past the active segment */
		char zst[GB_PATH_MAX], idx[GB_PATH_MAX];
		if (jseg_path(zst, sizeof zst, j->dir, s, ".jsonl.zst") < 0 ||
		    jseg_path(idx, sizeof idx, j->dir, s, ".idx.json") < 0)
			break;
		struct jidx x;
		if (jidx_read(idx, &x) < 0)
			break; /* verify reports it; retention does not guess */
		uint64_t sz = file_size(zst);
		bool too_big = j->o.retain_bytes && total > j->o.retain_bytes;
		bool too_old = cutoff && x.last_ms && x.last_ms < cutoff;
		if (!too_big && !too_old) {
			jidx_free(&x);
			break;
		}
		/* Told before the files go, so the caller can still read them
		 * (to count what a sink had not delivered). */
		if (on_delete)
			on_delete(arg, s->n, x.events);
		/* The chain now starts after this segment: record the link the
		 * next one carries, so verify can tell retention from deletion. */
		rc = jchain_write(j->dir, "chain.json", s->n + 1, x.sha256);
		if (rc == 0 && (unlink(zst) < 0 || unlink(idx) < 0) && errno != ENOENT)
			rc = -errno;
		jidx_free(&x);
		if (rc < 0)
			break;
		total -= sz < total ? sz : total;
		snprintf(p, sizeof p, "%s/%s", j->dir, s->day);
		rmdir(p); /* only when empty */
	}
	free(v);
	return rc;
}

void gb_journal_close(struct gb_journal *j)
{
	if (!j)
		return;
	if (j->fd >= 0 && j->wlen)
		gb_journal_flush(j);
	free(j->wbuf);
	if (j->fd >= 0) {
		if (j->o.fsync != GB_FSYNC_NEVER)
			fdatasync(j->fd);
		close(j->fd);
		jidx_free(&j->x);
	}
	/* every segment handed over is sealed (or failed and logged) before
	 * the directory's lock goes: the next writer finds no seal running */
	sealer_stop(j);
	if (j->lock_fd >= 0)
		close(j->lock_fd);
	pthread_cond_destroy(&j->s_done);
	pthread_cond_destroy(&j->s_work);
	pthread_mutex_destroy(&j->slock);
	free(j->dir);
	free(j);
}
