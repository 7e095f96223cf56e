/* tests/unit/test_policy_decide.c — the decision engine, table-driven.
 * Every policy is real YAML through the real loader and compiler; every case
 * states the verdict and the reason it expects (docs/policy-engine.md, "Decision order"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/policy.h"

static const char POLICY_MAIN[] =
	"version: 1\n"
	"network_policies:\n"
	"  github:\n"
	"    endpoints:\n"
	"      - host: api.github.com\n"
	"        port: 443\n"
	"      - host: github.com\n"
	"        ports: [443, 8443]\n"
	"    binaries:\n"
	"      - path: /usr/bin/git\n"
	"      - path: /usr/bin/curl\n"
	"  wild:\n"
	"    endpoints:\n"
	"      - host: \"*.example.com\"\n"
	"        port: 443\n"
	"      - host: \"**.deep.example.org\"\n"
	"        port: 443\n"
	"      - host: \"*.s3.*.amazonaws.com\"\n"
	"        port: 443\n"
	"      - host: \"*-api.svc.example.net\"\n"
	"        port: 80\n"
	"    binaries:\n"
	"      - path: /usr/bin/python3*\n"
	"  tools:\n"
	"    endpoints:\n"
	"      - host: tools.internal.test\n"
	"        port: 8080\n"
	"    binaries:\n"
	"      - path: /opt/*/bin/tool\n"
	"      - path: /home/**/agent\n"
	"  viaparent:\n"
	"    endpoints:\n"
	"      - host: parent.example.com\n"
	"        port: 443\n"
	"    binaries:\n"
	"      - path: /usr/local/bin/agent-runner\n"
	"  literal:\n"
	"    endpoints:\n"
	"      - host: 198.18.0.10\n"
	"        port: 80\n"
	"    binaries:\n"
	"      - path: /usr/bin/curl\n"
	"  ranged:\n"
	"    endpoints:\n"
	"      - host: db.corp.test\n"
	"        port: 5432\n"
	"        allowed_ips: [10.20.0.0/16, \"fd00:1::/64\"]\n"
	"    binaries:\n"
	"      - path: /usr/bin/psql\n"
	"  hostless:\n"
	"    endpoints:\n"
	"      - port: 9000\n"
	"        allowed_ips: [198.18.5.0/24]\n"
	"    binaries:\n"
	"      - path: /usr/bin/curl\n";

static const char POLICY_L7[] =
	"version: 1\n"
	"network_policies:\n"
	"  api:\n"
	"    endpoints:\n"
	"      - host: api.test\n"
	"        port: 80\n"
	"        protocol: rest\n"
	"        enforcement: enforce\n"
	"        rules:\n"
	"          - allow:\n"
	"              method: GET\n"
	"              path: /repos/*/issues\n"
	"          - allow:\n"
	"              method: POST\n"
	"              path: /repos/**/comments\n"
	"          - allow:\n"
	"              method: GET\n"
	"              path: /v?/item-??\n"
	"          - allow:\n"
	"              method: GET\n"
	"              path: /search\n"
	"              query:\n"
	"                q: \"repo:*\"\n"
	"                page: \"[0-9]\"\n"
	"        deny_rules:\n"
	"          - method: POST\n"
	"            path: /repos/secret/**\n"
	"    binaries:\n"
	"      - path: /usr/bin/curl\n"
	"  readonly:\n"
	"    endpoints:\n"
	"      - host: ro.test\n"
	"        port: 80\n"
	"        protocol: rest\n"
	"        access: read-only\n"
	"        enforcement: enforce\n"
	"    binaries:\n"
	"      - path: /usr/bin/curl\n"
	"  readwrite:\n"
	"    endpoints:\n"
	"      - host: rw.test\n"
	"        port: 80\n"
	"        protocol: rest\n"
	"        access: read-write\n"
	"        enforcement: enforce\n"
	"    binaries:\n"
	"      - path: /usr/bin/curl\n"
	"  audited:\n"
	"    endpoints:\n"
	"      - host: audit.test\n"
	"        port: 80\n"
	"        protocol: rest\n"
	"        rules:\n"
	"          - allow:\n"
	"              method: GET\n"
	"              path: /ok\n"
	"    binaries:\n"
	"      - path: /usr/bin/curl\n"
	"  npm:\n"
	"    endpoints:\n"
	"      - host: registry.npm.test\n"
	"        port: 80\n"
	"        protocol: rest\n"
	"        access: read-only\n"
	"        enforcement: enforce\n"
	"        allow_encoded_slash: true\n"
	"    binaries:\n"
	"      - path: /usr/bin/node\n";

