/* exporter/sink_cursor.c — the durable cursor and the sink thread loop
 * (contract: sink.h). */
#include "exporter/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/record.h"
#include "exporter/journal_int.h"
#include "exporter/ocsf.h"

#define NO_SEG UINT64_MAX
#define IDLE_WAIT_MS 250

/* ---------------- cursor file ---------------- */

static int cursor_path(char *out, size_t len, const char *dir, const char *name, const char *suffix)
{
	if (!name[0] || strchr(name, '/') || name[0] == '.')
		return -EINVAL;
	return (size_t)snprintf(out, len, "%s/%s%s", dir, name, suffix) >= len ? -ENAMETOOLONG : 0;
}

int gb_sink_cursor_load(const char *dir, const char *name, struct gb_sink_cursor *c)
{
	memset(c, 0, sizeof *c);
	char p[4200];
	int rc = cursor_path(p, sizeof p, dir, name, "");
	if (rc < 0)
		return rc;
	FILE *f = fopen(p, "re");
	if (!f)
		return -errno;
	char line[512];
	bool ok = fgets(line, sizeof line, f) != NULL;
	fclose(f);
	if (!ok)
		return -EBADMSG;
	unsigned long long s, o, i, l;
	char tail;
	if (sscanf(line, "{\"segment\":%llu,\"offset\":%llu,\"index\":%llu,\"loss_through\":%llu%c", &s,
	           &o, &i, &l, &tail) != 5 ||
	    tail != '}')
		return -EBADMSG;
	*c = (struct gb_sink_cursor){ { s, o }, i, l };
	return 0;
}

int gb_sink_cursor_save(const char *dir, const char *name, const struct gb_sink_cursor *c)
{
	char p[4200], tmp[4200];
	int rc = cursor_path(p, sizeof p, dir, name, "");
	if (rc < 0 || (rc = cursor_path(tmp, sizeof tmp, dir, name, ".tmp")) < 0)
		return rc;
	char line[256];
	int n = snprintf(line, sizeof line,
	                 "{\"segment\":%" PRIu64 ",\"offset\":%" PRIu64 ",\"index\":%" PRIu64
	                 ",\"loss_through\":%" PRIu64 "}\n",
	                 c->pos.segment, c->pos.offset, c->index, c->loss_through);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, line, (size_t)n) != n || fsync(fd) < 0) {
		rc = errno ? -errno : -EIO;
		close(fd);
		unlink(tmp);
		return rc;
	}
	close(fd);
	if (rename(tmp, p) < 0) {
		rc = -errno;
		unlink(tmp);
		return rc;
	}
	/* The rename itself must survive a power cut. */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* ---------------- backoff ---------------- */

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

uint32_t gb_sink_backoff_ms(uint32_t base, uint32_t max, unsigned attempt, uint64_t *rng)
{
	uint64_t cap = base ? base : 1;
	for (unsigned i = 1; i < attempt && cap < max; i++)
		cap *= 2;
	if (cap > max)
		cap = max;
	uint32_t d = (uint32_t)(xorshift(rng) % (cap + 1));
	return d ? d : 1;
}

/* ---------------- running sinks ---------------- */

struct sink {
	struct gb_sinks *all;
	struct gb_sink_conf c;
	const struct gb_sink_driver *drv;
	void *state;
	pthread_t thread;
	bool started;
	bool have_cursor; /* a cursor file existed at start */
	pthread_mutex_t mu; /* cursor, for metrics readers */
	struct gb_sink_cursor cur;
	atomic_uint_fast64_t sent, failed, retried, lost;
	uint64_t rng;
	char hostname[256];
};

struct gb_sinks {
	char *journal_dir, *cursor_dir;
	struct gb_sink_host host;
	bool has_host;
	int stopfd;
	atomic_bool stopping;
	size_t n;
	struct sink *v;
};

static void logf_(const struct sink *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(const struct sink *k, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char msg[1024];
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "glassbox serve: sink %s: %s\n", k->c.name, msg);
}

/* Sleep ms unless stopping; false when stopping. */
static bool nap(struct gb_sinks *s, int ms)
{
	struct pollfd p = { .fd = s->stopfd, .events = POLLIN };
	poll(&p, 1, ms);
	return !atomic_load(&s->stopping);
}

static const struct gb_sink_driver *driver_of(enum gb_sink_type t)
{
	switch (t) {
	case GB_SINK_FILE: return &gb_sink_file_driver;
	case GB_SINK_HTTP: return &gb_sink_http_driver;
	case GB_SINK_KAFKA: return &gb_sink_kafka_driver;
	}
	return NULL;
}

