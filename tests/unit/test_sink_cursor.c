/* tests/unit/test_sink_cursor.c — the sink cursor and loop on a real
 * journal with the real file sink: cursor file round trip and refusal of
 * damaged files, backoff bounds, delivery of every event in order, resume
 * from the cursor after a stop (no repeat, no gap), rotation by size, and
 * retention outrunning a stopped sink: exactly one LOSS event with the
 * count of the deleted events the sink had not delivered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exporter/journal.h"
#include "exporter/sink.h"

static char top[256], jdir[300], cdir[300], out[300];

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

static int setup(void **state)
{
	(void)state;
	snprintf(top, sizeof top, "/tmp/gb-sink-XXXXXX");
	assert_non_null(mkdtemp(top));
	snprintf(jdir, sizeof jdir, "%s/journal", top);
	snprintf(cdir, sizeof cdir, "%s/cursors", top);
	snprintf(out, sizeof out, "%s/out.jsonl", top);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nftw(top, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- a host like glassbox serve: journal writer under a lock, and a
 * table of what retention deleted ---- */
struct host {
	pthread_mutex_t mu;
	struct gb_journal *j;
	uint64_t del_seg[4096], del_ev[4096];
	size_t ndel;
	int losses;
};

static void on_delete(void *arg, uint64_t seg, uint64_t events)
{
	struct host *h = arg;
	assert_true(h->ndel < 4096);
	h->del_seg[h->ndel] = seg;
	h->del_ev[h->ndel++] = events;
}

static int h_deleted(void *arg, uint64_t from, uint64_t to, uint64_t *events, uint64_t *segs)
{
	struct host *h = arg;
	pthread_mutex_lock(&h->mu);
	*events = *segs = 0;
	for (size_t i = 0; i < h->ndel; i++)
		if (h->del_seg[i] >= from && h->del_seg[i] < to) {
			*events += h->del_ev[i];
			++*segs;
		}
	pthread_mutex_unlock(&h->mu);
	return 0;
}

static int h_emit(void *arg, const char *line, size_t len, const struct gb_jmeta *m)
{
	struct host *h = arg;
	pthread_mutex_lock(&h->mu);
	int rc = gb_journal_append(h->j, line, len, m, NULL);
	h->losses++;
	pthread_mutex_unlock(&h->mu);
	return rc;
}

static struct gb_jpos h_end(void *arg)
{
	struct host *h = arg;
	pthread_mutex_lock(&h->mu);
	struct gb_jpos p = gb_journal_end(h->j);
	pthread_mutex_unlock(&h->mu);
	return p;
}

static void host_open(struct host *h, uint64_t seg_bytes, uint64_t retain)
{
	memset(h, 0, sizeof *h);
	pthread_mutex_init(&h->mu, NULL);
	struct gb_journal_opts o = { .dir = jdir, .segment_bytes = seg_bytes, .frame_bytes = 1024,
		                     .fsync = GB_FSYNC_NEVER, .retain_bytes = retain };
	char err[256];
	assert_int_equal(gb_journal_open(&o, &h->j, err, sizeof err), 0);
}

static void host_close(struct host *h)
{
	gb_journal_close(h->j);
	pthread_mutex_destroy(&h->mu);
}

static void append_n(struct host *h, int from, int n)
{
	char line[512], sb[64];
	pthread_mutex_lock(&h->mu);
	for (int i = from; i < from + n; i++) {
		int l = snprintf(line, sizeof line,
		                 "{\"class_uid\":4001,\"severity_id\":1,\"time\":%lld,\"metadata\":{\"log_name\":"
		                 "\"s1\",\"uid\":\"sbx:%d\"},\"message\":\"event %d padding-padding-padding\"}",
		                 1700000000000LL + i, i, i);
		struct gb_jmeta m;
		assert_int_equal(gb_jmeta_parse(line, (size_t)l, &m, sb, sizeof sb), 0);
		assert_int_equal(gb_journal_append(h->j, line, (size_t)l, &m, NULL), 0);
	}
	pthread_mutex_unlock(&h->mu);
}

static struct gb_sink_conf file_conf(uint64_t max_bytes, uint32_t keep)
{
	struct gb_sink_conf c;
	memset(&c, 0, sizeof c);
	snprintf(c.name, sizeof c.name, "f1");
	c.type = GB_SINK_FILE;
	c.batch_max = 37; /* not a divisor of anything here */
	snprintf(c.file.path, sizeof c.file.path, "%s", out);
	c.file.max_bytes = max_bytes;
	c.file.keep = keep;
	return c;
}