static const char POLICY_EMPTY[] = "version: 1\n";

static struct gb_policy_compiled *compile(const char *yaml)
{
	struct gb_diags d = { 0 };
	struct gb_policy *p = NULL;
	int rc = gb_policy_load_buf("test.yaml", yaml, strlen(yaml), &p, &d);
	if (rc != 0)
		gb_diags_print(&d, stderr);
	assert_int_equal(rc, 0);
	gb_diags_free(&d);
	struct gb_policy_compiled *c = NULL;
	assert_int_equal(gb_policy_compile(p, &c), 0);
	gb_policy_free(p);
	return c;
}

struct net_case {
	const char *host;
	uint16_t port;
	const char *exe;
	const char *anc[3];
	enum gb_verdict verdict;
	enum gb_reason reason;
	const char *entry; /* expected matched entry, NULL = don't care */
	const char *why;
};

#define A GB_VERDICT_ALLOW
#define D GB_VERDICT_DENY

static const struct net_case NET[] = {
	/* exact hosts, case, trailing dot */
	{ "api.github.com", 443, "/usr/bin/curl", { 0 }, A, GB_R_NONE, "github", "exact" },
	{ "API.GitHub.COM", 443, "/usr/bin/curl", { 0 }, A, GB_R_NONE, "github", "case-insensitive" },
	{ "api.github.com.", 443, "/usr/bin/curl", { 0 }, A, GB_R_NONE, "github", "one trailing dot" },
	{ "api.github.com..", 443, "/usr/bin/curl", { 0 }, D, GB_R_NO_ENDPOINT, NULL, "two trailing dots" },
	{ "api.github.com", 80, "/usr/bin/curl", { 0 }, D, GB_R_NO_ENDPOINT, NULL, "wrong port" },
	{ "xapi.github.com", 443, "/usr/bin/curl", { 0 }, D, GB_R_NO_ENDPOINT, NULL, "prefix" },
	{ "api.github.com.evil.test", 443, "/usr/bin/curl", { 0 }, D, GB_R_NO_ENDPOINT, NULL, "suffix attack" },
	{ "github.com", 443, "/usr/bin/git", { 0 }, A, GB_R_NONE, "github", "ports list 443" },
	{ "github.com", 8443, "/usr/bin/git", { 0 }, A, GB_R_NONE, "github", "ports list 8443" },
	{ "github.com", 22, "/usr/bin/git", { 0 }, D, GB_R_NO_ENDPOINT, NULL, "port not listed" },
	{ "github.com", 443, "/usr/bin/wget", { 0 }, D, GB_R_BINARY_NOT_ALLOWED, NULL, "unlisted binary" },
	{ "github.com", 443, "/usr/bin/gitx", { 0 }, D, GB_R_BINARY_NOT_ALLOWED, NULL, "binary prefix" },
	{ "github.com", 443, "/usr/bin", { 0 }, D, GB_R_BINARY_NOT_ALLOWED, NULL, "binary dir" },
	{ "", 443, "/usr/bin/curl", { 0 }, D, GB_R_NO_ENDPOINT, NULL, "empty host" },
	/* wildcard hosts */
	{ "a.example.com", 443, "/usr/bin/python3.11", { 0 }, A, GB_R_NONE, "wild", "one label" },
	{ "A.Example.Com", 443, "/usr/bin/python3.11", { 0 }, A, GB_R_NONE, "wild", "wildcard case" },
	{ "example.com", 443, "/usr/bin/python3.11", { 0 }, D, GB_R_NO_ENDPOINT, NULL, "apex not matched" },
	{ "a.b.example.com", 443, "/usr/bin/python3.11", { 0 }, D, GB_R_NO_ENDPOINT, NULL, "* is one label" },
	{ "a.deep.example.org", 443, "/usr/bin/python3", { 0 }, A, GB_R_NONE, "wild", "** one label" },
	{ "a.b.c.deep.example.org", 443, "/usr/bin/python3", { 0 }, A, GB_R_NONE, "wild", "** many labels" },
	{ "deep.example.org", 443, "/usr/bin/python3", { 0 }, D, GB_R_NO_ENDPOINT, NULL, "** needs one label" },
	{ "b.s3.eu-west-1.amazonaws.com", 443, "/usr/bin/python3", { 0 }, A, GB_R_NONE, "wild", "middle label" },
	{ "b.s3.amazonaws.com", 443, "/usr/bin/python3", { 0 }, D, GB_R_NO_ENDPOINT, NULL, "middle label missing" },
	{ "foo-api.svc.example.net", 80, "/usr/bin/python3", { 0 }, A, GB_R_NONE, "wild", "intra-label" },
	{ "foo-apix.svc.example.net", 80, "/usr/bin/python3", { 0 }, D, GB_R_NO_ENDPOINT, NULL, "intra-label suffix" },
	{ "a.example.com", 80, "/usr/bin/python3", { 0 }, D, GB_R_NO_ENDPOINT, NULL, "wildcard wrong port" },
	{ "a.example.com", 443, "/usr/bin/curl", { 0 }, D, GB_R_BINARY_NOT_ALLOWED, NULL, "wildcard, wrong binary" },
	{ "a.example.com.", 443, "/usr/bin/python3", { 0 }, A, GB_R_NONE, "wild", "wildcard + trailing dot" },
	{ "a%2eexample.com", 443, "/usr/bin/python3", { 0 }, D, GB_R_NO_ENDPOINT, NULL, "encoded dot not decoded" },
	/* binary globs and ancestors */
	{ "tools.internal.test", 8080, "/opt/acme/bin/tool", { 0 }, A, GB_R_NONE, "tools", "* one component" },
	{ "tools.internal.test", 8080, "/opt/a/b/bin/tool", { 0 }, D, GB_R_BINARY_NOT_ALLOWED, NULL, "* not two" },
	{ "tools.internal.test", 8080, "/home/u/agent", { 0 }, A, GB_R_NONE, "tools", "** one" },
	{ "tools.internal.test", 8080, "/home/u/x/y/agent", { 0 }, A, GB_R_NONE, "tools", "** deep" },
	{ "tools.internal.test", 8080, "/home/agent", { 0 }, A, GB_R_NONE, "tools", "** zero dirs" },
	{ "tools.internal.test", 8080, "/home/u/agentx", { 0 }, D, GB_R_BINARY_NOT_ALLOWED, NULL, "** suffix" },
	{ "tools.internal.test", 8080, "/usr/bin/sh", { "/opt/acme/bin/tool" }, A, GB_R_NONE, "tools", "glob ancestor" },
	{ "parent.example.com", 443, "/usr/bin/curl", { "/bin/bash", "/usr/local/bin/agent-runner" }, A, GB_R_NONE, "viaparent", "exact ancestor" },
	{ "parent.example.com", 443, "/usr/bin/curl", { "/bin/bash", "/usr/local/bin/other" }, D, GB_R_BINARY_NOT_ALLOWED, NULL, "no ancestor listed" },
	{ "parent.example.com", 443, "/usr/local/bin/agent-runner", { 0 }, A, GB_R_NONE, "viaparent", "exe itself" },
	/* literals, allowed_ips, hostless */
	{ "198.18.0.10", 80, "/usr/bin/curl", { 0 }, A, GB_R_NONE, "literal", "ip literal" },
	{ "198.18.0.11", 80, "/usr/bin/curl", { 0 }, D, GB_R_NO_ENDPOINT, NULL, "other ip" },
	{ "db.corp.test", 5432, "/usr/bin/psql", { 0 }, A, GB_R_NONE, "ranged", "allowed_ips endpoint" },
	{ "anything.test", 9000, "/usr/bin/curl", { 0 }, A, GB_R_NONE, "hostless", "hostless any host" },
	{ "anything.test", 9001, "/usr/bin/curl", { 0 }, D, GB_R_NO_ENDPOINT, NULL, "hostless port" },
	{ "anything.test", 9000, "/usr/bin/psql", { 0 }, D, GB_R_BINARY_NOT_ALLOWED, NULL, "hostless binary" },
};

