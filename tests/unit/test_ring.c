/* tests/unit/test_ring.c — the event ring on real shared-memory files:
 * wrap-around, exact fit, oversize records, drop accounting and its LOSS
 * report, sequence continuity across producer reopen, consumer restart,
 * new generations, GB_RING_WAIT, the futex wake, an abandoned reservation
 * left by a killed process, deferred commit and rewind, bad files (a fifo
 * in the ring's place). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/record.h"
#include "common/ring.h"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/gb-ring-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/r.ring", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

static struct gb_ring *mk(size_t size)
{
	struct gb_ring_opts o = { .size = size, .sandbox_id = "t" };
	struct gb_ring *r = NULL;
	assert_int_equal(gb_ring_create(path, &o, &r), 0);
	return r;
}

static struct gb_ring *cons(void)
{
	struct gb_ring *c = NULL;
	assert_int_equal(gb_ring_open_consumer(path, &c), 0);
	return c;
}

/* payload i: len bytes of (i + k) */
static void fill(unsigned char *b, size_t len, uint64_t i)
{
	for (size_t k = 0; k < len; k++)
		b[k] = (unsigned char)(i + k);
}

static void check_payload(const struct gb_ring_entry *e, size_t len, uint64_t i)
{
	assert_int_equal(e->is_loss, 0);
	assert_int_equal(e->len, len);
	const unsigned char *p = e->data;
	for (size_t k = 0; k < len; k++)
		assert_int_equal(p[k], (unsigned char)(i + k));
}

static int put(struct gb_ring *r, size_t len, uint64_t i, uint64_t *seq)
{
	unsigned char b[8192];
	fill(b, len, i);
	return gb_ring_write(r, GB_REC_FINDING, 0, b, len, 0, 0, seq);
}

static void t_wrap_around(void **state)
{
	(void)state;
	struct gb_ring *p = mk(4096), *c = cons();
	/* many laps with sizes that leave every kind of tail (padding records,
	 * tails too short for a header) */
	uint64_t want = 0;
	for (uint64_t i = 0; i < 5000; i++) {
		size_t len = (size_t)((i * 37) % 500);
		uint64_t seq;
		assert_int_equal(put(p, len, i, &seq), 0);
		assert_int_equal(seq, i);
		struct gb_ring_entry e;
		assert_int_equal(gb_ring_next(c, &e, 0), 1);
		assert_int_equal(e.seq, want++);
		assert_int_equal(e.type, GB_REC_FINDING);
		check_payload(&e, len, i);
		gb_ring_consume(c);
	}
	struct gb_ring_entry e;
	assert_int_equal(gb_ring_next(c, &e, 0), 0);
	struct gb_ring_stats st;
	gb_ring_stats(p, &st);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.used, 0);
	gb_ring_close(p);
	gb_ring_close(c);
}

static void t_exact_fit_and_oversize(void **state)
{
	(void)state;
	struct gb_ring *p = mk(4096), *c = cons();
	size_t max = gb_ring_max_record(p);
	assert_true(max < 4096 && max >= 1024);
	assert_int_equal(put(p, max + 1, 0, NULL), -EMSGSIZE);
	/* records of 1000 payload bytes: header + 1000 rounded to 8 each; fill
	 * until the next one no longer fits, then exactly that one fails */
	int n = 0;
	while (put(p, 1000, (uint64_t)n, NULL) == 0)
		n++;
	assert_true(n >= 3);
	struct gb_ring_stats st;
	gb_ring_stats(p, &st);
	assert_int_equal(st.dropped, 1);
	assert_true(st.used + 1000 > st.size - 64); /* full: no room for another */
	/* consume one: the next write fits again */
	struct gb_ring_entry e;
	assert_int_equal(gb_ring_next(c, &e, 0), 1);
	check_payload(&e, 1000, 0);
	gb_ring_consume(c);
	assert_int_equal(put(p, 1000, 99, NULL), 0);
	gb_ring_close(p);
	gb_ring_close(c);
}