/* One LOSS event for `lost` events of segments [from, to). */
static void report_loss(struct sink *k, uint64_t lost, uint64_t from, uint64_t to)
{
	struct gb_sinks *s = k->all;
	char detail[256], sid[96];
	snprintf(detail, sizeof detail, "sink %s had not delivered them; journal segments %" PRIu64 "-%" PRIu64
	         " deleted by retention", k->c.name, from, to - 1);
	snprintf(sid, sizeof sid, "sink-%s", k->c.name);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct gb_record rec;
	memset(&rec, 0, sizeof rec);
	rec.type = GB_REC_LOSS;
	/* seq = first deleted segment: the same loss always has the same
	 * metadata.uid, so a repeat after a crash can be dropped downstream. */
	rec.seq = from;
	rec.ts_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	rec.u.loss = (struct gb_loss){ .cause = GB_LOSS_RETENTION, .count = lost, .detail = detail };
	struct gb_ocsf_ctx ctx = { .sandbox_name = NULL, .sandbox_id = sid, .hostname = k->hostname,
		                   .product_version = GB_VERSION };
	struct gb_buf b = GB_BUF_INIT;
	int rc = gb_ocsf_format(&ctx, &rec, &b);
	struct gb_jmeta m = { .time_ms = (int64_t)(rec.ts_ns / 1000000u), .sandbox = NULL,
		              .class_uid = 1008, .severity_id = GB_SEV_HIGH };
	if (rc == 0)
		rc = s->host.emit(s->host.arg, b.data, b.len, &m);
	gb_buf_free(&b);
	atomic_fetch_add(&k->lost, lost);
	logf_(k, "%" PRIu64 " undelivered events deleted by retention (segments %" PRIu64 "-%" PRIu64 ")%s",
	      lost, from, to - 1, rc < 0 ? "; the LOSS event could not be written" : "");
}

/* The reader moved from segment rd_seg (rd_idx events read in it) to seg:
 * the segments between were deleted if they are not there any more. */
static void check_gap(struct sink *k, uint64_t rd_seg, uint64_t rd_idx, uint64_t seg)
{
	struct gb_sinks *s = k->all;
	if (!s->has_host || rd_seg == NO_SEG || seg <= rd_seg)
		return;
	uint64_t from = rd_seg > k->cur.loss_through ? rd_seg : k->cur.loss_through;
	if (from >= seg)
		return;
	uint64_t ev = 0, segs = 0, e0 = 0, s0 = 0;
	if (s->host.deleted(s->host.arg, from, seg, &ev, &segs) < 0 || !segs)
		return;
	if (from == rd_seg && s->host.deleted(s->host.arg, rd_seg, rd_seg + 1, &e0, &s0) == 0 && s0)
		ev -= rd_idx < e0 ? rd_idx : e0; /* those were read already */
	if (ev)
		report_loss(k, ev, from, seg);
	pthread_mutex_lock(&k->mu);
	k->cur.loss_through = seg;
	struct gb_sink_cursor c = k->cur;
	pthread_mutex_unlock(&k->mu);
	int rc = gb_sink_cursor_save(s->cursor_dir, k->c.name, &c);
	if (rc < 0)
		logf_(k, "saving cursor: %s", strerror(-rc));
}

struct batch {
	struct gb_sink_event *ev;
	size_t n, cap;
	struct gb_buf data; /* lines, copied: the reader's pointer is short-lived */
	size_t *off;
};