static void test_net_table(void **state)
{
	(void)state;
	struct gb_policy_compiled *c = compile(POLICY_MAIN);
	for (size_t i = 0; i < sizeof NET / sizeof NET[0]; i++) {
		const struct net_case *t = &NET[i];
		size_t na = 0;
		while (na < 3 && t->anc[na])
			na++;
		struct gb_decide_in in = { .host = t->host, .port = t->port, .exe = t->exe,
		                           .ancestors = t->anc, .n_ancestors = na };
		struct gb_decision d;
		gb_policy_decide(c, &in, &d);
		if (d.verdict != t->verdict || d.reason != t->reason ||
		    (t->entry && (!d.entry || strcmp(d.entry, t->entry) != 0)))
			fail_msg("case %zu (%s): %s:%u %s -> verdict %d reason %d entry %s (%s)", i, t->why,
			         t->host, t->port, t->exe, d.verdict, d.reason, d.entry ? d.entry : "-",
			         d.reason_text);
		if (d.verdict == D)
			assert_true(d.reason_text[0] != '\0');
	}
	gb_policy_compiled_unref(c);
}

static void test_script_never_grants(void **state)
{
	(void)state;
	struct gb_policy_compiled *c = compile(POLICY_MAIN);
	/* the listed binary appears only as the script of an interpreter */
	struct gb_decide_in in = { .host = "api.github.com", .port = 443, .exe = "/usr/bin/perl",
	                           .script = "/usr/bin/curl" };
	struct gb_decision d;
	gb_policy_decide(c, &in, &d);
	assert_int_equal(d.verdict, D);
	assert_int_equal(d.reason, GB_R_BINARY_NOT_ALLOWED);
	assert_non_null(strstr(d.reason_text, "/usr/bin/perl"));
	gb_policy_compiled_unref(c);
}

