/* tests/unit/test_advisor_ledger.c — the advisor's aggregation and ledger
 * (api/advisor.h) without a sandbox: denials fed from two threads at once
 * (as serve's drain threads do) become one proposal per endpoint with
 * exact hit counts; loopback, metadata, SSRF and allowed records never
 * appear; a second binary supersedes; a reopened ledger keeps everything;
 * approving or rejecting without a running sandbox changes nothing. */
#include <pthread.h>
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

#define PER_THREAD 500

struct feed {
	struct gb_advisor *a;
	const char *exe;
};

static void rec(struct gb_record *r, const char *host, const char *ip, const char *exe, int reason,
                int verdict, uint64_t seq)
{
	memset(r, 0, sizeof *r);
	r->type = GB_REC_NET_DECISION;
	r->seq = seq;
	r->ts_ns = 1700000000000000000ull + seq;
	r->u.net.phase = GB_NET_OPEN;
	r->u.net.verdict = (uint8_t)verdict;
	r->u.net.reason = (uint16_t)reason;
	r->u.net.dst = (struct gb_endpoint){ host, ip, 443 };
	r->u.net.id = (struct gb_identity){ .pid = 7, .exe = exe, .sha256 = "", .script = "" };
	r->u.net.reason_text = r->u.net.policy_entry = r->u.net.endpoint = "";
}

static void *feeder(void *arg)
{
	struct feed *f = arg;
	struct gb_record r;
	for (int i = 0; i < PER_THREAD; i++) {
		rec(&r, "api.example.com", "", f->exe, GB_R_NO_ENDPOINT, GB_VERDICT_DENY, (uint64_t)i);
		gb_advisor_observe(f->a, "s1", &r);
	}
	return NULL;
}

static json_t *list(struct gb_advisor *a, const char *status)
{
	json_t *o = NULL;
	assert_int_equal(gb_advisor_list(a, "s1", status, &o), 200);
	return o;
}