static struct gb_sinks *start(struct host *h, const struct gb_sink_conf *c)
{
	struct gb_sink_host sh = { h, h_deleted, h_emit, h_end };
	struct gb_sinks *s = NULL;
	char err[512];
	int rc = gb_sinks_start(c, 1, jdir, cdir, &sh, &s, err, sizeof err);
	if (rc < 0)
		fail_msg("gb_sinks_start: %s", err);
	return s;
}

/* Wait (bounded) until the sink has acknowledged `n` events. */
static void wait_sent(struct gb_sinks *s, uint64_t n)
{
	struct gb_sink_metrics m;
	for (int i = 0; i < 1000; i++) {
		gb_sinks_metrics(s, 0, &m);
		if (m.sent >= n)
			return;
		usleep(10000);
	}
	fail_msg("sink sent %llu of %llu", (unsigned long long)m.sent, (unsigned long long)n);
}

/* Lines of the sink's output files, oldest file first, into one buffer. */
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
	struct gb_sink_cursor c = { { 7, 12345 }, 42, 3 }, d;
	assert_int_equal(gb_sink_cursor_load(cdir, "k", &d), -ENOENT);
	assert_int_equal(gb_sink_cursor_save(cdir, "k", &c), 0);
	assert_int_equal(gb_sink_cursor_load(cdir, "k", &d), 0);
	assert_memory_equal(&c, &d, sizeof c);
	/* no temporary left behind */
	char p[400];
	snprintf(p, sizeof p, "%s/k.tmp", cdir);
	assert_int_equal(access(p, F_OK), -1);
	/* a damaged cursor is refused, not read as zero */
	snprintf(p, sizeof p, "%s/bad", cdir);
	FILE *f = fopen(p, "w");
	fputs("{\"segment\":7,\"offset\":1", f);
	fclose(f);
	assert_int_equal(gb_sink_cursor_load(cdir, "bad", &d), -EBADMSG);
	assert_int_equal(gb_sink_cursor_save(cdir, "../x", &c), -EINVAL);
	assert_int_equal(gb_sink_cursor_save(cdir, "", &c), -EINVAL);
}

static void t_backoff(void **state)
{
	(void)state;
	uint64_t rng = 12345;
	uint32_t seen_max[8] = { 0 };
	for (int i = 0; i < 2000; i++)
		for (unsigned a = 1; a <= 8; a++) {
			uint32_t d = gb_sink_backoff_ms(100, 1000, a, &rng);
			uint32_t cap = 100u << (a - 1);
			if (cap > 1000)
				cap = 1000;
			assert_true(d >= 1 && d <= cap);
			if (d > seen_max[a - 1])
				seen_max[a - 1] = d;
		}
	/* it grows, and the jitter spans the range */
	assert_true(seen_max[0] > 80 && seen_max[0] <= 100);
	assert_true(seen_max[3] > 700);
	assert_true(seen_max[7] > 900 && seen_max[7] <= 1000);
}

static void t_file_deliver_resume_rotate(void **state)
{
	(void)state;
	struct host h;
	host_open(&h, 8192, 0);
	append_n(&h, 0, 300);
	struct gb_sink_conf c = file_conf(16384, 20);
	struct gb_sinks *s = start(&h, &c);
	wait_sent(s, 300);
	gb_sinks_stop(s);
	/* more while the sink is stopped; it resumes at its cursor */
	append_n(&h, 300, 200);
	pthread_mutex_lock(&h.mu);
	assert_int_equal(gb_journal_rotate(h.j), 0); /* some of them sealed */
	pthread_mutex_unlock(&h.mu);
	append_n(&h, 500, 100);
	s = start(&h, &c);
	wait_sent(s, 300); /* this run: the 300 new ones */
	append_n(&h, 600, 50); /* and events arriving while it runs */
	wait_sent(s, 350);
	struct gb_sink_metrics m;
	gb_sinks_metrics(s, 0, &m);
	assert_int_equal(m.failed, 0);
	assert_int_equal(m.lag_bytes, 0);
	gb_sinks_stop(s);
	size_t nj, nf;
	char *j = journal_text(&nj);
	char *f = slurp_outputs(20, &nf);
	assert_int_equal(nj, 650);
	assert_int_equal(nf, 650);
	assert_string_equal(f, j); /* same lines, same order: no gap, no repeat */
	/* rotated by size, each file within the limit */
	struct stat st;
	char p[400];
	snprintf(p, sizeof p, "%s.1", out);
	assert_int_equal(stat(p, &st), 0);
	assert_true(st.st_size <= 16384);
	free(j);
	free(f);
	host_close(&h);
}

