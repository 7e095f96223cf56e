/* tests/unit/test_checkpoint.c — signed journal checkpoints on a real
 * journal: the signer signs every seal and the tail, verify proves it all;
 * then the attacks: a segment rewritten consistently (chain, index and
 * head.json all updated, so the chain alone passes), two segments swapped,
 * a forged checkpoint, the tail rewritten before a checkpoint, a journal
 * checked against another host's key, a key file others can read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "exporter/checkpoint.h"
#include "exporter/journal_int.h"
#include "unit/tmpdir.h"

static char base[256], dir[300], keys[300];

static int setup(void **state)
{
	(void)state;
	assert_int_equal(gb_tmpdir_make(base, sizeof base, "ckpt"), 0);
	snprintf(dir, sizeof dir, "%s/j", base);
	snprintf(keys, sizeof keys, "%s/keys", base);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	gb_tmpdir_remove(base);
	return 0;
}

static void append_n(struct gb_journal *j, int from, int n)
{
	char line[512], sb[64];
	for (int i = from; i < from + n; i++) {
		int l = snprintf(line, sizeof line,
		                 "{\"class_uid\":4001,\"severity_id\":1,\"time\":%lld,\"metadata\":"
		                 "{\"log_name\":\"s\",\"uid\":\"s:%d\"},\"message\":\"event %06d padding-padding\"}",
		                 1700000000000LL + i, i, i);
		struct gb_jmeta m;
		assert_int_equal(gb_jmeta_parse(line, (size_t)l, &m, sb, sizeof sb), 0);
		assert_int_equal(gb_journal_append(j, line, (size_t)l, &m, NULL), 0);
	}
}

struct probs {
	int n;
	char last[1024];
};

static void collect(void *arg, const char *text)
{
	struct probs *p = arg;
	p->n++;
	snprintf(p->last, sizeof p->last, "%s", text);
}

/* 4 sealed segments, each signed, plus a signed tail of 10 events. */
static void build(void)
{
	struct gb_journal_opts o = { .dir = dir, .segment_bytes = 1u << 20, .frame_bytes = 1024,
		                     .fsync = GB_FSYNC_NEVER };
	struct gb_journal *j;
	struct gb_ckpt_signer *s;
	char err[256];
	assert_int_equal(gb_journal_open(&o, &j, err, sizeof err), 0);
	assert_int_equal(gb_ckpt_signer_open(keys, dir, 600, "host", &s, err, sizeof err), 0);
	for (int k = 0; k < 4; k++) {
		append_n(j, k * 30, 30);
		assert_int_equal(gb_journal_rotate(j), 0);
		assert_true(gb_ckpt_signer_tick(s, j, false) >= 1);
	}
	append_n(j, 200, 10);
	assert_int_equal(gb_ckpt_signer_tick(s, j, true), 1);
	gb_ckpt_signer_close(s);
	gb_journal_close(j);
}

static EVP_PKEY *pubkey(void)
{
	char p[400], err[256];
	EVP_PKEY *k;
	snprintf(p, sizeof p, "%s/%s", keys, GB_CKPT_PUB_FILE);
	assert_int_equal(gb_ckpt_pub_load(p, &k, err, sizeof err), 0);
	return k;
}

static int verify(struct gb_ckpt_result *res, struct probs *p)
{
	EVP_PKEY *k = pubkey();
	memset(p, 0, sizeof *p);
	int rc = gb_ckpt_verify(dir, k, 0, collect, p, res);
	EVP_PKEY_free(k);
	return rc;
}

static const struct gb_ckpt_seg *seg(const struct gb_ckpt_result *r, uint64_t n)
{
	for (size_t i = 0; i < r->n_segs; i++)
		if (r->segs[i].segment == n)
			return &r->segs[i];
	fail_msg("segment %llu not in the result", (unsigned long long)n);
	return NULL;
}

