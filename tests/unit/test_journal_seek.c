/* tests/unit/test_journal_seek.c — the reader's time and sandbox seek: a
 * filtered reader skips frames of sealed segments (idx.json) and blocks of
 * the active segment (NNNN.blk.json) that their time range and sandbox sets
 * rule out.  Attacked here: every filtered read equals a full scan filtered
 * by hand (out-of-order times, sandboxes in runs, verdicts, with and
 * without the sidecar, after recovery); damage inside a ruled-out frame or
 * block is never read; a sidecar that does not continue or lies past the
 * file is not believed; an index or sidecar that lies about its events is
 * named by verify; the cheap scans before the parse are not fooled by a
 * nested "time", "action_id" or "log_name"; the tail a follower starts
 * from. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exporter/journal.h"
#include "unit/tmpdir.h"

#define N_EV 3000
#define T0 1700000000000LL

static char dir[256];

static int setup(void **state)
{
	(void)state;
	assert_int_equal(gb_tmpdir_make_sub(dir, sizeof dir, "jseek", "j"), 0); /* the journal makes j */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	gb_tmpdir_remove_sub(dir);
	return 0;
}

/* Event i: sandboxes in runs of 37 (a drain thread's batch), times rising
 * 10 ms apart except every 50th, which is 100 s old (a leftover ring
 * drained late), verdicts deny / allow / none in turn. */
/* sandbox of event i: s0..s4 in runs of 37, rotated by shift (a second
 * journal in the same place whose blocks name other sandboxes) */
static int shift;
/* how many of the N_EV events the journal holds (check_filters) */
static int n_written = N_EV;

static int64_t ev_time(int i)
{
	return i % 50 == 49 ? T0 - 100000 + i : T0 + (int64_t)i * 10;
}

static int event(char *buf, size_t len, int i)
{
	char act[32] = "";
	if (i % 3 < 2)
		snprintf(act, sizeof act, "\"action_id\":%d,", i % 3 == 0 ? 2 : 1);
	/* every 7th: a nested object first whose "time", "action_id" and
	 * "log_name" are not the event's (the cheap scans must not be fooled) */
	const char *decoy = i % 7 == 3 ? "\"x\":{\"time\":1,\"action_id\":2,\"log_name\":\"s4\"}," : "";
	return snprintf(buf, len,
	                "{\"class_uid\":4001,%s\"severity_id\":1,%s\"time\":%lld,\"metadata\":{"
	                "\"log_name\":\"s%d\",\"uid\":\"x:%d\"},\"message\":\"event %d\"}",
	                decoy, act, (long long)ev_time(i), (i / 37 + shift) % 5, i, i);
}

static struct gb_journal *open_seg(uint32_t buffer, uint64_t segment_bytes)
{
	struct gb_journal_opts o = { .dir = dir, .segment_bytes = segment_bytes, .frame_bytes = 1024,
		                     .fsync = GB_FSYNC_NEVER, .buffer_bytes = buffer };
	struct gb_journal *j = NULL;
	char err[256];
	assert_int_equal(gb_journal_open(&o, &j, err, sizeof err), 0);
	return j;
}

static struct gb_journal *open_j(uint32_t buffer)
{
	return open_seg(buffer, 32768);
}

static void append_range(struct gb_journal *j, int from, int to)
{
	char line[512], sb[64];
	for (int i = from; i < to; i++) {
		int l = event(line, sizeof line, i);
		struct gb_jmeta m;
		assert_int_equal(gb_jmeta_parse(line, (size_t)l, &m, sb, sizeof sb), 0);
		assert_int_equal(gb_journal_append(j, line, (size_t)l, &m, NULL), 0);
		if (i % 40 == 39)
			assert_int_equal(gb_journal_flush(j), 0);
	}
	assert_int_equal(gb_journal_flush(j), 0);
}

