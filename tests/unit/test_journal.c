/* tests/unit/test_journal.c — the journal on a real directory: append,
 * rotation and sealing into zstd frames, reading back (from the start, from a
 * position, filtered, across a seal while following), crash recovery (torn
 * line, interrupted seal), retention and tamper detection by verify. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exporter/journal.h"
#include "unit/tmpdir.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	assert_int_equal(gb_tmpdir_make_sub(dir, sizeof dir, "journal", "j"), 0); /* the journal makes j */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	gb_tmpdir_remove_sub(dir);
	return 0;
}

/* Event i: a small OCSF-shaped line whose fields the index reads. */
static int event(char *buf, size_t len, int i, const char *sbx, int sev)
{
	return snprintf(buf, len,
	                "{\"class_uid\":%d,\"severity_id\":%d,\"time\":%lld,\"metadata\":{\"log_name\":\"%s\","
	                "\"uid\":\"%s:%d\"},\"message\":\"event %d %s\"}",
	                i % 2 ? 4001 : 4002, sev, 1700000000000LL + i, sbx, sbx, i, i,
	                "padding-padding-padding-padding");
}

static void append_n(struct gb_journal *j, int from, int n, const char *sbx)
{
	char line[512], sb[64];
	for (int i = from; i < from + n; i++) {
		int l = event(line, sizeof line, i, sbx, 1 + i % 5);
		struct gb_jmeta m;
		assert_int_equal(gb_jmeta_parse(line, (size_t)l, &m, sb, sizeof sb), 0);
		assert_int_equal(gb_journal_append(j, line, (size_t)l, &m, NULL), 0);
	}
}

static struct gb_journal *open_small(void)
{
	struct gb_journal_opts o = { .dir = dir, .segment_bytes = 8192, .frame_bytes = 1024,
		                     .fsync = GB_FSYNC_NEVER };
	struct gb_journal *j = NULL;
	char err[256];
	assert_int_equal(gb_journal_open(&o, &j, err, sizeof err), 0);
	return j;
}

/* Read everything (optionally filtered) and check event numbers in order. */
static int read_all(const struct gb_jfilter *f, const struct gb_jpos *from, int *first_i, int *last_i)
{
	struct gb_jreader *r;
	assert_int_equal(gb_jreader_open(dir, f, from, &r), 0);
	const char *l;
	size_t n;
	int count = 0, prev = -1;
	struct gb_jpos pos, prevpos = { 0, 0 };
	int rc;
	while ((rc = gb_jreader_next(r, &l, &n, &pos)) == 1) {
		const char *m = strstr(l, "\"message\":\"event ");
		assert_non_null(m);
		int i = atoi(m + 17);
		assert_true(i > prev); /* journal order */
		assert_true(pos.segment > prevpos.segment ||
		            (pos.segment == prevpos.segment && pos.offset >= prevpos.offset));
		if (count == 0 && first_i)
			*first_i = i;
		prev = i;
		prevpos = pos;
		count++;
	}
	assert_int_equal(rc, 0);
	if (last_i)
		*last_i = prev;
	gb_jreader_close(r);
	return count;
}

static int count_files(const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) != 10)
			continue;
		char sub[512];
		snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
		DIR *dd = opendir(sub);
		struct dirent *f;
		while (dd && (f = readdir(dd))) {
			size_t l = strlen(f->d_name), s = strlen(suffix);
			n += l > s && !strcmp(f->d_name + l - s, suffix);
		}
		if (dd)
			closedir(dd);
	}
	if (d)
		closedir(d);
	return n;
}

/* Path of segment n with suffix (searches the day directories). */
static int seg_file(int n, const char *suffix, char *out, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;
	while (d && (e = readdir(d)) && !found) {
		if (strlen(e->d_name) != 10)
			continue;
		snprintf(out, len, "%s/%s/%012d%s", dir, e->d_name, n, suffix);
		found = access(out, F_OK) == 0;
	}
	if (d)
		closedir(d);
	return found ? 0 : -1;
}