static void t_rotation_keeps_n(void **state)
{
	(void)state;
	struct host h;
	host_open(&h, 1 << 20, 0);
	append_n(&h, 0, 400);
	struct gb_sink_conf c = file_conf(4096, 2);
	struct gb_sinks *s = start(&h, &c);
	wait_sent(s, 400);
	gb_sinks_stop(s);
	char p[400];
	snprintf(p, sizeof p, "%s.2", out);
	assert_int_equal(access(p, F_OK), 0);
	snprintf(p, sizeof p, "%s.3", out);
	assert_int_equal(access(p, F_OK), -1); /* only keep=2 rotated files */
	host_close(&h);
}

static int count_losses(uint64_t *count, char *msg, size_t msglen)
{
	struct gb_jreader *r;
	assert_int_equal(gb_jreader_open(jdir, NULL, NULL, &r), 0);
	const char *l;
	size_t ll;
	int n = 0;
	while (gb_jreader_next(r, &l, &ll, NULL) == 1) {
		if (!memmem(l, ll, "\"class_uid\":1008", 16))
			continue;
		n++;
		const char *p = memmem(l, ll, "\"count\":", 8);
		assert_non_null(p);
		*count = strtoull(p + 8, NULL, 10);
		const char *q = memmem(l, ll, "\"message\":\"", 11);
		assert_non_null(q);
		snprintf(msg, msglen, "%.*s", (int)(ll - (size_t)(q - l)), q);
	}
	gb_jreader_close(r);
	return n;
}

static void t_retention_loss(void **state)
{
	(void)state;
	struct host h;
	host_open(&h, 4096, 8192);
	append_n(&h, 0, 25);
	struct gb_sink_conf c = file_conf(1 << 20, 2);
	struct gb_sinks *s = start(&h, &c);
	wait_sent(s, 25);
	gb_sinks_stop(s);
	struct gb_sink_cursor cur;
	assert_int_equal(gb_sink_cursor_load(cdir, "f1", &cur), 0);
	/* The sink is stopped; the journal grows and retention deletes the
	 * oldest segments, among them the rest of the sink's segment. */
	append_n(&h, 25, 2000);
	pthread_mutex_lock(&h.mu);
	assert_int_equal(gb_journal_retain(h.j, on_delete, &h), 0);
	pthread_mutex_unlock(&h.mu);
	assert_true(h.ndel >= 2);
	assert_int_equal(h.del_seg[0], cur.pos.segment); /* it took the sink's segment */
	uint64_t expect = 0;
	for (size_t i = 0; i < h.ndel; i++)
		expect += h.del_ev[i];
	expect -= cur.index; /* those had been delivered */
	size_t kept;
	free(journal_text(&kept));

	s = start(&h, &c);
	wait_sent(s, kept + 1); /* what is left, and the LOSS event */
	struct gb_sink_metrics m;
	gb_sinks_metrics(s, 0, &m);
	assert_int_equal(m.lost, expect);
	gb_sinks_stop(s);
	uint64_t count = 0;
	char msg[512];
	assert_int_equal(count_losses(&count, msg, sizeof msg), 1);
	assert_int_equal(count, expect);
	assert_int_equal(h.losses, 1);
	/* 25 delivered before, then what retention left, then the LOSS */
	size_t nf;
	free(slurp_outputs(2, &nf));
	assert_int_equal(nf, 25 + kept + 1);

	/* A restart does not report it again. */
	s = start(&h, &c);
	usleep(300000);
	gb_sinks_stop(s);
	assert_int_equal(count_losses(&count, msg, sizeof msg), 1);
	assert_int_equal(h.losses, 1);
	host_close(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_cursor_file, setup, teardown),
		cmocka_unit_test(t_backoff),
		cmocka_unit_test_setup_teardown(t_file_deliver_resume_rotate, setup, teardown),
		cmocka_unit_test_setup_teardown(t_rotation_keeps_n, setup, teardown),
		cmocka_unit_test_setup_teardown(t_retention_loss, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
