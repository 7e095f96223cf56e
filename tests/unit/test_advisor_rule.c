/* tests/unit/test_advisor_rule.c — the advisor's pure rule builder
 * (api/advisor_rule.h): destinations that must never become proposals,
 * path shapes (IDs, UUIDs, hex, forge owner/repo) and generalisation only
 * when several denials share a shape, proposals the policy loader accepts
 * even with hostile names and paths, risk findings, review tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/advisor_rule.h"
#include "common/diag.h"
#include "common/policy.h"
#include "tmpdir.h"

static void never_propose(void **state)
{
	(void)state;
	const char *blocked[][2] = {
		{ "127.0.0.1", "" }, { "localhost", "" }, { "LOCALHOST.", "" }, { "a.localhost", "" },
		{ "169.254.169.254", "" }, { "metadata.google.internal", "" }, { "::1", "" },
		{ "0.0.0.0", "" }, { "fe80::1", "" }, { "ok.test", "127.0.0.2" },
		{ "ok.test", "169.254.1.1" }, { "", "" }, { "224.0.0.1", "" },
		{ "::ffff:127.0.0.1", "" },
	};
	for (size_t i = 0; i < sizeof blocked / sizeof blocked[0]; i++)
		assert_int_equal(gb_adv_never_propose(blocked[i][0], blocked[i][1]), 1);
	assert_int_equal(gb_adv_never_propose("api.example.com", "93.184.216.34"), 0);
	assert_int_equal(gb_adv_never_propose("allowed.test", "198.18.0.10"), 0);
	assert_int_equal(gb_adv_never_propose("metadata.example.com", ""), 0);
}

static void shapes(void **state)
{
	(void)state;
	char out[256];
	const char *cases[][2] = {
		{ "/v1/items/12345", "/v1/items/*" },
		{ "/v1/items/7", "/v1/items/7" }, /* one digit: not an id */
		{ "/u/123e4567-e89b-12d3-a456-426614174000/x", "/u/*/x" },
		{ "/blob/0123456789abcdef0123", "/blob/*" },
		{ "/blob/cafe", "/blob/cafe" },
		{ "/repos/acme/widget/issues/42", "/repos/*/*/issues/*" },
		{ "/api/v3/repos/acme/widget/pulls", "/api/v3/repos/*/*/pulls" },
		{ "/a/b?token=secret", "/a/b" },
		{ "/", "/" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		gb_adv_path_shape(cases[i][0], out, sizeof out);
		assert_string_equal(out, cases[i][1]);
	}
}

static void generalise_only_when_shared(void **state)
{
	(void)state;
	json_t *one = json_pack("[s]", "/repos/acme/widget/issues/42");
	json_t *r = gb_adv_path_rules(one);
	assert_int_equal(json_array_size(r), 1);
	assert_string_equal(json_string_value(json_array_get(r, 0)), "/repos/acme/widget/issues/42");
	json_decref(r);
	json_decref(one);
	json_t *two = json_pack("[s,s,s]", "/repos/acme/widget/issues/42",
	                        "/repos/other/thing/issues/7001", "/health");
	r = gb_adv_path_rules(two);
	assert_int_equal(json_array_size(r), 2);
	assert_string_equal(json_string_value(json_array_get(r, 0)), "/repos/*/*/issues/*");
	assert_string_equal(json_string_value(json_array_get(r, 1)), "/health");
	json_decref(r);
	json_decref(two);
}

static int loads(const char *yaml)
{
	struct gb_policy *p = NULL;
	struct gb_diags d = { 0 };
	int rc = gb_policy_load_buf("proposal", yaml, strlen(yaml), &p, &d);
	if (rc)
		gb_diags_print(&d, stderr);
	gb_policy_free(p);
	gb_diags_free(&d);
	return rc;
}

static void yaml_is_a_policy(void **state)
{
	(void)state;
	char name[300];
	gb_adv_rule_name("Api.Example-1.com", 443, "", name, sizeof name);
	assert_string_equal(name, "allow_api_example_1_com_443");
	json_t *bins = json_pack("[s,s]", "/usr/bin/curl", "/opt/we\"ird\\bin");
	struct gb_buf b = GB_BUF_INIT;
	gb_adv_rule_yaml(&b, name, "api.example-1.com", 443, bins, "", NULL);
	assert_int_equal(loads(gb_buf_cstr(&b)), 0);
	/* an L7 proposal with hostile paths still parses as exactly what it says */
	json_t *rules = json_pack("[s,s]", "/a:b/c\\d", "/x/\"y\"");
	b.len = 0;
	gb_adv_rule_name("h.test", 80, "DELETE", name, sizeof name);
	gb_adv_rule_yaml(&b, name, "h.test", 80, bins, "DELETE", rules);
	assert_non_null(strstr(gb_buf_cstr(&b), "protocol: rest"));
	assert_int_equal(loads(gb_buf_cstr(&b)), 0);
	/* a host with a newline cannot smuggle a second key */
	b.len = 0;
	gb_adv_rule_yaml(&b, "n", "evil.test\n    port: 1", 80, bins, "", NULL);
	assert_null(strstr(gb_buf_cstr(&b), "\n    port: 1"));
	gb_buf_free(&b);
	json_decref(rules);
	json_decref(bins);
}

static int has(json_t *f, const char *kind)
{
	size_t i;
	json_t *v;
	json_array_foreach(f, i, v)
		if (!strcmp(json_string_value(json_object_get(v, "kind")), kind))
			return json_string_length(json_object_get(v, "reason")) > 10;
	return 0;
}

