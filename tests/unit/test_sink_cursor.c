/* tests/unit/test_sink_cursor.c — the sink cursor and loop (sink.h) on a
 * real journal with the real file sink: cursor file round trip, refusal of
 * damaged cursors, no temporary left behind, a cursor write cut short by
 * the kernel returns the error and leaves the previous cursor whole;
 * delivery of every event in journal order across batches and segments; a stopped sink resumes at its
 * cursor (no repeat, no gap) including events that arrive while it runs;
 * rotation by size keeps exactly `keep` old files; an unwritable
 * destination counts failures and retries and delivers once it is back;
 * a destination refusing every write leaves the cursor where it was and
 * the lag counts every journal byte.
 * (Retention LOSS end to end: integration.sink_retention.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exporter/journal.h"
#include "exporter/sink.h"
#include "unit/tmpdir.h"

static char top[256], jdir[300], cdir[300], out[300];

static int setup(void **state)
{
	*state = top;
	assert_int_equal(gb_tmpdir_make(top, sizeof top, "sink"), 0);
	snprintf(jdir, sizeof jdir, "%s/journal", top);
	snprintf(cdir, sizeof cdir, "%s/cursors", top);
	snprintf(out, sizeof out, "%s/out.jsonl", top);
	return 0;
}

static pthread_mutex_t jmu = PTHREAD_MUTEX_INITIALIZER;

static struct gb_journal *jopen(uint64_t seg_bytes)
{
	struct gb_journal_opts o = { .dir = jdir, .segment_bytes = seg_bytes, .frame_bytes = 1024,
		                     .fsync = GB_FSYNC_NEVER };
	struct gb_journal *j = NULL;
	char err[256];
	assert_int_equal(gb_journal_open(&o, &j, err, sizeof err), 0);
	return j;
}

static void append_n(struct gb_journal *j, int from, int n)
{
	char line[512], sb[64];
	pthread_mutex_lock(&jmu);
	for (int i = from; i < from + n; i++) {
		int l = snprintf(line, sizeof line,
		                 "{\"class_uid\":4001,\"severity_id\":1,\"time\":%lld,\"metadata\":{\"log_name\":"
		                 "\"s1\",\"uid\":\"sbx:%d\"},\"message\":\"event %d padding-padding-padding\"}",
		                 1700000000000LL + i, i, i);
		struct gb_jmeta m;
		assert_int_equal(gb_jmeta_parse(line, (size_t)l, &m, sb, sizeof sb), 0);
		assert_int_equal(gb_journal_append(j, line, (size_t)l, &m, NULL), 0);
	}
	pthread_mutex_unlock(&jmu);
}

static struct gb_sink_conf file_conf(const char *path, uint64_t rotate, uint32_t keep)
{
	struct gb_sink_conf c;
	memset(&c, 0, sizeof c);
	snprintf(c.name, sizeof c.name, "f1");
	c.kind = GB_SINK_FILE;
	c.batch_max = 37; /* batches end in the middle of segments */
	c.backoff_max_ms = 200;
	snprintf(c.path, sizeof c.path, "%s", path);
	c.rotate_bytes = rotate;
	c.keep = keep;
	return c;
}

static struct gb_sinks *start(const struct gb_sink_conf *c)
{
	struct gb_sinks *s = NULL;
	char err[512];
	int rc = gb_sinks_start(c, 1, jdir, cdir, &s, err, sizeof err);
	if (rc < 0)
		fail_msg("gb_sinks_start: %s", err);
	return s;
}

/* Wait (bounded: 10 s) until the sink has acknowledged n events. */
static void wait_sent(struct gb_sinks *s, uint64_t n)
{
	struct gb_sink_metrics m = { 0 };
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(gb_sinks_metrics(s, &m, 1), 1);
		if (m.sent >= n)
			return;
		usleep(10000);
	}
	fail_msg("sink sent %llu of %llu", (unsigned long long)m.sent, (unsigned long long)n);
}

/* The sink's output files, oldest first, concatenated. */
static char *slurp_outputs(uint32_t keep, size_t *nlines)
{
	size_t cap = 1 << 20, len = 0;
	char *all = calloc(1, cap);
	for (int i = (int)keep; i >= 0; i--) {
		char p[400];
		if (i)
			snprintf(p, sizeof p, "%s.%d", out, i);
		else
			snprintf(p, sizeof p, "%s", out);
		FILE *f = fopen(p, "r");
		if (!f)
			continue;
		len += fread(all + len, 1, cap - len - 1, f);
		fclose(f);
	}
	all[len] = 0;
	*nlines = 0;
	for (size_t i = 0; i < len; i++)
		*nlines += all[i] == '\n';
	return all;
}