/* The event number of a line (not NUL-terminated: len bytes). */
static int ev_num(const char *l, size_t len)
{
	static const char k[] = "\"message\":\"event ";
	const char *m = memmem(l, len, k, sizeof k - 1);
	if (!m)
		fail_msg("not one of this test's events: %.*s", (int)(len > 300 ? 300 : len), l);
	return atoi(m + sizeof k - 1);
}

/* Event numbers a reader hands out (damage: -1, counted in *damage). */
static int read_ids(const struct gb_jfilter *f, const struct gb_jpos *from, int *ids, int max,
                    int *damage)
{
	struct gb_jreader *r;
	assert_int_equal(gb_jreader_open(dir, f, from, &r), 0);
	const char *l;
	size_t n;
	int k = 0, rc;
	if (damage)
		*damage = 0;
	while ((rc = gb_jreader_next(r, &l, &n, NULL)) > 0) {
		if (rc == 2) {
			if (damage)
				(*damage)++;
			continue;
		}
		assert_true(k < max);
		ids[k++] = ev_num(l, n);
	}
	assert_int_equal(rc, 0);
	gb_jreader_close(r);
	return k;
}

/* What the filter wants of event i, decided from the event itself. */
static int wanted(const struct gb_jfilter *f, int i)
{
	int64_t t = ev_time(i);
	char sb[8];
	snprintf(sb, sizeof sb, "s%d", (i / 37 + shift) % 5);
	int act = i % 3 == 0 ? 2 : i % 3 == 1 ? 1 : 0;
	return (!f->since_ms || t >= f->since_ms) && (!f->until_ms || t <= f->until_ms) &&
	       (!f->sandbox || !strcmp(f->sandbox, sb)) && (!f->action_id || f->action_id == act);
}

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

/* 40 random filters: each read equals the scan filtered by hand. */
static void check_filters(void)
{
	static int got[N_EV];
	static const char *names[] = { "s0", "s1", "s2", "s3", "s4", "nobody" };
	for (int q = 0; q < 40; q++) {
		struct gb_jfilter f = { 0 };
		int kind = (int)(rnd() % 4);
		if (kind != 3) {
			int a = (int)(rnd() % N_EV);
			f.since_ms = T0 + (int64_t)a * 10;
			f.until_ms = f.since_ms + (int64_t)(rnd() % 3000);
			if (rnd() % 8 == 0)
				f.since_ms = 0; /* until only: the old events too */
		}
		if (rnd() % 4)
			f.sandbox = names[rnd() % 6];
		if (kind >= 2)
			f.action_id = (uint8_t)(rnd() % 3);
		int n = read_ids(&f, NULL, got, N_EV, NULL), k = 0;
		for (int i = 0; i < n_written; i++)
			if (wanted(&f, i)) {
				assert_true(k < n);
				if (got[k] != i)
					fail_msg("filter %d (since %lld until %lld sandbox %s verdict %d): got %d, "
					         "want %d", q, (long long)f.since_ms, (long long)f.until_ms,
					         f.sandbox ? f.sandbox : "-", f.action_id, got[k], i);
				k++;
			}
		assert_int_equal(k, n);
	}
}

static int count_sealed(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d))) {
		if (strlen(e->d_name) != 10 || e->d_name[4] != '-')
			continue;
		char sub[512];
		if (snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name) >= (int)sizeof sub)
			continue;
		DIR *dd = opendir(sub);
		struct dirent *f;
		while (dd && (f = readdir(dd)))
			n += strstr(f->d_name, ".jsonl.zst") != NULL;
		if (dd)
			closedir(dd);
	}
	if (d)
		closedir(d);
	return n;
}

/* dir/DAY/<12 digits><suffix> of the first file with that suffix whose
 * number is seg (0 = any). */