static void t_drop_accounting(void **state)
{
	(void)state;
	struct gb_ring *p = mk(4096), *c = cons();
	uint64_t seq = 0;
	int ok = 0, dropped = 0;
	for (int i = 0; i < 40; i++) {
		int rc = put(p, 300, (uint64_t)i, &seq);
		if (rc == 0)
			ok++;
		else {
			assert_int_equal(rc, -ENOBUFS);
			dropped++;
		}
	}
	assert_true(ok > 0 && dropped > 0);
	struct gb_ring_stats st;
	gb_ring_stats(p, &st);
	assert_int_equal(st.dropped, (uint64_t)dropped);
	assert_int_equal(st.drop_first, (uint64_t)ok);
	assert_int_equal(st.drop_last, 39);
	/* the consumer gets every stored record, then ONE loss entry with the
	 * exact range, then the records written after the drops */
	struct gb_ring_entry e;
	for (int i = 0; i < ok; i++) {
		assert_int_equal(gb_ring_next(c, &e, 0), 1);
		assert_int_equal(e.seq, (uint64_t)i);
		check_payload(&e, 300, (uint64_t)i);
		gb_ring_consume(c);
	}
	assert_int_equal(put(p, 10, 1000, &seq), 0);
	assert_int_equal(seq, 40);
	assert_int_equal(gb_ring_next(c, &e, 0), 1);
	assert_int_equal(e.is_loss, 1);
	assert_int_equal(e.loss_cause, GB_LOSS_RING_FULL);
	assert_int_equal(e.first_seq, (uint64_t)ok);
	assert_int_equal(e.last_seq, 39);
	assert_int_equal(e.count, (uint64_t)dropped);
	gb_ring_consume(c);
	assert_int_equal(gb_ring_next(c, &e, 0), 1);
	assert_int_equal(e.seq, 40);
	gb_ring_consume(c);
	gb_ring_stats(p, &st);
	assert_int_equal(st.drop_first, 0); /* reported: the pending range is clear */
	gb_ring_close(p);
	gb_ring_close(c);
}

static void t_trailing_drops(void **state)
{
	(void)state;
	struct gb_ring *p = mk(4096), *c = cons();
	int ok = 0;
	for (int i = 0; i < 30; i++)
		ok += put(p, 500, (uint64_t)i, NULL) == 0;
	struct gb_ring_entry e;
	for (int i = 0; i < ok; i++) {
		assert_int_equal(gb_ring_next(c, &e, 0), 1);
		gb_ring_consume(c);
	}
	/* nothing written after the drops: the loss still shows up */
	assert_int_equal(gb_ring_next(c, &e, 0), 1);
	assert_int_equal(e.is_loss, 1);
	assert_int_equal(e.count, (uint64_t)(30 - ok));
	assert_int_equal(e.last_seq, 29);
	gb_ring_consume(c);
	assert_int_equal(gb_ring_next(c, &e, 0), 0);
	gb_ring_close(p);
	gb_ring_close(c);
}

static void t_producer_reopen_and_consumer_restart(void **state)
{
	(void)state;
	struct gb_ring *p = mk(8192);
	for (int i = 0; i < 5; i++)
		assert_int_equal(put(p, 20, (uint64_t)i, NULL), 0);
	gb_ring_close(p);
	/* a restarted producer continues the sequence */
	assert_int_equal(gb_ring_open_producer(path, &p), 0);
	uint64_t seq;
	assert_int_equal(put(p, 20, 5, &seq), 0);
	assert_int_equal(seq, 5);
	struct gb_ring *c = cons();
	struct gb_ring_entry e;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(gb_ring_next(c, &e, 0), 1);
		gb_ring_consume(c);
	}
	assert_int_equal(gb_ring_next(c, &e, 0), 1);
	assert_int_equal(e.seq, 3);
	gb_ring_close(c); /* died before acknowledging 3 */
	c = cons();
	assert_int_equal(gb_ring_next(c, &e, 0), 1);
	assert_int_equal(e.seq, 3); /* seen again: at least once */
	check_payload(&e, 20, 3);
	gb_ring_consume(c);
	gb_ring_close(c);
	c = cons();
	assert_int_equal(gb_ring_next(c, &e, 0), 1);
	assert_int_equal(e.seq, 4); /* and not twice after its ack */
	gb_ring_close(c);
	gb_ring_close(p);
}

static void t_generation(void **state)
{
	(void)state;
	struct gb_ring *p = mk(8192), *c = cons();
	for (int i = 0; i < 6; i++)
		assert_int_equal(put(p, 20, (uint64_t)i, NULL), 0);
	struct gb_ring_entry e;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(gb_ring_next(c, &e, 0), 1);
		gb_ring_consume(c);
	}
	gb_ring_close(p);
	p = mk(8192); /* re-created: a new generation, 4 records unread */
	assert_int_equal(gb_ring_generation(p), 2);
	assert_int_equal(put(p, 20, 100, NULL), 0);
	assert_int_equal(gb_ring_next(c, &e, 0), 1);
	assert_int_equal(e.is_loss, 1);
	assert_int_equal(e.loss_cause, GB_LOSS_GENERATION);
	assert_int_equal(e.first_seq, 2);
	assert_int_equal(e.last_seq, 5);
	assert_int_equal(e.count, 4);
	gb_ring_consume(c);
	assert_int_equal(gb_ring_next(c, &e, 0), 1);
	assert_int_equal(e.seq, 0); /* the new generation starts again */
	check_payload(&e, 20, 100);
	gb_ring_close(p);
	gb_ring_close(c);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct drain_arg {
	struct gb_ring *c;
	int n;
	int delay_ms;
};

