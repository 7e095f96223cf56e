/* tests/unit/test_record.c — the record codec: every type round-trips with
 * every field, every truncation and trailing byte is rejected, random
 * mutations never read out of bounds (ASan build), limits are enforced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/record.h"

static char big[GB_STR_MAX + 1];

static struct gb_identity full_identity(void)
{
	struct gb_identity id = { .pid = 4242, .uid = 1000, .flags = GB_ID_INTERPRETER | GB_ID_LD_PRELOAD,
		                  .exe = "/usr/bin/python3.11", .sha256 = "ab12", .script = "/srv/x.py",
		                  .n_ancestors = GB_MAX_ANCESTORS };
	static char names[GB_MAX_ANCESTORS][32];
	for (int i = 0; i < GB_MAX_ANCESTORS; i++) {
		snprintf(names[i], sizeof names[i], "/bin/anc%d\x1b\n\"", i);
		id.ancestors[i] = names[i];
		id.ancestor_pids[i] = 100 + i;
	}
	return id;
}

static void check_identity(const struct gb_identity *a, const struct gb_identity *b)
{
	assert_int_equal(a->pid, b->pid);
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->flags, b->flags);
	assert_string_equal(a->exe, b->exe);
	assert_string_equal(a->sha256, b->sha256);
	assert_string_equal(a->script, b->script);
	assert_int_equal(a->n_ancestors, b->n_ancestors);
	for (uint32_t i = 0; i < a->n_ancestors; i++) {
		assert_int_equal(a->ancestor_pids[i], b->ancestor_pids[i]);
		assert_string_equal(a->ancestors[i], b->ancestors[i]);
	}
}

/* One record of every type with every field set. */
static int make(int type, struct gb_record *r)
{
	memset(r, 0, sizeof *r);
	r->type = (uint16_t)type;
	struct gb_identity id = full_identity();
	switch (type) {
	case GB_REC_NET_DECISION:
		r->u.net = (struct gb_net_decision){ .phase = GB_NET_CLOSE, .kind = GB_NET_FORWARD,
			.verdict = GB_VERDICT_ALLOW, .ssrf_tier = GB_SSRF_INTERNAL, .inspected = 1,
			.reason = GB_R_L7_DENY_RULE, .conn_id = UINT64_MAX, .policy_rev = 7,
			.bytes_up = 1ull << 40, .bytes_down = 3, .duration_ns = 99,
			.src = { "", "10.0.0.1", 5555 }, .dst = { "api.example.com", "198.18.0.1", 443 },
			.id = id, .reason_text = big, .policy_entry = "github", .endpoint = "api.example.com:443" };
		break;
	case GB_REC_HTTP_DECISION:
		r->u.http = (struct gb_http_decision){ .verdict = GB_VERDICT_DENY, .mode = GB_MODE_AUDIT,
			.reason = GB_R_L7_NOT_PERMITTED, .status = 403, .conn_id = 12, .policy_rev = 3,
			.src = { "", "::1", 1 }, .dst = { "h", "fd00::1", 80 }, .id = id, .method = "DELETE",
			.scheme = "http", .path = "/a/b", .query = "q=***", .rule = "GET /a/**",
			.reason_text = "not permitted", .policy_entry = "api" };
		break;
	case GB_REC_PROC: {
		struct gb_proc p = { .activity = GB_PROC_EXIT, .pid = 2, .ppid = 1, .uid = 1000, .gid = 1000,
			             .exit_code = -1, .signal = 9, .duration_ns = 5, .exe = "/bin/sh",
			             .sha256 = "ff", .detail = "killed", .argc = GB_MAX_ARGV,
			             .supervisor_pid = 77 };
		for (int i = 0; i < GB_MAX_ARGV; i++)
			p.argv[i] = i % 2 ? "arg" : "";
		r->u.proc = p;
		break;
	}
	case GB_REC_FINDING:
		r->u.finding = (struct gb_finding){ .kind = GB_F_BINARY_CHANGED, .severity = GB_SEV_HIGH,
			.has_identity = 1, .id = id, .title = "t", .detail = "d\u00e9", .subject = "/usr/bin/curl" };
		break;
	case GB_REC_CONFIG:
		r->u.config = (struct gb_config){ .action = GB_CFG_UPDATED, .revision = 9, .sha256 = "00",
			                          .source = "api", .detail = "" };
		break;
	case GB_REC_LIFECYCLE:
		r->u.lifecycle = (struct gb_lifecycle){ .activity = GB_LC_STARTED, .layers = 0x1f,
			.landlock_abi = 7, .uid = 999, .gid = 999, .sandbox_name = "demo",
			.landlock_rights = "fs", .seccomp_mode = "filter", .detail = "x",
			.memory_max = 1u << 30, .pids_max = 64, .nofile = 256, .cpu_milli = 1500 };
		break;
	case GB_REC_LOSS:
		r->u.loss = (struct gb_loss){ .cause = GB_LOSS_RING_FULL, .count = 5, .first_seq = 10,
			                      .last_seq = 14, .detail = "ring full" };
		break;
	}
	return 0;
}