static int find_file(const char *suffix, unsigned long long seg, char *out, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;
	while (!found && d && (e = readdir(d))) {
		if (strlen(e->d_name) != 10 || e->d_name[4] != '-')
			continue;
		char sub[512];
		if (snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name) >= (int)sizeof sub)
			continue;
		DIR *dd = opendir(sub);
		struct dirent *f;
		while (!found && dd && (f = readdir(dd))) {
			size_t l = strlen(f->d_name), s = strlen(suffix);
			if (l == 12 + s && !strcmp(f->d_name + 12, suffix) &&
			    (!seg || strtoull(f->d_name, NULL, 10) == seg)) {
				found = snprintf(out, len, "%s/%s", sub, f->d_name) < (int)len;
			}
		}
		if (dd)
			closedir(dd);
	}
	if (d)
		closedir(d);
	return found;
}

static void write_file(const char *p, const char *s)
{
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(s, f);
	fclose(f);
}

static char *slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	b[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void no_report(void *arg, const char *text)
{
	(void)arg;
	(void)text;
}

static void t_filters_equal_scan(void **state)
{
	(void)state;
	/* unbuffered appends, then buffered: both paths write the sidecar */
	struct gb_journal *j = open_j(0);
	append_range(j, 0, N_EV / 2);
	gb_journal_close(j);
	j = open_j(4096);
	append_range(j, N_EV / 2, N_EV);
	gb_journal_close(j);
	assert_true(count_sealed() >= 10);
	char blk[512];
	assert_true(find_file(".blk.json", 0, blk, sizeof blk)); /* the active segment's */
	check_filters();
	/* without the sidecar: scanned, the same answers */
	assert_int_equal(unlink(blk), 0);
	check_filters();
	/* recovery writes it again, from the data */
	j = open_j(0);
	gb_journal_close(j);
	assert_true(find_file(".blk.json", 0, blk, sizeof blk));
	check_filters();
	uint64_t segs = 0;
	assert_int_equal(gb_journal_verify(dir, no_report, NULL, &segs), 0);
}

/* Damage in a frame (or block) the filter rules out is never read: proof
 * that the reader skips it rather than decoding and dropping it. */
static void t_skipped_unread(void **state)
{
	(void)state;
	/* segment 1 sealed with 2000 events, the rest active */
	struct gb_journal *j = open_seg(0, 1u << 20);
	append_range(j, 0, 2000);
	assert_int_equal(gb_journal_rotate(j), 0);
	append_range(j, 2000, N_EV);
	gb_journal_close(j);
	/* break segment 1's .zst in its middle (events of the first seconds) */
	char z[512], a[512];
	assert_true(find_file(".jsonl.zst", 1, z, sizeof z));
	int fd = open(z, O_RDWR);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	char junk[64];
	memset(junk, 'Z', sizeof junk);
	assert_int_equal(pwrite(fd, junk, sizeof junk, st.st_size / 2), (ssize_t)sizeof junk);
	close(fd);
	/* and the active segment's first line */
	assert_true(find_file(".jsonl", 0, a, sizeof a));
	size_t alen;
	char *data = slurp(a, &alen);
	char *nl = strchr(data, '\n');
	memset(data, '#', (size_t)(nl - data));
	fd = open(a, O_WRONLY);
	assert_int_equal(pwrite(fd, data, alen, 0), (ssize_t)alen);
	close(fd);
	int first_active = ev_num(nl + 1, strlen(nl + 1)) - 1;
	free(data);
	static int got[N_EV];
	int dmg = 0;
	/* a filter that every event passes: both damages are handed out */
	struct gb_jfilter all = { .since_ms = 1 };
	read_ids(&all, NULL, got, N_EV, &dmg);
	assert_int_equal(dmg, 2);
	/* a window 20 events after the damaged line: neither is read */
	int from = first_active + 20;
	assert_true(from < N_EV - 5);
	struct gb_jfilter f = { .since_ms = T0 + (int64_t)from * 10, .until_ms = T0 + N_EV * 10LL };
	int n = read_ids(&f, NULL, got, N_EV, &dmg);
	assert_int_equal(dmg, 0);
	int k = 0;
	for (int i = 0; i < N_EV; i++)
		if (wanted(&f, i))
			assert_int_equal(got[k++], i);
	assert_int_equal(k, n);
}

/* A sidecar is a hint: one that skips ahead, claims bytes the file does
 * not have, or is not JSON is not believed past that point. */
static void t_sidecar_not_believed(void **state)
{
	(void)state;
	struct gb_journal *j = open_j(0);
	append_range(j, 0, N_EV);
	gb_journal_close(j);
	char blk[512];
	assert_true(find_file(".blk.json", 0, blk, sizeof blk));
	size_t len;
	char *orig = slurp(blk, &len);
	const char *bad[] = {
		/* starts past 0: would skip the first block's events */
		"{\"u_off\":500,\"u_len\":100000,\"lines\":1,\"min_ms\":1,\"max_ms\":2,\"sbx\":[],"
		"\"deny\":[],\"allow\":[]}\n",
		/* claims far more bytes than the file has */
		"{\"u_off\":0,\"u_len\":99999999,\"lines\":1,\"min_ms\":1,\"max_ms\":2,\"sbx\":[],"
		"\"deny\":[],\"allow\":[]}\n",
		"not json\n",
		"{\"u_off\":0,\"u_len\":10,\"lines\":1}", /* torn: no line end */
	};
	for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
		write_file(blk, bad[b]);
		check_filters();
	}
	write_file(blk, orig);
	free(orig);
}

