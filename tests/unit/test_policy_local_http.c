/* tests/unit/test_policy_local_http.c — http://policy.local's pure parts
 * (enforcer/proxy/policy_local_http.h) and the supervisor's propose hook
 * (enforcer/sandbox/policy_local.h), attacked: JSON that is not OpenShell's
 * one-addRule shape, duplicate and unknown keys (a top-level
 * filesystem_policy must not pass through), a ruleName that tries to write
 * YAML structure, a NUL byte; query values in the denials list; a proposal
 * of two entries or with a static section, a name the running policy holds
 * with other content (an operator's agent_* entry), a flood of proposals. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/policy.h"
#include "enforcer/proxy/policy_local_http.h"
#include "enforcer/sandbox/policy_local.h"
#include "tmpdir.h"

static char err[700];

static int body(const char *b, const char *ctype, struct gb_buf *out)
{
	gb_buf_reset(out);
	err[0] = 0;
	return gb_pl_body_policy(b, strlen(b), ctype, out, err, sizeof err);
}

static struct gb_policy *load(struct gb_buf *b)
{
	struct gb_policy *p = NULL;
	struct gb_diags d = { 0 };
	if (gb_policy_load_buf("t", gb_buf_cstr(b), b->len, &p, &d) < 0)
		p = NULL;
	gb_diags_free(&d);
	return p;
}

#define RULE "{\"endpoints\":[{\"host\":\"a.test\",\"port\":80}],\"binaries\":[{\"path\":\"/usr/bin/curl\"}]}"

static void bodies(void **state)
{
	(void)state;
	struct gb_buf o = GB_BUF_INIT;
	assert_int_equal(body("{\"intent_summary\":\"x\",\"operations\":[{\"addRule\":{\"ruleName\":"
	                      "\"fetch\",\"rule\":" RULE "}}]}", "application/json", &o), 0);
	struct gb_policy *p = load(&o);
	assert_non_null(p);
	assert_int_equal(p->n_entries, 1);
	assert_string_equal(p->entries[0].key, "fetch");
	gb_policy_free(p);
	/* refused shapes */
	static const char *const bad[] = {
		"[1]", "{}", "{\"operations\":[]}", "not json {",
		"{\"operations\":[{\"addRule\":{\"ruleName\":\"a\",\"rule\":" RULE "}},"
		"{\"addRule\":{\"ruleName\":\"b\",\"rule\":" RULE "}}]}",
		"{\"operations\":[{\"removeRule\":{\"ruleName\":\"a\"}}]}",
		"{\"operations\":[{\"addRule\":{\"ruleName\":\"a\",\"rule\":" RULE "},\"x\":1}]}",
		"{\"operations\":[{\"addRule\":{\"ruleName\":\"\",\"rule\":" RULE "}}]}",
		"{\"operations\":[{\"addRule\":{\"ruleName\":7,\"rule\":" RULE "}}]}",
		"{\"operations\":[{\"addRule\":{\"ruleName\":\"a\",\"rule\":[]}}]}",
		"{\"operations\":[{\"addRule\":{\"ruleName\":\"a\",\"rule\":" RULE ",\"extra\":1}}]}",
		/* a static section beside the operations never reaches the loader */
		"{\"filesystem_policy\":{\"read_write\":[\"/\"]},\"operations\":[{\"addRule\":"
		"{\"ruleName\":\"a\",\"rule\":" RULE "}}]}",
		/* duplicate keys: which one a reader takes must not matter */
		"{\"operations\":[{\"addRule\":{\"ruleName\":\"a\",\"ruleName\":\"b\",\"rule\":" RULE
		"}}]}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(body(bad[i], "application/json", &o), -EINVAL);
		assert_true(err[0] != 0);
	}
	assert_int_equal(body("", NULL, &o), -EINVAL);
	/* a ruleName written to break out of its scalar stays one key */
	assert_int_equal(body("{\"operations\":[{\"addRule\":{\"ruleName\":\"x\\nfilesystem_policy:"
	                      "\\n  read_write: [/]\\n\",\"rule\":" RULE "}}]}", NULL, &o), 0);
	p = load(&o);
	if (p) {
		assert_int_equal(p->n_entries, 1);
		assert_int_equal(p->n_read_write, 0);
		assert_non_null(strstr(p->entries[0].key, "filesystem_policy"));
		gb_policy_free(p);
	}
	/* YAML passes through as the policy file (validated by the supervisor) */
	assert_int_equal(body("version: 1\nnetwork_policies: {}\n", "application/yaml", &o), 0);
	assert_string_equal(gb_buf_cstr(&o), "version: 1\nnetwork_policies: {}\n");
	gb_buf_reset(&o);
	assert_int_equal(gb_pl_body_policy("a\0b", 3, "text/yaml", &o, err, sizeof err), -EINVAL);
	gb_buf_free(&o);
}