static void compare(int type, const struct gb_record *a, const struct gb_record *b)
{
	switch (type) {
	case GB_REC_NET_DECISION: {
		const struct gb_net_decision *x = &a->u.net, *y = &b->u.net;
		assert_int_equal(x->phase, y->phase);
		assert_int_equal(x->kind, y->kind);
		assert_int_equal(x->verdict, y->verdict);
		assert_int_equal(x->ssrf_tier, y->ssrf_tier);
		assert_int_equal(x->inspected, y->inspected);
		assert_int_equal(x->reason, y->reason);
		assert_true(x->conn_id == y->conn_id && x->bytes_up == y->bytes_up);
		assert_true(x->policy_rev == y->policy_rev && x->duration_ns == y->duration_ns);
		assert_string_equal(x->dst.host, y->dst.host);
		assert_string_equal(x->dst.ip, y->dst.ip);
		assert_int_equal(x->dst.port, y->dst.port);
		assert_string_equal(x->src.ip, y->src.ip);
		check_identity(&x->id, &y->id);
		assert_string_equal(x->reason_text, y->reason_text);
		assert_string_equal(x->endpoint, y->endpoint);
		break;
	}
	case GB_REC_HTTP_DECISION:
		assert_int_equal(a->u.http.status, b->u.http.status);
		assert_string_equal(a->u.http.method, b->u.http.method);
		assert_string_equal(a->u.http.rule, b->u.http.rule);
		assert_string_equal(a->u.http.dst.ip, b->u.http.dst.ip);
		check_identity(&a->u.http.id, &b->u.http.id);
		break;
	case GB_REC_PROC:
		assert_int_equal(a->u.proc.exit_code, b->u.proc.exit_code);
		assert_int_equal(a->u.proc.argc, b->u.proc.argc);
		for (uint32_t i = 0; i < a->u.proc.argc; i++)
			assert_string_equal(a->u.proc.argv[i], b->u.proc.argv[i]);
		assert_int_equal(a->u.proc.supervisor_pid, b->u.proc.supervisor_pid);
		break;
	case GB_REC_FINDING:
		assert_string_equal(a->u.finding.detail, b->u.finding.detail);
		check_identity(&a->u.finding.id, &b->u.finding.id);
		break;
	case GB_REC_CONFIG:
		assert_true(a->u.config.revision == b->u.config.revision);
		assert_string_equal(a->u.config.source, b->u.config.source);
		break;
	case GB_REC_LIFECYCLE:
		assert_int_equal(a->u.lifecycle.layers, b->u.lifecycle.layers);
		assert_string_equal(a->u.lifecycle.sandbox_name, b->u.lifecycle.sandbox_name);
		/* the limits tail */
		assert_true(a->u.lifecycle.memory_max == b->u.lifecycle.memory_max &&
		            a->u.lifecycle.pids_max == b->u.lifecycle.pids_max &&
		            a->u.lifecycle.nofile == b->u.lifecycle.nofile &&
		            a->u.lifecycle.cpu_milli == b->u.lifecycle.cpu_milli);
		break;
	case GB_REC_LOSS:
		assert_true(a->u.loss.count == b->u.loss.count && a->u.loss.last_seq == b->u.loss.last_seq);
		break;
	}
}

