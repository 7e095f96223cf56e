/* bench/bench_journal.c — the daemon's hot path, ring → OCSF → journal, on
 * one consumer core, against its own parts measured alone in the same run:
 *
 *   serialise   gb_ocsf_format of a decoded record (the floor: no I/O)
 *   append      gb_journal_append of pre-made OCSF lines (+ sealing with zstd,
 *               which the journal's sealer thread does beside the appends)
 *   pipeline    a producer thread writes binary records into a ring; the
 *               consumer does what `glassbox serve` does per record:
 *               gb_ring_next → gb_rec_decode → gb_ocsf_format →
 *               gb_journal_append → gb_ring_consume, once with a write and
 *               an acknowledgement per record, once batched as serve does
 *               (journal buffer + deferred ring commit, one write per batch
 *               of up to 1024); the last segment is sealed (zstd) inside
 *               the timed region (gb_journal_rotate waits for its seal).
 *               Consumer CPU is the consumer thread's alone: the seals
 *               run on the journal's sealer thread.
 *
 * Prints events/s for each and pipeline/serialise.  Target (issue 7):
 * ≥ 500 k events/s ring → journal on one core.
 *
 *   bench_journal [EVENTS] [DIR]   (default 200000 events, DIR under /tmp;
 *                                   bounded: it stops by itself and removes DIR)
 *   BENCH_JOURNAL_ONLY=batched: the batched pipeline alone (for a profiler:
 *   perf record bench_journal shows serve's path without the other runs)
 *   BENCH_ZSTD_LEVEL=N: seal at zstd level N instead of the journal's default
 */
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_util.h"
#include "common/buf.h"
#include "common/record.h"
#include "common/ring.h"
#include "exporter/journal.h"
#include "exporter/ocsf.h"

#define SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static const struct gb_ocsf_ctx ctx = { "bench", "0123456789abcdef", "host1", "0.1.0" };

/* A realistic mix: mostly connection opens/closes, some HTTP decisions. */
static void record(struct gb_record *r, uint64_t i)
{
	memset(r, 0, sizeof *r);
	r->seq = i;
	r->ts_ns = 1787313600000000000ull + i * 1000;
	static const char *anc[] = { "/bin/bash", "/usr/bin/node" };
	struct gb_identity id = { .pid = 4242, .uid = 1000, .exe = "/usr/bin/python3.11", .sha256 = SHA,
		                  .script = "/srv/agent.py", .n_ancestors = 2 };
	id.ancestors[0] = anc[0], id.ancestor_pids[0] = 4200;
	id.ancestors[1] = anc[1], id.ancestor_pids[1] = 4100;
	if (i % 4 == 3) {
		r->type = GB_REC_HTTP_DECISION;
		struct gb_http_decision *h = &r->u.http;
		h->verdict = i % 8 == 7 ? GB_VERDICT_DENY : GB_VERDICT_ALLOW;
		h->conn_id = i;
		h->method = "GET";
		h->scheme = "http";
		h->src = (struct gb_endpoint){ "", "127.0.0.1", 40000 };
		h->dst = (struct gb_endpoint){ "api.github.com", "198.18.0.10", 80 };
		h->path = "/repos/octo/demo/contents/README.md";
		h->query = "";
		h->rule = "GET /repos/**";
		h->status = 200;
		h->policy_rev = 3;
		h->policy_entry = "github";
		h->reason_text = "";
		h->id = id;
		return;
	}
	bench_net_open(r, i);
	struct gb_net_decision *n = &r->u.net;
	n->phase = i % 4 == 2 ? GB_NET_CLOSE : GB_NET_OPEN;
	n->verdict = i % 16 == 5 ? GB_VERDICT_DENY : GB_VERDICT_ALLOW;
	n->src = (struct gb_endpoint){ "", "127.0.0.1", 40000 };
	n->id = id;
	n->bytes_up = 1234;
	n->bytes_down = 56789;
}

static int rm_cb(const char *p, const struct stat *st, int f, struct FTW *w)
{
	(void)st, (void)f, (void)w;
	return remove(p);
}

static struct gb_journal *open_journal(const char *dir, uint32_t buffer)
{
	struct gb_journal_opts o = { .dir = dir, .fsync = GB_FSYNC_GROUP, .buffer_bytes = buffer,
	                             .zstd_level = getenv("BENCH_ZSTD_LEVEL") ? atoi(getenv("BENCH_ZSTD_LEVEL")) : 0 };
	struct gb_journal *j;
	char err[256];
	if (gb_journal_open(&o, &j, err, sizeof err) < 0) {
		fprintf(stderr, "bench_journal: %s\n", err);
		exit(1);
	}
	return j;
}