static void test_no_policy(void **state)
{
	(void)state;
	struct gb_policy_compiled *c = compile(POLICY_EMPTY);
	struct gb_decide_in in = { .host = "api.github.com", .port = 443, .exe = "/usr/bin/curl" };
	struct gb_decision d;
	gb_policy_decide(c, &in, &d);
	assert_int_equal(d.verdict, D);
	assert_int_equal(d.reason, GB_R_NO_POLICY);
	gb_policy_compiled_unref(c);
}

struct l7_case {
	const char *host;
	const char *method, *path, *query;
	const char *exe;
	enum gb_verdict verdict;
	enum gb_reason reason;
	bool audited;
	const char *why;
};

static const struct l7_case L7[] = {
	{ "api.test", "GET", "/repos/acme/issues", NULL, "/usr/bin/curl", A, GB_R_NONE, false, "allow rule" },
	{ "api.test", "get", "/repos/acme/issues", NULL, "/usr/bin/curl", A, GB_R_NONE, false, "method case" },
	{ "api.test", "HEAD", "/repos/acme/issues", NULL, "/usr/bin/curl", A, GB_R_NONE, false, "GET covers HEAD" },
	{ "api.test", "POST", "/repos/acme/issues", NULL, "/usr/bin/curl", D, GB_R_L7_NOT_PERMITTED, false, "method" },
	{ "api.test", "DELETE", "/repos/acme/issues", NULL, "/usr/bin/curl", D, GB_R_L7_NOT_PERMITTED, false, "delete" },
	{ "api.test", "GET", "/repos/acme/x/issues", NULL, "/usr/bin/curl", D, GB_R_L7_NOT_PERMITTED, false, "* one segment" },
	{ "api.test", "GET", "/repos/acme/issues/", NULL, "/usr/bin/curl", D, GB_R_L7_NOT_PERMITTED, false, "trailing slash kept" },
	{ "api.test", "GET", "//repos//acme//issues", NULL, "/usr/bin/curl", A, GB_R_NONE, false, "slashes collapse" },
	{ "api.test", "GET", "/repos/./acme/issues", NULL, "/usr/bin/curl", A, GB_R_NONE, false, "dot segment" },
	{ "api.test", "GET", "/other/../repos/acme/issues", NULL, "/usr/bin/curl", A, GB_R_NONE, false, "dotdot resolved" },
	{ "api.test", "GET", "/repos/acme/%2e%2e/acme/issues", NULL, "/usr/bin/curl", A, GB_R_NONE, false, "encoded dotdot" },
	{ "api.test", "GET", "/../repos/acme/issues", NULL, "/usr/bin/curl", D, GB_R_L7_BAD_PATH, false, "escapes root" },
	{ "api.test", "GET", "/repos/ac%2Fme/issues", NULL, "/usr/bin/curl", D, GB_R_L7_BAD_PATH, false, "encoded slash" },
	{ "api.test", "GET", "/repos/%61cme/issues", NULL, "/usr/bin/curl", A, GB_R_NONE, false, "unreserved decoded" },
	{ "api.test", "GET", "/repos/acme;x=1/issues", NULL, "/usr/bin/curl", A, GB_R_NONE, false, "params stripped" },
	{ "api.test", "GET", "/repos/acme/issues#frag", NULL, "/usr/bin/curl", D, GB_R_L7_BAD_PATH, false, "fragment" },
	{ "api.test", "GET", "/repos/a\x01/issues", NULL, "/usr/bin/curl", D, GB_R_L7_BAD_PATH, false, "control byte" },
	{ "api.test", "GET", "/repos/%00/issues", NULL, "/usr/bin/curl", D, GB_R_L7_BAD_PATH, false, "encoded NUL" },
	{ "api.test", "GET", "/repos/\xc3\xa9/issues", NULL, "/usr/bin/curl", D, GB_R_L7_BAD_PATH, false, "raw non-ascii" },
	{ "api.test", "GET", "/repos/%zz/issues", NULL, "/usr/bin/curl", D, GB_R_L7_BAD_PATH, false, "bad escape" },
	{ "api.test", "GET", "http://api.test/repos/a/issues", NULL, "/usr/bin/curl", D, GB_R_L7_BAD_PATH, false, "absolute form" },
	{ "api.test", "POST", "/repos/acme/x/y/comments", NULL, "/usr/bin/curl", A, GB_R_NONE, false, "** deep" },
	{ "api.test", "POST", "/repos/comments", NULL, "/usr/bin/curl", A, GB_R_NONE, false, "** zero" },
	{ "api.test", "POST", "/repos/secret/x/comments", NULL, "/usr/bin/curl", D, GB_R_L7_DENY_RULE, false, "deny wins" },
	{ "api.test", "POST", "/repos/acme/../secret/x/comments", NULL, "/usr/bin/curl", D, GB_R_L7_DENY_RULE, false, "deny after canon" },
	{ "api.test", "POST", "/repos/SECRET/x/comments", NULL, "/usr/bin/curl", A, GB_R_NONE, false, "path case-sensitive" },
	{ "api.test", "GET", "/search", "q=repo:acme&page=2", "/usr/bin/curl", A, GB_R_NONE, false, "query ok" },
	{ "api.test", "GET", "/search", "page=2&q=repo%3Aacme&x=1", "/usr/bin/curl", A, GB_R_NONE, false, "query decoded, extra free" },
	{ "api.test", "GET", "/search", "q=repo:acme", "/usr/bin/curl", D, GB_R_L7_NOT_PERMITTED, false, "query key missing" },
	{ "api.test", "GET", "/search", "q=repo:acme&page=22", "/usr/bin/curl", D, GB_R_L7_NOT_PERMITTED, false, "query value" },
	{ "api.test", "GET", "/search", "q=repo:acme&page=2&page=x", "/usr/bin/curl", D, GB_R_L7_NOT_PERMITTED, false, "every value" },
	{ "api.test", "GET", "/search", NULL, "/usr/bin/curl", D, GB_R_L7_NOT_PERMITTED, false, "no query" },
	{ "api.test", "GET", "/repos/acme/issues", NULL, "/usr/bin/wget", D, GB_R_BINARY_NOT_ALLOWED, false, "binary first" },
	/* '?': exactly one character, never '/' */
	{ "api.test", "GET", "/v1/item-42", NULL, "/usr/bin/curl", A, GB_R_NONE, false, "? one char" },
	{ "api.test", "GET", "/vX/item-ab", NULL, "/usr/bin/curl", A, GB_R_NONE, false, "? any char" },
	{ "api.test", "GET", "/v/item-42", NULL, "/usr/bin/curl", D, GB_R_L7_NOT_PERMITTED, false, "? not zero chars" },
	{ "api.test", "GET", "/v12/item-42", NULL, "/usr/bin/curl", D, GB_R_L7_NOT_PERMITTED, false, "? not two chars" },
	{ "api.test", "GET", "/v1/item-4", NULL, "/usr/bin/curl", D, GB_R_L7_NOT_PERMITTED, false, "?? needs two" },
	{ "api.test", "GET", "/v1/item-421", NULL, "/usr/bin/curl", D, GB_R_L7_NOT_PERMITTED, false, "?? not three" },
	{ "api.test", "GET", "/v//item-42", NULL, "/usr/bin/curl", D, GB_R_L7_NOT_PERMITTED, false, "? not / (collapsed)" },
	{ "api.test", "GET", "/v1/item-4/", NULL, "/usr/bin/curl", D, GB_R_L7_NOT_PERMITTED, false, "? not a trailing /" },
	{ "api.test", "GET", "/v1/item-%2F2", NULL, "/usr/bin/curl", D, GB_R_L7_BAD_PATH, false, "? not an encoded /" },
	{ "api.test", "GET", "/v%31/item-42", NULL, "/usr/bin/curl", A, GB_R_NONE, false, "? after decoding" },
	{ "api.test", "GET", "/v1/item-4", "2", "/usr/bin/curl", D, GB_R_L7_NOT_PERMITTED, false, "? never the query mark" },
	/* presets */
	{ "ro.test", "GET", "/anything/at/all", NULL, "/usr/bin/curl", A, GB_R_NONE, false, "read-only GET" },
	{ "ro.test", "HEAD", "/x", NULL, "/usr/bin/curl", A, GB_R_NONE, false, "read-only HEAD" },
	{ "ro.test", "OPTIONS", "/x", NULL, "/usr/bin/curl", A, GB_R_NONE, false, "read-only OPTIONS" },
	{ "ro.test", "POST", "/x", NULL, "/usr/bin/curl", D, GB_R_L7_NOT_PERMITTED, false, "read-only POST" },
	{ "ro.test", "PUT", "/x", NULL, "/usr/bin/curl", D, GB_R_L7_NOT_PERMITTED, false, "read-only PUT" },
	{ "rw.test", "PATCH", "/x", NULL, "/usr/bin/curl", A, GB_R_NONE, false, "read-write PATCH" },
	{ "rw.test", "PUT", "/x", NULL, "/usr/bin/curl", A, GB_R_NONE, false, "read-write PUT" },
	{ "rw.test", "DELETE", "/x", NULL, "/usr/bin/curl", D, GB_R_L7_NOT_PERMITTED, false, "read-write DELETE" },
	/* audit mode: violations pass, flagged; bad paths never pass */
	{ "audit.test", "GET", "/ok", NULL, "/usr/bin/curl", A, GB_R_NONE, false, "audit allowed" },
	{ "audit.test", "DELETE", "/ok", NULL, "/usr/bin/curl", A, GB_R_L7_NOT_PERMITTED, true, "audit violation" },
	{ "audit.test", "GET", "/../etc", NULL, "/usr/bin/curl", D, GB_R_L7_BAD_PATH, false, "audit bad path" },
	{ "audit.test", "GET", "/ok", NULL, "/usr/bin/wget", D, GB_R_BINARY_NOT_ALLOWED, false, "audit binary" },
	/* encoded slash allowed where declared */
	{ "registry.npm.test", "GET", "/@scope%2Fpkg", NULL, "/usr/bin/node", A, GB_R_NONE, false, "encoded slash allowed" },
};