static void test_all_proven(void **state)
{
	(void)state;
	build();
	struct stat st;
	char p[400];
	snprintf(p, sizeof p, "%s/%s", keys, GB_CKPT_KEY_FILE);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	struct gb_ckpt_result r;
	struct probs pr;
	assert_int_equal(verify(&r, &pr), 0);
	assert_int_equal(r.n_segs, 5);
	assert_int_equal(r.invalid, 0);
	assert_true(r.valid >= 5);
	for (uint64_t n = 1; n <= 4; n++)
		assert_true(seg(&r, n)->seal_proven);
	/* the active segment: 3 seal checkpoints? no: segments 2-4's seal
	 * checkpoints went into 2-5; segment 5 holds the 4th seal checkpoint,
	 * the 10 events, then the tail checkpoint (which vouches for itself) */
	const struct gb_ckpt_seg *t = seg(&r, 5);
	assert_false(t->sealed);
	assert_int_equal(t->proven_events, 11);
	assert_int_equal(t->events, 12);
	assert_int_equal(t->tail_ckpts, 1);
	gb_ckpt_result_free(&r);
}

/* Rewrite segment n with one changed event, and fix up everything the chain
 * checks (its index, the next index's prev link, head.json): the forgery an
 * attacker with root on the host makes. */
static void forge_segment(uint64_t n)
{
	struct jseg *v;
	size_t cnt;
	assert_int_equal(jseg_list(dir, &v, &cnt), 0);
	struct jseg *s = NULL, *next = NULL;
	for (size_t i = 0; i < cnt; i++) {
		if (v[i].n == n)
			s = &v[i];
		if (v[i].n == n + 1)
			next = &v[i];
	}
	assert_non_null(s);
	char zp[400], ip[400];
	jseg_path(zp, sizeof zp, dir, s, ".jsonl.zst");
	jseg_path(ip, sizeof ip, dir, s, ".idx.json");
	struct jidx x;
	assert_int_equal(jidx_read(ip, &x), 0);
	/* decode, change one digit of the first "event " text, recompress */
	struct gb_buf plain = GB_BUF_INIT;
	struct gb_jreader *r;
	struct gb_jpos from = { n, 0 }, pos;
	const char *line;
	size_t len;
	assert_int_equal(gb_jreader_open(dir, NULL, &from, &r), 0);
	while (gb_jreader_next(r, &line, &len, &pos) == 1 && pos.segment == n) {
		gb_buf_append(&plain, line, len);
		gb_buf_putc(&plain, '\n');
	}
	gb_jreader_close(r);
	char *e = memmem(plain.data, plain.len, "event 0", 7);
	assert_non_null(e);
	e[6] = '9';
	size_t cap = ZSTD_compressBound(plain.len);
	char *z = malloc(cap);
	size_t zl = ZSTD_compress(z, cap, plain.data, plain.len, 3);
	assert_false(ZSTD_isError(zl));
	int fd = open(zp, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, z, zl), (ssize_t)zl);
	close(fd);
	char old[65];
	snprintf(old, sizeof old, "%s", x.sha256);
	assert_int_equal(gb_sha256_file(zp, x.sha256), 0);
	x.n_frames = 1;
	x.frames[0] = (struct jidx_frame){ .c_len = zl, .u_len = plain.len, .lines = x.events };
	assert_int_equal(jidx_write(ip, &x), 0);
	if (next) {
		char np[400];
		struct jidx y;
		jseg_path(np, sizeof np, dir, next, ".idx.json");
		assert_int_equal(jidx_read(np, &y), 0);
		snprintf(y.prev_sha256, sizeof y.prev_sha256, "%s", x.sha256);
		assert_int_equal(jidx_write(np, &y), 0);
		jidx_free(&y);
	}
	uint64_t hn;
	char hs[65];
	if (jchain_read(dir, "head.json", &hn, hs) == 0 && hn == n)
		assert_int_equal(jchain_write(dir, "head.json", n, x.sha256), 0);
	jidx_free(&x);
	free(z);
	gb_buf_free(&plain);
	free(v);
	(void)old;
}

static void test_consistent_rewrite_caught(void **state)
{
	(void)state;
	build();
	forge_segment(2);
	/* the chain alone cannot see it */
	assert_int_equal(gb_journal_verify(dir, NULL, NULL, NULL), 0);
	struct gb_ckpt_result r;
	struct probs pr;
	assert_true(verify(&r, &pr) >= 1);
	assert_true(seg(&r, 2)->broken);
	assert_false(seg(&r, 2)->seal_proven);
	assert_non_null(strstr(seg(&r, 2)->why, "altered or replaced"));
	assert_true(seg(&r, 1)->seal_proven);
	assert_true(seg(&r, 3)->seal_proven);
	gb_ckpt_result_free(&r);
}