static void report_count(void *arg, const char *text)
{
	(void)text;
	(*(int *)arg)++;
}

static void t_write_rotate_read(void **state)
{
	(void)state;
	struct gb_journal *j = open_small();
	append_n(j, 0, 1000, "alpha");
	struct gb_jpos end = gb_journal_end(j);
	assert_true(end.segment > 10); /* ~180 bytes per event, 8 KiB segments */
	gb_journal_close(j);
	assert_true(count_files(".jsonl.zst") >= 10);
	assert_int_equal(count_files(".jsonl"), 1); /* one active */
	int first, last;
	assert_int_equal(read_all(NULL, NULL, &first, &last), 1000);
	assert_int_equal(first, 0);
	assert_int_equal(last, 999);
	int problems = 0;
	uint64_t checked = 0;
	assert_int_equal(gb_journal_verify(dir, report_count, &problems, &checked), 0);
	assert_int_equal(problems, 0);
	assert_true(checked >= 10);
}

static void t_positions_and_filters(void **state)
{
	(void)state;
	struct gb_journal *j = open_small();
	append_n(j, 0, 300, "alpha");
	append_n(j, 300, 300, "beta");
	gb_journal_close(j);
	/* every position read back starts the same event */
	struct gb_jreader *r;
	assert_int_equal(gb_jreader_open(dir, NULL, NULL, &r), 0);
	const char *l;
	size_t n;
	struct gb_jpos pos[600];
	char first_lines[3][512];
	int k = 0;
	while (gb_jreader_next(r, &l, &n, &pos[k]) == 1) {
		if (k == 0 || k == 299 || k == 450)
			snprintf(first_lines[k == 0 ? 0 : k == 299 ? 1 : 2], 512, "%.*s", (int)n, l);
		k++;
	}
	gb_jreader_close(r);
	assert_int_equal(k, 600);
	int idx[3] = { 0, 299, 450 };
	for (int t = 0; t < 3; t++) {
		assert_int_equal(gb_jreader_open(dir, NULL, &pos[idx[t]], &r), 0);
		assert_int_equal(gb_jreader_next(r, &l, &n, NULL), 1);
		assert_int_equal((int)n, (int)strlen(first_lines[t]));
		assert_memory_equal(l, first_lines[t], n);
		gb_jreader_close(r);
	}
	struct gb_jfilter f = { .sandbox = "beta" };
	int first, last;
	assert_int_equal(read_all(&f, NULL, &first, &last), 300);
	assert_int_equal(first, 300);
	f = (struct gb_jfilter){ .min_severity = 5 }; /* 1 + i % 5 == 5: every fifth */
	assert_int_equal(read_all(&f, NULL, NULL, NULL), 120);
	f = (struct gb_jfilter){ .since_ms = 1700000000000LL + 550 };
	assert_int_equal(read_all(&f, NULL, &first, NULL), 50);
	assert_int_equal(first, 550);
	f = (struct gb_jfilter){ .class_uid = 4001, .sandbox = "alpha" };
	assert_int_equal(read_all(&f, NULL, NULL, NULL), 150);
	f = (struct gb_jfilter){ .sandbox = "nobody" };
	assert_int_equal(read_all(&f, NULL, NULL, NULL), 0);
}

static void t_recover_torn_line(void **state)
{
	(void)state;
	struct gb_journal *j = open_small();
	append_n(j, 0, 100, "alpha");
	struct gb_jpos end = gb_journal_end(j);
	gb_journal_close(j);
	/* a writer died in the middle of a line */
	char p[512];
	assert_int_equal(seg_file((int)end.segment, ".jsonl", p, sizeof p), 0);
	int fd = open(p, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"class_uid\":40", 15), 15);
	close(fd);
	j = open_small();
	struct gb_jpos end2 = gb_journal_end(j);
	assert_int_equal(end2.segment, end.segment);
	assert_int_equal(end2.offset, end.offset); /* the torn bytes are gone */
	append_n(j, 100, 10, "alpha");
	gb_journal_close(j);
	assert_int_equal(read_all(NULL, NULL, NULL, NULL), 110);
}

