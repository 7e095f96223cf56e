/* bench/bench_sink_kafka.c — ring → OCSF → journal → Kafka, the whole
 * exporter path of `glassbox serve`, against a plain librdkafka producer
 * sending the same OCSF lines pre-made, both to librdkafka's mock cluster
 * (one broker, one partition) in the same run, both idempotent with
 * acks=all and compression.codec=zstd (the sink's other settings are its
 * own defaults, the plain producer's librdkafka's):
 *
 *   plain     rd_kafka_produce of N pre-made lines, then flush (the floor:
 *             no ring, no mapping, no journal, no cursor)
 *   pipeline  a producer thread writes N binary records into a sandbox ring;
 *             gb_serve drains it into the journal and its Kafka sink tails
 *             the journal and delivers; timed until the sink reports N
 *             events acknowledged (every delivery report succeeded and the
 *             cursor persisted)
 *   sink      the Kafka sink alone: a fresh cursor over the journal the
 *             pipeline filled (journal read + zstd decode + deliver)
 *
 * Prints msgs/s and MB/s for each, pipeline/plain and sink/plain.  Target (issue 7):
 * ring → Kafka ≥ 1.0× the plain producer.
 *
 *   bench_sink_kafka [EVENTS]   (default 100000; bounded: gives up after
 *                                120 s per phase and removes its directory)
 */
#include <errno.h>
#include <ftw.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/record.h"
#include "common/ring.h"
#include "exporter/ocsf.h"
#include "exporter/serve.h"
#include "exporter/sink.h"

#define SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define TOPIC "bench"
#define PHASE_LIMIT_S 120.0

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The record mix of bench_journal: connection opens/closes, some HTTP. */
static void record(struct gb_record *r, uint64_t i)
{
	memset(r, 0, sizeof *r);
	r->seq = i + 1;
	r->ts_ns = 1787313600000000000ull + i * 1000;
	static const char *anc[] = { "/bin/bash", "/usr/bin/node" };
	struct gb_identity id = { .pid = 4242, .uid = 1000, .exe = "/usr/bin/python3.11", .sha256 = SHA,
		                  .script = "/work/agent.py", .n_ancestors = 2 };
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
	r->type = GB_REC_NET_DECISION;
	struct gb_net_decision *n = &r->u.net;
	n->phase = i % 4 == 2 ? GB_NET_CLOSE : GB_NET_OPEN;
	n->kind = GB_NET_CONNECT;
	n->verdict = i % 16 == 5 ? GB_VERDICT_DENY : GB_VERDICT_ALLOW;
	n->conn_id = i;
	n->policy_rev = 3;
	n->src = (struct gb_endpoint){ "", "127.0.0.1", 40000 };
	n->dst = (struct gb_endpoint){ "api.github.com", "198.18.0.10", 443 };
	n->id = id;
	n->reason_text = "";
	n->policy_entry = "github";
	n->endpoint = "api.github.com:443";
	n->bytes_up = 1234;
	n->bytes_down = 56789;
}

static int rm_cb(const char *p, const struct stat *st, int f, struct FTW *w)
{
	(void)st, (void)f, (void)w;
	return remove(p);
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "bench_sink_kafka: %s: %s\n", what, why);
	exit(1);
}

/* ---- plain producer ---- */

static long dr_ok, dr_err;
static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk, (void)opaque;
	if (m->err)
		dr_err++;
	else
		dr_ok++;
}

static double plain(const char *bootstraps, const struct gb_buf *lines, const size_t *off, long n)
{
	char e[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	/* librdkafka's defaults otherwise, as a plain producer would run */
	static const char *const kv[][2] = { { "enable.idempotence", "true" }, { "acks", "all" },
		                             { "compression.codec", "zstd" } };
	for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
		if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], e, sizeof e) != RD_KAFKA_CONF_OK)
			die(kv[i][0], e);
	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, e, sizeof e) != RD_KAFKA_CONF_OK)
		die("bootstrap.servers", e);
	rd_kafka_conf_set_dr_msg_cb(conf, on_dr);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
	if (!rk)
		die("rd_kafka_new", e);
	rd_kafka_topic_t *t = rd_kafka_topic_new(rk, TOPIC, NULL);
	double t0 = now();
	for (long i = 0; i < n; i++) {
		while (rd_kafka_produce(t, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
		                        (void *)(lines->data + off[i]), off[i + 1] - off[i] - 1, "bench", 5,
		                        NULL) < 0) {
			if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL)
				die("produce", rd_kafka_err2str(rd_kafka_last_error()));
			rd_kafka_poll(rk, 1);
		}
		rd_kafka_poll(rk, 0);
	}
	while (dr_ok + dr_err < n && now() - t0 < PHASE_LIMIT_S)
		rd_kafka_flush(rk, 100);
	double dt = now() - t0;
	if (dr_ok != n)
		fprintf(stderr, "bench_sink_kafka: plain: %ld of %ld delivered\n", dr_ok, n);
	rd_kafka_topic_destroy(t);
	rd_kafka_destroy(rk);
	return dt;
}

