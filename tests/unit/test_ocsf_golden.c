/* Golden output of the OCSF mapper (exporter/ocsf*.c): a fixed set of
 * records of every class, under three contexts, serialised and compared
 * byte for byte with tests/unit/ocsf_golden.jsonl.
 *
 * The mapper caches what is the same for many events (the device and
 * metadata of a context, the actor of an identity).  A cache that keys on
 * too little, or that is not refreshed when what it depends on changes,
 * writes one event's fields into another: this test catches that by
 * formatting the set forwards, backwards and interleaved (every record
 * after each of its neighbours — same exe with another pid or hash, same
 * sandbox name with another id, another host), in a reused buffer as serve
 * does, with the strings in reused storage (a key compared by pointer would
 * match), and comparing each line with the golden one each time.
 *
 * To regenerate after a deliberate change of the mapping:
 *   GB_OCSF_GOLDEN_WRITE=tests/unit/ocsf_golden.jsonl build/debug/tests/test_ocsf_golden
 * and review the diff: every changed line is a change of the events
 * glassbox publishes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/array.h"
#include "exporter/ocsf.h"

#define SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define SHB "0000d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f0ffff"
#define TS 1787313600123456789ull

static const char hostile[] = "a\nb\r\"c\\d\x1b[31m\x01\x7f\t\xe2\x80\xa8\xc2\x85/\xf0\x9f\x98\x80\xff";

static const struct gb_ocsf_ctx ctxs[] = {
	{ "demo", "sbx-0001", "host1", "9.9.9" },
	{ "demo", "sbx-0002", "host1", "9.9.9" }, /* same name, another sandbox */
	{ NULL, NULL, "h\"ost2", NULL },          /* the daemon's own events */
	{ "de\"mo\n", "sbx-0001", "host1", "9.9.10" },
};

/* Strings live in these reused arrays, rewritten before each record, so
 * that two different identities share the same pointers. */
static char s_exe[64], s_sha[80], s_anc0[64], s_anc1[64], s_script[64];

static struct gb_identity ident(int v)
{
	static const char *const exes[] = { "/usr/bin/python3.11", "/usr/bin/python3.11", "/usr/bin/curl",
		                            "/usr/bin/python3.11", "/usr/bin/python3.11", "/usr/bin/python3.11" };
	struct gb_identity id = { .pid = 4242, .uid = 1000, .exe = s_exe, .sha256 = s_sha, .script = s_script,
		                  .n_ancestors = 3 };
	snprintf(s_exe, sizeof s_exe, "%s", exes[v % 6]);
	snprintf(s_sha, sizeof s_sha, "%s", v == 3 ? SHB : SHA);
	snprintf(s_anc0, sizeof s_anc0, "%s", v == 4 ? "/bin/sh" : "/bin/bash");
	snprintf(s_anc1, sizeof s_anc1, "%s", "/usr/bin/node");
	snprintf(s_script, sizeof s_script, "%s", v == 0 ? "/w/app.py" : "");
	if (v == 1)
		id.pid = 4343; /* same exe, another process */
	if (v == 2)
		id.flags = GB_ID_INTERPRETER | GB_ID_EXE_DELETED | GB_ID_ANCESTORS_CUT;
	if (v == 5)
		id.uid = 0, id.n_ancestors = 1;
	id.ancestor_pids[0] = 4200, id.ancestors[0] = s_anc0;
	id.ancestor_pids[1] = 4100, id.ancestors[1] = s_anc1;
	id.ancestor_pids[2] = 0, id.ancestors[2] = "/usr/bin/glassbox";
	return id;
}

#define N_RECS 40