static void findings(void **state)
{
	(void)state;
	json_t *curl = json_pack("[s]", "/usr/bin/curl");
	json_t *f = gb_adv_findings("api.example.com", "93.184.216.34", 443, curl, "", NULL, NULL);
	assert_int_equal(json_array_size(f), 0); /* risk-free: auto mode may approve */
	json_decref(f);
	json_t *py = json_pack("[s,s,s]", "/usr/bin/python3.11", "/usr/bin/env", "/opt/**");
	f = gb_adv_findings("*.example.com", "10.0.0.5", 5432, py, "", NULL, NULL);
	assert_true(has(f, "launcher"));
	assert_true(has(f, "broad_binary"));
	assert_true(has(f, "wildcard_host"));
	assert_true(has(f, "internal_reach"));
	assert_true(has(f, "database_port"));
	json_decref(f);
	f = gb_adv_findings("oauth2.example.com", "", 50000, curl, "", NULL, NULL);
	assert_true(has(f, "credential_endpoint"));
	assert_true(has(f, "high_port"));
	json_decref(f);
	json_t *rules = json_pack("[s]", "/v1/token");
	f = gb_adv_findings("api.example.com", "", 443, curl, "POST", rules, NULL);
	assert_true(has(f, "credential_endpoint"));
	json_decref(f);
	json_decref(rules);
	const char *running = "network_policies:\n  \"gh\":\n    endpoints:\n      - host: "
	                      "\"api.example.com\"\n        port: 443\n        protocol: rest\n";
	f = gb_adv_findings("api.example.com", "", 443, curl, "", NULL, running);
	assert_true(has(f, "l7_bypass"));
	json_decref(f);
	f = gb_adv_findings("api.example.com", "", 443, curl, "GET", NULL, running);
	assert_false(has(f, "l7_bypass")); /* an L7 proposal stays inspected */
	json_decref(f);
	json_decref(py);
	json_decref(curl);
}

static void tokens(void **state)
{
	(void)state;
	char a[65], b[65], c[65], d[65];
	gb_adv_token(1, "aaaa", "yaml", a);
	gb_adv_token(1, "aaab", "yaml", b); /* the running policy changed */
	gb_adv_token(1, "aaaa", "yaml2", c); /* the proposal changed */
	gb_adv_token(2, "aaaa", "yaml", d);  /* another proposal */
	assert_int_equal(strlen(a), 64);
	assert_string_not_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_not_equal(a, d);
	gb_adv_token(1, "aaaa", "yaml", b);
	assert_string_equal(a, b);
}

/* Learn mode's export with a base policy: the base's static sections and
 * entries stay, a learned entry of the same name replaces the base's, the
 * result loads; a hostile learned host stays one quoted scalar (the loader
 * refuses it by name, nothing is injected), a bad base is refused. */
static void export_with_base(void **state)
{
	(void)state;
	char dir[64], base[128];
	assert_int_equal(gb_tmpdir_make(dir, sizeof dir, "advexp"), 0);
	snprintf(base, sizeof base, "%s/base.yaml", dir);
	FILE *f = fopen(base, "w");
	assert_non_null(f);
	fputs("version: 1\nfilesystem_policy:\n  read_only: [/usr]\n  include_workdir: true\n"
	      "network_policies:\n  keep:\n    endpoints:\n      - host: keep.test\n        port: 443\n"
	      "    binaries:\n      - path: /usr/bin/curl\n  allow_a_test_80:\n    endpoints:\n"
	      "      - host: old.test\n        port: 80\n    binaries:\n      - path: /usr/bin/wget\n",
	      f);
	fclose(f);
	struct gb_buf y = GB_BUF_INIT, b = GB_BUF_INIT;
	json_t *bins = json_pack("[s]", "/usr/bin/curl");
	gb_adv_rule_yaml(&y, "allow_a_test_80", "a.test", 80, bins, "", NULL);
	char err[512] = "";
	assert_int_equal(gb_adv_export_with_base(base, gb_buf_cstr(&y), &b, err, sizeof err), 0);
	struct gb_policy *p = NULL;
	struct gb_diags d = { 0 };
	assert_int_equal(gb_policy_load_buf("out", gb_buf_cstr(&b), b.len, &p, &d), 0);
	assert_int_equal(p->n_entries, 2);
	assert_true(p->include_workdir);
	assert_int_equal(p->n_read_only, 1);
	assert_string_equal(p->entries[0].key, "allow_a_test_80"); /* the learned one won */
	assert_string_equal(p->entries[0].endpoints[0].host, "a.test");
	assert_string_equal(p->entries[0].binaries[0].path, "/usr/bin/curl");
	assert_string_equal(p->entries[1].key, "keep");
	gb_policy_free(p);
	gb_diags_free(&d);
	/* hostile: a host that tries to close its scalar and add binaries */
	y.len = 0;
	gb_adv_rule_yaml(&y, "allow_evil", "x.test\"\n    binaries: [{path: '*'}]", 81, bins, "", NULL);
	b.len = 0;
	assert_true(gb_adv_export_with_base(base, gb_buf_cstr(&y), &b, err, sizeof err) < 0);
	assert_non_null(strstr(err, "allow_evil.endpoints[0].host"));
	/* a bad base is refused with its position */
	f = fopen(base, "w");
	assert_non_null(f);
	fputs("version: 1\nnetwork_policies: [\n", f);
	fclose(f);
	assert_true(gb_adv_export_with_base(base, "version: 1\nnetwork_policies: {}\n", &b, err,
	                                    sizeof err) < 0);
	assert_non_null(strstr(err, "base.yaml:"));
	json_decref(bins);
	gb_buf_free(&y);
	gb_buf_free(&b);
	gb_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(never_propose),  cmocka_unit_test(shapes),
		cmocka_unit_test(generalise_only_when_shared), cmocka_unit_test(yaml_is_a_policy),
		cmocka_unit_test(findings),       cmocka_unit_test(tokens),
		cmocka_unit_test(export_with_base),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