/* ---- pipeline ---- */

struct prod {
	const char *path;
	long n;
	int rc;
};

static void *producer(void *arg)
{
	struct prod *p = arg;
	struct gb_ring *r;
	struct gb_ring_opts o = { .size = 64u << 20, .sandbox_id = "0123456789abcdef" };
	if ((p->rc = gb_ring_create(p->path, &o, &r)) < 0)
		return NULL;
	unsigned char buf[4096];
	for (long i = 0; i < p->n; i++) {
		struct gb_record rec;
		record(&rec, (uint64_t)i);
		uint16_t fl = 0;
		int len = gb_rec_encode(&rec, buf, sizeof buf, &fl);
		if (len < 0 ||
		    (p->rc = gb_ring_write(r, rec.type, fl, buf, (size_t)len, GB_RING_WAIT, 10000, NULL)) < 0) {
			p->rc = len < 0 ? len : p->rc;
			break;
		}
	}
	gb_ring_close(r);
	return NULL;
}

static double pipeline(const char *base, const char *bootstraps, long n, uint64_t *sent, double *journal_s)
{
	char run[300], jdir[300], cdir[300], sdir[320], ring[340];
	snprintf(run, sizeof run, "%s/run", base);
	snprintf(jdir, sizeof jdir, "%s/journal", base);
	snprintf(cdir, sizeof cdir, "%s/cursors", base);
	snprintf(sdir, sizeof sdir, "%s/bench", run);
	snprintf(ring, sizeof ring, "%s/events.ring", sdir);
	struct gb_sink_conf k;
	memset(&k, 0, sizeof k);
	snprintf(k.name, sizeof k.name, "kafka");
	k.kind = GB_SINK_KAFKA;
	k.batch_max = 0; /* the default, as `glassbox serve` runs it */
	snprintf(k.brokers, sizeof k.brokers, "%s", bootstraps);
	snprintf(k.topic, sizeof k.topic, TOPIC);
	struct gb_serve_opts o = { .runtime_dir = run,
		                   .journal = { .dir = jdir, .fsync = GB_FSYNC_GROUP },
		                   .hostname = "host1",
		                   .sinks = &k,
		                   .n_sinks = 1,
		                   .cursor_dir = cdir };
	struct gb_serve *s;
	char err[512];
	if (gb_serve_start(&o, &s, err, sizeof err) < 0)
		die("gb_serve_start", err);
	if (mkdir(sdir, 0755) < 0)
		die(sdir, strerror(errno));
	struct prod p = { ring, n, 0 };
	pthread_t th;
	double t0 = now();
	pthread_create(&th, NULL, producer, &p);
	struct gb_sink_metrics m = { 0 };
	double t_journal = 0, t_first = 0;
	while (now() - t0 < PHASE_LIMIT_S) {
		struct gb_serve_stats st;
		gb_serve_stats(s, &st);
		if (!t_first && st.events)
			t_first = now() - t0;
		if (!t_journal && st.events >= (uint64_t)n)
			t_journal = now() - t0;
		gb_serve_sink_metrics(s, &m, 1);
		if (m.sent >= (uint64_t)n)
			break;
		usleep(2000);
	}
	double dt = now() - t0;
	*journal_s = t_journal ? t_journal : dt;
	fprintf(stderr, "bench_sink_kafka: first event journaled after %.3f s\n", t_first);
	pthread_join(th, NULL);
	if (p.rc < 0)
		fprintf(stderr, "bench_sink_kafka: ring producer: %s\n", strerror(-p.rc));
	*sent = m.sent;
	gb_serve_stop(s);
	return dt;
}