/* Record i of the set (all classes, full and minimal, hostile strings). */
static struct gb_record rec(int i)
{
	struct gb_record r = { .seq = 100 + (uint64_t)i, .ts_ns = TS + (uint64_t)i * 999999937ull };
	int v = i % 6;
	switch (i % 10) {
	case 0: case 1: case 2: case 3:
		r.type = GB_REC_NET_DECISION;
		r.u.net = (struct gb_net_decision){
			.phase = i % 4 == 2 ? GB_NET_CLOSE : GB_NET_OPEN, .kind = i % 3 ? GB_NET_CONNECT : GB_NET_FORWARD,
			.verdict = i % 4 == 3 ? GB_VERDICT_DENY : GB_VERDICT_ALLOW, .conn_id = 77 + (uint64_t)i,
			.policy_rev = 5, .bytes_up = 1234, .bytes_down = 5678, .duration_ns = 3000000000ull,
			.src = { "", "10.200.0.2", 40000 }, .dst = { "api.github.com", "198.18.0.10", 443 },
			.id = ident(v), .reason_text = "", .policy_entry = "github", .endpoint = "api.github.com:443" };
		if (i % 4 == 3) {
			r.u.net.reason = i > 20 ? GB_R_NO_ENDPOINT : GB_R_BINARY_NOT_ALLOWED;
			r.u.net.reason_text = "why";
			r.u.net.ssrf_tier = i > 30 ? GB_SSRF_INTERNAL : GB_SSRF_NONE;
		}
		if (i == 11) { /* learn mode */
			r.u.net.reason = GB_R_NO_ENDPOINT;
			r.u.net.dst = (struct gb_endpoint){ "2001:db8::1", "", 8443 };
		}
		if (i == 21) {
			r.u.net.dst.host = hostile;
			r.u.net.policy_entry = hostile;
			r.flags = GB_RECF_TRUNCATED;
		}
		if (i == 30)
			r.u.net.id = (struct gb_identity){ 0 };
		break;
	case 4: case 5:
		r.type = GB_REC_HTTP_DECISION;
		r.u.http = (struct gb_http_decision){
			.verdict = i % 8 == 5 ? GB_VERDICT_DENY : GB_VERDICT_ALLOW, .mode = i > 20 ? GB_MODE_AUDIT : GB_MODE_ENFORCE,
			.status = 201, .conn_id = 77, .policy_rev = 5, .src = { "", "10.200.0.2", 40000 },
			.dst = { "api.github.com", "198.18.0.10", 443 }, .id = ident(v), .method = i % 3 ? "POST" : "PROPFIND",
			.scheme = "https", .path = "/repos/a", .query = "page=REDACTED", .rule = "POST /repos/**",
			.reason_text = "", .policy_entry = "github", .bytes_req = 300, .bytes_resp = 4000,
			.latency_ns = 12000000, .tls = GB_HTTP_TLS_TERMINATED, .sni = "api.github.com",
			.tls_version = "TLSv1.3", .credentials = i == 15 ? "GITHUB_TOKEN" : "" };
		if (r.u.http.verdict == GB_VERDICT_DENY || r.u.http.mode == GB_MODE_AUDIT)
			r.u.http.reason = GB_R_L7_NOT_PERMITTED;
		if (i == 24) {
			r.u.http.method = "POST"; /* inference.local with another method: not valid OCSF yet */
			r.u.http.ai_provider = "openai";
			r.u.http.ai_type = "chat";
			r.u.http.ai_model = "gpt-x";
			r.u.http.ai_ttfb_ns = 5000000;
			r.u.http.ai_tokens_in = 12;
			r.u.http.ai_tokens_out = -1;
		}
		if (i == 35) {
			r.u.http.path = hostile;
			r.u.http.id.exe = hostile;
		}
		break;
	case 6:
		r.type = GB_REC_PROC;
		r.u.proc = (struct gb_proc){ .activity = (uint8_t)(1 + (i / 10) % 3), .pid = 10 + i, .ppid = 9,
			                     .uid = 1000, .gid = 1001, .exe = "/usr/bin/env", .sha256 = SHA, .argc = 3,
			                     .argv = { "env", "a b", i == 26 ? hostile : "q\"uote" },
			                     .exit_code = -1, .signal = 9, .duration_ns = 3000000000ull,
			                     .detail = "uid 1000 gid 1001", .supervisor_pid = 8 };
		break;
	case 7:
		r.type = GB_REC_FINDING;
		if (i < 20)
			r.u.finding = (struct gb_finding){ .kind = GB_F_BINARY_CHANGED, .severity = GB_SEV_HIGH,
				                           .has_identity = 1, .id = ident(v), .title = "Binary changed",
				                           .detail = "hash differs", .subject = "/usr/bin/python3.11" };
		else if (i < 30)
			r.u.finding = (struct gb_finding){ .kind = GB_F_LANDLOCK_DENIED, .severity = GB_SEV_MEDIUM,
				                           .subject = "/etc/shadow" };
		else
			r.u.finding = (struct gb_finding){ .kind = GB_F_LANDLOCK_UNAVAILABLE, .severity = GB_SEV_LOW };
		break;
	case 8:
		r.type = i < 20 ? GB_REC_CONFIG : GB_REC_LOSS;
		if (i < 10)
			r.u.config = (struct gb_config){ .action = GB_CFG_UPDATED, .revision = 12, .sha256 = SHA, .source = "api" };
		else if (i < 20)
			r.u.config = (struct gb_config){ .action = GB_CFG_REFUSED, .detail = "3:5: unknown field" };
		else if (i < 30)
			r.u.loss = (struct gb_loss){ .cause = GB_LOSS_RING_FULL, .count = 5, .first_seq = 10, .last_seq = 14 };
		else
			r.u.loss = (struct gb_loss){ .cause = GB_LOSS_RETENTION, .count = 3, .detail = hostile };
		break;
	default:
		r.type = GB_REC_LIFECYCLE;
		r.u.lifecycle = (struct gb_lifecycle){ .activity = (uint8_t)(1 + (i / 10) % 3),
			                               .layers = GB_LAYER_NETNS | GB_LAYER_LANDLOCK, .landlock_abi = 4,
			                               .sandbox_name = "demo", .seccomp_mode = "filter",
			                               .memory_max = i > 20 ? 1u << 30 : 0 };
		break;
	}
	return r;
}

