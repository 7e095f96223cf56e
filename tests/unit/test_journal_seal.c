/* tests/unit/test_journal_seal.c — sealing off the appending thread
 * (journal_write.c's sealer): appends go on while rotated segments wait
 * unsealed, every reader takes them meanwhile and after, the backlog is
 * bounded (a rotation past it waits), close and a crash leave nothing
 * unsealed for long, and the chain is intact after many rotations and
 * after a seal that failed (the segments behind it wait for its retry). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exporter/journal_int.h"
#include "unit/tmpdir.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	assert_int_equal(gb_tmpdir_make_sub(dir, sizeof dir, "jseal", "j"), 0); /* the journal makes j */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	gb_tmpdir_remove_sub(dir);
	return 0;
}

/* Event i of sandbox alpha (odd) or beta (even), ~200 bytes, timed now
 * (a reopened segment's age is judged by its first event's time). */
static void append_one(struct gb_journal *j, int i)
{
	static long long t0;
	if (!t0)
		t0 = (long long)time(NULL) * 1000;
	char line[512], sb[64];
	const char *sbx = i % 2 ? "alpha" : "beta";
	int l = snprintf(line, sizeof line,
	                 "{\"class_uid\":4001,\"severity_id\":1,\"time\":%lld,\"metadata\":{\"log_name\":"
	                 "\"%s\",\"uid\":\"%s:%d\"},\"message\":\"event %d padding-padding-padding\"}",
	                 t0 + i, sbx, sbx, i, i);
	struct gb_jmeta m;
	assert_int_equal(gb_jmeta_parse(line, (size_t)l, &m, sb, sizeof sb), 0);
	assert_int_equal(gb_journal_append(j, line, (size_t)l, &m, NULL), 0);
}

static struct gb_journal *open_small(uint64_t retain_bytes)
{
	struct gb_journal_opts o = { .dir = dir, .segment_bytes = 8192, .frame_bytes = 1024,
		                     .fsync = GB_FSYNC_NEVER, .retain_bytes = retain_bytes };
	struct gb_journal *j = NULL;
	char err[256];
	assert_int_equal(gb_journal_open(&o, &j, err, sizeof err), 0);
	return j;
}

/* Append from *i on until the active segment is `segment` (the rotation
 * into it happened, and one event is in it). */
static void append_until(struct gb_journal *j, int *i, uint64_t segment)
{
	for (int k = 0; k < 10000 && gb_journal_end(j).segment < segment; k++)
		append_one(j, (*i)++);
	assert_int_equal(gb_journal_end(j).segment, segment);
}

/* Every event (or a sandbox's) in order: the count, checking each number
 * follows the one before (step 1, or 2 for one sandbox). */
static int read_all(const char *sandbox)
{
	struct gb_jfilter f = { .sandbox = sandbox };
	struct gb_jreader *r;
	assert_int_equal(gb_jreader_open(dir, sandbox ? &f : NULL, NULL, &r), 0);
	const char *l;
	size_t n;
	int count = 0, prev = -1, rc;
	while ((rc = gb_jreader_next(r, &l, &n, NULL)) == 1) {
		const char *m = strstr(l, "\"message\":\"event ");
		assert_non_null(m);
		int i = atoi(m + 17);
		if (prev >= 0)
			assert_int_equal(i, prev + (sandbox ? 2 : 1));
		prev = i;
		count++;
	}
	assert_int_equal(rc, 0);
	gb_jreader_close(r);
	return count;
}

struct listing {
	size_t segs, unsealed, sealed;
};

static struct listing list_now(void)
{
	struct jseg *v;
	size_t n;
	assert_int_equal(jseg_list(dir, &v, &n), 0);
	struct listing L = { n, 0, 0 };
	for (size_t i = 0; i < n; i++) {
		L.unsealed += v[i].active;
		L.sealed += v[i].sealed && v[i].has_idx && !v[i].has_jsonl;
	}
	free(v);
	return L;
}

static void report_print(void *arg, const char *text)
{
	(*(int *)arg)++;
	print_message("verify: %s\n", text);
}

static int verify(uint64_t *checked)
{
	int problems = 0;
	assert_int_equal(gb_journal_verify(dir, report_print, &problems, checked), problems);
	return problems;
}

static void on_delete(void *arg, uint64_t seg, uint64_t events)
{
	(void)seg, (void)events;
	(*(int *)arg)++;
}

struct appender {
	struct gb_journal *j;
	int from, to;
	atomic_bool done;
};