static void *sink_main(void *arg)
{
	struct sink *k = arg;
	struct gb_sinks *s = k->all;
	size_t max = k->c.batch_max ? k->c.batch_max : 500;
	uint32_t bmin = k->c.backoff_min_ms ? k->c.backoff_min_ms : 100;
	uint32_t bmax = k->c.backoff_max_ms ? k->c.backoff_max_ms : 30000;
	struct batch b = { .ev = calloc(max, sizeof *b.ev), .cap = max, .data = GB_BUF_INIT,
		           .off = calloc(max, sizeof(size_t)) };
	struct gb_jreader *r = NULL;
	bool have_cursor = k->have_cursor;
	uint64_t rd_seg = NO_SEG, rd_idx = 0;
	unsigned attempt = 0;
	bool resend = false;
	char err[512];
	if (!b.ev || !b.off) {
		logf_(k, "out of memory");
		goto out;
	}
	while (!atomic_load(&s->stopping)) {
		if (!r) {
			/* (Re)start reading at the cursor. */
			pthread_mutex_lock(&k->mu);
			struct gb_sink_cursor c = k->cur;
			pthread_mutex_unlock(&k->mu);
			int rc = gb_jreader_open(s->journal_dir, NULL, have_cursor ? &c.pos : NULL, &r);
			if (rc < 0) {
				logf_(k, "reading the journal: %s", strerror(-rc));
				r = NULL;
				if (!nap(s, 1000))
					break;
				continue;
			}
			rd_seg = have_cursor ? c.pos.segment : NO_SEG;
			rd_idx = c.index;
			b.n = 0;
			gb_buf_reset(&b.data);
		}
		if (b.n == 0) {
			int rc = 0;
			while (b.n < max) {
				const char *line;
				size_t len;
				struct gb_jpos pos;
				rc = gb_jreader_next(r, &line, &len, &pos);
				if (rc <= 0)
					break;
				if (pos.segment != rd_seg) {
					check_gap(k, rd_seg, rd_idx, pos.segment);
					rd_seg = pos.segment;
					rd_idx = 0;
				}
				rd_idx++;
				b.off[b.n] = b.data.len;
				gb_buf_append(&b.data, line, len);
				b.ev[b.n].len = len;
				b.ev[b.n].pos = pos;
				b.n++;
			}
			if (rc < 0) {
				logf_(k, "reading the journal: %s", strerror(-rc));
				gb_jreader_close(r);
				r = NULL;
				if (!nap(s, 1000))
					break;
				continue;
			}
			if (b.n == 0) {
				gb_jreader_wait(r, IDLE_WAIT_MS);
				continue;
			}
			for (size_t i = 0; i < b.n; i++)
				b.ev[i].line = b.data.data + b.off[i];
			resend = false;
		}
		int retry_after = -1;
		err[0] = 0;
		if (resend)
			atomic_fetch_add(&k->retried, b.n);
		long acked = k->drv->deliver(k->state, b.ev, b.n, &retry_after, err, sizeof err);
		if (acked > 0) {
			size_t a = (size_t)acked > b.n ? b.n : (size_t)acked;
			pthread_mutex_lock(&k->mu);
			for (size_t i = 0; i < a; i++) {
				const struct gb_sink_event *e = &b.ev[i];
				if (e->pos.segment != k->cur.pos.segment || !have_cursor)
					k->cur.index = 0;
				k->cur.pos.segment = e->pos.segment;
				k->cur.pos.offset = e->pos.offset + e->len + 1;
				k->cur.index++;
				have_cursor = true;
			}
			struct gb_sink_cursor c = k->cur;
			pthread_mutex_unlock(&k->mu);
			int rc = gb_sink_cursor_save(s->cursor_dir, k->c.name, &c);
			if (rc < 0)
				logf_(k, "saving cursor: %s", strerror(-rc));
			atomic_fetch_add(&k->sent, a);
			memmove(b.ev, b.ev + a, (b.n - a) * sizeof *b.ev);
			b.n -= a;
			if (b.n == 0) {
				attempt = 0;
				continue;
			}
		}
		/* Some or all were not acknowledged: back off, then the same
		 * events again in the same order. */
		atomic_fetch_add(&k->failed, 1);
		attempt++;
		resend = true;
		uint32_t d = gb_sink_backoff_ms(bmin, bmax, attempt, &k->rng);
		if (retry_after >= 0)
			d = (uint32_t)retry_after > bmax ? bmax : (uint32_t)retry_after;
		if (attempt == 1 || attempt % 10 == 0)
			logf_(k, "delivery failed (attempt %u, retrying in %u ms): %s", attempt, d,
			      err[0] ? err : acked < 0 ? strerror((int)-acked) : "not acknowledged");
		if (!nap(s, (int)d))
			break;
	}
out:
	gb_jreader_close(r);
	gb_buf_free(&b.data);
	free(b.ev);
	free(b.off);
	return NULL;
}