static void t_recover_interrupted_seal(void **state)
{
	(void)state;
	struct gb_journal *j = open_small();
	append_n(j, 0, 30, "alpha"); /* < 8 KiB: all in segment 1 */
	assert_int_equal(gb_journal_end(j).segment, 1);
	gb_journal_close(j);
	char jsonl[512], keep[600];
	assert_int_equal(seg_file(1, ".jsonl", jsonl, sizeof jsonl), 0);
	snprintf(keep, sizeof keep, "%s.keep", jsonl);
	/* Seal it, then put the .jsonl back and remove the index: as if the
	 * writer died after writing the .zst but before the index. */
	char cmd[1400];
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", jsonl, keep);
	assert_int_equal(system(cmd), 0);
	j = open_small();
	assert_int_equal(gb_journal_rotate(j), 0);
	gb_journal_close(j);
	char idx[512];
	assert_int_equal(seg_file(1, ".idx.json", idx, sizeof idx), 0);
	assert_int_equal(unlink(idx), 0);
	assert_int_equal(rename(keep, jsonl), 0);
	/* a second, later segment exists too, so segment 1 is not the newest */
	j = open_small();
	append_n(j, 30, 5, "alpha");
	gb_journal_close(j);
	assert_int_equal(read_all(NULL, NULL, NULL, NULL), 35);
	int problems = 0;
	assert_int_equal(gb_journal_verify(dir, report_count, &problems, NULL), 0);
	assert_int_equal(count_files(".idx.json"), 1);
}

static void t_verify_detects_tampering(void **state)
{
	(void)state;
	struct gb_journal *j = open_small();
	append_n(j, 0, 400, "alpha");
	gb_journal_close(j);
	int problems = 0;
	assert_int_equal(gb_journal_verify(dir, report_count, &problems, NULL), 0);
	char p[512];
	/* 1: one flipped byte in a sealed segment */
	assert_int_equal(seg_file(3, ".jsonl.zst", p, sizeof p), 0);
	int fd = open(p, O_RDWR);
	char c;
	assert_int_equal(pread(fd, &c, 1, 40), 1);
	c ^= 0x20;
	assert_int_equal(pwrite(fd, &c, 1, 40), 1);
	assert_true(gb_journal_verify(dir, NULL, NULL, NULL) > 0);
	c ^= 0x20;
	assert_int_equal(pwrite(fd, &c, 1, 40), 1);
	close(fd);
	assert_int_equal(gb_journal_verify(dir, NULL, NULL, NULL), 0);
	/* 2: a segment deleted from the middle */
	char idx[512], zsave[600], isave[600];
	assert_int_equal(seg_file(4, ".idx.json", idx, sizeof idx), 0);
	assert_int_equal(seg_file(4, ".jsonl.zst", p, sizeof p), 0);
	snprintf(zsave, sizeof zsave, "%s/../z.save", dir);
	snprintf(isave, sizeof isave, "%s/../i.save", dir);
	assert_int_equal(rename(p, zsave), 0);
	assert_int_equal(rename(idx, isave), 0);
	assert_true(gb_journal_verify(dir, NULL, NULL, NULL) > 0);
	assert_int_equal(rename(zsave, p), 0);
	assert_int_equal(rename(isave, idx), 0);
	assert_int_equal(gb_journal_verify(dir, NULL, NULL, NULL), 0);
	/* 3: the newest sealed segment deleted (head.json still names it) */
	struct jseg_last { int n; } last = { 0 };
	for (int n = 1; n < 100; n++)
		if (seg_file(n, ".jsonl.zst", p, sizeof p) == 0)
			last.n = n;
	assert_int_equal(seg_file(last.n, ".jsonl.zst", p, sizeof p), 0);
	assert_int_equal(seg_file(last.n, ".idx.json", idx, sizeof idx), 0);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(unlink(idx), 0);
	assert_true(gb_journal_verify(dir, NULL, NULL, NULL) > 0);
}