static void *append_thread(void *arg)
{
	struct appender *a = arg;
	for (int i = a->from; i < a->to; i++)
		append_one(a->j, i);
	atomic_store(&a->done, true);
	return NULL;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* The sealer held: two rotated segments wait unsealed beside the active
 * one, appends go on, and readers, positions, verify and retention take
 * them; a third rotation waits (backpressure) until the sealer runs; then
 * everything is sealed and reads the same. */
static void t_appends_while_seal_pending(void **state)
{
	(void)state;
	struct gb_journal *j = open_small(1);
	jseal_hold(j, true);
	int i = 0;
	append_until(j, &i, 3); /* segments 1 and 2 rotated, 3 active */
	for (int k = 0; k < 5; k++)
		append_one(j, i++); /* more appends into 3 while 1 and 2 wait */
	struct listing L = list_now();
	assert_int_equal(L.segs, 3);
	assert_int_equal(L.unsealed, 3);
	assert_int_equal(L.sealed, 0);
	assert_int_equal(gb_journal_sealed(j), 0);

	/* readers: everything, in order, and a filtered reader (the rotated
	 * segments' block sidecars) */
	assert_int_equal(read_all(NULL), i);
	assert_int_equal(read_all("alpha"), i / 2);
	struct gb_jpos tail, end = gb_journal_end(j);
	assert_int_equal(gb_journal_tail(dir, &tail), 0);
	assert_int_equal(tail.segment, end.segment);
	assert_int_equal(tail.offset, end.offset);
	uint64_t segs, bytes;
	assert_int_equal(gb_journal_lag(dir, &(struct gb_jpos){ 1, 0 }, &segs, &bytes), 0);
	assert_int_equal(segs, 2);
	uint64_t lines;
	assert_int_equal(gb_journal_lines_before(dir, &(struct gb_jpos){ 2, 4096 }, &lines), 0);
	assert_true(lines > 0);
	/* verify: unsealed segments are checked line by line, not a problem */
	uint64_t checked = 99;
	assert_int_equal(verify(&checked), 0);
	assert_int_equal(checked, 0);
	/* retention never deletes what is not sealed (retain_bytes 1) */
	int deleted = 0;
	assert_int_equal(gb_journal_retain(j, on_delete, &deleted), 0);
	assert_int_equal(deleted, 0);

	/* backpressure: the rotation into segment 4 waits for the sealer */
	struct appender a = { .j = j, .from = i, .to = i + 60 };
	i += 60;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, append_thread, &a), 0);
	sleep_ms(300);
	assert_false(atomic_load(&a.done));
	assert_int_equal(list_now().segs, 3); /* no segment 4 yet */
	jseal_hold(j, false);
	pthread_join(t, NULL);
	assert_true(atomic_load(&a.done));

	assert_int_equal(gb_journal_settle(j), 0);
	assert_true(gb_journal_sealed(j) >= 3);
	L = list_now();
	assert_int_equal(L.unsealed, 1); /* the active one */
	assert_int_equal(L.sealed, L.segs - 1);
	assert_int_equal(read_all(NULL), i);
	assert_int_equal(read_all("beta"), (i + 1) / 2);
	assert_int_equal(verify(&checked), 0);
	assert_int_equal(checked, L.segs - 1);
	gb_journal_close(j);
	assert_int_equal(read_all(NULL), i);
	assert_int_equal(verify(NULL), 0);
}

/* A follower reads while the writer rotates every few events and the
 * sealer seals behind it (the reader meets .jsonl files turning into .zst
 * under it): every event once, in order. */
struct follower {
	int want, got;
};

static void *follow_thread(void *arg)
{
	struct follower *fo = arg;
	struct gb_jreader *r;
	if (gb_jreader_open(dir, NULL, NULL, &r) < 0)
		return NULL;
	const char *l;
	size_t n;
	/* bounded by time, not by wake-ups: a follower as fast as the writer
	 * wakes once per append (4000 here), and one that stalls fails within
	 * the minute instead of hanging */
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (t = t0; t.tv_sec - t0.tv_sec < 60 && fo->got < fo->want; clock_gettime(CLOCK_MONOTONIC, &t)) {
		int rc;
		while ((rc = gb_jreader_next(r, &l, &n, NULL)) == 1) {
			const char *m = strstr(l, "\"message\":\"event ");
			if (!m || atoi(m + 17) != fo->got)
				goto out; /* out of order or lost: the main thread sees got < want */
			fo->got++;
		}
		if (rc < 0)
			break;
		if (fo->got < fo->want)
			gb_jreader_wait(r, 100);
	}
out:
	gb_jreader_close(r);
	return NULL;
}

/* Many rotations, sealed in the background, some explicit (which wait):
 * the chain links every segment to the one before, head.json names the
 * last, verify finds nothing, a follower saw every event. */
