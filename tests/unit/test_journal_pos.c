/* tests/unit/test_journal_pos.c — journal.h's position questions on a real
 * journal of sealed (multi-frame) and active segments: gb_journal_lines_before
 * at every event boundary (also inside a frame, where the index alone
 * cannot answer) equals the count a full read gives, and in the active
 * segment too; gb_journal_lag from every position adds up to the bytes a
 * reader still gets, and is zero at the end.  These numbers decide how many
 * undelivered events a retention pass reports as LOSS, so an off-by-one
 * here is a silent loss or a false alarm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exporter/journal.h"
#include "unit/tmpdir.h"

static char top[256], dir[300];

static int setup(void **state)
{
	*state = top;
	int rc = gb_tmpdir_make(top, sizeof top, "jpos");
	snprintf(dir, sizeof dir, "%s/j", top); /* the journal creates it */
	return rc;
}

/* n events of varying length, so frames and segments cut at odd places */
static void fill(struct gb_journal *j, int from, int n)
{
	char line[600];
	for (int i = from; i < from + n; i++) {
		int pad = (i * 37) % 300;
		int l = snprintf(line, sizeof line,
		                 "{\"class_uid\":4001,\"severity_id\":1,\"time\":%d,\"metadata\":"
		                 "{\"log_name\":\"p\",\"uid\":\"p:%d\"},\"pad\":\"%.*s\"}",
		                 1700000000 + i, i, pad,
		                 "................................................................"
		                 "................................................................"
		                 "................................................................"
		                 "................................................................"
		                 "................................................................");
		struct gb_jmeta m = { .time_ms = 1700000000000LL + i, .sandbox = "p", .class_uid = 4001,
			              .severity_id = 1 };
		assert_int_equal(gb_journal_append(j, line, (size_t)l, &m, NULL), 0);
	}
}

struct ev { struct gb_jpos pos; size_t len; };

/* Every event's position, by reading the journal from the start. */
static size_t read_all(struct ev *v, size_t max)
{
	struct gb_jreader *r;
	assert_int_equal(gb_jreader_open(dir, NULL, NULL, &r), 0);
	size_t n = 0;
	const char *l;
	size_t len;
	struct gb_jpos pos;
	int rc;
	while ((rc = gb_jreader_next(r, &l, &len, &pos)) == 1 && n < max)
		v[n++] = (struct ev){ pos, len };
	assert_int_equal(rc, 0);
	gb_jreader_close(r);
	return n;
}

static void t_lines_before_and_lag(void **state)
{
	(void)state;
	struct gb_journal_opts o = { .dir = dir, .segment_bytes = 16384, .frame_bytes = 1024,
		                     .fsync = GB_FSYNC_NEVER };
	struct gb_journal *j = NULL;
	char err[256];
	assert_int_equal(gb_journal_open(&o, &j, err, sizeof err), 0);
	fill(j, 0, 400);      /* several sealed segments of many frames ... */
	assert_int_equal(gb_journal_rotate(j), 0);
	fill(j, 400, 30);     /* ... and an active one */
	assert_int_equal(gb_journal_flush(j), 0);

	enum { MAX = 1000 };
	struct ev *v = calloc(MAX, sizeof *v);
	assert_non_null(v);
	size_t n = read_all(v, MAX);
	assert_int_equal(n, 430);
	assert_true(v[n - 1].pos.segment - v[0].pos.segment >= 3);

	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += v[i].len + 1;
	uint64_t behind = total; /* bytes after the cursor */
	uint64_t in_seg = 0;     /* events of this segment before the cursor */
	for (size_t i = 0; i < n; i++) {
		if (i && v[i].pos.segment != v[i - 1].pos.segment)
			in_seg = 0;
		/* the cursor just before event i (where a sink that delivered
		 * everything up to i-1 of this segment stands) */
		uint64_t lines = 12345;
		assert_int_equal(gb_journal_lines_before(dir, &v[i].pos, &lines), 0);
		assert_int_equal(lines, in_seg);
		uint64_t segs = 99, bytes = 99;
		assert_int_equal(gb_journal_lag(dir, &v[i].pos, &segs, &bytes), 0);
		assert_int_equal(bytes, behind);
		assert_int_equal(segs, v[n - 1].pos.segment - v[i].pos.segment);
		/* and just after it (the cursor a sink saves after event i) */
		struct gb_jpos after = { v[i].pos.segment, v[i].pos.offset + v[i].len + 1 };
		assert_int_equal(gb_journal_lines_before(dir, &after, &lines), 0);
		assert_int_equal(lines, in_seg + 1);
		in_seg++;
		behind -= v[i].len + 1;
	}
	/* at the end nothing is behind */
	struct gb_jpos end = gb_journal_end(j);
	uint64_t segs = 9, bytes = 9;
	assert_int_equal(gb_journal_lag(dir, &end, &segs, &bytes), 0);
	assert_int_equal(segs, 0);
	assert_int_equal(bytes, 0);
	/* a position before the first segment lags by everything */
	struct gb_jpos zero = { 0, 0 };
	assert_int_equal(gb_journal_lag(dir, &zero, &segs, &bytes), 0);
	assert_int_equal(bytes, total);
	free(v);
	gb_journal_close(j);
}

static void t_empty_and_missing(void **state)
{
	(void)state;
	struct gb_jpos p = { 5, 100 };
	uint64_t lines = 7, segs = 7, bytes = 7;
	/* no journal yet: nothing is behind, nothing was delivered */
	assert_int_equal(gb_journal_lag(dir, &p, &segs, &bytes), 0);
	assert_int_equal(segs, 0);
	assert_int_equal(bytes, 0);
	assert_int_equal(gb_journal_lines_before(dir, &p, &lines), 0);
	assert_int_equal(lines, 0);
	/* offset 0 is before every event of any segment */
	struct gb_jpos z = { 5, 0 };
	assert_int_equal(gb_journal_lines_before(dir, &z, &lines), 0);
	assert_int_equal(lines, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_lines_before_and_lag, setup, gb_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(t_empty_and_missing, setup, gb_tmpdir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
