/* bench/bench_ring.c — the event ring against a mutex + condvar queue of the
 * same capacity, in the same run: records/s and publish latency (p50/p99)
 * for 1 and 2 producer threads with 128-byte and 1 KiB records, a consumer
 * thread draining (it reads each record, as the daemon would decode it).
 *
 * Latency: every 16th publish is timed with clock_gettime(CLOCK_MONOTONIC)
 * around the whole write (reserve + copy + publish, or lock + copy + signal
 * + unlock for the baseline); the cost of the two clock reads, measured
 * first, is subtracted.  Producers wait for space (GB_RING_WAIT / condvar),
 * so both sides move every record and nothing is dropped.
 *
 *   bench_ring [SCALE]   (default 1: 4 M records of 128 B per config;
 *                         bounded, stops by itself)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_util.h"
#include "common/clock.h"
#include "common/ring.h"

#define SAMPLE_EVERY 16
#define RING_BYTES (16u << 20)

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t timer_cost;

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* ---- the baseline: a bounded byte queue behind one mutex ---- */

struct mq {
	pthread_mutex_t mu;
	pthread_cond_t not_full, not_empty;
	unsigned char *buf;
	size_t cap, head, tail; /* byte positions, never wrap (mod cap on use) */
};

static void mq_init(struct mq *q, size_t cap)
{
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->not_full, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	q->buf = malloc(cap);
	q->cap = cap;
	q->head = q->tail = 0;
}

static void mq_free(struct mq *q)
{
	free(q->buf);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->not_empty);
}

static void copy_in(struct mq *q, size_t pos, const void *src, size_t n)
{
	size_t off = pos % q->cap, first = n < q->cap - off ? n : q->cap - off;
	memcpy(q->buf + off, src, first);
	memcpy(q->buf, (const unsigned char *)src + first, n - first);
}

static void copy_out(struct mq *q, size_t pos, void *dst, size_t n)
{
	size_t off = pos % q->cap, first = n < q->cap - off ? n : q->cap - off;
	memcpy(dst, q->buf + off, first);
	memcpy((unsigned char *)dst + first, q->buf, n - first);
}

static void mq_push(struct mq *q, const void *p, uint32_t len)
{
	size_t need = sizeof len + len;
	pthread_mutex_lock(&q->mu);
	while (q->head + need - q->tail > q->cap)
		pthread_cond_wait(&q->not_full, &q->mu);
	copy_in(q, q->head, &len, sizeof len);
	copy_in(q, q->head + sizeof len, p, len);
	q->head += need;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
}

static uint32_t mq_pop(struct mq *q, void *out)
{
	uint32_t len;
	pthread_mutex_lock(&q->mu);
	while (q->head == q->tail)
		pthread_cond_wait(&q->not_empty, &q->mu);
	copy_out(q, q->tail, &len, sizeof len);
	copy_out(q, q->tail + sizeof len, out, len);
	q->tail += sizeof len + len;
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->mu);
	return len;
}

/* ---- one configuration ---- */

struct cfg {
	int use_ring;
	struct gb_ring *prod, *cons;
	struct mq q;
	size_t len;
	long per_producer;
	int producers;
};

struct worker {
	struct cfg *c;
	uint64_t *samples;
	long n_samples;
	int id;
};

static void *producer(void *arg)
{
	struct worker *w = arg;
	struct cfg *c = w->c;
	unsigned char rec[1024];
	memset(rec, w->id, sizeof rec);
	for (long i = 0; i < c->per_producer; i++) {
		memcpy(rec, &i, sizeof i);
		int timed = (i % SAMPLE_EVERY) == 0;
		uint64_t t0 = timed ? gb_now_ns(CLOCK_MONOTONIC) : 0;
		if (c->use_ring) {
			if (gb_ring_write(c->prod, 1, 0, rec, c->len, GB_RING_WAIT, 60000, NULL) < 0) {
				fprintf(stderr, "bench_ring: write failed\n");
				exit(1);
			}
		} else
			mq_push(&c->q, rec, (uint32_t)c->len);
		if (timed) {
			uint64_t d = gb_now_ns(CLOCK_MONOTONIC) - t0;
			w->samples[w->n_samples++] = d > timer_cost ? d - timer_cost : 0;
		}
	}
	return NULL;
}

static void *consumer(void *arg)
{
	struct cfg *c = arg;
	long total = c->per_producer * c->producers;
	unsigned char buf[1024];
	volatile unsigned sink = 0;
	for (long got = 0; got < total;) {
		if (c->use_ring) {
			struct gb_ring_entry e;
			int rc = gb_ring_next(c->cons, &e, 1000);
			if (rc != 1) {
				fprintf(stderr, "bench_ring: consumer stalled at %ld\n", got);
				exit(1);
			}
			sink += ((const unsigned char *)e.data)[e.len - 1];
			gb_ring_consume(c->cons);
		} else {
			uint32_t l = mq_pop(&c->q, buf);
			sink += buf[l - 1];
		}
		got++;
	}
	(void)sink;
	return NULL;
}