/* The sink alone: a fresh cursor over the journal the pipeline filled. */
static double sink_only(const char *base, const char *bootstraps, long n, uint64_t *sent)
{
	char jdir[300], cdir[300];
	snprintf(jdir, sizeof jdir, "%s/journal", base);
	snprintf(cdir, sizeof cdir, "%s/cursors2", base);
	struct gb_sink_conf k;
	memset(&k, 0, sizeof k);
	snprintf(k.name, sizeof k.name, "kafka2");
	k.kind = GB_SINK_KAFKA;
	k.batch_max = 0; /* the default, as `glassbox serve` runs it */
	snprintf(k.brokers, sizeof k.brokers, "%s", bootstraps);
	snprintf(k.topic, sizeof k.topic, TOPIC);
	struct gb_sinks *ss;
	char err[512];
	double t0 = now();
	if (gb_sinks_start(&k, 1, jdir, cdir, &ss, err, sizeof err) < 0)
		die("gb_sinks_start", err);
	struct gb_sink_metrics m = { 0 };
	while (now() - t0 < PHASE_LIMIT_S) {
		gb_sinks_metrics(ss, &m, 1);
		if (m.sent >= (uint64_t)n)
			break;
		usleep(2000);
	}
	double dt = now() - t0;
	*sent = m.sent;
	gb_sinks_stop(ss);
	return dt;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
	if (n <= 0 || n > 5000000) {
		fprintf(stderr, "usage: bench_sink_kafka [EVENTS (1..5000000)]\n");
		return 2;
	}
	char base[256];
	snprintf(base, sizeof base, "/tmp/gb-bench-kafka-XXXXXX");
	if (!mkdtemp(base))
		die("mkdtemp", strerror(errno));

	/* the same OCSF lines the pipeline will produce, made in advance */
	struct gb_ocsf_ctx ctx = { "bench", "0123456789abcdef", "host1", GB_VERSION };
	struct gb_buf lines = GB_BUF_INIT;
	size_t *off = calloc((size_t)n + 1, sizeof *off);
	if (!off)
		die("calloc", "out of memory");
	for (long i = 0; i < n; i++) {
		struct gb_record r;
		record(&r, (uint64_t)i);
		off[i] = lines.len;
		if (gb_ocsf_format(&ctx, &r, &lines) < 0)
			die("gb_ocsf_format", "failed");
		gb_buf_putc(&lines, '\n');
	}
	off[n] = lines.len;
	double avg = (double)lines.len / (double)n;

	/* One mock cluster per phase, so neither inherits the other's log. */
	char e[512];
	double dt_plain = 1, dt_pipe = 1, dt_journal = 1;
	double dt_sink = 1;
	uint64_t sent = 0, sent2 = 0;
	for (int phase = 0; phase < 3; phase++) {
		rd_kafka_conf_t *mconf = rd_kafka_conf_new();
		rd_kafka_conf_set(mconf, "log_level", "3", e, sizeof e); /* no bootstrap: expected */
		rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, e, sizeof e);
		if (!mrk)
			die("rd_kafka_new", e);
		rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mrk, 1);
		if (!mc || rd_kafka_mock_topic_create(mc, TOPIC, 1, 1))
			die("mock cluster", "cannot create");
		const char *bs = rd_kafka_mock_cluster_bootstraps(mc);
		if (phase == 0)
			dt_plain = plain(bs, &lines, off, n);
		else if (phase == 1)
			dt_pipe = pipeline(base, bs, n, &sent, &dt_journal);
		else
			dt_sink = sink_only(base, bs, n, &sent2);
		rd_kafka_mock_cluster_destroy(mc);
		rd_kafka_destroy(mrk);
	}
	double r_plain = (double)n / dt_plain, r_pipe = (double)sent / dt_pipe;
	printf("bench_sink_kafka: %ld events, %.0f bytes/event avg, mock cluster 1 broker 1 partition, zstd, acks=all, idempotent\n",
	       n, avg);
	printf("  plain producer (pre-made lines)    %10.0f msgs/s  %7.1f MB/s\n", r_plain,
	       r_plain * avg / 1e6);
	printf("  ring -> journal -> kafka sink      %10.0f msgs/s  %7.1f MB/s  (%llu acknowledged)\n",
	       r_pipe, r_pipe * avg / 1e6, (unsigned long long)sent);
	double r_sink = (double)sent2 / dt_sink;
	printf("  journal -> kafka sink alone        %10.0f msgs/s  %7.1f MB/s  (%llu acknowledged)\n",
	       r_sink, r_sink * avg / 1e6, (unsigned long long)sent2);
 	printf("  (ring -> journal alone             %10.0f msgs/s: all %ld journaled after %.3f s)\n",
	       (double)n / dt_journal, n, dt_journal);
	printf("  pipeline / plain                   %10.2fx\n", r_pipe / r_plain);
	printf("  sink alone / plain                 %10.2fx\n", r_sink / r_plain);
	gb_buf_free(&lines);
	free(off);
	nftw(base, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return sent == (uint64_t)n && sent2 >= (uint64_t)n ? 0 : 1;
}