static void test_l7_table(void **state)
{
	(void)state;
	struct gb_policy_compiled *c = compile(POLICY_L7);
	for (size_t i = 0; i < sizeof L7 / sizeof L7[0]; i++) {
		const struct l7_case *t = &L7[i];
		struct gb_decide_in in = { .host = t->host, .port = 80, .exe = t->exe,
		                           .method = t->method, .path = t->path, .query = t->query };
		struct gb_decision d;
		gb_policy_decide(c, &in, &d);
		bool reason_ok = d.reason == t->reason || (t->verdict == A && !t->audited && d.reason == GB_R_NONE);
		if (d.verdict != t->verdict || !reason_ok || d.audited != t->audited)
			fail_msg("L7 case %zu (%s): %s %s?%s -> verdict %d reason %d audited %d (%s)", i, t->why,
			         t->method, t->path, t->query ? t->query : "", d.verdict, d.reason, d.audited,
			         d.reason_text);
		if (t->verdict == A && t->reason == GB_R_NONE)
			assert_true(d.l7);
	}
	gb_policy_compiled_unref(c);
}

static void test_l7_connection_level(void **state)
{
	(void)state;
	struct gb_policy_compiled *c = compile(POLICY_L7);
	/* a CONNECT-level decision (no method) on an L7 endpoint reports l7 and its mode */
	struct gb_decide_in in = { .host = "api.test", .port = 80, .exe = "/usr/bin/curl" };
	struct gb_decision d;
	gb_policy_decide(c, &in, &d);
	assert_int_equal(d.verdict, A);
	assert_true(d.l7);
	assert_int_equal(d.mode, GB_MODE_ENFORCE);
	in.host = "audit.test";
	gb_policy_decide(c, &in, &d);
	assert_true(d.l7);
	assert_int_equal(d.mode, GB_MODE_AUDIT);
	gb_policy_compiled_unref(c);
}