static void redaction(void **state)
{
	(void)state;
	char out[128];
	gb_pl_redact("/a", "token=abc&x=1&flag", out, sizeof out);
	assert_string_equal(out, "/a?token=***&x=***&flag");
	gb_pl_redact("/b", "", out, sizeof out);
	assert_string_equal(out, "/b");
	gb_pl_redact("/c", "k=secretsecret", out, 8); /* bounded: never the value */
	assert_null(strstr(out, "secret"));
	assert_true(gb_policy_local_host("policy.local") && gb_policy_local_host("POLICY.local."));
	assert_false(gb_policy_local_host("policy.local.evil") || gb_policy_local_host("xpolicy.local"));
}

static int propose(struct gb_policy_local *pl, const char *text, char *key)
{
	char *yaml = NULL, sha[65];
	err[0] = 0;
	int rc = gb_policy_local_propose(pl, text, strlen(text), key, 300, &yaml, sha, err,
	                                 sizeof err);
	if (rc == 0) {
		assert_non_null(yaml);
		assert_int_equal(strlen(sha), 64);
	} else {
		assert_null(yaml);
	}
	free(yaml);
	return rc;
}

static void proposing(void **state)
{
	(void)state;
	char dir[64], key[300];
	assert_int_equal(gb_tmpdir_make(dir, sizeof dir, "plhttp"), 0);
	static const char running[] =
		"version: 1\nnetwork_policies:\n  agent_mirror:\n    endpoints: [{host: mirror.test, "
		"port: 80}]\n    binaries: [{path: /usr/bin/wget}]\n";
	struct gb_policy *p = NULL;
	struct gb_diags d = { 0 };
	assert_int_equal(gb_policy_load_buf("run", running, sizeof running - 1, &p, &d), 0);
	gb_diags_free(&d);
	struct gb_sbx_out ev;
	memset(&ev, 0, sizeof ev); /* no ring: records are counted lost */
	assert_int_equal(gb_policy_store_new(p, &ev.store), 0);
	struct gb_policy_local *pl = NULL;
	assert_int_equal(gb_policy_local_open(&pl, &ev, dir), 0);
	/* renamed, so it never replaces the operator's entry of that name */
	assert_int_equal(propose(pl, "version: 1\nnetwork_policies:\n  fetch:\n    endpoints: "
	                         "[{host: a.test, port: 80}]\n    binaries: [{path: /usr/bin/curl}]\n",
	                         key), 0);
	assert_string_equal(key, "agent_fetch");
	/* the running policy has agent_mirror (the operator's): refused */
	assert_int_equal(propose(pl, "version: 1\nnetwork_policies:\n  mirror:\n    endpoints: "
	                         "[{host: evil.test, port: 443}]\n    binaries: [{path: /usr/bin/curl}]\n",
	                         key), -EEXIST);
	assert_non_null(strstr(err, "agent_mirror"));
	/* a ruleName already agent_-prefixed is prefixed again: a new name */
	assert_int_equal(propose(pl, running, key), 0);
	assert_string_equal(key, "agent_agent_mirror");
	assert_int_equal(propose(pl, "version: 1\nnetwork_policies:\n  a:\n    endpoints: [{host: "
	                         "a.test, port: 80}]\n    binaries: [{path: /usr/bin/curl}]\n  b:\n"
	                         "    endpoints: [{host: b.test, port: 80}]\n    binaries: [{path: "
	                         "/usr/bin/curl}]\n", key), -EINVAL);
	assert_non_null(strstr(err, "exactly one"));
	assert_int_equal(propose(pl, "version: 1\nfilesystem_policy:\n  read_write: [/etc]\n"
	                         "network_policies:\n  a:\n    endpoints: [{host: a.test, port: 80}]\n"
	                         "    binaries: [{path: /usr/bin/curl}]\n", key), -EINVAL);
	assert_non_null(strstr(err, "only network_policies"));
	/* a flood: 8 at once, then refused until the bucket refills */
	int again = 0;
	for (int i = 0; i < 20; i++)
		again += propose(pl, "version: 1\nnetwork_policies: {}\n", key) == -EAGAIN;
	assert_true(again >= 10);
	assert_true(ev.lost > 0); /* each outcome was a record (lost: no ring here) */
	gb_policy_local_close(pl);
	gb_policy_store_free(ev.store);
	gb_policy_free(p);
	gb_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bodies),
		cmocka_unit_test(redaction),
		cmocka_unit_test(proposing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