/* Read everything; damage (rc 2) is counted through its LOSS event. */
static int read_with_damage(const struct gb_jfilter *f, uint64_t *lost, int *losses, int *last_i,
                            struct gb_jpos *after_first_loss)
{
	struct gb_jreader *r;
	assert_int_equal(gb_jreader_open(dir, f, NULL, &r), 0);
	const char *l;
	size_t n;
	int count = 0, rc, prev = -1;
	struct gb_jpos pos;
	*lost = 0;
	*losses = 0;
	while ((rc = gb_jreader_next(r, &l, &n, &pos)) >= 1) {
		if (rc == 2) {
			assert_non_null(strstr(l, "\"status_detail\":\"journal_damaged\""));
			assert_null(memchr(l, '\n', n));
			const char *c = strstr(l, "\"count\":");
			assert_non_null(c);
			*lost += strtoull(c + 8, NULL, 10);
			if ((*losses)++ == 0 && after_first_loss)
				*after_first_loss = gb_jreader_tell(r);
			continue;
		}
		const char *m = strstr(l, "\"message\":\"event ");
		assert_non_null(m);
		int i = atoi(m + 17);
		assert_true(i > prev);
		prev = i;
		struct gb_jpos t = gb_jreader_tell(r);
		assert_true(t.segment == pos.segment && t.offset == pos.offset + n + 1);
		count++;
	}
	assert_int_equal(rc, 0); /* damage never makes the reader fail */
	*last_i = prev;
	gb_jreader_close(r);
	return count;
}

/* Issue 20, defect 2: a damaged sealed frame, then an unreadable index: the
 * reader skips each with a LOSS event whose count is exactly what cannot be
 * read, everything after is read, and a reader reopened after the damage
 * (a sink's cursor) continues without it. */
static void t_damage_skipped(void **state)
{
	(void)state;
	struct gb_journal *j = open_small();
	append_n(j, 0, 400, "alpha");
	gb_journal_close(j);
	char p[512];
	assert_int_equal(seg_file(3, ".jsonl.zst", p, sizeof p), 0);
	int fd = open(p, O_RDWR);
	char c;
	assert_int_equal(pread(fd, &c, 1, 40), 1);
	c ^= 0x20;
	assert_int_equal(pwrite(fd, &c, 1, 40), 1);
	close(fd);
	uint64_t lost;
	int losses, last;
	struct gb_jpos after = { 0, 0 };
	int got = read_with_damage(NULL, &lost, &losses, &last, &after);
	assert_int_equal(losses, 1);
	assert_true(lost > 0);
	assert_int_equal((uint64_t)got + lost, 400);
	assert_int_equal(last, 399);
	assert_int_equal(after.segment, 3);
	/* filtered readers see the damage too */
	struct gb_jfilter f = { .sandbox = "alpha" };
	assert_int_equal(read_with_damage(&f, &lost, &losses, &last, NULL), got);
	assert_int_equal(losses, 1);
	/* from the position after the damage: nothing skipped, no LOSS again */
	struct gb_jreader *r;
	assert_int_equal(gb_jreader_open(dir, NULL, &after, &r), 0);
	const char *l;
	size_t n;
	int rest = 0, rc;
	while ((rc = gb_jreader_next(r, &l, &n, NULL)) == 1)
		rest++;
	assert_int_equal(rc, 0);
	gb_jreader_close(r);
	assert_true(rest > 0 && rest < got);
	/* an unreadable index: the whole segment is skipped, counted from its data */
	char idx[512];
	assert_int_equal(seg_file(5, ".idx.json", idx, sizeof idx), 0);
	FILE *fi = fopen(idx, "w");
	assert_non_null(fi);
	fputs("{\"segment\": 5, garbage", fi);
	fclose(fi);
	int got2 = read_with_damage(NULL, &lost, &losses, &last, NULL);
	assert_int_equal(losses, 2);
	assert_int_equal((uint64_t)got2 + lost, 400);
	assert_true(got2 < got);
	assert_int_equal(last, 399);
	assert_true(gb_journal_verify(dir, NULL, NULL, NULL) > 0);
}