/* Every journal line, in order, newline-terminated. */
static char *journal_text(size_t *n)
{
	struct gb_jreader *r;
	assert_int_equal(gb_jreader_open(jdir, NULL, NULL, &r), 0);
	size_t cap = 1 << 20, len = 0;
	char *all = calloc(1, cap);
	const char *l;
	size_t ll;
	*n = 0;
	while (gb_jreader_next(r, &l, &ll, NULL) == 1) {
		assert_true(len + ll + 2 < cap);
		memcpy(all + len, l, ll);
		len += ll;
		all[len++] = '\n';
		++*n;
	}
	gb_jreader_close(r);
	return all;
}

static void t_cursor_file(void **state)
{
	(void)state;
	assert_int_equal(mkdir(cdir, 0755), 0);
	char p[400], t[420];
	snprintf(p, sizeof p, "%s/k", cdir);
	struct gb_jpos c = { 7, 12345 }, d;
	assert_int_equal(gb_cursor_load(p, &d), -ENOENT);
	assert_int_equal(gb_cursor_save(p, &c), 0);
	assert_int_equal(gb_cursor_load(p, &d), 0);
	assert_int_equal(d.segment, 7);
	assert_int_equal(d.offset, 12345);
	c = (struct gb_jpos){ UINT64_MAX - 1, 1ull << 40 };
	assert_int_equal(gb_cursor_save(p, &c), 0); /* replaced, not appended */
	assert_int_equal(gb_cursor_load(p, &d), 0);
	assert_memory_equal(&c, &d, sizeof c);
	snprintf(t, sizeof t, "%s.tmp", p);
	assert_int_equal(access(t, F_OK), -1); /* no temporary left behind */
	/* a damaged cursor is refused, not read as "from the start" */
	FILE *f = fopen(p, "w");
	fputs("garbage\n", f);
	fclose(f);
	assert_int_equal(gb_cursor_load(p, &d), -EBADMSG);
	/* an unwritable place is an error, not a silent success */
	snprintf(p, sizeof p, "%s/missing-dir/k", cdir);
	assert_true(gb_cursor_save(p, &c) < 0);
}

/* The cursor write fails halfway for real: RLIMIT_FSIZE below the new
 * cursor's size (SIGXFSZ ignored) makes write(2) store a prefix and return
 * a short count.  The save must return the error, and the previous cursor
 * must survive whole: a truncated cursor renamed into place would point a
 * restarted sink into the middle of what it delivered (or be refused as
 * garbage and lose the position).  No temporary is left. */
static void t_cursor_short_write(void **state)
{
	(void)state;
	assert_int_equal(mkdir(cdir, 0755), 0);
	char p[400], t[420];
	snprintf(p, sizeof p, "%s/k", cdir);
	snprintf(t, sizeof t, "%s.tmp", p);
	struct gb_jpos old = { 3, 4096 }, big = { 123456789012ull, 987654321098ull }, d;
	assert_int_equal(gb_cursor_save(p, &old), 0); /* "3 4096\n": 7 bytes */
	void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
	struct rlimit was, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &was), 0);
	lim = (struct rlimit){ 10, was.rlim_max }; /* the new one needs 26 */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	/* errno as a fresh sink thread has it: a save that reads errno after
	 * a short write (which sets none) would take it for success */
	errno = 0;
	int rc = gb_cursor_save(p, &big);
	setrlimit(RLIMIT_FSIZE, &was);
	signal(SIGXFSZ, prev);
	assert_int_equal(rc, -EFBIG);
	assert_int_equal(gb_cursor_load(p, &d), 0);
	assert_int_equal(d.segment, 3);
	assert_int_equal(d.offset, 4096);
	assert_int_equal(access(t, F_OK), -1);
	/* and once the disk has room again, the save goes through */
	assert_int_equal(gb_cursor_save(p, &big), 0);
	assert_int_equal(gb_cursor_load(p, &d), 0);
	assert_memory_equal(&big, &d, sizeof big);
}

static void t_deliver_resume(void **state)
{
	(void)state;
	struct gb_journal *j = jopen(8192);
	append_n(j, 0, 300);
	struct gb_sink_conf c = file_conf(out, 1 << 20, 3);
	struct gb_sinks *s = start(&c);
	wait_sent(s, 300);
	gb_sinks_stop(s);
	char cp[400];
	snprintf(cp, sizeof cp, "%s/f1", cdir);
	struct gb_jpos cur;
	assert_int_equal(gb_cursor_load(cp, &cur), 0);
	struct gb_jpos end = gb_journal_end(j);
	assert_int_equal(cur.segment, end.segment); /* the cursor is at the end */
	assert_int_equal(cur.offset, end.offset);
	/* more while the sink is stopped, some of it sealed */
	append_n(j, 300, 200);
	assert_int_equal(gb_journal_rotate(j), 0);
	append_n(j, 500, 100);
	s = start(&c);
	wait_sent(s, 300);
	append_n(j, 600, 50); /* and some while it runs: woken by the journal */
	wait_sent(s, 350);
	struct gb_sink_metrics m;
	assert_int_equal(gb_sinks_metrics(s, &m, 1), 1);
	assert_string_equal(m.name, "f1");
	assert_int_equal(m.failed, 0);
	assert_int_equal(m.retried, 0);
	gb_sinks_stop(s);
	size_t nj, nf;
	char *jt = journal_text(&nj);
	char *ft = slurp_outputs(3, &nf);
	assert_int_equal(nj, 650);
	assert_int_equal(nf, 650);
	assert_string_equal(ft, jt); /* same lines, same order: no gap, no repeat */
	free(jt);
	free(ft);
	gb_journal_close(j);
}

