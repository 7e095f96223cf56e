/* bench/bench_sink_kafka.c — events/s from the ring to Kafka through the
 * whole daemon path (ring → decode → OCSF → journal → Kafka sink), against
 * a plain librdkafka producer sending the same OCSF lines, pre-made, with
 * the same settings (idempotent, acks=all, zstd), in the same run, both to
 * librdkafka's mock cluster (one broker, in this process, over loopback).
 *
 *   bench_sink_kafka [--brokers HOST:PORT] [--dump FILE] [EVENTS]
 *       (default 50000; bounded, stops by itself)
 *   --brokers  use an external cluster (tests/helpers/kafka_mock with topics
 *              "plain" and "glassbox") instead of one in this process
 *   --dump     also write the pre-made lines, one per line, to FILE (for a
 *              peer tool shipping the same events: bench_syslog_kafka.sh)
 *
 * The end-to-end run has serve's layout: a producer thread (the sandbox's
 * proxy, its own process in reality) writes the pre-encoded records into
 * the ring; the consumer does serve's drain (decode, OCSF, journal append,
 * the batch flushed and the ring committed when the ring is momentarily
 * empty or 1024 events are pending: exporter/serve.c, flush_commit).
 *   BENCH_SINK_KAFKA_ONLY=e2e          the end-to-end run alone, no baseline
 *                                      and no sink-alone run (for a profiler)
 *   BENCH_SINK_KAFKA_INTERLEAVED=1     the layout before 2026-12-03: the
 *                                      ring written by the consumer thread
 *                                      itself, 64 records at a time, and the
 *                                      journal flushed after each 64
 */
#include <ftw.h>
#include <pthread.h>
#include <stdbool.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_util.h"
#include "common/buf.h"
#include "common/record.h"
#include "common/ring.h"
#include "exporter/journal.h"
#include "exporter/ocsf.h"
#include "exporter/sink.h"

static const struct gb_ocsf_ctx ctx = { "bench", "0123456789abcdef", "host1", "0.1.0" };

static void record(struct gb_record *r, uint64_t i)
{
	bench_net_open(r, i);
	struct gb_net_decision *n = &r->u.net;
	n->verdict = i % 7 ? GB_VERDICT_ALLOW : GB_VERDICT_DENY;
	n->src = (struct gb_endpoint){ "", "127.0.0.1", 40000 };
	n->id = (struct gb_identity){ .pid = 4242, .uid = 1000, .exe = "/usr/bin/curl", .sha256 = "", .script = "" };
}

/* CPU seconds this process has used (every thread: the pipeline, the
 * sink, librdkafka's and the mock broker's).  Events per CPU second are
 * what a shared machine cannot blur: wall time there counts the waits for
 * a core. */
static double proc_cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static long delivered;
static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *op)
{
	(void)rk;
	(void)op;
	if (!m->err)
		delivered++;
}

/* The baseline: a plain producer of pre-made lines. */
static double plain_producer(const char *brokers, const struct gb_buf *all, const size_t *ends, long n,
                             double *per_cpu)
{
	char err[256];
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	const char *kv[][2] = { { "bootstrap.servers", brokers }, { "enable.idempotence", "true" },
		                { "acks", "all" }, { "compression.codec", "zstd" }, { "linger.ms", "5" } };
	for (size_t i = 0; i < 5; i++)
		rd_kafka_conf_set(c, kv[i][0], kv[i][1], err, sizeof err);
	rd_kafka_conf_set_dr_msg_cb(c, on_dr);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
	rd_kafka_topic_t *t = rd_kafka_topic_new(rk, "plain", NULL);
	delivered = 0;
	double t0 = bench_now(), c0 = proc_cpu();
	size_t start = 0;
	for (long i = 0; i < n; i++) {
		while (rd_kafka_produce(t, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, all->data + start,
		                        ends[i] - start, "bench", 5, NULL) != 0)
			rd_kafka_poll(rk, 10);
		start = ends[i];
		rd_kafka_poll(rk, 0);
	}
	rd_kafka_flush(rk, 60000);
	double dt = bench_now() - t0;
	*per_cpu = (double)n / (proc_cpu() - c0);
	rd_kafka_topic_destroy(t);
	rd_kafka_destroy(rk);
	if (delivered != n)
		fprintf(stderr, "bench_sink_kafka: plain producer delivered %ld of %ld\n", delivered, n);
	return (double)n / dt;
}

