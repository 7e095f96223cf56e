/* tests/unit/test_advisor_queue.c — the advisor's packed denial queue
 * (api/advisor.c, advisor_int.h's struct adv_qbuf), attacked from the
 * drain thread's side: denials with every string far past its bound (a
 * 600-byte binary, host and path) are cut at the bounds the fixed slots
 * had (binary 511, host 255, path 511 bytes) and never overrun the
 * buffer; a flood larger than the buffer's bytes inside one batching
 * window is dropped and counted, never blocking the caller, and exactly
 * the denials kept become proposals; a loopback denial queued among them
 * (now sorted out on the advisor thread) still never becomes one; and
 * the group set (adv_known) does not hide a group that is in the ledger:
 * after a reopen the same denial bumps its proposal rather than making a
 * second one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/advisor.h"
#include "common/record.h"
#include "tmpdir.h"

#define FLOOD 4000 /* > what 4 MiB holds at ~1.3 KiB a denial, < half the 8192 count */

static char big_exe[700], big_path[700];

static void l7rec(struct gb_record *r, const char *host, uint64_t seq)
{
	memset(r, 0, sizeof *r);
	r->type = GB_REC_HTTP_DECISION;
	r->seq = seq;
	r->ts_ns = 1700000000000000000ull + seq;
	struct gb_http_decision *h = &r->u.http;
	h->verdict = GB_VERDICT_DENY;
	h->reason = GB_R_L7_NOT_PERMITTED;
	h->dst = (struct gb_endpoint){ host, "", 443 };
	h->id = (struct gb_identity){ .pid = 7, .exe = big_exe, .sha256 = "", .script = "" };
	h->method = "DELETE";
	h->path = big_path;
	h->reason_text = h->policy_entry = h->rule = "";
}

static void netrec(struct gb_record *r, const char *host, const char *ip, uint64_t seq)
{
	memset(r, 0, sizeof *r);
	r->type = GB_REC_NET_DECISION;
	r->seq = seq;
	r->ts_ns = 1700000000000000000ull + seq;
	r->u.net.phase = GB_NET_OPEN;
	r->u.net.verdict = GB_VERDICT_DENY;
	r->u.net.reason = GB_R_NO_ENDPOINT;
	r->u.net.dst = (struct gb_endpoint){ host, ip, 443 };
	r->u.net.id = (struct gb_identity){ .pid = 7, .exe = "/usr/bin/curl", .sha256 = "",
		                            .script = "" };
	r->u.net.reason_text = r->u.net.policy_entry = r->u.net.endpoint = "";
}

static void flood_and_bounds(void **state)
{
	(void)state;
	memset(big_exe, 'b', sizeof big_exe - 1);
	memcpy(big_exe, "/usr/bin/", 9);
	memset(big_path, 'p', sizeof big_path - 1);
	big_path[0] = '/';
	char dir[128], db[256], err[256];
	assert_int_equal(gb_tmpdir_make(dir, sizeof dir, "advqueue"), 0);
	snprintf(db, sizeof db, "%s/advisor.db", dir);
	/* a window far longer than the test: only the flood's size could end it */
	struct gb_advisor_opts o = { .db_path = db, .root = dir, .flush_ms = 600000 };
	struct gb_advisor *a;
	assert_int_equal(gb_advisor_open(&o, &a, err, sizeof err), 0);

	struct gb_record r;
	netrec(&r, "loop.example.com", "127.0.0.1", 1); /* resolved to loopback */
	gb_advisor_observe(a, "s1", &r);
	char host[700];
	for (int i = 0; i < FLOOD; i++) {
		/* distinct in its first bytes, 600 bytes long */
		int n = snprintf(host, sizeof host, "h%05d.", i);
		memset(host + n, 'x', 600 - (size_t)n);
		host[600] = '\0';
		l7rec(&r, host, (uint64_t)i + 10);
		gb_advisor_observe(a, "s1", &r);
	}
	uint64_t dropped = gb_advisor_dropped(a);
	assert_true(dropped > 0);      /* the bytes bound held */
	assert_true(dropped < FLOOD);  /* and what fitted was kept */
	gb_advisor_sync(a);
	json_t *o1 = NULL;
	assert_int_equal(gb_advisor_list(a, "s1", NULL, &o1), 200);
	json_t *s = json_object_get(o1, "suggestions"), *v;
	assert_int_equal(json_array_size(s), (size_t)(FLOOD - dropped));
	size_t i;
	json_array_foreach(s, i, v) {
		const char *h = json_string_value(json_object_get(v, "host"));
		assert_int_equal(strlen(h), 255);
		assert_true(strncmp(h, "loop.", 5) != 0);
		json_t *bins = json_object_get(v, "binaries");
		assert_int_equal(json_array_size(bins), 1);
		assert_int_equal(strlen(json_string_value(json_array_get(bins, 0))), 511);
		json_t *paths = json_object_get(v, "paths");
		assert_int_equal(json_array_size(paths), 1);
		assert_int_equal(strlen(json_string_value(json_array_get(paths, 0))), 511);
	}
	json_decref(o1);
	gb_advisor_close(a);

	/* reopened: the group is in the ledger, so the same denial (first host)
	 * is a hit on its proposal, not a second proposal */
	assert_int_equal(gb_advisor_open(&o, &a, err, sizeof err), 0);
	int n = snprintf(host, sizeof host, "h%05d.", 0);
	memset(host + n, 'x', 600 - (size_t)n);
	host[600] = '\0';
	l7rec(&r, host, 99999);
	gb_advisor_observe(a, "s1", &r);
	gb_advisor_sync(a);
	assert_int_equal(gb_advisor_list(a, "s1", NULL, &o1), 200);
	assert_int_equal(json_array_size(json_object_get(o1, "suggestions")),
	                 (size_t)(FLOOD - dropped));
	json_t *hit = NULL;
	json_array_foreach(json_object_get(o1, "suggestions"), i, v)
		if (!strncmp(json_string_value(json_object_get(v, "host")), "h00000.", 7))
			hit = v;
	assert_non_null(hit);
	assert_int_equal(json_integer_value(json_object_get(hit, "hits")), 2);
	json_decref(o1);
	assert_int_equal(gb_advisor_dropped(a), 0);
	gb_advisor_close(a);
	gb_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flood_and_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