static int mkdirs(const char *path)
{
	char p[4096];
	if ((size_t)snprintf(p, sizeof p, "%s", path) >= sizeof p)
		return -ENAMETOOLONG;
	for (char *c = p + 1; *c; c++)
		if (*c == '/') {
			*c = 0;
			if (mkdir(p, 0755) < 0 && errno != EEXIST)
				return -errno;
			*c = '/';
		}
	return mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

int gb_sinks_start(const struct gb_sink_conf *confs, size_t n, const char *journal_dir,
                   const char *cursor_dir, const struct gb_sink_host *host, struct gb_sinks **out,
                   char *err, size_t errlen)
{
	*out = NULL;
	struct gb_sinks *s = calloc(1, sizeof *s);
	if (!s)
		goto nomem;
	s->stopfd = -1;
	s->journal_dir = strdup(journal_dir);
	s->cursor_dir = strdup(cursor_dir);
	s->v = calloc(n ? n : 1, sizeof *s->v);
	if (!s->journal_dir || !s->cursor_dir || !s->v) {
		gb_sinks_stop(s);
		goto nomem;
	}
	if (host && host->deleted && host->emit) {
		s->host = *host;
		s->has_host = true;
	}
	int rc = mkdirs(cursor_dir);
	if (rc < 0) {
		snprintf(err, errlen, "creating %s: %s", cursor_dir, strerror(-rc));
		gb_sinks_stop(s);
		return rc;
	}
	if ((s->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(-rc));
		gb_sinks_stop(s);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		struct sink *k = &s->v[i];
		k->all = s;
		k->c = confs[i];
		pthread_mutex_init(&k->mu, NULL);
		s->n++;
		if (gethostname(k->hostname, sizeof k->hostname - 1) < 0)
			snprintf(k->hostname, sizeof k->hostname, "unknown");
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		k->rng = (uint64_t)ts.tv_nsec ^ ((uint64_t)i << 32) ^ (uint64_t)getpid();
		if (!(k->drv = driver_of(k->c.type))) {
			snprintf(err, errlen, "sink %s: unknown type", k->c.name);
			gb_sinks_stop(s);
			return -EINVAL;
		}
		rc = gb_sink_cursor_load(cursor_dir, k->c.name, &k->cur);
		if (rc < 0 && rc != -ENOENT) {
			snprintf(err, errlen, "sink %s: cursor %s/%s: %s", k->c.name, cursor_dir, k->c.name,
			         rc == -EBADMSG ? "not a cursor file" : strerror(-rc));
			gb_sinks_stop(s);
			return rc;
		}
		k->have_cursor = rc == 0;
		char derr[512] = "";
		if ((rc = k->drv->open(&k->c, &k->state, derr, sizeof derr)) < 0) {
			snprintf(err, errlen, "sink %s: %s", k->c.name, derr[0] ? derr : strerror(-rc));
			k->drv = NULL;
			gb_sinks_stop(s);
			return rc;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct sink *k = &s->v[i];
		if (pthread_create(&k->thread, NULL, sink_main, k) != 0) {
			snprintf(err, errlen, "sink %s: cannot start a thread", k->c.name);
			gb_sinks_stop(s);
			return -EAGAIN;
		}
		k->started = true;
	}
	*out = s;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

size_t gb_sinks_count(const struct gb_sinks *s)
{
	return s ? s->n : 0;
}

/* Uncompressed journal bytes from pos to end. */
static uint64_t lag_bytes(const char *dir, struct gb_jpos pos, struct gb_jpos end)
{
	if (end.segment == pos.segment)
		return end.offset > pos.offset ? end.offset - pos.offset : 0;
	if (end.segment < pos.segment)
		return 0;
	struct jseg *v;
	size_t n;
	if (jseg_list(dir, &v, &n) < 0)
		return 0;
	uint64_t total = end.offset;
	for (size_t i = 0; i < n; i++) {
		if (v[i].n < pos.segment || v[i].n >= end.segment || !v[i].has_idx)
			continue;
		char p[J_PATH];
		struct jidx x;
		if (jseg_path(p, sizeof p, dir, &v[i], ".idx.json") == 0 && jidx_read(p, &x) == 0) {
			uint64_t skip = v[i].n == pos.segment ? pos.offset : 0;
			total += x.bytes > skip ? x.bytes - skip : 0;
			jidx_free(&x);
		}
	}
	free(v);
	return total;
}

const char *gb_sinks_metrics(struct gb_sinks *s, size_t i, struct gb_sink_metrics *m)
{
	struct sink *k = &s->v[i];
	memset(m, 0, sizeof *m);
	m->sent = atomic_load(&k->sent);
	m->failed = atomic_load(&k->failed);
	m->retried = atomic_load(&k->retried);
	m->lost = atomic_load(&k->lost);
	pthread_mutex_lock(&k->mu);
	m->cursor = k->cur.pos;
	pthread_mutex_unlock(&k->mu);
	if (s->has_host && s->host.end)
		m->lag_bytes = lag_bytes(s->journal_dir, m->cursor, s->host.end(s->host.arg));
	return k->c.name;
}

void gb_sinks_stop(struct gb_sinks *s)
{
	if (!s)
		return;
	atomic_store(&s->stopping, true);
	if (s->stopfd >= 0) {
		uint64_t one = 1;
		ssize_t w = write(s->stopfd, &one, sizeof one);
		(void)w;
	}
	for (size_t i = 0; i < s->n; i++) {
		struct sink *k = &s->v[i];
		if (k->started)
			pthread_join(k->thread, NULL);
		if (k->drv)
			k->drv->close(k->state);
		pthread_mutex_destroy(&k->mu);
	}
	if (s->stopfd >= 0)
		close(s->stopfd);
	free(s->v);
	free(s->journal_dir);
	free(s->cursor_dir);
	free(s);
}