/* Until the sink has delivered n events (bounded: 120 s). */
static void wait_sent(struct gb_sinks *ss, long n, struct gb_sink_metrics *m)
{
	double deadline = bench_now() + 120;
	do {
		gb_sinks_metrics(ss, m, 1);
		if ((long)m->sent >= n)
			return;
		usleep(2000);
	} while (bench_now() < deadline);
}

/* The sandbox's side: pre-encoded records into the ring. */
struct feed {
	struct gb_ring *ring;
	const unsigned char *enc;
	const size_t *off;
	const uint16_t *type;
	long n;
	bool failed;
};

static void *feeder(void *arg)
{
	struct feed *f = arg;
	for (long i = 0; i < f->n; i++)
		if (gb_ring_write(f->ring, f->type[i], 0, f->enc + f->off[i], f->off[i + 1] - f->off[i], GB_RING_WAIT,
		                  10000, NULL) < 0) {
			f->failed = true;
			break;
		}
	return NULL;
}

/* What serve's drainer does with one ring entry. */
static void journal_entry(struct gb_journal *j, const struct gb_ring_entry *e, struct gb_buf *b)
{
	struct gb_record r;
	memset(&r, 0, sizeof r);
	if (gb_rec_decode(e->type, e->data, e->len, &r) == 0) {
		r.seq = e->seq;
		r.ts_ns = e->ts_ns;
		b->len = 0;
		gb_ocsf_format(&ctx, &r, b, NULL);
		struct gb_jmeta m = { .time_ms = (int64_t)(e->ts_ns / 1000000), .sandbox = "bench",
			              .class_uid = 4001, .severity_id = 1 };
		gb_journal_append(j, b->data, b->len, &m, NULL);
	}
}

static int rm_cb(const char *p, const struct stat *st, int f, struct FTW *w)
{
	(void)st, (void)f, (void)w;
	return remove(p);
}

static int dump(const char *path, const struct gb_buf *all, const size_t *ends, long n)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -1;
	size_t start = 0;
	for (long i = 0; i < n; i++) {
		fwrite(all->data + start, 1, ends[i] - start, f);
		fputc('\n', f);
		start = ends[i];
	}
	return fclose(f);
}