static void aggregate_and_persist(void **state)
{
	(void)state;
	char dir[128], db[256];
	assert_int_equal(gb_tmpdir_make(dir, sizeof dir, "advisor"), 0);
	snprintf(db, sizeof db, "%s/advisor.db", dir);
	struct gb_advisor_opts o = { .db_path = db, .root = dir };
	struct gb_advisor *a;
	char err[256];
	assert_int_equal(gb_advisor_open(&o, &a, err, sizeof err), 0);

	/* never proposed: loopback, metadata, an SSRF refusal, an allow */
	struct gb_record r;
	rec(&r, "localhost", "", "/usr/bin/curl", GB_R_NO_ENDPOINT, GB_VERDICT_DENY, 1);
	gb_advisor_observe(a, "s1", &r);
	rec(&r, "169.254.169.254", "", "/usr/bin/curl", GB_R_NO_ENDPOINT, GB_VERDICT_DENY, 2);
	gb_advisor_observe(a, "s1", &r);
	rec(&r, "ok.example.com", "127.0.0.1", "/usr/bin/curl", GB_R_NO_ENDPOINT, GB_VERDICT_DENY, 3);
	gb_advisor_observe(a, "s1", &r);
	rec(&r, "int.example.com", "10.0.0.1", "/usr/bin/curl", GB_R_SSRF, GB_VERDICT_DENY, 4);
	gb_advisor_observe(a, "s1", &r);
	rec(&r, "fine.example.com", "", "/usr/bin/curl", GB_R_NONE, GB_VERDICT_ALLOW, 5);
	gb_advisor_observe(a, "s1", &r);

	/* two drain threads, one binary: one proposal with every hit */
	struct feed f1 = { a, "/usr/bin/curl" }, f2 = { a, "/usr/bin/curl" };
	pthread_t t1, t2;
	pthread_create(&t1, NULL, feeder, &f1);
	pthread_create(&t2, NULL, feeder, &f2);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	gb_advisor_sync(a);
	json_t *l = list(a, NULL);
	json_t *s = json_object_get(l, "suggestions");
	assert_int_equal(json_array_size(s), 1);
	json_t *p = json_array_get(s, 0);
	assert_string_equal(json_string_value(json_object_get(p, "host")), "api.example.com");
	assert_int_equal(json_integer_value(json_object_get(p, "hits")), 2 * PER_THREAD);
	assert_int_equal(json_array_size(json_object_get(p, "sample_event_uids")), 5);
	assert_null(json_object_get(p, "review_token")); /* no running sandbox: nothing to bind to */
	json_int_t id1 = json_integer_value(json_object_get(p, "id"));
	json_decref(l);

	/* a second binary supersedes, carrying the first one's binary and hits */
	rec(&r, "api.example.com", "", "/usr/bin/wget", GB_R_BINARY_NOT_ALLOWED, GB_VERDICT_DENY, 9);
	gb_advisor_observe(a, "s1", &r);
	gb_advisor_sync(a);
	l = list(a, "pending");
	s = json_object_get(l, "suggestions");
	assert_int_equal(json_array_size(s), 1);
	p = json_array_get(s, 0);
	assert_int_equal(json_array_size(json_object_get(p, "binaries")), 2);
	assert_int_equal(json_integer_value(json_object_get(p, "hits")), 2 * PER_THREAD + 1);
	json_int_t id2 = json_integer_value(json_object_get(p, "id"));
	json_decref(l);
	json_t *out = NULL;
	assert_int_equal(gb_advisor_show(a, "s1", id1, &out), 200);
	assert_string_equal(json_string_value(json_object_get(out, "status")), "superseded");
	assert_int_equal(json_integer_value(json_object_get(out, "superseded_by")), id2);
	json_decref(out);

	/* no sandbox running: approval cannot be checked, so it is refused */
	assert_int_equal(gb_advisor_approve(a, "s1", id2, "x", "test", &out), 404);
	json_decref(out);
	assert_int_equal(gb_advisor_show(a, "s2", id2, &out), 404); /* another sandbox's id */
	json_decref(out);
	assert_int_equal(gb_advisor_reject(a, "s1", id1, "no", "test", &out), 409); /* superseded */
	json_decref(out);
	assert_int_equal(gb_advisor_reject(a, "s1", id2, "not needed", "tester", &out), 200);
	json_decref(out);
	gb_advisor_close(a);

	/* reopened: statuses, reason and history kept; the rejection holds */
	assert_int_equal(gb_advisor_open(&o, &a, err, sizeof err), 0);
	rec(&r, "api.example.com", "", "/usr/bin/wget", GB_R_BINARY_NOT_ALLOWED, GB_VERDICT_DENY, 10);
	gb_advisor_observe(a, "s1", &r);
	gb_advisor_sync(a);
	l = list(a, "pending");
	assert_int_equal(json_array_size(json_object_get(l, "suggestions")), 0);
	json_decref(l);
	assert_int_equal(gb_advisor_show(a, "s1", id2, &out), 200);
	assert_string_equal(json_string_value(json_object_get(out, "status")), "rejected");
	assert_string_equal(json_string_value(json_object_get(out, "reason")), "not needed");
	json_decref(out);
	assert_int_equal(gb_advisor_history(a, "s1", &out), 200);
	assert_int_equal(json_array_size(json_object_get(out, "history")), 4); /* detected x2, superseded, rejected */
	json_decref(out);
	assert_int_equal(gb_advisor_export(a, "s1", &out), 200);
	assert_int_equal(json_integer_value(json_object_get(out, "entries")), 0); /* rejected: not exported */
	json_decref(out);
	assert_int_equal(gb_advisor_dropped(a), 0);
	gb_advisor_close(a);
	gb_tmpdir_remove(dir);
}

static void cfg(struct gb_record *r, int action, const char *source, const char *detail,
                uint64_t seq)
{
	memset(r, 0, sizeof *r);
	r->type = GB_REC_CONFIG;
	r->seq = seq;
	r->ts_ns = 1700000000000000000ull + seq;
	r->u.config = (struct gb_config){ .action = (uint8_t)action, .sha256 = "", .source = source,
		                          .detail = detail };
}

/* policy.local: an entry the supervisor validated becomes an agent-authored
 * pending proposal; only validated events from policy.local count; the
 * same entry again is a hit, a changed one supersedes; a learn-mode audited
 * allow (an allow that keeps its reason) is a denial to the advisor. */