/* Line k of the golden file: record k % N_RECS under context k / N_RECS. */
#define N_LINES (N_RECS * (int)GB_ARRAY_LEN(ctxs))

static void format_line(int k, struct gb_buf *b)
{
	struct gb_record r = rec(k % N_RECS);
	gb_buf_reset(b);
	assert_int_equal(gb_ocsf_format(&ctxs[k / N_RECS], &r, b, NULL), 0);
}

static char *golden[N_LINES];
static size_t golden_len[N_LINES];

static void load_golden(void)
{
	const char *src = getenv("GB_SOURCE_DIR");
	char path[1024];
	snprintf(path, sizeof path, "%s/tests/unit/ocsf_golden.jsonl", src ? src : ".");
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int k = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (k >= N_LINES)
			fail_msg("%s: more than %d lines", path, N_LINES);
		golden_len[k] = (size_t)n - (line[n - 1] == '\n');
		golden[k] = strndup(line, golden_len[k]);
		k++;
	}
	free(line);
	fclose(f);
	assert_int_equal(k, N_LINES);
}

static void check(int k, struct gb_buf *b)
{
	format_line(k, b);
	if (b->len != golden_len[k] || memcmp(b->data, golden[k], b->len) != 0)
		fail_msg("line %d (record %d, context %d) differs:\n got  %.*s\n want %s", k + 1, k % N_RECS,
		         k / N_RECS, (int)b->len, b->data, golden[k]);
}

static void test_golden(void **state)
{
	(void)state;
	struct gb_buf b = GB_BUF_INIT;
	load_golden();
	for (int k = 0; k < N_LINES; k++) /* forwards */
		check(k, &b);
	for (int k = N_LINES - 1; k >= 0; k--) /* backwards */
		check(k, &b);
	/* every pair, both orders: whatever a cache kept from the one before */
	for (int a = 0; a < N_LINES; a += 3)
		for (int c = 0; c < N_LINES; c++) {
			check(a, &b);
			check(c, &b);
		}
	gb_buf_free(&b);
	for (int k = 0; k < N_LINES; k++)
		free(golden[k]);
}

int main(void)
{
	const char *w = getenv("GB_OCSF_GOLDEN_WRITE");
	if (w) {
		FILE *f = fopen(w, "w");
		struct gb_buf b = GB_BUF_INIT;
		if (!f)
			return 1;
		for (int k = 0; k < N_LINES; k++) {
			struct gb_record r = rec(k % N_RECS);
			gb_buf_reset(&b);
			if (gb_ocsf_format(&ctxs[k / N_RECS], &r, &b, NULL) != 0)
				return 1;
			fprintf(f, "%.*s\n", (int)b.len, b.data);
		}
		gb_buf_free(&b);
		return fclose(f) ? 1 : 0;
	}
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_golden) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
