/* tests/unit/test_advisor_reject.c — two ledger defects of the advisor
 * (api/advisor.c), attacked:
 *
 * - a rejection must stay remembered after a later proposal of the same
 *   group became the newest: curl's denial rejected, then wget's denial
 *   (a new pending proposal for wget alone), then curl's denial again —
 *   before the fix a third proposal for wget *and* curl came back pending,
 *   superseding wget's; now it is a hit on the rejected one;
 * - a new proposal after a rejected one must keep an earlier approval:
 *   wget's proposal approved, python's (wget + python) rejected, then
 *   node's — before the fix node's proposal held node alone, and
 *   approving it (PATCH replaces the entry by name) would have revoked
 *   wget's grant; now it holds wget and node (never the rejected python).
 *
 * An approval needs a running sandbox, so the test marks wget's proposal
 * approved in the ledger file itself between two opens (what approve
 * writes: status and revision). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/advisor.h"
#include "api/sqlite_lazy.h"
#include "common/record.h"
#include "tmpdir.h"

static void rec(struct gb_record *r, const char *exe, uint64_t seq)
{
	memset(r, 0, sizeof *r);
	r->type = GB_REC_NET_DECISION;
	r->seq = seq;
	r->ts_ns = 1700000000000000000ull + seq;
	r->u.net.phase = GB_NET_OPEN;
	r->u.net.verdict = GB_VERDICT_DENY;
	r->u.net.reason = GB_R_BINARY_NOT_ALLOWED;
	r->u.net.dst = (struct gb_endpoint){ "api.example.com", "", 443 };
	r->u.net.id = (struct gb_identity){ .pid = 7, .exe = exe, .sha256 = "", .script = "" };
	r->u.net.reason_text = r->u.net.policy_entry = r->u.net.endpoint = "";
}

static void deny(struct gb_advisor *a, const char *exe, uint64_t seq)
{
	struct gb_record r;
	rec(&r, exe, seq);
	gb_advisor_observe(a, "s1", &r);
	gb_advisor_sync(a);
}

/* The proposals with status (NULL: all); caller's. */
static json_t *list(struct gb_advisor *a, const char *status)
{
	json_t *o = NULL;
	assert_int_equal(gb_advisor_list(a, "s1", status, &o), 200);
	json_t *s = json_incref(json_object_get(o, "suggestions"));
	json_decref(o);
	return s;
}

static int has_bin(json_t *p, const char *exe)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(p, "binaries"), i, v)
		if (!strcmp(json_string_value(v), exe))
			return 1;
	return 0;
}

static json_int_t only_pending(struct gb_advisor *a, const char *with, const char *without)
{
	json_t *s = list(a, "pending");
	assert_int_equal(json_array_size(s), 1);
	json_t *p = json_array_get(s, 0);
	assert_true(has_bin(p, with));
	if (without)
		assert_false(has_bin(p, without));
	json_int_t id = json_integer_value(json_object_get(p, "id"));
	json_decref(s);
	return id;
}

static void reject(struct gb_advisor *a, json_int_t id)
{
	json_t *out = NULL;
	assert_int_equal(gb_advisor_reject(a, "s1", id, "not for this agent", "tester", &out), 200);
	json_decref(out);
}

static void rejection_remembered_and_approval_kept(void **state)
{
	(void)state;
	char dir[128], db[256], err[256];
	assert_int_equal(gb_tmpdir_make(dir, sizeof dir, "advreject"), 0);
	snprintf(db, sizeof db, "%s/advisor.db", dir);
	struct gb_advisor_opts o = { .db_path = db, .root = dir, .flush_ms = -1 };
	struct gb_advisor *a;
	assert_int_equal(gb_advisor_open(&o, &a, err, sizeof err), 0);

	deny(a, "/usr/bin/curl", 1);
	json_int_t curl = only_pending(a, "/usr/bin/curl", NULL);
	reject(a, curl);
	deny(a, "/usr/bin/wget", 2);
	json_int_t wget = only_pending(a, "/usr/bin/wget", "/usr/bin/curl");
	/* the rejected denial again: not back as pending, a hit on the rejection */
	deny(a, "/usr/bin/curl", 3);
	assert_int_equal(only_pending(a, "/usr/bin/wget", "/usr/bin/curl"), wget);
	json_t *out = NULL;
	assert_int_equal(gb_advisor_show(a, "s1", curl, &out), 200);
	assert_string_equal(json_string_value(json_object_get(out, "status")), "rejected");
	assert_int_equal(json_integer_value(json_object_get(out, "hits")), 2);
	json_decref(out);
	gb_advisor_close(a);

	/* wget's proposal approved (as approve writes it) */
	sqlite3 *h = NULL;
	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	char sql[160];
	snprintf(sql, sizeof sql, "UPDATE proposals SET status = 'approved', revision = 2 WHERE id = %lld",
	         (long long)wget);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);

	assert_int_equal(gb_advisor_open(&o, &a, err, sizeof err), 0);
	deny(a, "/usr/bin/python3", 4); /* carries the approved wget */
	json_int_t py = only_pending(a, "/usr/bin/python3", NULL);
	json_t *s = list(a, "pending");
	assert_true(has_bin(json_array_get(s, 0), "/usr/bin/wget"));
	json_decref(s);
	reject(a, py);
	deny(a, "/usr/bin/node", 5);
	/* node's proposal keeps wget's approved grant, never the rejected python */
	json_int_t node = only_pending(a, "/usr/bin/node", "/usr/bin/python3");
	s = list(a, "pending");
	assert_true(has_bin(json_array_get(s, 0), "/usr/bin/wget"));
	assert_false(has_bin(json_array_get(s, 0), "/usr/bin/curl"));
	json_decref(s);
	/* and the two rejections still hold */
	deny(a, "/usr/bin/python3", 6);
	deny(a, "/usr/bin/curl", 7);
	assert_int_equal(only_pending(a, "/usr/bin/node", "/usr/bin/python3"), node);
	s = list(a, NULL);
	assert_int_equal(json_array_size(s), 4); /* curl, wget, python, node: nothing else */
	json_decref(s);
	assert_int_equal(gb_advisor_dropped(a), 0);
	gb_advisor_close(a);
	gb_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rejection_remembered_and_approval_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