static void agent_and_learn(void **state)
{
	(void)state;
	char dir[128], db[256];
	assert_int_equal(gb_tmpdir_make(dir, sizeof dir, "advagent"), 0);
	snprintf(db, sizeof db, "%s/advisor.db", dir);
	struct gb_advisor_opts o = { .db_path = db, .root = dir, .auto_approve = 1 };
	struct gb_advisor *a;
	char err[256];
	assert_int_equal(gb_advisor_open(&o, &a, err, sizeof err), 0);
	const char *y1 = "version: 1\n\nnetwork_policies:\n  \"agent_fetch\":\n    endpoints:\n"
	                 "      - host: \"a.test\"\n        port: 80\n    binaries:\n"
	                 "      - path: \"/usr/bin/curl\"\n";
	const char *y2 = "version: 1\n\nnetwork_policies:\n  \"agent_fetch\":\n    endpoints:\n"
	                 "      - host: \"a.test\"\n        port: 80\n    binaries:\n"
	                 "      - path: \"/usr/bin/python3\"\n";
	struct gb_record r;
	cfg(&r, GB_CFG_VALIDATED, "api", y1, 1); /* not from policy.local */
	gb_advisor_observe(a, "s1", &r);
	cfg(&r, GB_CFG_REFUSED, "policy.local", "policy.local refused: symlink", 2);
	gb_advisor_observe(a, "s1", &r);
	cfg(&r, GB_CFG_VALIDATED, "policy.local", "version: 1\nnot: [a policy", 3);
	gb_advisor_observe(a, "s1", &r);
	gb_advisor_sync(a);
	json_t *l = list(a, NULL);
	assert_int_equal(json_array_size(json_object_get(l, "suggestions")), 0);
	json_decref(l);
	cfg(&r, GB_CFG_VALIDATED, "policy.local", y1, 4);
	gb_advisor_observe(a, "s1", &r);
	cfg(&r, GB_CFG_VALIDATED, "policy.local", y1, 5);
	gb_advisor_observe(a, "s1", &r);
	gb_advisor_sync(a);
	l = list(a, "pending");
	json_t *s = json_object_get(l, "suggestions");
	assert_int_equal(json_array_size(s), 1);
	json_t *p = json_array_get(s, 0);
	assert_string_equal(json_string_value(json_object_get(p, "author")), "agent");
	assert_string_equal(json_string_value(json_object_get(p, "rule_name")), "agent_fetch");
	assert_int_equal(json_integer_value(json_object_get(p, "hits")), 2);
	json_t *f = json_object_get(p, "findings");
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 0), "kind")),
	                    "agent_authored");
	json_int_t id1 = json_integer_value(json_object_get(p, "id"));
	json_decref(l);
	cfg(&r, GB_CFG_VALIDATED, "policy.local", y2, 6); /* changed: supersedes */
	gb_advisor_observe(a, "s1", &r);
	/* learn mode: allowed, but with the reason a rule would fix */
	rec(&r, "b.test", "", "/usr/bin/git", GB_R_NO_POLICY, GB_VERDICT_ALLOW, 7);
	gb_advisor_observe(a, "s1", &r);
	gb_advisor_sync(a);
	json_t *out = NULL;
	assert_int_equal(gb_advisor_show(a, "s1", id1, &out), 200);
	assert_string_equal(json_string_value(json_object_get(out, "status")), "superseded");
	json_decref(out);
	l = list(a, "pending");
	s = json_object_get(l, "suggestions");
	assert_int_equal(json_array_size(s), 2);
	int learned = 0;
	for (size_t i = 0; i < 2; i++) {
		json_t *q = json_array_get(s, i);
		if (!strcmp(json_string_value(json_object_get(q, "host")), "b.test")) {
			assert_string_equal(json_string_value(json_object_get(q, "author")), "advisor");
			learned++;
		} else {
			assert_string_equal(json_string_value(json_object_get(q, "author")), "agent");
		}
	}
	assert_int_equal(learned, 1);
	json_decref(l);
	/* the export is learn mode's: the audited allow, never the agent's entry */
	assert_int_equal(gb_advisor_export(a, "s1", &out), 200);
	assert_int_equal(json_integer_value(json_object_get(out, "entries")), 1);
	assert_null(strstr(json_string_value(json_object_get(out, "yaml")), "agent_fetch"));
	json_decref(out);
	assert_int_equal(gb_advisor_dropped(a), 0);
	gb_advisor_close(a);
	gb_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(aggregate_and_persist),
		                            cmocka_unit_test(agent_and_learn) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