static void *drain_later(void *arg)
{
	struct drain_arg *a = arg;
	struct timespec ts = { 0, a->delay_ms * 1000000L };
	nanosleep(&ts, NULL);
	for (int i = 0; i < a->n; i++) {
		struct gb_ring_entry e;
		if (gb_ring_next(a->c, &e, 2000) != 1)
			break;
		gb_ring_consume(a->c);
	}
	return NULL;
}

static void t_wait_mode(void **state)
{
	(void)state;
	struct gb_ring *p = mk(4096), *c = cons();
	while (put(p, 500, 0, NULL) == 0)
		;
	unsigned char b[500] = { 0 };
	/* full, nobody reading: waits, then fails and counts the drop */
	struct gb_ring_stats st0, st1;
	gb_ring_stats(p, &st0);
	double t0 = now_s();
	assert_int_equal(gb_ring_write(p, 1, 0, b, sizeof b, GB_RING_WAIT, 100, NULL), -ETIMEDOUT);
	assert_true(now_s() - t0 >= 0.09);
	gb_ring_stats(p, &st1);
	assert_int_equal(st1.dropped, st0.dropped + 1);
	/* a consumer frees space while the producer waits: it succeeds */
	struct drain_arg a = { c, 3, 50 };
	pthread_t th;
	pthread_create(&th, NULL, drain_later, &a);
	assert_int_equal(gb_ring_write(p, 1, 0, b, sizeof b, GB_RING_WAIT, 5000, NULL), 0);
	pthread_join(th, NULL);
	gb_ring_close(p);
	gb_ring_close(c);
}

struct late_arg {
	struct gb_ring *p;
	int delay_ms;
};

static void *write_later(void *arg)
{
	struct late_arg *a = arg;
	struct timespec ts = { 0, a->delay_ms * 1000000L };
	nanosleep(&ts, NULL);
	unsigned char b[16] = { 7 };
	gb_ring_write(a->p, 1, 0, b, sizeof b, 0, 0, NULL);
	return NULL;
}

static void t_empty_timeout_and_wake(void **state)
{
	(void)state;
	struct gb_ring *p = mk(4096), *c = cons();
	struct gb_ring_entry e;
	assert_int_equal(gb_ring_next(c, &e, 0), 0);
	double t0 = now_s();
	assert_int_equal(gb_ring_next(c, &e, 50), 0);
	assert_true(now_s() - t0 >= 0.045);
	/* asleep on the futex; a producer publishing wakes it */
	struct late_arg a = { p, 100 };
	pthread_t th;
	pthread_create(&th, NULL, write_later, &a);
	assert_int_equal(gb_ring_next(c, &e, 5000), 1);
	assert_int_equal(e.len, 16);
	gb_ring_consume(c);
	pthread_join(th, NULL);
	gb_ring_close(p);
	gb_ring_close(c);
}