struct result {
	double rate;
	uint64_t p50, p99;
};

static struct result run(int use_ring, int producers, size_t len, long per_producer, const char *dir)
{
	struct cfg c = { .use_ring = use_ring, .len = len, .per_producer = per_producer,
		         .producers = producers };
	char path[256];
	snprintf(path, sizeof path, "%s/bench.ring", dir);
	if (use_ring) {
		struct gb_ring_opts o = { .size = RING_BYTES, .sandbox_id = "bench" };
		if (gb_ring_create(path, &o, &c.prod) < 0 || gb_ring_open_consumer(path, &c.cons) < 0) {
			fprintf(stderr, "bench_ring: cannot create %s\n", path);
			exit(1);
		}
	} else
		mq_init(&c.q, RING_BYTES);
	struct worker w[2];
	pthread_t pt[2], ct;
	long cap = per_producer / SAMPLE_EVERY + 2;
	for (int i = 0; i < producers; i++)
		w[i] = (struct worker){ &c, malloc((size_t)cap * sizeof(uint64_t)), 0, i };
	double t0 = now_s();
	pthread_create(&ct, NULL, consumer, &c);
	for (int i = 0; i < producers; i++)
		pthread_create(&pt[i], NULL, producer, &w[i]);
	for (int i = 0; i < producers; i++)
		pthread_join(pt[i], NULL);
	pthread_join(ct, NULL);
	double dt = now_s() - t0;
	long ns = 0;
	for (int i = 0; i < producers; i++)
		ns += w[i].n_samples;
	uint64_t *all = malloc((size_t)ns * sizeof *all);
	long k = 0;
	for (int i = 0; i < producers; i++) {
		memcpy(all + k, w[i].samples, (size_t)w[i].n_samples * sizeof *all);
		k += w[i].n_samples;
		free(w[i].samples);
	}
	qsort(all, (size_t)ns, sizeof *all, cmp_u64);
	struct result r = { (double)(per_producer * producers) / dt, all[ns / 2], all[ns * 99 / 100] };
	free(all);
	if (use_ring) {
		gb_ring_close(c.prod);
		gb_ring_close(c.cons);
		unlink(path);
	} else
		mq_free(&c.q);
	return r;
}

int main(int argc, char **argv)
{
	long scale = argc > 1 ? atol(argv[1]) : 1;
	if (scale < 1 || scale > 20) {
		fprintf(stderr, "usage: bench_ring [SCALE 1..20]\n");
		return 2;
	}
	/* /dev/shm when present: the daemon's rings live on tmpfs (/run) */
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	timer_cost = bench_timer_cost();
	printf("ring vs mutex+condvar queue (same 16 MiB capacity), consumer thread draining;\n"
	       "latency = one whole publish, every %dth timed, clock cost %llu ns subtracted\n\n",
	       SAMPLE_EVERY, (unsigned long long)timer_cost);
	printf("%-22s %12s %12s %7s   %-17s %-17s\n", "config", "ring rec/s", "mutex rec/s", "ratio",
	       "ring p50/p99 ns", "mutex p50/p99 ns");
	static const struct { int producers; size_t len; long n; } cfgs[] = {
		{ 1, 128, 4000000 }, { 2, 128, 2000000 }, { 1, 1024, 1000000 }, { 2, 1024, 500000 },
	};
	for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
		long n = cfgs[i].n * scale;
		struct result m = run(0, cfgs[i].producers, cfgs[i].len, n, dir);
		struct result r = run(1, cfgs[i].producers, cfgs[i].len, n, dir);
		char name[32], rl[32], ml[32];
		snprintf(name, sizeof name, "%d producer%s, %zu B", cfgs[i].producers,
		         cfgs[i].producers > 1 ? "s" : "", cfgs[i].len);
		snprintf(rl, sizeof rl, "%llu/%llu", (unsigned long long)r.p50, (unsigned long long)r.p99);
		snprintf(ml, sizeof ml, "%llu/%llu", (unsigned long long)m.p50, (unsigned long long)m.p99);
		printf("%-22s %12.0f %12.0f %6.2fx   %-17s %-17s\n", name, r.rate, m.rate, r.rate / m.rate, rl, ml);
		char fig[64];
		snprintf(fig, sizeof fig, "records/s, %s", name);
		bench_figure("ring", fig, r.rate, "rec/s", "mutex+condvar queue", m.rate,
		             i == 0 ? ">=20000000" : i == 1 ? ">=5x" : "-");
		snprintf(fig, sizeof fig, "publish p99, %s", name);
		bench_figure("ring", fig, (double)r.p99, "ns", "mutex queue p99", (double)m.p99, "<1000");
	}
	printf("\ntargets: >= 20 M rec/s with one producer (128 B); >= 5x the mutex queue with two\n"
	       "producers; p99 publish < 1 us\n");
	return 0;
}