struct prod {
	struct gb_ring *ring;
	long n;
};

static void *producer(void *arg)
{
	struct prod *p = arg;
	unsigned char buf[4096];
	for (long i = 0; i < p->n; i++) {
		struct gb_record r;
		record(&r, (uint64_t)i);
		uint16_t fl = 0;
		int len = gb_rec_encode(&r, buf, sizeof buf, &fl);
		if (len < 0 || gb_ring_write(p->ring, r.type, fl, buf, (size_t)len, GB_RING_WAIT, 10000, NULL) < 0) {
			fprintf(stderr, "bench_journal: producer failed at %ld\n", i);
			break;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
	if (n <= 0 || n > 20000000) {
		fprintf(stderr, "usage: bench_journal [EVENTS (1..20000000)] [DIR]\n");
		return 2;
	}
	char base[256];
	snprintf(base, sizeof base, "%s/gb-bench-journal-XXXXXX", argc > 2 ? argv[2] : "/tmp");
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	char jdir1[300], jdir2[300], ringp[300];
	snprintf(jdir1, sizeof jdir1, "%s/j-append", base);
	snprintf(jdir2, sizeof jdir2, "%s/j-pipeline", base);
	/* The ring on tmpfs, as serve's are (/run/glassbox/sandboxes/NAME):
	 * a ring file on a disk file system costs a read fault that zeroes a
	 * page for every first touch of a hole, which no sandbox pays (a
	 * fifth of the batched run's time on ext4). */
	char shm[64] = "/dev/shm/gb-bench-journal-ring-XXXXXX";
	int sfd = access("/dev/shm", W_OK) == 0 ? mkstemp(shm) : -1;
	if (sfd >= 0) {
		close(sfd);
		snprintf(ringp, sizeof ringp, "%s", shm);
	} else {
		snprintf(ringp, sizeof ringp, "%s/events.ring", base);
	}

	const char *only = getenv("BENCH_JOURNAL_ONLY");
	bool only_batched = only && !strcmp(only, "batched");
	/* 1. serialise alone (one reused buffer, as serve does) */
	struct gb_buf one = GB_BUF_INIT;
	double t0 = bench_now(), cs0 = bench_thread_cpu();
	for (long i = 0; i < (only_batched ? 1 : n); i++) {
		struct gb_record r;
		record(&r, (uint64_t)i);
		one.len = 0;
		if (gb_ocsf_format(&ctx, &r, &one, NULL) < 0) {
			fprintf(stderr, "bench_journal: format failed\n");
			return 1;
		}
	}
	double t_ser = bench_now() - t0, cpu_ser = bench_thread_cpu() - cs0;
	gb_buf_free(&one);
	/* the lines for the append run, made untimed */
	struct gb_buf all = GB_BUF_INIT;
	size_t *ends = bench_format_all(&ctx, record, only_batched ? 1 : n, &all);
	if (!ends)
		return 1;
	double avg = (double)all.len / (double)n;

	/* 2. append pre-made lines, then seal (zstd) */
	struct gb_journal *j = open_journal(jdir1, 0);
	struct gb_jmeta m = { .time_ms = 1787313600000, .sandbox = "bench", .class_uid = 4001, .severity_id = 1 };
	t0 = bench_now();
	size_t start = 0;
	for (long i = 0; i < (only_batched ? 1 : n); i++) {
		if (gb_journal_append(j, all.data + start, ends[i] - start, &m, NULL) < 0) {
			fprintf(stderr, "bench_journal: append failed\n");
			return 1;
		}
		start = ends[i];
	}
	double t_app_only = bench_now() - t0;
	gb_journal_rotate(j);
	double t_app = bench_now() - t0;
	gb_journal_close(j);

	/* 3. the pipeline, per-record acknowledgement and batched (as serve) */
	double t_pipe[2] = { 0, 0 }, cpu_pipe[2] = { 0, 0 };
	long got = 0, errs = 0;
	for (int batched = only_batched; batched < 2; batched++) {
		char jd[320];
		snprintf(jd, sizeof jd, "%s-%d", jdir2, batched);
		struct gb_ring_opts ro = { .size = 64u << 20, .sandbox_id = "0123456789abcdef" };
		struct gb_ring *pr, *cr;
		if (gb_ring_create(ringp, &ro, &pr) < 0 || gb_ring_open_consumer(ringp, &cr) < 0) {
			fprintf(stderr, "bench_journal: ring\n");
			return 1;
		}
		gb_ring_consumer_set(cr, &(struct gb_ring_consumer_opts){ .deferred_commit = batched });
		j = open_journal(jd, batched ? 1u << 20 : 0);
		struct prod p = { pr, n };
		pthread_t th;
		struct gb_buf b = GB_BUF_INIT;
		unsigned batch = 0;
		got = 0;
		t0 = bench_now();
		double c0 = bench_thread_cpu();
		pthread_create(&th, NULL, producer, &p);
		while (got < n) {
			struct gb_ring_entry e;
			int rc = gb_ring_next(cr, &e, batch ? 0 : 5000);
			if (rc < 0)
				break;
			if (rc == 0 || batch >= 1024) {
				if (batch) { /* what serve's flush_commit does */
					if (gb_journal_flush(j) < 0)
						errs++;
					gb_ring_commit(cr);
					batch = 0;
					continue;
				}
				fprintf(stderr, "bench_journal: consumer stalled at %ld\n", got);
				break;
			}
			struct gb_record r;
			memset(&r, 0, sizeof r);
			if (e.is_loss || gb_rec_decode(e.type, e.data, e.len, &r) < 0) {
				errs++;
			} else {
				r.seq = e.seq;
				r.ts_ns = e.ts_ns;
				r.flags = e.flags;
				b.len = 0;
				gb_ocsf_format(&ctx, &r, &b, NULL);
				struct gb_jmeta mm = { .time_ms = (int64_t)(e.ts_ns / 1000000), .sandbox = "bench",
					               .class_uid = e.type == GB_REC_HTTP_DECISION ? 4002 : 4001,
					               .severity_id = 1 };
				if (gb_journal_append(j, b.data, b.len, &mm, NULL) < 0)
					errs++;
			}
			gb_ring_consume(cr);
			batch += batched;
			got++;
		}
		if (batch) {
			gb_journal_flush(j);
			gb_ring_commit(cr);
		}
		gb_journal_rotate(j);
		t_pipe[batched] = bench_now() - t0;
		cpu_pipe[batched] = bench_thread_cpu() - c0;
		pthread_join(th, NULL);
		gb_journal_close(j);
		gb_ring_close(pr);
		gb_ring_close(cr);
		gb_buf_free(&b);
	}
	if (sfd >= 0)
		unlink(ringp);

	if (only_batched) {
		printf("ring -> OCSF -> journal    : %9.0f events/s  batched (%ld errors); %.0f per consumer CPU second\n",
		       (double)n / t_pipe[1], errs, (double)n / cpu_pipe[1]);
		gb_buf_free(&all);
		free(ends);
		nftw(base, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
		return errs ? 1 : 0;
	}
	double r_ser = (double)n / t_ser, r_app = (double)n / t_app, r_pipe1 = (double)n / t_pipe[0],
	       r_pipe = (double)n / t_pipe[1];
	printf("events: %ld, average OCSF line %.0f bytes, zstd sealing on, fsync group 100 ms\n", n, avg);
	printf("serialise only (baseline)  : %9.0f events/s\n", r_ser);
	printf("journal append + seal      : %9.0f events/s  (%.0f MB/s; append alone %.0f events/s,"
	       " waiting for the last seal %.0f%% of the time)\n", r_app, r_app * avg / 1e6, (double)n / t_app_only,
	       100.0 * (t_app - t_app_only) / t_app);
	printf("ring -> OCSF -> journal    : %9.0f events/s  per-record write and ack\n", r_pipe1);
	printf("ring -> OCSF -> journal    : %9.0f events/s  batched (serve: one write + ack per batch; %ld errors)\n",
	       r_pipe, errs);
	printf("ring -> OCSF -> journal    : %9.0f events per consumer CPU second, batched (%.0f per-record)\n",
	       (double)n / cpu_pipe[1], (double)n / cpu_pipe[0]);
	printf("ratio pipeline/serialise   : %.2fx   target >= 500000 events/s: %s\n", r_pipe / r_ser,
	       r_pipe >= 500000 ? "met" : "not met");
	/* issue 20's target for this machine: 300 k events/s on one core */
	bench_figure("journal", "ring -> OCSF -> journal, batched", r_pipe, "events/s",
	             "OCSF serialisation alone", r_ser, ">=300000");
	bench_figure("journal", "ring -> OCSF -> journal, batched, per consumer CPU s", (double)n / cpu_pipe[1],
	             "events/s", "OCSF serialisation alone per CPU s", (double)n / cpu_ser, ">=300000");
	bench_figure("journal", "ring -> OCSF -> journal, per-record ack", r_pipe1, "events/s",
	             "the batched pipeline", r_pipe, "-");
	gb_buf_free(&all);
	free(ends);
	nftw(base, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return errs ? 1 : 0;
}