/* ---- destination tiers ---- */

struct dest_case {
	const char *host; /* decided first */
	uint16_t port;
	const char *exe;
	const char *addr;
	int tier;
	const char *why;
};

static const struct dest_case DEST[] = {
	{ "api.github.com", 443, "/usr/bin/curl", "140.82.112.5", GB_SSRF_NONE, "public" },
	{ "api.github.com", 443, "/usr/bin/curl", "127.0.0.1", GB_SSRF_LOOPBACK, "loopback" },
	{ "api.github.com", 443, "/usr/bin/curl", "127.8.9.1", GB_SSRF_LOOPBACK, "loopback /8" },
	{ "api.github.com", 443, "/usr/bin/curl", "::1", GB_SSRF_LOOPBACK, "v6 loopback" },
	{ "api.github.com", 443, "/usr/bin/curl", "::ffff:127.0.0.1", GB_SSRF_LOOPBACK, "mapped loopback" },
	{ "api.github.com", 443, "/usr/bin/curl", "169.254.169.254", GB_SSRF_LINK_LOCAL, "metadata" },
	{ "api.github.com", 443, "/usr/bin/curl", "fe80::1", GB_SSRF_LINK_LOCAL, "v6 link-local" },
	{ "api.github.com", 443, "/usr/bin/curl", "::ffff:169.254.169.254", GB_SSRF_LINK_LOCAL, "mapped metadata" },
	{ "api.github.com", 443, "/usr/bin/curl", "0.0.0.0", GB_SSRF_UNSPECIFIED, "unspecified" },
	{ "api.github.com", 443, "/usr/bin/curl", "::", GB_SSRF_UNSPECIFIED, "v6 unspecified" },
	{ "api.github.com", 443, "/usr/bin/curl", "224.0.0.1", GB_SSRF_MULTICAST, "multicast" },
	{ "api.github.com", 443, "/usr/bin/curl", "ff02::1", GB_SSRF_MULTICAST, "v6 multicast" },
	/* exact host named: internal allowed */
	{ "api.github.com", 443, "/usr/bin/curl", "10.1.2.3", GB_SSRF_NONE, "exact host internal" },
	{ "api.github.com", 443, "/usr/bin/curl", "198.18.0.5", GB_SSRF_NONE, "exact host bench range" },
	{ "api.github.com", 443, "/usr/bin/curl", "fd12::5", GB_SSRF_NONE, "exact host ULA" },
	/* wildcard host: internal refused */
	{ "a.example.com", 443, "/usr/bin/python3", "10.1.2.3", GB_SSRF_INTERNAL, "wildcard rfc1918" },
	{ "a.example.com", 443, "/usr/bin/python3", "172.16.0.1", GB_SSRF_INTERNAL, "wildcard 172.16" },
	{ "a.example.com", 443, "/usr/bin/python3", "192.168.1.1", GB_SSRF_INTERNAL, "wildcard 192.168" },
	{ "a.example.com", 443, "/usr/bin/python3", "100.64.0.1", GB_SSRF_INTERNAL, "wildcard cgnat" },
	{ "a.example.com", 443, "/usr/bin/python3", "198.19.255.1", GB_SSRF_INTERNAL, "wildcard 198.18/15" },
	{ "a.example.com", 443, "/usr/bin/python3", "192.0.2.1", GB_SSRF_INTERNAL, "wildcard test-net-1" },
	{ "a.example.com", 443, "/usr/bin/python3", "fc00::1", GB_SSRF_INTERNAL, "wildcard ULA" },
	{ "a.example.com", 443, "/usr/bin/python3", "::ffff:10.0.0.1", GB_SSRF_INTERNAL, "wildcard mapped" },
	{ "a.example.com", 443, "/usr/bin/python3", "93.184.216.34", GB_SSRF_NONE, "wildcard public" },
	{ "a.example.com", 443, "/usr/bin/python3", "127.0.0.1", GB_SSRF_LOOPBACK, "wildcard loopback" },
	/* allowed_ips */
	{ "db.corp.test", 5432, "/usr/bin/psql", "10.20.1.1", GB_SSRF_NONE, "in allowed_ips" },
	{ "db.corp.test", 5432, "/usr/bin/psql", "10.21.1.1", GB_SSRF_NOT_IN_ALLOWED_IPS, "outside allowed_ips" },
	{ "db.corp.test", 5432, "/usr/bin/psql", "fd00:1::7", GB_SSRF_NONE, "v6 allowed_ips" },
	{ "db.corp.test", 5432, "/usr/bin/psql", "::ffff:10.20.3.4", GB_SSRF_NONE, "mapped in allowed_ips" },
	{ "db.corp.test", 5432, "/usr/bin/psql", "8.8.8.8", GB_SSRF_NOT_IN_ALLOWED_IPS, "public outside allowed_ips" },
	{ "db.corp.test", 5432, "/usr/bin/psql", "127.0.0.1", GB_SSRF_LOOPBACK, "loopback beats allowed_ips" },
	/* literal and hostless */
	{ "198.18.0.10", 80, "/usr/bin/curl", "198.18.0.10", GB_SSRF_NONE, "ip literal as declared" },
	{ "x.test", 9000, "/usr/bin/curl", "198.18.5.9", GB_SSRF_NONE, "hostless in range" },
	{ "x.test", 9000, "/usr/bin/curl", "198.18.6.9", GB_SSRF_NOT_IN_ALLOWED_IPS, "hostless outside" },
};

