/* tests/unit/test_journal_held.c — exactly-once bookkeeping of serve's
 * drain threads: gb_journal_held (which of a ring's unacknowledged records
 * the journal's tail already holds, across a seal, never one it does not
 * hold: other sandbox id, other time, absent) and gb_journal_durable (an
 * append dropped by a rollback is not durable because a later write
 * happened). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "exporter/journal.h"
#include "exporter/journal_held.h"
#include "unit/tmpdir.h"

#define T0 1700000000000LL

static char dir[256];

static int setup(void **state)
{
	(void)state;
	assert_int_equal(gb_tmpdir_make_sub(dir, sizeof dir, "jheld", "j"), 0); /* the journal makes j */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	gb_tmpdir_remove_sub(dir);
	return 0;
}

static void put(struct gb_journal *j, const char *name, const char *sid, int seq, long long t)
{
	char line[256];
	int n = snprintf(line, sizeof line,
	                 "{\"class_uid\":4001,\"severity_id\":1,\"time\":%lld,\"metadata\":{\"uid\":\"%s:%d\","
	                 "\"log_name\":\"%s\"}}", t, sid, seq, name);
	struct gb_jmeta m = { .time_ms = t, .sandbox = name, .class_uid = 4001, .severity_id = 1 };
	assert_int_equal(gb_journal_append(j, line, (size_t)n, &m, NULL), 0);
}

static void t_held(void **state)
{
	(void)state;
	struct gb_journal_opts o = { .dir = dir, .fsync = GB_FSYNC_NEVER };
	struct gb_journal *j;
	char err[256];
	assert_int_equal(gb_journal_open(&o, &j, err, sizeof err), 0);
	for (int i = 0; i < 8; i++)
		put(j, "sb", "sid1", i, T0 + i);
	assert_int_equal(gb_journal_rotate(j), 0); /* 0..7 sealed, the rest active */
	put(j, "sb", "sid1", 8, T0 + 8);
	put(j, "sb", "sid2", 10, T0 + 10);  /* another run of the same name */
	put(j, "other", "sid1", 9, T0 + 9); /* the same id under another name: not read */
	put(j, "sb", "sid1", 11, T0 + 999); /* same uid, another time: another record */
	put(j, "sb", "sid1", 13, T0 + 13);
	gb_journal_close(j);

	struct gb_held_rec recs[9];
	for (int i = 0; i < 9; i++)
		recs[i] = (struct gb_held_rec){ .seq = (uint64_t)(5 + i), .time_ms = T0 + 5 + i };
	uint8_t held[9];
	assert_int_equal(gb_journal_held(dir, "sb", "sid1", recs, 9, held), 5);
	/* 5 6 7 (sealed) 8 (active) held; 9 10 11 12 not; 13 held (not a prefix) */
	const uint8_t want[9] = { 1, 1, 1, 1, 0, 0, 0, 0, 1 };
	assert_memory_equal(held, want, 9);
	/* nothing of an id the journal never saw */
	assert_int_equal(gb_journal_held(dir, "sb", "sid9", recs, 9, held), 0);
	/* no records, no journal */
	assert_int_equal(gb_journal_held(dir, "sb", "sid1", recs, 0, held), 0);
	char none[300];
	snprintf(none, sizeof none, "%s-none", dir);
	assert_int_equal(gb_journal_held(none, "sb", "sid1", recs, 9, held), 0);
}

static void t_durable_after_rollback(void **state)
{
	(void)state;
	struct gb_journal_opts o = { .dir = dir, .buffer_bytes = 4096, .fsync = GB_FSYNC_NEVER };
	struct gb_journal *j;
	char err[256];
	assert_int_equal(gb_journal_open(&o, &j, err, sizeof err), 0);
	put(j, "sb", "s", 0, T0);
	uint64_t w0 = gb_journal_writes(j), r0 = gb_journal_rollbacks(j);
	assert_false(gb_journal_durable(j, w0, r0)); /* still buffered */
	assert_int_equal(gb_journal_flush(j), 0);
	assert_true(gb_journal_durable(j, w0, r0));
	struct gb_jpos end = gb_journal_end(j);

	/* e1 buffered, then a flush that fails drops it */
	put(j, "sb", "s", 1, T0 + 1);
	uint64_t w1 = gb_journal_writes(j), r1 = gb_journal_rollbacks(j);
	struct rlimit old, lim;
	getrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = (rlim_t)end.offset + 10;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int rc = gb_journal_flush(j);
	setrlimit(RLIMIT_FSIZE, &old);
	assert_int_equal(rc, -EFBIG);
	/* e2 after the rollback, written by a flush that works */
	put(j, "sb", "s", 2, T0 + 2);
	uint64_t w2 = gb_journal_writes(j), r2 = gb_journal_rollbacks(j);
	assert_int_equal(gb_journal_flush(j), 0);
	assert_true(gb_journal_writes(j) > w1); /* the write count alone would say e1 is on disk */
	assert_false(gb_journal_durable(j, w1, r1));
	assert_true(gb_journal_durable(j, w2, r2));
	assert_true(gb_journal_durable(j, w0, r0));
	gb_journal_close(j);
	/* and indeed: e0 and e2 are there, e1 is not */
	struct gb_held_rec recs[3] = { { 0, T0 }, { 1, T0 + 1 }, { 2, T0 + 2 } };
	uint8_t held[3];
	assert_int_equal(gb_journal_held(dir, "sb", "s", recs, 3, held), 2);
	assert_int_equal(held[1], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_held, setup, teardown),
		cmocka_unit_test_setup_teardown(t_durable_after_rollback, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