/* The active segment's sidecar is kept between readers and parsed only as
 * it grows (journal_cache.c).  Attacked: blocks appended after a reader
 * cached the sidecar are used (and the events they cover found); a sidecar
 * rewritten in place, and a whole new journal in the same directory (its
 * sidecar at the same path, maybe on a reused inode, its blocks naming
 * other sandboxes) are never answered from what was cached for the old
 * one — every filtered read still equals the scan. */
static void t_sidecar_cache_follows(void **state)
{
	(void)state;
	struct gb_journal *j = open_seg(0, 64u << 20); /* one active segment */
	append_range(j, 0, N_EV / 2);
	n_written = N_EV / 2;
	check_filters();
	append_range(j, N_EV / 2, N_EV);
	n_written = N_EV;
	check_filters();
	gb_journal_close(j);
	char blk[512];
	assert_true(find_file(".blk.json", 0, blk, sizeof blk));
	size_t len;
	char *orig = slurp(blk, &len);
	/* in place, the same bytes but the first block's sandboxes emptied */
	char *lie = strdup(orig);
	char *sbx = strstr(lie, "\"sbx\":[");
	assert_non_null(sbx);
	for (char *q = sbx + 7; *q && *q != ']'; q++)
		*q = ' ';
	write_file(blk, lie);
	struct gb_jfilter f = { .sandbox = "s0" };
	static int got[N_EV];
	int n = read_ids(&f, NULL, got, N_EV, NULL);
	int want = 0;
	for (int i = 0; i < N_EV; i++)
		want += wanted(&f, i);
	/* the lie is believed (it is a valid sidecar), but only as the file
	 * says now: the first block's events are skipped, not served from the
	 * truthful copy cached before */
	assert_true(n < want);
	write_file(blk, orig);
	check_filters();
	free(lie);
	free(orig);
	/* a new journal where the old one was */
	char *slash = strrchr(dir, '/');
	*slash = 0;
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s/j'", dir);
	assert_int_equal(system(cmd), 0);
	*slash = '/';
	shift = 2;
	j = open_seg(0, 64u << 20);
	append_range(j, 0, N_EV);
	gb_journal_close(j);
	check_filters();
	shift = 0;
}

/* An index or sidecar whose time range or sandboxes leave out some of its
 * events would make readers skip them: verify names it. */
