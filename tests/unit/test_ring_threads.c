/* tests/unit/test_ring_threads.c — N producer threads against a consumer in
 * another process.  Every record carries (producer, index, checksum); the
 * consumer checks that each arrives exactly once, in its producer's order,
 * intact, and — in the small-ring run where records are dropped — that what
 * arrived plus what LOSS entries reported equals what was attempted, to the
 * record.  Runs under ASan and TSan builds (fewer records under TSan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/ring.h"

#define PRODUCERS 4
#if defined(__SANITIZE_THREAD__)
#define PER_PRODUCER 20000
#else
#define PER_PRODUCER 100000
#endif

struct msg {
	uint32_t producer;
	uint32_t index;
	uint64_t check;
	unsigned char pad[40];
};

static uint64_t checksum(uint32_t p, uint32_t i)
{
	uint64_t x = ((uint64_t)p << 32 | i) * 0x9e3779b97f4a7c15ull;
	return x ^ (x >> 29);
}

static char path[128], dir[64];

struct prod_arg {
	struct gb_ring *r;
	uint32_t id;
	unsigned flags;
	uint64_t written, dropped;
};

static void *producer(void *arg)
{
	struct prod_arg *a = arg;
	for (uint32_t i = 0; i < PER_PRODUCER; i++) {
		struct msg m = { a->id, i, checksum(a->id, i), { 0 } };
		memset(m.pad, (int)(i & 0xff), sizeof m.pad);
		/* vary the length so records straddle the wrap in every way */
		size_t len = offsetof(struct msg, pad) + (i % 41);
		int rc = gb_ring_write(a->r, 1, 0, &m, len, a->flags, 10000, NULL);
		if (rc == 0)
			a->written++;
		else if (rc == -ENOBUFS || rc == -ETIMEDOUT)
			a->dropped++;
		else
			abort();
	}
	return NULL;
}

/* The consumer process: exit 0 when everything checks out. */
static int consume(uint64_t expect_total)
{
	struct gb_ring *c;
	for (int i = 0; i < 200 && gb_ring_open_consumer(path, &c) < 0; i++)
		usleep(10000);
	uint32_t next[PRODUCERS] = { 0 };
	uint64_t got = 0, lost = 0, last_seq = 0;
	int first = 1;
	while (got + lost < expect_total) {
		struct gb_ring_entry e;
		int rc = gb_ring_next(c, &e, 10000);
		if (rc != 1) {
			struct gb_ring_stats st;
			gb_ring_stats(c, &st);
			fprintf(stderr, "consumer: stalled after %llu + %llu lost (next_seq %llu read_seq %llu "
			        "used %zu dropped %llu abandoned %llu)\n", (unsigned long long)got,
			        (unsigned long long)lost, (unsigned long long)st.next_seq,
			        (unsigned long long)st.read_seq, st.used, (unsigned long long)st.dropped,
			        (unsigned long long)st.abandoned);
			return 1;
		}
		/* sequences are contiguous across records and loss ranges */
		uint64_t s0 = e.is_loss ? e.first_seq : e.seq;
		if (!first && s0 != last_seq + 1) {
			fprintf(stderr, "consumer: sequence jumps %llu -> %llu\n", (unsigned long long)last_seq,
			        (unsigned long long)s0);
			return 1;
		}
		first = 0;
		last_seq = e.is_loss ? e.last_seq : e.seq;
		if (e.is_loss) {
			lost += e.count;
			gb_ring_consume(c);
			continue;
		}
		struct msg m;
		memset(&m, 0, sizeof m);
		if (e.len < offsetof(struct msg, pad) || e.len > sizeof m)
			return 2;
		memcpy(&m, e.data, e.len);
		if (m.producer >= PRODUCERS || m.check != checksum(m.producer, m.index))
			return 3;
		for (size_t k = 0; k < e.len - offsetof(struct msg, pad); k++)
			if (m.pad[k] != (unsigned char)(m.index & 0xff))
				return 4;
		/* per-producer order; with drops, indexes may skip but never repeat
		 * or go back */
		if (m.index < next[m.producer]) {
			fprintf(stderr, "consumer: producer %u index %u after %u\n", m.producer, m.index,
			        next[m.producer]);
			return 5;
		}
		next[m.producer] = m.index + 1;
		got++;
		gb_ring_consume(c);
	}
	gb_ring_close(c);
	printf("consumer: %llu records, %llu reported lost\n", (unsigned long long)got,
	       (unsigned long long)lost);
	/* report the split so the parent can compare with its own counts */
	FILE *f = fopen(getenv("GB_RT_OUT"), "w");
	if (!f)
		return 6;
	fprintf(f, "%llu %llu\n", (unsigned long long)got, (unsigned long long)lost);
	fclose(f);
	return 0;
}

static void run(size_t ring_size, unsigned flags, int expect_drops)
{
	snprintf(dir, sizeof dir, "/tmp/gb-ringt-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/r.ring", dir);
	char out[128];
	snprintf(out, sizeof out, "%s/out", dir);
	setenv("GB_RT_OUT", out, 1);
	struct gb_ring_opts o = { .size = ring_size, .sandbox_id = "threads" };
	struct gb_ring *r;
	assert_int_equal(gb_ring_create(path, &o, &r), 0);
	uint64_t total = (uint64_t)PRODUCERS * PER_PRODUCER;
	/* fork before any thread exists */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int rc = consume(total);
		fflush(stdout);
		_exit(rc);
	}
	struct prod_arg a[PRODUCERS];
	pthread_t th[PRODUCERS];
	for (int i = 0; i < PRODUCERS; i++) {
		a[i] = (struct prod_arg){ r, (uint32_t)i, flags, 0, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, producer, &a[i]), 0);
	}
	uint64_t written = 0, dropped = 0;
	for (int i = 0; i < PRODUCERS; i++) {
		pthread_join(th[i], NULL);
		written += a[i].written;
		dropped += a[i].dropped;
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	unsigned long long got = 0, lost = 0;
	FILE *f = fopen(out, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%llu %llu", &got, &lost), 2);
	fclose(f);
	printf("producers: %llu written, %llu dropped\n", (unsigned long long)written,
	       (unsigned long long)dropped);
	assert_int_equal(got, written); /* exactly once */
	assert_int_equal(lost, dropped); /* every drop reported, no more */
	struct gb_ring_stats st;
	gb_ring_stats(r, &st);
	assert_int_equal(st.dropped, dropped);
	if (expect_drops)
		assert_true(dropped > 0);
	else
		assert_int_equal(dropped, 0);
	gb_ring_close(r);
	unlink(out);
	unlink(path);
	rmdir(dir);
}

/* A ring large enough and producers that wait: nothing may be lost. */
static void t_no_loss(void **state)
{
	(void)state;
	run(1u << 20, GB_RING_WAIT, 0);
}

/* A tiny ring and producers that never wait: drops happen and are
 * reported exactly. */
static void t_drops_reported_exactly(void **state)
{
	(void)state;
	run(16384, 0, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_no_loss),
		cmocka_unit_test(t_drops_reported_exactly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
