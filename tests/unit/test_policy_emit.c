/* tests/unit/test_policy_emit.c — gb_policy_yaml(): what `policy get`
 * prints must load back (policy set accepts it unchanged) into a policy
 * with the same network hash and the same static sections, for every
 * shipped policy and for one using every endpoint feature; hostile strings
 * (quotes, newlines, YAML indicators) must stay inside their scalars. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/policy.h"

static struct gb_policy *load(const char *name, const char *text)
{
	struct gb_diags d = { 0 };
	struct gb_policy *p = NULL;
	int rc = gb_policy_load_buf(name, text, strlen(text), &p, &d);
	if (rc)
		gb_diags_print(&d, stderr);
	gb_diags_free(&d);
	assert_int_equal(rc, 0);
	return p;
}

static void round_trip(const char *name, const char *text)
{
	struct gb_policy *a = load(name, text);
	struct gb_buf y = GB_BUF_INIT;
	assert_int_equal(gb_policy_yaml(a, a->entries, a->n_entries, &y), 0);
	struct gb_policy *b = load("emitted", gb_buf_cstr(&y));
	assert_string_equal(a->sha256, b->sha256);
	assert_int_equal(gb_policy_static_diff(a, b, NULL), 0);
	assert_int_equal(a->n_entries, b->n_entries);
	char h[65];
	assert_int_equal(gb_policy_hash_entries(b->entries, b->n_entries, h), 0);
	assert_string_equal(h, a->sha256);
	/* emitting the re-loaded policy gives the same text: a fixed point */
	struct gb_buf y2 = GB_BUF_INIT;
	gb_policy_yaml(b, b->entries, b->n_entries, &y2);
	assert_string_equal(gb_buf_cstr(&y), gb_buf_cstr(&y2));
	gb_buf_free(&y);
	gb_buf_free(&y2);
	gb_policy_free(a);
	gb_policy_free(b);
}

static void every_feature(void **state)
{
	(void)state;
	round_trip("all.yaml",
	           "version: 1\n"
	           "filesystem_policy:\n  read_only: [/usr, \"/opt/we ird: #dir\"]\n"
	           "  read_write: [/tmp]\n  include_workdir: false\n"
	           "landlock:\n  compatibility: hard_requirement\n"
	           "process:\n  run_as_user: sandbox\n  run_as_group: \"1234\"\n"
	           "network_policies:\n"
	           "  \"we: ird\":\n"
	           "    name: \"Display \\\"name\\\" with\\nnewline\"\n"
	           "    endpoints:\n"
	           "      - host: API.Example.com.\n        ports: [443, 8443, 443]\n"
	           "        protocol: rest\n        enforcement: enforce\n        tls: skip\n"
	           "        rules:\n"
	           "          - allow: {method: GET, path: \"/repos/**\", query: {per_page: {any: [\"1*\", \"2\"]}, page: \"*\"}}\n"
	           "          - allow: {method: POST, path: \"/a:b/{c}/*.json\"}\n"
	           "        deny_rules:\n          - {method: DELETE, path: \"**\"}\n"
	           "        allow_encoded_slash: true\n"
	           "      - host: \"*.cdn.test\"\n        port: 80\n        access: read-only\n        protocol: rest\n"
	           "      - port: 5432\n        allowed_ips: [10.0.0.0/8, \"fd00::/8\"]\n"
	           "    binaries:\n      - path: /usr/bin/curl\n      - path: \"/opt/**/bin/*\"\n"
	           "  b:\n    endpoints:\n      - host: b.test\n        port: 22\n"
	           "    binaries: [{path: /usr/bin/ssh}]\n");
}

static void empty_network(void **state)
{
	(void)state;
	round_trip("empty.yaml", "version: 1\nnetwork_policies: {}\n");
}

/* Every policy the project ships. */
static void shipped(void **state)
{
	(void)state;
	const char *src = getenv("GB_SOURCE_DIR");
	assert_non_null(src);
	const char *dirs[] = { "policies", "policies/examples" };
	int n = 0;
	for (size_t k = 0; k < 2; k++) {
		char dp[4096];
		snprintf(dp, sizeof dp, "%s/%s", src, dirs[k]);
		DIR *d = opendir(dp);
		assert_non_null(d);
		for (struct dirent *e; (e = readdir(d));) {
			size_t l = strlen(e->d_name);
			if (l < 6 || strcmp(e->d_name + l - 5, ".yaml"))
				continue;
			char fp[4400];
			snprintf(fp, sizeof fp, "%s/%s", dp, e->d_name);
			FILE *f = fopen(fp, "rb");
			assert_non_null(f);
			static char buf[1 << 20];
			size_t r = fread(buf, 1, sizeof buf - 1, f);
			fclose(f);
			buf[r] = 0;
			round_trip(fp, buf);
			n++;
		}
		closedir(d);
	}
	assert_true(n >= 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_feature),
		cmocka_unit_test(empty_network),
		cmocka_unit_test(shipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