static void t_chain_after_many_rotations(void **state)
{
	(void)state;
	struct gb_journal *j = open_small(0);
	struct follower fo = { .want = 4000 };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, follow_thread, &fo), 0);
	for (int i = 0; i < fo.want; i++) {
		append_one(j, i);
		if (i % 501 == 500)
			assert_int_equal(gb_journal_rotate(j), 0); /* sealed when it returns */
		if (i % 501 == 500)
			assert_true(gb_journal_sealed(j) == gb_journal_end(j).segment - 1);
	}
	uint64_t last = gb_journal_end(j).segment;
	assert_true(last > 60);
	pthread_join(t, NULL);
	assert_int_equal(fo.got, fo.want);
	assert_int_equal(gb_journal_settle(j), 0);
	assert_int_equal(gb_journal_sealed(j), last - 1);

	/* the chain, segment by segment */
	struct jseg *v;
	size_t n;
	assert_int_equal(jseg_list(dir, &v, &n), 0);
	assert_int_equal(n, last);
	char prev[65] = "";
	for (size_t k = 0; k + 1 < n; k++) {
		assert_int_equal(v[k].n, k + 1);
		assert_true(v[k].sealed && v[k].has_idx && !v[k].has_jsonl);
		char p[GB_PATH_MAX];
		struct jidx x;
		assert_int_equal(jseg_path(p, sizeof p, dir, &v[k], ".idx.json"), 0);
		assert_int_equal(jidx_read(p, &x), 0);
		assert_string_equal(x.prev_sha256, prev);
		snprintf(prev, sizeof prev, "%s", x.sha256);
		jidx_free(&x);
	}
	assert_true(v[n - 1].active);
	free(v);
	uint64_t head_n;
	char head_sha[65];
	assert_int_equal(jchain_read(dir, "head.json", &head_n, head_sha), 0);
	assert_int_equal(head_n, last - 1);
	assert_string_equal(head_sha, prev);
	uint64_t checked;
	assert_int_equal(verify(&checked), 0);
	assert_int_equal(checked, last - 1);
	assert_int_equal(read_all(NULL), fo.want);
	gb_journal_close(j);
	assert_int_equal(verify(&checked), 0);
}

/* Close seals what waits (a hold ends with it). */
static void t_close_finishes_pending(void **state)
{
	(void)state;
	struct gb_journal *j = open_small(0);
	jseal_hold(j, true);
	int i = 0;
	append_until(j, &i, 3);
	assert_int_equal(list_now().unsealed, 3);
	gb_journal_close(j);
	struct listing L = list_now();
	assert_int_equal(L.segs, 3);
	assert_int_equal(L.unsealed, 1);
	assert_int_equal(L.sealed, 2);
	uint64_t checked;
	assert_int_equal(verify(&checked), 0);
	assert_int_equal(checked, 2);
	/* the active segment is continued by the next open */
	j = open_small(0);
	append_one(j, i++);
	assert_int_equal(gb_journal_end(j).segment, 3);
	gb_journal_close(j);
	assert_int_equal(read_all(NULL), i);
}

/* A writer that dies with rotated segments unsealed: the next open seals
 * them, oldest first, chained. */
static void t_crash_with_pending_seals(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct gb_journal_opts o = { .dir = dir, .segment_bytes = 8192, .frame_bytes = 1024,
			                     .fsync = GB_FSYNC_NEVER };
		struct gb_journal *j;
		char err[256];
		if (gb_journal_open(&o, &j, err, sizeof err) < 0)
			_exit(2);
		jseal_hold(j, true);
		int i = 0;
		append_until(j, &i, 3);
		_exit(i > 0 ? 0 : 3); /* no close: as a kill -9 would */
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(list_now().unsealed, 3);
	int events = read_all(NULL);
	assert_true(events > 0);
	struct gb_journal *j = open_small(0);
	assert_int_equal(gb_journal_sealed(j), 2);
	struct listing L = list_now();
	assert_int_equal(L.unsealed, 1);
	assert_int_equal(L.sealed, 2);
	append_one(j, events);
	gb_journal_close(j);
	uint64_t checked;
	assert_int_equal(verify(&checked), 0);
	assert_int_equal(checked, 2);
	assert_int_equal(read_all(NULL), events + 1);
}

/* A seal that fails (its .zst.tmp cannot be created: a directory is in the
 * way) is logged, its .jsonl stays and reads; the explicit rotation and
 * settle report it; the next open seals it. */