static void t_verify_lying_meta(void **state)
{
	(void)state;
	struct gb_journal *j = open_j(0);
	append_range(j, 0, N_EV);
	gb_journal_close(j);
	uint64_t segs;
	assert_int_equal(gb_journal_verify(dir, no_report, NULL, &segs), 0);
	/* the active sidecar: its first block holds no sandbox */
	char blk[512], idx[512];
	assert_true(find_file(".blk.json", 0, blk, sizeof blk));
	size_t len;
	char *orig = slurp(blk, &len), *p = strstr(orig, "\"sbx\":[");
	assert_non_null(p);
	char *e = strchr(p, ']');
	memset(p + 7, ' ', (size_t)(e - p - 7));
	write_file(blk, orig);
	free(orig);
	assert_true(gb_journal_verify(dir, no_report, NULL, &segs) >= 1);
	assert_int_equal(unlink(blk), 0);
	assert_int_equal(gb_journal_verify(dir, no_report, NULL, &segs), 0);
	/* a sealed index: a frame's time range moved a day later */
	assert_true(find_file(".idx.json", 2, idx, sizeof idx));
	char *x = slurp(idx, &len);
	char *m = strstr(x, "\"max_ms\":");
	assert_non_null(m);
	/* max_ms below every event of the frame: same length, smaller number */
	m += 9;
	while (*m >= '0' && *m <= '9')
		*m++ = '1';
	write_file(idx, x);
	free(x);
	assert_true(gb_journal_verify(dir, no_report, NULL, &segs) >= 1);
}

/* Decoded frames of sealed segments are shared by readers (journal_cache.c).
 * Attacked: a .zst changed in place after its frames were cached is read
 * from the file again and its damage reported (the cached bytes are not
 * what the file holds now); a new journal in the same place is never
 * answered from the old one's frames; every read still equals the scan. */
static void t_frame_cache_follows(void **state)
{
	(void)state;
	struct gb_journal *j = open_j(0);
	append_range(j, 0, N_EV);
	gb_journal_close(j);
	int sealed = count_sealed();
	assert_true(sealed >= 2);
	check_filters();
	static int got[N_EV];
	int dmg;
	assert_int_equal(read_ids(NULL, NULL, got, N_EV, &dmg), N_EV);
	assert_int_equal(dmg, 0);
	/* the newest sealed segment's last event: a read from there decodes
	 * only its last frame, which is then kept */
	struct gb_jreader *r;
	const char *l;
	size_t len;
	struct gb_jpos p, last = { 0, 0 };
	assert_int_equal(gb_jreader_open(dir, NULL, NULL, &r), 0);
	while (gb_jreader_next(r, &l, &len, &p) == 1)
		if (p.segment == (uint64_t)sealed)
			last = p;
	gb_jreader_close(r);
	assert_int_equal(last.segment, sealed);
	int tail = read_ids(NULL, &last, got, N_EV, &dmg);
	assert_true(tail > 0);
	assert_int_equal(dmg, 0);
	char z[512];
	assert_true(find_file(".jsonl.zst", (unsigned long long)sealed, z, sizeof z));
	/* past the file system's timestamp tick, so the change shows in mtime
	 * as any later write would */
	struct timespec tick = { 0, 30000000 };
	nanosleep(&tick, NULL);
	int fd = open(z, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	unsigned char c;
	off_t at = st.st_size - 24;
	assert_int_equal(pread(fd, &c, 1, at), 1);
	c ^= 0x5a;
	assert_int_equal(pwrite(fd, &c, 1, at), 1);
	close(fd);
	/* the frame read again, from the file: damage, its events not shown */
	int n = read_ids(NULL, &last, got, N_EV, &dmg);
	assert_int_equal(dmg, 1);
	assert_true(n < tail);
	n = read_ids(NULL, NULL, got, N_EV, &dmg);
	assert_int_equal(dmg, 1);
	assert_true(n < N_EV);
	/* a new journal where the old one was */
	char *slash = strrchr(dir, '/');
	*slash = 0;
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s/j'", dir);
	assert_int_equal(system(cmd), 0);
	*slash = '/';
	shift = 3;
	j = open_j(0);
	append_range(j, 0, N_EV);
	gb_journal_close(j);
	check_filters();
	shift = 0;
}

/* Readers on several threads share the index cache (the API's connection
 * threads): each still gets exactly its answer (Tsan build: no race). */
static void *reader_thread(void *arg)
{
	int sb = (int)(intptr_t)arg;
	char name[8];
	snprintf(name, sizeof name, "s%d", sb);
	struct gb_jfilter f = { .sandbox = name, .since_ms = T0 + 5000, .until_ms = T0 + 20000 };
	int *got = calloc(N_EV, sizeof *got), bad = 0;
	for (int round = 0; round < 5; round++) {
		int n = read_ids(&f, NULL, got, N_EV, NULL), k = 0;
		for (int i = 0; i < n_written; i++)
			if (wanted(&f, i))
				bad += k >= n || got[k++] != i;
		bad += k != n;
	}
	free(got);
	return (void *)(intptr_t)bad;
}

static void t_threads_share_cache(void **state)
{
	(void)state;
	struct gb_journal *j = open_j(0);
	append_range(j, 0, N_EV);
	gb_journal_close(j);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader_thread, (void *)(intptr_t)i), 0);
	for (int i = 0; i < 4; i++) {
		void *bad;
		assert_int_equal(pthread_join(t[i], &bad), 0);
		assert_int_equal((intptr_t)bad, 0);
	}
}