static void test_round_trip_and_truncation(void **state)
{
	(void)state;
	static unsigned char buf[GB_RECORD_MAX];
	for (int t = 1; t <= GB_REC_TYPE_MAX; t++) {
		struct gb_record in, out;
		make(t, &in);
		uint16_t fl = 1234;
		int n = gb_rec_encode(&in, buf, sizeof buf, &fl);
		assert_true(n > 0);
		assert_int_equal(fl, 0);
		assert_int_equal(gb_rec_decode(t, buf, (size_t)n, &out), 0);
		assert_int_equal(out.type, t);
		compare(t, &in, &out);
		/* every proper prefix is rejected — but the record without its
		 * optional tail (a lifecycle's limits), which is a record of its own;
		 * a copy on the heap of exactly that length makes ASan catch any read
		 * past it */
		int base = -1;
		if (t == GB_REC_LIFECYCLE) {
			static unsigned char b2[GB_RECORD_MAX];
			struct gb_record nt = in;
			nt.u.lifecycle.memory_max = nt.u.lifecycle.pids_max = nt.u.lifecycle.nofile = 0;
			nt.u.lifecycle.cpu_milli = 0;
			base = gb_rec_encode(&nt, b2, sizeof b2, NULL);
			assert_true(base > 0 && base < n && !memcmp(b2 + 1, buf + 1, (size_t)base - 1));
		}
		for (int len = 0; len < n; len++) {
			unsigned char *cut = malloc(len ? (size_t)len : 1);
			memcpy(cut, buf, (size_t)len);
			if (t == GB_REC_PROC && len == n - 4) {
				/* a PROC record from before supervisor_pid (an older ring) */
				assert_int_equal(gb_rec_decode(t, cut, (size_t)len, &out), 0);
				assert_int_equal(out.u.proc.supervisor_pid, 0);
				free(cut);
				continue;
			}
			assert_int_equal(gb_rec_decode(t, cut, (size_t)len, &out), len == base ? 0 : -EBADMSG);
			free(cut);
		}
		/* trailing garbage, wrong version, wrong type */
		buf[n] = 0;
		assert_int_equal(gb_rec_decode(t, buf, (size_t)n + 1, &out), -EBADMSG);
		buf[0] = GB_RECORD_VERSION + 1;
		assert_int_equal(gb_rec_decode(t, buf, (size_t)n, &out), -EBADMSG);
		buf[0] = GB_RECORD_VERSION;
		assert_int_equal(gb_rec_decode(0, buf, (size_t)n, &out), -EBADMSG);
		assert_int_equal(gb_rec_decode(GB_REC_TYPE_MAX + 1, buf, (size_t)n, &out), -EBADMSG);
		/* a buffer one byte short */
		assert_int_equal(gb_rec_encode(&in, buf, (size_t)n - 1, NULL), -ENOSPC);
	}
}

