/* tests/unit/test_advisor_batch.c — the advisor's batching window and
 * in-memory aggregation (api/advisor.c), attacked: thousands of identical
 * denials interleaved with another binary and other hosts in one window
 * must give the ledger exactly what one-by-one aggregation gives (hits
 * exact, the second binary superseding with the first one's hits carried,
 * first/last seen the extremes, five sample uids), the denials of two
 * sandboxes never merge, and a window ends on its own (a proposal appears
 * without gb_advisor_sync; the wait for it is bounded, never timed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/advisor.h"
#include "common/record.h"
#include "tmpdir.h"

#define N 3000

static void rec(struct gb_record *r, const char *host, const char *exe, uint64_t seq)
{
	memset(r, 0, sizeof *r);
	r->type = GB_REC_NET_DECISION;
	r->seq = seq;
	r->ts_ns = 1700000000000000000ull + seq;
	r->u.net.phase = GB_NET_OPEN;
	r->u.net.verdict = GB_VERDICT_DENY;
	r->u.net.reason = GB_R_NO_ENDPOINT;
	r->u.net.dst = (struct gb_endpoint){ host, "", 443 };
	r->u.net.id = (struct gb_identity){ .pid = 7, .exe = exe, .sha256 = "", .script = "" };
	r->u.net.reason_text = r->u.net.policy_entry = r->u.net.endpoint = "";
}

static json_t *find(struct gb_advisor *a, const char *sandbox, const char *host,
                    const char *status)
{
	json_t *o = NULL;
	assert_int_equal(gb_advisor_list(a, sandbox, status, &o), 200);
	json_t *s = json_object_get(o, "suggestions"), *v, *hit = NULL;
	size_t i;
	json_array_foreach(s, i, v)
		if (!strcmp(json_string_value(json_object_get(v, "host")), host))
			hit = json_incref(v);
	json_decref(o);
	return hit;
}

static void one_window(void **state)
{
	(void)state;
	char dir[128], db[256], err[256];
	assert_int_equal(gb_tmpdir_make(dir, sizeof dir, "advbatch"), 0);
	snprintf(db, sizeof db, "%s/advisor.db", dir);
	struct gb_advisor_opts o = { .db_path = db, .root = dir, .flush_ms = 2000 };
	struct gb_advisor *a;
	assert_int_equal(gb_advisor_open(&o, &a, err, sizeof err), 0);
	struct gb_record r;
	uint64_t seq = 1;
	/* curl N times, wget once in the middle, another host, another sandbox */
	for (int i = 0; i < N; i++) {
		rec(&r, "api.example.com", "/usr/bin/curl", seq++);
		gb_advisor_observe(a, "s1", &r);
		if (i == N / 2) {
			rec(&r, "api.example.com", "/usr/bin/wget", seq++);
			gb_advisor_observe(a, "s1", &r);
		}
		if (i % 3 == 0) {
			rec(&r, "api.example.com", "/usr/bin/curl", seq++);
			gb_advisor_observe(a, "s2", &r);
		}
	}
	rec(&r, "other.example.com", "/usr/bin/curl", seq++);
	gb_advisor_observe(a, "s1", &r);
	gb_advisor_sync(a); /* ends the 2 s window at once */
	json_t *p = find(a, "s1", "api.example.com", "pending");
	assert_non_null(p);
	/* every curl and the wget: the superseding proposal carries them all */
	assert_int_equal(json_integer_value(json_object_get(p, "hits")), N + 1);
	assert_int_equal(json_array_size(json_object_get(p, "binaries")), 2);
	assert_int_equal(json_array_size(json_object_get(p, "sample_event_uids")), 5);
	assert_int_equal(json_integer_value(json_object_get(p, "first_seen_ns")),
	                 1700000000000000000ll + 1);
	json_decref(p);
	p = find(a, "s1", "api.example.com", "superseded");
	assert_non_null(p);
	json_decref(p);
	p = find(a, "s2", "api.example.com", "pending");
	assert_non_null(p); /* never merged with s1's */
	assert_int_equal(json_integer_value(json_object_get(p, "hits")), (N + 2) / 3);
	json_decref(p);
	p = find(a, "s1", "other.example.com", "pending");
	assert_non_null(p);
	assert_int_equal(json_integer_value(json_object_get(p, "hits")), 1);
	json_decref(p);
	/* the same curl in a later window: a hit on the newest proposal */
	rec(&r, "api.example.com", "/usr/bin/curl", seq++);
	gb_advisor_observe(a, "s1", &r);
	gb_advisor_sync(a);
	p = find(a, "s1", "api.example.com", "pending");
	assert_int_equal(json_integer_value(json_object_get(p, "hits")), N + 2);
	json_decref(p);
	gb_advisor_close(a);
	gb_tmpdir_remove(dir);
}

static void window_ends_itself(void **state)
{
	(void)state;
	char dir[128], db[256], err[256];
	assert_int_equal(gb_tmpdir_make(dir, sizeof dir, "advbatch"), 0);
	snprintf(db, sizeof db, "%s/advisor.db", dir);
	struct gb_advisor_opts o = { .db_path = db, .root = dir }; /* the default window */
	struct gb_advisor *a;
	assert_int_equal(gb_advisor_open(&o, &a, err, sizeof err), 0);
	struct gb_record r;
	rec(&r, "late.example.com", "/usr/bin/curl", 1);
	gb_advisor_observe(a, "s1", &r);
	json_t *p = NULL;
	for (int i = 0; i < 200 && !p; i++) { /* bounded: 20 s */
		p = find(a, "s1", "late.example.com", "pending");
		if (!p)
			usleep(100000);
	}
	assert_non_null(p);
	json_decref(p);
	gb_advisor_close(a);
	gb_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_window),
		cmocka_unit_test(window_ends_itself),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