/* A damaged index that claims a huge frame (fuzz_journal_read): the reader
 * and verify check the length against the frame's own header before
 * allocating, and report the frame as damage. */
static void t_index_huge_frame(void **state)
{
	(void)state;
	struct gb_journal *j = open_small();
	append_n(j, 0, 200, "alpha");
	gb_journal_close(j);
	char idx[512];
	assert_int_equal(seg_file(2, ".idx.json", idx, sizeof idx), 0);
	FILE *f = fopen(idx, "r");
	assert_non_null(f);
	char body[65536];
	size_t n = fread(body, 1, sizeof body - 1, f);
	fclose(f);
	body[n] = 0;
	char *u = strstr(body, "\"u_len\":");
	assert_non_null(u);
	char *e = u + 8;
	while (*e == ' ')
		e++;
	while (*e >= '0' && *e <= '9')
		e++;
	char out[70000];
	snprintf(out, sizeof out, "%.*s\"u_len\": 1073741824%s", (int)(u - body), body, e);
	f = fopen(idx, "w");
	fputs(out, f);
	fclose(f);
	struct gb_jreader *r;
	assert_int_equal(gb_jreader_open(dir, NULL, NULL, &r), 0);
	const char *l;
	size_t len;
	int rc, damaged = 0;
	while ((rc = gb_jreader_next(r, &l, &len, NULL)) >= 1)
		if (rc == 2) {
			damaged++;
			assert_non_null(strstr(l, "disagree on its length"));
		}
	assert_int_equal(rc, 0);
	assert_int_equal(damaged, 1);
	gb_jreader_close(r);
	assert_true(gb_journal_verify(dir, NULL, NULL, NULL) > 0);
}

static uint64_t deleted_events;
static void on_delete(void *arg, uint64_t seg, uint64_t events)
{
	(void)arg, (void)seg;
	deleted_events += events;
}

static void t_retention(void **state)
{
	(void)state;
	struct gb_journal_opts o = { .dir = dir, .segment_bytes = 8192, .frame_bytes = 1024,
		                     .fsync = GB_FSYNC_GROUP, .retain_bytes = 4096 };
	struct gb_journal *j;
	char err[256];
	assert_int_equal(gb_journal_open(&o, &j, err, sizeof err), 0);
	append_n(j, 0, 1000, "alpha");
	deleted_events = 0;
	assert_int_equal(gb_journal_retain(j, on_delete, NULL), 0);
	gb_journal_close(j);
	assert_true(deleted_events > 0);
	int first, last;
	int kept = read_all(NULL, NULL, &first, &last);
	assert_int_equal((uint64_t)kept + deleted_events, 1000); /* exactly what was deleted is gone */
	assert_int_equal(first, (int)deleted_events);
	assert_int_equal(last, 999);
	int problems = 0;
	assert_int_equal(gb_journal_verify(dir, report_count, &problems, NULL), 0);
}

struct follower {
	int got;
};

static void *follow_thread(void *arg)
{
	struct follower *fo = arg;
	struct gb_jreader *r;
	if (gb_jreader_open(dir, NULL, NULL, &r) < 0)
		return NULL;
	const char *l;
	size_t n;
	for (int rounds = 0; rounds < 2000 && fo->got < 500; rounds++) {
		int rc;
		while ((rc = gb_jreader_next(r, &l, &n, NULL)) == 1) {
			const char *m = strstr(l, "\"message\":\"event ");
			if (!m || atoi(m + 17) != fo->got)
				goto out; /* out of order or lost: the main thread sees got < 500 */
			fo->got++;
		}
		if (rc < 0 || fo->got >= 500)
			break;
		gb_jreader_wait(r, 100);
	}
out:
	gb_jreader_close(r);
	return NULL;
}