static void t_abandoned_reservation(void **state)
{
	(void)state;
	struct gb_ring *p = mk(8192);
	assert_int_equal(put(p, 30, 0, NULL), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* reserve and die before publishing */
		struct gb_ring *q;
		struct gb_ring_slot s;
		if (gb_ring_open_producer(path, &q) < 0 || gb_ring_reserve(q, 1, 0, 40, 0, 0, &s) < 0)
			_exit(2);
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(put(p, 30, 2, NULL), 0);
	struct gb_ring *c = cons();
	gb_ring_consumer_set(c, &(struct gb_ring_consumer_opts){ .abandon_ms = 50 });
	struct gb_ring_entry e;
	assert_int_equal(gb_ring_next(c, &e, 1000), 1);
	assert_int_equal(e.seq, 0);
	gb_ring_consume(c);
	double t0 = now_s();
	assert_int_equal(gb_ring_next(c, &e, 2000), 1);
	assert_true(now_s() - t0 >= 0.045); /* waited the abandon window */
	assert_int_equal(e.is_loss, 1);
	assert_int_equal(e.loss_cause, GB_LOSS_ABANDONED);
	assert_int_equal(e.first_seq, 1);
	assert_int_equal(e.last_seq, 1);
	gb_ring_consume(c);
	assert_int_equal(gb_ring_next(c, &e, 1000), 1);
	assert_int_equal(e.seq, 2);
	check_payload(&e, 30, 2);
	gb_ring_consume(c);
	struct gb_ring_stats st;
	gb_ring_stats(c, &st);
	assert_int_equal(st.abandoned, 1);
	gb_ring_close(p);
	gb_ring_close(c);
}

static void t_live_reservation_is_never_skipped(void **state)
{
	(void)state;
	struct gb_ring *p = mk(8192), *c = cons();
	gb_ring_consumer_set(c, &(struct gb_ring_consumer_opts){ .abandon_ms = 20 });
	struct gb_ring_slot s;
	assert_int_equal(gb_ring_reserve(p, 1, 0, 8, 0, 0, &s), 0); /* this process: alive */
	assert_int_equal(put(p, 8, 1, NULL), 0);
	struct gb_ring_entry e;
	assert_int_equal(gb_ring_next(c, &e, 200), 0); /* waits, does not skip */
	memset(s.data, 5, 8);
	gb_ring_publish(p, &s);
	assert_int_equal(gb_ring_next(c, &e, 200), 1);
	assert_int_equal(e.seq, 0);
	gb_ring_close(p);
	gb_ring_close(c);
}

static void t_deferred_commit_and_rewind(void **state)
{
	(void)state;
	struct gb_ring *p = mk(8192), *c = cons();
	gb_ring_consumer_set(c, &(struct gb_ring_consumer_opts){ .deferred_commit = 1 });
	for (int i = 0; i < 6; i++)
		assert_int_equal(put(p, 16, (uint64_t)i, NULL), 0);
	struct gb_ring_entry e;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(gb_ring_next(c, &e, 0), 1);
		assert_int_equal(e.seq, (uint64_t)i);
		gb_ring_consume(c);
	}
	struct gb_ring_stats st;
	gb_ring_stats(c, &st);
	assert_int_equal(st.read_seq, 0); /* nothing published yet */
	gb_ring_commit(c);
	gb_ring_stats(c, &st);
	assert_int_equal(st.read_seq, 3);
	for (int i = 3; i < 5; i++) {
		assert_int_equal(gb_ring_next(c, &e, 0), 1);
		gb_ring_consume(c);
	}
	gb_ring_rewind(c); /* the batch 3..4 could not be stored */
	assert_int_equal(gb_ring_next(c, &e, 0), 1);
	assert_int_equal(e.seq, 3);
	gb_ring_close(c);
	c = cons(); /* a restart resumes at the last commit too */
	assert_int_equal(gb_ring_next(c, &e, 0), 1);
	assert_int_equal(e.seq, 3);
	gb_ring_close(p);
	gb_ring_close(c);
}

static void t_roles_and_bad_files(void **state)
{
	(void)state;
	struct gb_ring *p = mk(4096), *c = cons();
	struct gb_ring_entry e;
	struct gb_ring_slot s;
	assert_int_equal(gb_ring_next(p, &e, 0), -EPERM);
	assert_int_equal(gb_ring_reserve(c, 1, 0, 8, 0, 0, &s), -EPERM);
	gb_ring_close(p);
	gb_ring_close(c);
	struct gb_ring_opts o = { .size = 5000 };
	struct gb_ring *r = NULL;
	assert_int_equal(gb_ring_create(path, &o, &r), -EINVAL); /* not a power of two */
	o.sandbox_id = "an-id-that-is-far-too-long-for-the-header-field-of-sixty-four-bytes!";
	o.size = 4096;
	assert_int_equal(gb_ring_create(path, &o, &r), -ENAMETOOLONG);
	char bad[160];
	snprintf(bad, sizeof bad, "%s/bad", dir);
	int fd = open(bad, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	char junk[16384];
	memset(junk, 'x', sizeof junk);
	assert_int_equal(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
	close(fd);
	assert_int_equal(gb_ring_open_consumer(bad, &r), -EINVAL);
	assert_int_equal(gb_ring_open_producer(bad, &r), -EINVAL);
	assert_int_equal(truncate(bad, 100), 0);
	assert_int_equal(gb_ring_open_consumer(bad, &r), -EINVAL);
	unlink(bad);
	assert_int_equal(gb_ring_open_consumer("/nonexistent/ring", &r), -ENOENT);
	/* A fifo where the ring should be: open and fstat succeed, so the
	 * answer is EINVAL, never whatever errno an earlier call left. */
	assert_int_equal(mkfifo(bad, 0600), 0);
	errno = EPERM;
	assert_int_equal(gb_ring_create(bad, &(struct gb_ring_opts){ .size = 4096 }, &r), -EINVAL);
	unlink(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_wrap_around, setup, teardown),
		cmocka_unit_test_setup_teardown(t_exact_fit_and_oversize, setup, teardown),
		cmocka_unit_test_setup_teardown(t_drop_accounting, setup, teardown),
		cmocka_unit_test_setup_teardown(t_trailing_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(t_producer_reopen_and_consumer_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(t_generation, setup, teardown),
		cmocka_unit_test_setup_teardown(t_wait_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(t_empty_timeout_and_wake, setup, teardown),
		cmocka_unit_test_setup_teardown(t_abandoned_reservation, setup, teardown),
		cmocka_unit_test_setup_teardown(t_live_reservation_is_never_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(t_deferred_commit_and_rewind, setup, teardown),
		cmocka_unit_test_setup_teardown(t_roles_and_bad_files, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