static void t_seal_failure(void **state)
{
	(void)state;
	struct gb_journal *j = open_small(0);
	int i = 0;
	append_one(j, i++);
	struct jseg *v;
	size_t n;
	assert_int_equal(jseg_list(dir, &v, &n), 0);
	assert_int_equal(n, 1);
	char tmp[GB_PATH_MAX];
	assert_int_equal(jseg_path(tmp, sizeof tmp, dir, &v[0], ".jsonl.zst.tmp"), 0);
	free(v);
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_int_equal(gb_journal_rotate(j), -EISDIR);
	assert_int_equal(gb_journal_settle(j), -EISDIR);
	assert_int_equal(gb_journal_settle(j), 0); /* said once */
	assert_int_equal(gb_journal_sealed(j), 0);
	append_one(j, i++); /* the journal goes on in segment 2 */
	assert_int_equal(gb_journal_end(j).segment, 2);
	assert_int_equal(list_now().unsealed, 2);
	assert_int_equal(read_all(NULL), i);
	gb_journal_close(j);
	assert_int_equal(rmdir(tmp), 0);
	j = open_small(0); /* recover() seals segment 1 now */
	assert_int_equal(gb_journal_sealed(j), 1);
	gb_journal_close(j);
	assert_int_equal(list_now().sealed, 1);
	assert_int_equal(read_all(NULL), i);
	assert_int_equal(verify(NULL), 0);
}

/* Put a directory where segment n's .zst.tmp goes: its seal fails with
 * EISDIR until obstacle_remove. */
static void obstacle(uint64_t n, char *tmp, size_t len)
{
	struct jseg s = { .n = n };
	struct jseg *v;
	size_t k;
	assert_int_equal(jseg_list(dir, &v, &k), 0);
	for (size_t i = 0; i < k; i++)
		if (v[i].n == n)
			s = v[i];
	free(v);
	assert_int_equal(jseg_path(tmp, len, dir, &s, ".jsonl.zst.tmp"), 0);
	assert_int_equal(mkdir(tmp, 0700), 0);
}

/* The chain across a failed seal (a regression: segment 2 was sealed
 * while 1 could not be, naming the segment before 1 as its prev_sha256,
 * and verify found the chain broken once 1 was sealed).  Segments behind
 * the failed one wait for it; with the queue full the active segment
 * grows instead of rotating; when the cause is gone, the retry seals
 * them in order. */
static void t_failed_seal_keeps_chain(void **state)
{
	(void)state;
	struct gb_journal *j = open_small(0);
	jseal_retry_pause(j, 20, 20);
	int i = 0;
	append_one(j, i++);
	char tmp[GB_PATH_MAX];
	obstacle(1, tmp, sizeof tmp);
	append_until(j, &i, 2); /* 1 rotated: its seal fails, and is retried */
	append_until(j, &i, 3); /* 2 rotated: queued behind 1, not sealed */
	assert_int_equal(gb_journal_settle(j), -EISDIR);
	assert_int_equal(gb_journal_sealed(j), 0);
	assert_int_equal(list_now().unsealed, 3);
	for (int k = 0; k < 200; k++) /* ~5 segments' worth: 3 grows instead */
		append_one(j, i++);
	assert_int_equal(gb_journal_end(j).segment, 3);
	assert_int_equal(gb_journal_sealed(j), 0);
	assert_int_equal(read_all(NULL), i);
	assert_int_equal(rmdir(tmp), 0); /* the next try seals 1, then 2 */
	for (int k = 0; k < 1000 && gb_journal_sealed(j) < 2; k++)
		sleep_ms(10);
	assert_int_equal(gb_journal_sealed(j), 2);
	assert_int_equal(gb_journal_rotate(j), 0); /* and 3, grown, rotates */
	assert_int_equal(gb_journal_sealed(j), 3);
	append_one(j, i++);
	gb_journal_close(j);
	uint64_t checked = 0;
	assert_int_equal(verify(&checked), 0);
	assert_int_equal(checked, 3);
	assert_int_equal(read_all(NULL), i);
}

/* Closed while a seal fails: the queued segments are left, in order, to
 * the next open, which seals them with the chain intact. */
static void t_close_while_seal_fails(void **state)
{
	(void)state;
	struct gb_journal *j = open_small(0);
	int i = 0;
	append_one(j, i++);
	char tmp[GB_PATH_MAX];
	obstacle(1, tmp, sizeof tmp);
	append_until(j, &i, 3);
	gb_journal_close(j); /* 1 fails its last try; 2 must not go before it */
	struct listing L = list_now();
	assert_int_equal(L.sealed, 0);
	assert_int_equal(L.unsealed, 3);
	assert_int_equal(rmdir(tmp), 0);
	j = open_small(0);
	assert_int_equal(gb_journal_sealed(j), 2);
	gb_journal_close(j);
	assert_int_equal(verify(NULL), 0);
	assert_int_equal(read_all(NULL), i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_appends_while_seal_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(t_chain_after_many_rotations, setup, teardown),
		cmocka_unit_test_setup_teardown(t_close_finishes_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(t_crash_with_pending_seals, setup, teardown),
		cmocka_unit_test_setup_teardown(t_seal_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(t_failed_seal_keeps_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(t_close_while_seal_fails, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