static void t_tail(void **state)
{
	(void)state;
	struct gb_jpos t;
	assert_int_equal(gb_journal_tail(dir, &t), -ENOENT); /* empty: no tail */
	struct gb_journal *j = open_j(0);
	append_range(j, 0, 500);
	struct gb_jpos end = gb_journal_end(j);
	assert_int_equal(gb_journal_tail(dir, &t), 0);
	assert_int_equal(t.segment, end.segment);
	assert_int_equal(t.offset, end.offset);
	static int got[N_EV];
	assert_int_equal(read_ids(NULL, &t, got, N_EV, NULL), 0);
	/* a write in progress: the tail stays before the unfinished line */
	char a[512];
	snprintf(a, sizeof a, "%s", "");
	assert_true(find_file(".jsonl", end.segment, a, sizeof a));
	int fd = open(a, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, "{\"half", 6), 6);
	close(fd);
	assert_int_equal(gb_journal_tail(dir, &t), 0);
	assert_int_equal(t.offset, end.offset);
	fd = open(a, O_WRONLY);
	assert_int_equal(ftruncate(fd, (off_t)end.offset), 0);
	close(fd);
	/* what comes after the tail, and only that */
	append_range(j, 500, 520);
	int n = read_ids(NULL, &t, got, N_EV, NULL);
	assert_int_equal(n, 20);
	for (int i = 0; i < n; i++)
		assert_int_equal(got[i], 500 + i);
	/* the newest segment sealed: the tail is the next one's start */
	assert_int_equal(gb_journal_rotate(j), 0);
	assert_int_equal(gb_journal_tail(dir, &t), 0);
	assert_int_equal(t.offset, 0);
	assert_int_equal(read_ids(NULL, &t, got, N_EV, NULL), 0);
	append_range(j, 520, 530);
	n = read_ids(NULL, &t, got, N_EV, NULL);
	assert_int_equal(n, 10);
	assert_int_equal(got[0], 520);
	gb_journal_close(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_filters_equal_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(t_skipped_unread, setup, teardown),
		cmocka_unit_test_setup_teardown(t_sidecar_not_believed, setup, teardown),
		cmocka_unit_test_setup_teardown(t_verify_lying_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(t_threads_share_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(t_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(t_sidecar_cache_follows, setup, teardown),
		cmocka_unit_test_setup_teardown(t_frame_cache_follows, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