static void test_limits(void **state)
{
	(void)state;
	static unsigned char buf[GB_RECORD_MAX];
	static char huge[GB_STR_MAX * 2];
	memset(huge, 'a', sizeof huge - 1);
	struct gb_record in, out;
	make(GB_REC_CONFIG, &in);
	in.u.config.detail = huge;
	uint16_t fl = 0;
	int n = gb_rec_encode(&in, buf, sizeof buf, &fl);
	assert_true(n > 0);
	assert_true(fl & GB_RECF_TRUNCATED);
	assert_int_equal(gb_rec_decode(GB_REC_CONFIG, buf, (size_t)n, &out), 0);
	assert_int_equal(strlen(out.u.config.detail), GB_STR_MAX);
	/* too many ancestors are cut and flagged */
	make(GB_REC_NET_DECISION, &in);
	in.u.net.id.n_ancestors = GB_MAX_ANCESTORS + 5;
	n = gb_rec_encode(&in, buf, sizeof buf, &fl);
	assert_true(n > 0 && (fl & GB_RECF_TRUNCATED));
	assert_int_equal(gb_rec_decode(GB_REC_NET_DECISION, buf, (size_t)n, &out), 0);
	assert_int_equal(out.u.net.id.n_ancestors, GB_MAX_ANCESTORS);
	assert_true(out.u.net.id.flags & GB_ID_ANCESTORS_CUT);
	/* NULL strings encode as "" and decode as "" */
	memset(&in, 0, sizeof in);
	in.type = GB_REC_LOSS;
	n = gb_rec_encode(&in, buf, sizeof buf, NULL);
	assert_int_equal(gb_rec_decode(GB_REC_LOSS, buf, (size_t)n, &out), 0);
	assert_string_equal(out.u.loss.detail, "");
	/* a string whose length is over the limit, or with an embedded NUL */
	make(GB_REC_CONFIG, &in);
	n = gb_rec_encode(&in, buf, sizeof buf, NULL);
	buf[10] = 0xff; /* first byte after u8 action + u64 revision: sha256 length low byte */
	buf[11] = 0xff;
	assert_int_equal(gb_rec_decode(GB_REC_CONFIG, buf, (size_t)n, &out), -EBADMSG);
	make(GB_REC_CONFIG, &in);
	in.u.config.sha256 = "ab";
	n = gb_rec_encode(&in, buf, sizeof buf, NULL);
	buf[12] = 0; /* "a\0" inside the declared length 2 */
	assert_int_equal(gb_rec_decode(GB_REC_CONFIG, buf, (size_t)n, &out), -EBADMSG);
	/* unknown type to encode */
	in.type = 99;
	assert_int_equal(gb_rec_encode(&in, buf, sizeof buf, NULL), -EINVAL);
}

static void test_mutations(void **state)
{
	(void)state;
	static unsigned char buf[GB_RECORD_MAX];
	srand(7);
	long decoded = 0, rejected = 0;
	for (int t = 1; t <= GB_REC_TYPE_MAX; t++) {
		struct gb_record in, out;
		make(t, &in);
		int n = gb_rec_encode(&in, buf, sizeof buf, NULL);
		for (int i = 0; i < 3000; i++) {
			unsigned char *m = malloc((size_t)n);
			memcpy(m, buf, (size_t)n);
			int flips = 1 + rand() % 4;
			for (int f = 0; f < flips; f++)
				m[rand() % n] = (unsigned char)rand();
			if (gb_rec_decode(t, m, (size_t)n, &out) == 0)
				decoded++;
			else
				rejected++;
			free(m);
		}
	}
	assert_true(decoded > 0 && rejected > 0); /* both paths were exercised */
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(gb_rec_type_name(GB_REC_NET_DECISION), "NET_DECISION");
	assert_null(gb_rec_type_name(0));
	assert_null(gb_rec_type_name(99));
	assert_string_equal(gb_reason_name(GB_R_BINARY_NOT_ALLOWED), "binary_not_allowed");
	assert_string_equal(gb_reason_name(GB_R_LIMIT), "limit");
	assert_string_equal(gb_reason_name(-1), "unknown");
	assert_string_equal(gb_ssrf_tier_name(GB_SSRF_LINK_LOCAL), "link_local");
	assert_string_equal(gb_ssrf_tier_name(GB_SSRF_NOT_IN_ALLOWED_IPS), "not_in_allowed_ips");
}

int main(void)
{
	memset(big, 'x', GB_STR_MAX);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_and_truncation),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