int main(int argc, char **argv)
{
	long n = 50000;
	const char *ext = NULL, *dumpf = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--brokers") && i + 1 < argc)
			ext = argv[++i];
		else if (!strcmp(argv[i], "--dump") && i + 1 < argc)
			dumpf = argv[++i];
		else if (argv[i][0] != '-')
			n = atol(argv[i]);
		else
			n = -1;
	}
	if (n <= 0 || n > 2000000) {
		fprintf(stderr, "usage: bench_sink_kafka [--brokers HOST:PORT] [--dump FILE] [EVENTS 1..2000000]\n");
		return 2;
	}
	char base[] = "/tmp/gb-bench-kafka-XXXXXX";
	if (!mkdtemp(base))
		return 1;
	char jdir[128], cdir[128], ringp[128];
	snprintf(jdir, sizeof jdir, "%s/journal", base);
	snprintf(cdir, sizeof cdir, "%s/cursors", base);
	/* the ring on tmpfs, as serve's are (see bench_journal.c) */
	char shm[64] = "/dev/shm/gb-bench-kafka-ring-XXXXXX";
	int sfd = access("/dev/shm", W_OK) == 0 ? mkstemp(shm) : -1;
	if (sfd >= 0) {
		close(sfd);
		snprintf(ringp, sizeof ringp, "%s", shm);
	} else {
		snprintf(ringp, sizeof ringp, "%s/events.ring", base);
	}

	char err[256];
	rd_kafka_t *mrk = NULL;
	rd_kafka_mock_cluster_t *mc = NULL;
	const char *brokers = ext;
	if (!ext) {
		mrk = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err, sizeof err);
		mc = rd_kafka_mock_cluster_new(mrk, 1);
		rd_kafka_mock_topic_create(mc, "plain", 1, 1);
		rd_kafka_mock_topic_create(mc, "glassbox", 1, 1);
		brokers = rd_kafka_mock_cluster_bootstraps(mc);
	}

	/* the same OCSF lines for the baseline */
	struct gb_buf all = GB_BUF_INIT;
	size_t *ends = bench_format_all(&ctx, record, n, &all);
	if (!ends)
		return 1;
	if (dumpf && dump(dumpf, &all, ends, n) != 0) {
		perror("bench_sink_kafka: --dump");
		return 1;
	}
	const char *only = getenv("BENCH_SINK_KAFKA_ONLY");
	bool e2e_only = only && !strcmp(only, "e2e");
	bool interleaved = getenv("BENCH_SINK_KAFKA_INTERLEAVED") && atoi(getenv("BENCH_SINK_KAFKA_INTERLEAVED"));
	double cpu_plain = 0, r_plain = e2e_only ? 0 : plain_producer(brokers, &all, ends, n, &cpu_plain);

	/* The records the sandbox would publish, encoded before the clock
	 * starts, as the baseline's lines are made before its clock: what is
	 * timed is the daemon's path from the ring on (and the copy into the
	 * ring, which a sandbox's proxy pays in reality). */
	size_t enc_cap = 0, enc_len = 0;
	unsigned char *enc = NULL;
	size_t *enc_off = malloc(((size_t)n + 1) * sizeof *enc_off);
	uint16_t *enc_type = malloc((size_t)n * sizeof *enc_type);
	if (!enc_off || !enc_type)
		return 1;
	for (long i = 0; i < n; i++) {
		struct gb_record r;
		record(&r, (uint64_t)i);
		if (enc_cap - enc_len < 4096) {
			enc_cap = enc_cap ? enc_cap * 2 : 1u << 20;
			if (!(enc = realloc(enc, enc_cap)))
				return 1;
		}
		int len = gb_rec_encode(&r, enc + enc_len, 4096, NULL);
		if (len < 0)
			return 1;
		enc_off[i] = enc_len;
		enc_type[i] = (uint16_t)r.type;
		enc_len += (size_t)len;
	}
	enc_off[n] = enc_len;

	/* the daemon path: sink running, then records through ring and journal */
	struct gb_sink_conf sc;
	memset(&sc, 0, sizeof sc);
	snprintf(sc.name, sizeof sc.name, "bench");
	sc.kind = GB_SINK_KAFKA;
	sc.batch_max = 10000;
	snprintf(sc.brokers, sizeof sc.brokers, "%s", brokers);
	snprintf(sc.topic, sizeof sc.topic, "glassbox");
	struct gb_journal_opts jo = { .dir = jdir, .buffer_bytes = 1u << 20, .fsync = GB_FSYNC_GROUP };
	struct gb_journal *j;
	struct gb_sinks *sinks;
	if (gb_journal_open(&jo, &j, err, sizeof err) < 0 ||
	    gb_sinks_start(&sc, 1, jdir, cdir, &sinks, err, sizeof err) < 0) {
		fprintf(stderr, "bench_sink_kafka: %s\n", err);
		return 1;
	}
	struct gb_ring_opts ro = { .size = 64u << 20, .sandbox_id = "0123456789abcdef" };
	struct gb_ring *pr, *cr;
	if (gb_ring_create(ringp, &ro, &pr) < 0 || gb_ring_open_consumer(ringp, &cr) < 0)
		return 1;
	gb_ring_consumer_set(cr, &(struct gb_ring_consumer_opts){ .deferred_commit = 1 });
	double t0 = bench_now(), c0 = proc_cpu();
	struct gb_buf b = GB_BUF_INIT;
	long produced = 0, consumed = 0;
	unsigned batch = 0;
	struct feed fd = { pr, enc, enc_off, enc_type, n, false };
	pthread_t feed_th;
	if (!interleaved && pthread_create(&feed_th, NULL, feeder, &fd) != 0)
		return 1;
	while (consumed < n && !interleaved) {
		/* serve's drainer: a pending batch is flushed as soon as the ring
		 * is momentarily empty, or at 1024 */
		struct gb_ring_entry e;
		int rc = gb_ring_next(cr, &e, batch ? 0 : 5000);
		if (rc < 0)
			break;
		if (rc == 0 || batch >= 1024) {
			if (!batch) {
				fprintf(stderr, "bench_sink_kafka: consumer stalled at %ld\n", consumed);
				break;
			}
			gb_journal_flush(j);
			gb_ring_commit(cr);
			batch = 0;
			continue;
		}
		journal_entry(j, &e, &b);
		gb_ring_consume(cr);
		consumed++;
		batch++;
	}
	while (consumed < n && interleaved) {
		/* producer side, interleaved: keep the ring fed */
		for (int k = 0; k < 64 && produced < n; k++, produced++)
			if (gb_ring_write(pr, enc_type[produced], 0, enc + enc_off[produced],
			                  enc_off[produced + 1] - enc_off[produced], GB_RING_WAIT, 10000, NULL) < 0)
				return 1;
		struct gb_ring_entry e;
		while (gb_ring_next(cr, &e, 0) == 1) {
			journal_entry(j, &e, &b);
			gb_ring_consume(cr);
			consumed++;
			if (++batch >= 1024) {
				gb_journal_flush(j);
				gb_ring_commit(cr);
				batch = 0;
			}
		}
		gb_journal_flush(j);
		gb_ring_commit(cr);
		batch = 0;
	}
	if (batch) {
		gb_journal_flush(j);
		gb_ring_commit(cr);
	}
	if (!interleaved)
		pthread_join(feed_th, NULL);
	if (fd.failed || consumed < n)
		return 1;
	struct gb_sink_metrics met;
	wait_sent(sinks, n, &met);
	double dt = bench_now() - t0;
	double r_pipe = (double)met.sent / dt, cpu_pipe = (double)met.sent / (proc_cpu() - c0);
	printf("%ld OCSF events of %.0f bytes to librdkafka's mock cluster (1 broker, %s), zstd, acks=all%s\n",
	       n, (double)all.len / (double)n, ext ? "its own process" : "in this process",
	       interleaved ? "; ring written by the consumer thread (interleaved)" : "");
	if (e2e_only) {
		printf("ring -> OCSF -> journal -> Kafka sink (glassbox): %.0f events/s, %.0f per CPU second "
		       "(%llu delivered)\n", r_pipe, cpu_pipe, (unsigned long long)met.sent);
		gb_sinks_stop(sinks);
		goto out;
	}
	printf("plain librdkafka producer, pre-made lines (baseline): %9.0f events/s\n", r_plain);
	printf("ring -> OCSF -> journal -> Kafka sink (glassbox)     : %9.0f events/s (%llu delivered)\n",
	       r_pipe, (unsigned long long)met.sent);
	printf("ratio glassbox/plain: %.2fx   (target >= 1.0x)\n", r_pipe / r_plain);
	printf("per CPU second (all threads): plain %.0f, glassbox end to end %.0f events; ratio %.2fx\n",
	       cpu_plain, cpu_pipe, cpu_pipe / cpu_plain);
	/* issue 20's target: 0.5x a plain producer of the same lines */
	bench_figure("sink_kafka", "ring -> OCSF -> journal -> Kafka", r_pipe, "events/s",
	             "plain librdkafka producer", r_plain, ">=0.5x");
	bench_figure("sink_kafka", "ring -> OCSF -> journal -> Kafka, per CPU s", cpu_pipe, "events/s",
	             "plain producer per CPU s", cpu_plain, ">=0.5x");
	gb_sinks_stop(sinks);

	/* The sink on its own: a second sink, fresh cursor, over the journal
	 * that is now written (read, decode, produce, per-event reports). */
	snprintf(sc.name, sizeof sc.name, "alone");
	snprintf(sc.topic, sizeof sc.topic, "glassbox");
	struct gb_sinks *alone;
	double t1 = bench_now();
	if (gb_sinks_start(&sc, 1, jdir, cdir, &alone, err, sizeof err) < 0) {
		fprintf(stderr, "bench_sink_kafka: %s\n", err);
		return 1;
	}
	struct gb_sink_metrics am;
	wait_sent(alone, n, &am);
	double r_alone = (double)am.sent / (bench_now() - t1);
	gb_sinks_stop(alone);
	printf("Kafka sink alone, journal already written      :    %9.0f events/s (%llu delivered)\n",
	       r_alone, (unsigned long long)am.sent);
	printf("ratio sink alone/plain: %.2fx\n", r_alone / r_plain);
	bench_figure("sink_kafka", "Kafka sink alone (journal written)", r_alone, "events/s",
	             "plain librdkafka producer", r_plain, ">=1.0x");
out:
	gb_journal_close(j);
	gb_ring_close(pr);
	gb_ring_close(cr);
	if (mc) {
		rd_kafka_mock_cluster_destroy(mc);
		rd_kafka_destroy(mrk);
	}
	gb_buf_free(&all);
	gb_buf_free(&b);
	free(ends);
	free(enc);
	free(enc_off);
	free(enc_type);
	nftw(base, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	if (sfd >= 0)
		unlink(ringp);
	return (long)met.sent >= n && (e2e_only || (long)am.sent >= n) ? 0 : 1;
}