static void to_sockaddr(const char *s, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
	} else {
		assert_int_equal(inet_pton(AF_INET6, s, &a6->sin6_addr), 1);
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
	}
}

static void test_dest_table(void **state)
{
	(void)state;
	struct gb_policy_compiled *c = compile(POLICY_MAIN);
	for (size_t i = 0; i < sizeof DEST / sizeof DEST[0]; i++) {
		const struct dest_case *t = &DEST[i];
		struct gb_decide_in in = { .host = t->host, .port = t->port, .exe = t->exe };
		struct gb_decision d;
		gb_policy_decide(c, &in, &d);
		if (d.verdict != A)
			fail_msg("dest case %zu (%s): decision denied: %s", i, t->why, d.reason_text);
		struct sockaddr_storage ss;
		to_sockaddr(t->addr, t->port, &ss);
		int tier = gb_policy_dest_check(&d, (struct sockaddr *)&ss, t->port);
		if (tier != t->tier)
			fail_msg("dest case %zu (%s): %s -> tier %d, want %d", i, t->why, t->addr, tier, t->tier);
	}
	gb_policy_compiled_unref(c);
}

static void test_control_plane_ports(void **state)
{
	(void)state;
	static const char yaml[] =
		"version: 1\n"
		"network_policies:\n"
		"  k8s:\n"
		"    endpoints:\n"
		"      - host: kube.corp.test\n"
		"        ports: [6443, 10250, 2379, 443]\n"
		"        allowed_ips: [10.0.0.0/16]\n"
		"    binaries:\n"
		"      - path: /usr/bin/kubectl\n";
	struct gb_policy_compiled *c = compile(yaml);
	const uint16_t ports[] = { 6443, 10250, 2379 };
	for (size_t i = 0; i < 3; i++) {
		struct gb_decide_in in = { .host = "kube.corp.test", .port = ports[i], .exe = "/usr/bin/kubectl" };
		struct gb_decision d;
		gb_policy_decide(c, &in, &d);
		assert_int_equal(d.verdict, A);
		struct sockaddr_storage ss;
		to_sockaddr("10.0.0.5", ports[i], &ss);
		assert_int_equal(gb_policy_dest_check(&d, (struct sockaddr *)&ss, ports[i]),
		                 GB_SSRF_CONTROL_PLANE_PORT);
	}
	struct gb_decide_in in = { .host = "kube.corp.test", .port = 443, .exe = "/usr/bin/kubectl" };
	struct gb_decision d;
	gb_policy_decide(c, &in, &d);
	struct sockaddr_storage ss;
	to_sockaddr("10.0.0.5", 443, &ss);
	assert_int_equal(gb_policy_dest_check(&d, (struct sockaddr *)&ss, 443), GB_SSRF_NONE);
	gb_policy_compiled_unref(c);
}

static void test_reported_entry_is_smallest_key(void **state)
{
	(void)state;
	static const char yaml[] =
		"version: 1\n"
		"network_policies:\n"
		"  zeta:\n"
		"    endpoints: [{host: same.test, port: 443}]\n"
		"    binaries: [{path: /usr/bin/curl}]\n"
		"  alpha:\n"
		"    endpoints: [{host: same.test, port: 443}]\n"
		"    binaries: [{path: /usr/bin/curl}]\n";
	struct gb_policy_compiled *c = compile(yaml);
	struct gb_decide_in in = { .host = "same.test", .port = 443, .exe = "/usr/bin/curl" };
	struct gb_decision d;
	gb_policy_decide(c, &in, &d);
	assert_int_equal(d.verdict, A);
	assert_string_equal(d.entry, "alpha");
	gb_policy_compiled_unref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_net_table),
		cmocka_unit_test(test_script_never_grants),
		cmocka_unit_test(test_no_policy),
		cmocka_unit_test(test_l7_table),
		cmocka_unit_test(test_l7_connection_level),
		cmocka_unit_test(test_dest_table),
		cmocka_unit_test(test_control_plane_ports),
		cmocka_unit_test(test_reported_entry_is_smallest_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