static void t_rotation_keeps_n(void **state)
{
	(void)state;
	struct gb_journal *j = jopen(1 << 20);
	append_n(j, 0, 400); /* ~60 KiB */
	struct gb_sink_conf c = file_conf(out, 8192, 2);
	c.batch_max = 10;
	struct gb_sinks *s = start(&c);
	wait_sent(s, 400);
	gb_sinks_stop(s);
	char p[400];
	struct stat st;
	for (int i = 1; i <= 2; i++) {
		snprintf(p, sizeof p, "%s.%d", out, i);
		assert_int_equal(stat(p, &st), 0);
		assert_true(st.st_size <= 8192);
	}
	snprintf(p, sizeof p, "%s.3", out);
	assert_int_equal(access(p, F_OK), -1); /* only keep=2 rotated files */
	/* what is kept is the newest part of the journal, in order */
	size_t nj, nf;
	char *jt = journal_text(&nj);
	char *ft = slurp_outputs(2, &nf);
	assert_true(nf > 0 && nf < nj);
	assert_string_equal(ft, jt + strlen(jt) - strlen(ft));
	free(jt);
	free(ft);
	gb_journal_close(j);
}

static void t_destination_down_then_back(void **state)
{
	(void)state;
	struct gb_journal *j = jopen(8192);
	append_n(j, 0, 100);
	char dir[400], path[500];
	snprintf(dir, sizeof dir, "%s/later", top);
	snprintf(path, sizeof path, "%s/out.jsonl", dir);
	struct gb_sink_conf c = file_conf(path, 1 << 20, 2);
	struct gb_sinks *s = start(&c); /* its directory does not exist yet */
	usleep(600000);
	struct gb_sink_metrics m;
	assert_int_equal(gb_sinks_metrics(s, &m, 1), 1);
	assert_int_equal(m.sent, 0);
	assert_true(m.failed > 0); /* it tried, and says so */
	assert_int_equal(mkdir(dir, 0755), 0);
	wait_sent(s, 100);
	gb_sinks_stop(s);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	int lines = 0, ch;
	while ((ch = fgetc(f)) != EOF)
		lines += ch == '\n';
	fclose(f);
	assert_int_equal(lines, 100);
	gb_journal_close(j);
}

/* A destination that refuses every write (/dev/full: ENOSPC): nothing is
 * acknowledged, the cursor does not move, and the lag says how far behind
 * the sink is — every byte of the journal, in both segments. */
static void t_lag_while_stuck(void **state)
{
	(void)state;
	struct gb_journal *j = jopen(8192);
	append_n(j, 0, 80);
	assert_int_equal(gb_journal_rotate(j), 0); /* one sealed segment ... */
	append_n(j, 80, 20);                        /* ... and an active one */
	struct gb_sink_conf c = file_conf("/dev/full", 1 << 20, 2);
	c.backoff_max_ms = 50;
	struct gb_sinks *s = start(&c);
	struct gb_sink_metrics m = { 0 };
	for (int i = 0; i < 500 && m.failed < 3; i++) {
		usleep(10000);
		gb_sinks_metrics(s, &m, 1);
	}
	gb_sinks_stop(s);
	assert_true(m.failed >= 3);
	assert_true(m.retried >= 2);
	assert_int_equal(m.sent, 0);
	size_t nj;
	char *jt = journal_text(&nj);
	assert_int_equal(nj, 100);
	assert_int_equal(m.lag_bytes, strlen(jt));
	assert_true(m.lag_segments >= 1);
	free(jt);
	char cp[400];
	snprintf(cp, sizeof cp, "%s/f1", cdir);
	struct gb_jpos cur;
	assert_int_equal(gb_cursor_load(cp, &cur), -ENOENT); /* never moved */
	gb_journal_close(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_cursor_file, setup, gb_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(t_cursor_short_write, setup, gb_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(t_deliver_resume, setup, gb_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(t_rotation_keeps_n, setup, gb_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(t_destination_down_then_back, setup, gb_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(t_lag_while_stuck, setup, gb_tmpdir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