static void swap_files(uint64_t a, uint64_t b, const char *suffix)
{
	struct jseg *v;
	size_t cnt;
	assert_int_equal(jseg_list(dir, &v, &cnt), 0);
	char pa[400] = "", pb[400] = "", tmp[420];
	for (size_t i = 0; i < cnt; i++) {
		if (v[i].n == a)
			jseg_path(pa, sizeof pa, dir, &v[i], suffix);
		if (v[i].n == b)
			jseg_path(pb, sizeof pb, dir, &v[i], suffix);
	}
	free(v);
	snprintf(tmp, sizeof tmp, "%s.swap", pa);
	assert_int_equal(rename(pa, tmp), 0);
	assert_int_equal(rename(pb, pa), 0);
	assert_int_equal(rename(tmp, pb), 0);
}

static void test_reorder_caught(void **state)
{
	(void)state;
	build();
	swap_files(2, 3, ".jsonl.zst");
	swap_files(2, 3, ".idx.json");
	struct gb_ckpt_result r;
	struct probs pr;
	assert_true(verify(&r, &pr) >= 2);
	assert_true(seg(&r, 2)->broken);
	assert_true(seg(&r, 3)->broken);
	assert_non_null(strstr(seg(&r, 2)->why, "signed as segment 3"));
	assert_non_null(strstr(seg(&r, 3)->why, "signed as segment 2"));
	assert_true(seg(&r, 4)->seal_proven);
	gb_ckpt_result_free(&r);
}

/* A checkpoint signed by someone else's key but claiming this host's id,
 * appended as the attacker would (the journal is theirs to write). */
static void test_forged_checkpoint(void **state)
{
	(void)state;
	build();
	EVP_PKEY *real = pubkey(), *other = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct gb_ckpt c = { .kind = GB_CKPT_SEAL, .segment = 2, .offset = 1, .events = 1, .time_ms = 5 };
	memset(c.sha256, 'a', 64);
	assert_int_equal(gb_ckpt_sign(other, &c), 0);
	assert_int_equal(gb_ckpt_check(other, &c), 0);
	gb_ckpt_key_id(real, c.key_id); /* claim the host's key */
	assert_int_equal(gb_ckpt_check(real, &c), -EBADMSG);
	struct gb_ocsf_ctx ctx = { .hostname = "h" };
	struct gb_buf b = GB_BUF_INIT;
	assert_int_equal(gb_ckpt_format(&ctx, &c, &b, NULL), 0);
	/* a long segment_age: the reopened segment holds 2023 event times */
	struct gb_journal_opts o = { .dir = dir, .segment_bytes = 1u << 20, .segment_age_s = 1u << 30,
	                             .fsync = GB_FSYNC_NEVER };
	struct gb_journal *j;
	char err[256];
	assert_int_equal(gb_journal_open(&o, &j, err, sizeof err), 0);
	struct gb_jmeta m = { .time_ms = 5, .class_uid = 1008 };
	assert_int_equal(gb_journal_append(j, b.data, b.len, &m, NULL), 0);
	gb_journal_close(j);
	struct gb_ckpt_result r;
	struct probs pr;
	assert_int_equal(verify(&r, &pr), 1);
	assert_int_equal(r.invalid, 1);
	assert_non_null(strstr(pr.last, "bad signature"));
	/* the forged one proves nothing: segment 2 is still proven by the real one */
	assert_true(seg(&r, 2)->seal_proven);
	/* and the tail event after the last real checkpoint is unproven */
	assert_int_equal(seg(&r, 5)->events, 13);
	assert_int_equal(seg(&r, 5)->proven_events, 11);
	gb_ckpt_result_free(&r);
	gb_buf_free(&b);
	EVP_PKEY_free(real);
	EVP_PKEY_free(other);
}