static void t_follow_across_seals(void **state)
{
	(void)state;
	struct gb_journal *j = open_small();
	struct follower fo = { 0 };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, follow_thread, &fo), 0);
	for (int i = 0; i < 500; i += 10) {
		append_n(j, i, 10, "alpha");
		usleep(1000);
	}
	pthread_join(t, NULL);
	gb_journal_close(j);
	assert_int_equal(fo.got, 500);
}

/* buffer_bytes: appends are invisible until flushed; a failed flush
 * (file size limit here) leaves neither bytes nor counters behind. */
static void t_buffered_flush_and_rollback(void **state)
{
	(void)state;
	struct gb_journal_opts o = { .dir = dir, .segment_bytes = 1 << 20, .buffer_bytes = 4096,
		                     .fsync = GB_FSYNC_NEVER };
	struct gb_journal *j;
	char err[256];
	assert_int_equal(gb_journal_open(&o, &j, err, sizeof err), 0);
	append_n(j, 0, 10, "alpha");
	assert_int_equal(read_all(NULL, NULL, NULL, NULL), 0);
	assert_int_equal(gb_journal_flush(j), 0);
	assert_int_equal(read_all(NULL, NULL, NULL, NULL), 10);
	struct gb_jpos before = gb_journal_end(j);

	struct rlimit old, lim;
	getrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = (rlim_t)before.offset + 100;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	append_n(j, 10, 15, "alpha"); /* fits the buffer, not the file limit */
	int rc = gb_journal_flush(j);
	setrlimit(RLIMIT_FSIZE, &old);
	assert_int_equal(rc, -EFBIG);
	struct gb_jpos after = gb_journal_end(j);
	assert_int_equal(after.segment, before.segment);
	assert_int_equal(after.offset, before.offset);
	assert_int_equal(read_all(NULL, NULL, NULL, NULL), 10);

	append_n(j, 30, 5, "alpha");
	gb_journal_close(j); /* close flushes */
	int first, last;
	assert_int_equal(read_all(NULL, NULL, &first, &last), 15);
	assert_int_equal(last, 34);
	int problems = 0;
	j = NULL;
	assert_int_equal(gb_journal_open(&o, &j, err, sizeof err), 0);
	assert_int_equal(gb_journal_rotate(j), 0);
	gb_journal_close(j);
	assert_int_equal(gb_journal_verify(dir, report_count, &problems, NULL), 0);
}

static void t_bad_input(void **state)
{
	(void)state;
	struct gb_journal *j = open_small();
	assert_int_equal(gb_journal_append(j, "{\"a\":1}\n{}", 10, NULL, NULL), -EINVAL);
	assert_int_equal(gb_journal_append(j, "", 0, NULL, NULL), -EINVAL);
	/* a second writer on the same directory is refused */
	struct gb_journal_opts o = { .dir = dir };
	struct gb_journal *j2 = NULL;
	char err[256];
	assert_int_equal(gb_journal_open(&o, &j2, err, sizeof err), -EBUSY);
	assert_non_null(strstr(err, "in use"));
	gb_journal_close(j);
	struct gb_jmeta m;
	char sb[64];
	assert_int_equal(gb_jmeta_parse("not json", 8, &m, sb, sizeof sb), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_write_rotate_read, setup, teardown),
		cmocka_unit_test_setup_teardown(t_positions_and_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(t_recover_torn_line, setup, teardown),
		cmocka_unit_test_setup_teardown(t_recover_interrupted_seal, setup, teardown),
		cmocka_unit_test_setup_teardown(t_verify_detects_tampering, setup, teardown),
		cmocka_unit_test_setup_teardown(t_damage_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(t_index_huge_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(t_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(t_follow_across_seals, setup, teardown),
		cmocka_unit_test_setup_teardown(t_buffered_flush_and_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(t_bad_input, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