static void test_tail_rewrite_caught(void **state)
{
	(void)state;
	build();
	struct jseg *v;
	size_t cnt;
	assert_int_equal(jseg_list(dir, &v, &cnt), 0);
	char p[400];
	jseg_path(p, sizeof p, dir, &v[cnt - 1], ".jsonl");
	free(v);
	int fd = open(p, O_RDWR);
	assert_true(fd >= 0);
	char buf[65536];
	ssize_t n = pread(fd, buf, sizeof buf, 0);
	char *e = memmem(buf, (size_t)n, "event 0002", 10);
	assert_non_null(e);
	assert_int_equal(pwrite(fd, "7", 1, e - buf + 9), 1);
	close(fd);
	struct gb_ckpt_result r;
	struct probs pr;
	assert_true(verify(&r, &pr) >= 1);
	assert_true(seg(&r, 5)->broken);
	assert_int_equal(seg(&r, 5)->proven_events, 0);
	assert_non_null(strstr(seg(&r, 5)->why, "differ from what the checkpoint"));
	assert_true(seg(&r, 4)->seal_proven);
	gb_ckpt_result_free(&r);
}

static void test_other_key_proves_nothing(void **state)
{
	(void)state;
	build();
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct gb_ckpt_result r;
	struct probs pr = { 0 };
	assert_int_equal(gb_ckpt_verify(dir, other, 0, collect, &pr, &r), 0);
	assert_int_equal(r.valid, 0);
	assert_true(r.other_key >= 5);
	for (size_t i = 0; i < r.n_segs; i++) {
		assert_false(r.segs[i].seal_proven);
		assert_int_equal(r.segs[i].proven_events, 0);
	}
	gb_ckpt_result_free(&r);
	EVP_PKEY_free(other);
}

static void test_key_mode_refused(void **state)
{
	(void)state;
	EVP_PKEY *k;
	char err[256], p[400];
	assert_int_equal(gb_ckpt_key_load_or_create(keys, &k, err, sizeof err), 0);
	EVP_PKEY *again;
	assert_int_equal(gb_ckpt_key_load_or_create(keys, &again, err, sizeof err), 0);
	char a[17], b[17];
	gb_ckpt_key_id(k, a);
	gb_ckpt_key_id(again, b);
	assert_string_equal(a, b); /* created once, then loaded */
	EVP_PKEY_free(again);
	EVP_PKEY_free(k);
	snprintf(p, sizeof p, "%s/%s", keys, GB_CKPT_KEY_FILE);
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(gb_ckpt_key_load_or_create(keys, &k, err, sizeof err), -EPERM);
	assert_non_null(strstr(err, "readable"));
}

static void test_parse_roundtrip(void **state)
{
	(void)state;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct gb_ckpt c = { .kind = GB_CKPT_TAIL, .segment = 7, .offset = 1234, .events = 9,
		             .time_ms = 1700000000123 };
	memset(c.sha256, 'b', 64);
	memset(c.prev_sha256, 'c', 64);
	assert_int_equal(gb_ckpt_sign(k, &c), 0);
	struct gb_ocsf_ctx ctx = { .hostname = "h" };
	struct gb_buf b = GB_BUF_INIT;
	assert_int_equal(gb_ckpt_format(&ctx, &c, &b, NULL), 0);
	struct gb_ckpt d;
	assert_int_equal(gb_ckpt_parse(b.data, b.len, &d), 1);
	assert_int_equal(gb_ckpt_check(k, &d), 0);
	/* any signed field changed breaks the signature */
	d.events++;
	assert_int_equal(gb_ckpt_check(k, &d), -EBADMSG);
	/* the marker inside another event's value is not a checkpoint */
	const char *other = "{\"class_uid\":4002,\"message\":\"GET /glassbox-checkpoint/1\"}";
	assert_int_equal(gb_ckpt_parse(other, strlen(other), &d), 0);
	gb_buf_free(&b);
	EVP_PKEY_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_all_proven, setup, teardown),
		cmocka_unit_test_setup_teardown(test_consistent_rewrite_caught, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reorder_caught, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_checkpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tail_rewrite_caught, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_key_proves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_mode_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_roundtrip, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
