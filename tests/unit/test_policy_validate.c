/* tests/unit/test_policy_validate.c — invalid policies: each case asserts
 * the exact line, column, field path and a fragment of the message (and of
 * the suggestion where there is one), that the load fails, and that every
 * problem of a file is reported in one run.  Warnings: the load succeeds
 * and the warning sits at the exact position. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/policy.h"

/* An endpoint list item starts at line 5, column 9; its further keys are
 * indented 8 spaces (column 9) on lines 6, 7, ... */
#define EP "version: 1\nnetwork_policies:\n  p:\n    endpoints:\n      - "
#define BIN "    binaries:\n      - path: /usr/bin/curl\n"
#define HP "host: a.example.com\n        port: 443\n"
#define E0 "network_policies.p.endpoints[0]"

struct vcase {
	const char *name;
	const char *yaml;
	int line, column;
	const char *field;
	const char *frag; /* message fragment */
	const char *hint; /* hint fragment, or NULL (then no hint is checked) */
};

static const struct vcase cases[] = {
	/* top level */
	{ "unknown top key", "version: 1\nnetwork_policy: {}\n", 2, 1, "network_policy",
	  "unknown key 'network_policy'", "did you mean 'network_policies'?" },
	{ "missing version", "filesystem_policy: {}\n", 1, 1, "version",
	  "missing required key 'version'", NULL },
	{ "version 2", "version: 2\n", 1, 10, "version", "unsupported version 2", NULL },
	{ "version quoted", "version: \"1\"\n", 1, 10, "version", "expected the integer 1", NULL },
	{ "top not a map", "- a\n", 1, 1, "", "expected a mapping at the top level", NULL },
	{ "empty document", "", 0, 0, "", "empty policy", NULL },
	/* filesystem */
	{ "fs key typo", "version: 1\nfilesystem_policy:\n  read_onyl: [/usr]\n", 3, 3,
	  "filesystem_policy.read_onyl", "unknown key 'read_onyl'", "did you mean 'read_only'?" },
	{ "relative path", "version: 1\nfilesystem_policy:\n  read_only:\n    - usr\n", 4, 7,
	  "filesystem_policy.read_only[0]", "not an absolute path", NULL },
	{ "rw root", "version: 1\nfilesystem_policy:\n  read_write: [/tmp, /]\n", 3, 22,
	  "filesystem_policy.read_write[1]", "overly broad", NULL },
	{ "rw slashes", "version: 1\nfilesystem_policy:\n  read_write:\n    - //\n", 4, 7,
	  "filesystem_policy.read_write[0]", "overly broad", NULL },
	{ "dotdot", "version: 1\nfilesystem_policy:\n  read_only: [/usr/../etc]\n", 3, 15,
	  "filesystem_policy.read_only[0]", "contains a '..' component", NULL },
	{ "include_workdir yes", "version: 1\nfilesystem_policy:\n  include_workdir: yes\n", 3, 20,
	  "filesystem_policy.include_workdir", "expected true or false", NULL },
	{ "fs not a map", "version: 1\nfilesystem_policy: [/usr]\n", 2, 20, "filesystem_policy",
	  "expected a mapping", NULL },
	/* landlock and process */
	{ "landlock typo", "version: 1\nlandlock:\n  compatibility: best_efort\n", 3, 18,
	  "landlock.compatibility", "unknown value 'best_efort'", "did you mean 'best_effort'?" },
	{ "run_as_user root", "version: 1\nprocess:\n  run_as_user: root\n", 3, 16,
	  "process.run_as_user", "must not be root", NULL },
	{ "run_as_group 0", "version: 1\nprocess:\n  run_as_group: 0\n", 3, 17,
	  "process.run_as_group", "must not be 0 (root)", NULL },
	{ "run_as_user -1", "version: 1\nprocess:\n  run_as_user: 4294967295\n", 3, 16,
	  "process.run_as_user", "out of range", NULL },
	{ "run_as_user name", "version: 1\nprocess:\n  run_as_user: nobody\n", 3, 16,
	  "process.run_as_user", "'nobody' is not allowed", NULL },
	{ "process key typo", "version: 1\nprocess:\n  run_as_usr: sandbox\n", 3, 3,
	  "process.run_as_usr", "unknown key", "did you mean 'run_as_user'?" },
	/* YAML level */
	{ "duplicate key", "version: 1\nprocess:\n  run_as_user: sandbox\n  run_as_user: 1000\n", 4, 3,
	  "process", "duplicate key 'run_as_user' (first defined at line 3)", NULL },
	{ "tab indentation", "version: 1\nprocess:\n\trun_as_user: sandbox\n", 3, 1, "process",
	  "YAML syntax error", NULL },
	{ "undefined alias", "version: 1\nprocess:\n  run_as_user: *nope\n", 3, 16,
	  "process.run_as_user", "undefined alias '*nope'", NULL },
	{ "two documents", "version: 1\n---\nversion: 1\n", 2, 1, "", "only one YAML document", NULL },
	{ "complex key", "version: 1\n? [a]\n: b\n", 2, 3, "", "mapping keys must be plain strings", NULL },
	{ "NUL in scalar", "version: 1\nprocess:\n  run_as_user: \"a\\0b\"\n", 3, 16,
	  "process.run_as_user", "NUL byte", NULL },
	{ "recursive alias", "version: 1\nnetwork_policies: &a\n  p: *a\n", 3, 6,
	  "network_policies.p", "undefined alias '*a'", NULL },
	/* network entries */
	{ "entry not a map", "version: 1\nnetwork_policies:\n  p: 3\n", 3, 6, "network_policies.p",
	  "expected a mapping", NULL },
	{ "entry key typo", "version: 1\nnetwork_policies:\n  p:\n    endpoint: []\n" BIN, 4, 5,
	  "network_policies.p.endpoint", "unknown key 'endpoint'", "did you mean 'endpoints'?" },
	{ "binary relative",
	  "version: 1\nnetwork_policies:\n  p:\n    endpoints:\n      - {host: a.example.com, port: 443}\n"
	  "    binaries:\n      - path: curl\n",
	  7, 15, "network_policies.p.binaries[0].path", "is not absolute", NULL },
	{ "binary dotdot",
	  "version: 1\nnetwork_policies:\n  p:\n    endpoints:\n      - {host: a.example.com, port: 443}\n"
	  "    binaries:\n      - path: /usr/../bin/curl\n",
	  7, 15, "network_policies.p.binaries[0].path", "'.' or '..' component", NULL },
	{ "binary unclosed class",
	  "version: 1\nnetwork_policies:\n  p:\n    endpoints:\n      - {host: a.example.com, port: 443}\n"
	  "    binaries:\n      - path: /usr/bin/py[3\n",
	  7, 15, "network_policies.p.binaries[0].path", "unclosed '['", NULL },
	{ "binary as string",
	  "version: 1\nnetwork_policies:\n  p:\n    endpoints:\n      - {host: a.example.com, port: 443}\n"
	  "    binaries:\n      - /usr/bin/curl\n",
	  7, 9, "network_policies.p.binaries[0]", "expected a mapping {path:", NULL },
	/* endpoints: host and ports */
	{ "endpoint key typo", EP "hots: a.example.com\n        port: 443\n" BIN, 5, 9, E0 ".hots",
	  "unknown key 'hots'", "did you mean 'host'?" },
	{ "host missing", EP "port: 443\n" BIN, 5, 9, E0 ".host", "missing required key 'host'", NULL },
	{ "port 0", EP "host: a.example.com\n        port: 0\n" BIN, 6, 15, E0 ".port",
	  "out of range 1..65535", NULL },
	{ "port missing", EP "host: a.example.com\n" BIN, 5, 9, E0 ".port",
	  "missing required key 'port'", NULL },
	{ "port string", EP "host: a.example.com\n        port: https\n" BIN, 6, 15, E0 ".port",
	  "expected a port number 1-65535, got 'https'", NULL },
	{ "ports out of range", EP "host: a.example.com\n        ports: [443, 70000]\n" BIN, 6, 22,
	  E0 ".ports[1]", "out of range", NULL },
	{ "tld wildcard", EP "host: \"*.com\"\n        port: 443\n" BIN, 5, 15, E0 ".host",
	  "top-level-domain wildcard", NULL },
	{ "partial middle wildcard", EP "host: \"*.s3.us-*.amazonaws.com\"\n        port: 443\n" BIN, 5,
	  15, E0 ".host", "must be a whole label '*'", NULL },
	{ "bare star host", EP "host: \"**\"\n        port: 443\n" BIN, 5, 15, E0 ".host",
	  "alone matches every host", NULL },
	{ "tld recursive wildcard", EP "host: \"**.com\"\n        port: 443\n" BIN, 5, 15, E0 ".host",
	  "top-level-domain wildcard", NULL },
	{ "double star inside", EP "host: a**.example.com\n        port: 443\n" BIN, 5, 15, E0 ".host",
	  "'**' must be the whole first label", NULL },
	{ "bad host char", EP "host: exa$mple.com\n        port: 443\n" BIN, 5, 15, E0 ".host",
	  "invalid character '$'", NULL },
	{ "empty label", EP "host: a..b.example.com\n        port: 443\n" BIN, 5, 15, E0 ".host",
	  "empty label", NULL },
	{ "bracketed ipv6", EP "host: \"[::1]\"\n        port: 443\n" BIN, 5, 15, E0 ".host",
	  "without brackets", NULL },
	/* protocol, enforcement, access, rules */
	{ "protocol typo", EP HP "        protocol: restt\n" BIN, 7, 19, E0 ".protocol",
	  "unknown value 'restt'", "did you mean 'rest'?" },
	{ "graphql refused",
	  EP HP "        protocol: graphql\n        access: read-only\n        enforcement: enforce\n" BIN,
	  7, 19, E0 ".protocol", "protocol 'graphql' is not enforced by glassbox yet", NULL },
	{ "websocket read-only refused", EP HP "        protocol: websocket\n        access: read-only\n" BIN, 8, 9,
	  E0 ".access", "websocket 'read-only' forbids client messages", NULL },
	{ "tcp ip literal", EP "host: 1.2.3.4\n        port: 5432\n        protocol: tcp\n" BIN, 5, 15,
	  E0 ".host", "protocol tcp needs a DNS host name", NULL },
	{ "tcp trailing dot", EP "host: db.example.com.\n        port: 5432\n        protocol: tcp\n" BIN,
	  5, 15, E0 ".host", "does not accept a trailing dot", NULL },
	{ "tcp with rules",
	  EP "host: db.example.com\n        port: 5432\n        protocol: tcp\n        access: full\n" BIN,
	  8, 9, E0 ".access", "protocol tcp does not inspect payloads", NULL },
	{ "enforcement typo",
	  EP HP "        protocol: rest\n        access: full\n        enforcement: enforced\n" BIN, 9, 22,
	  E0 ".enforcement", "unknown value 'enforced'", "did you mean 'enforce'?" },
	{ "access typo", EP HP "        protocol: rest\n        access: readonly\n" BIN, 8, 17,
	  E0 ".access", "unknown value 'readonly'", "did you mean 'read-only'?" },
	{ "access and rules",
	  EP HP "        protocol: rest\n        access: full\n        rules:\n"
	        "          - allow: {method: GET, path: /}\n" BIN,
	  8, 9, E0 ".access", "mutually exclusive", NULL },
	{ "empty rules", EP HP "        protocol: rest\n        rules: []\n" BIN, 8, 16, E0 ".rules",
	  "an empty rule list is not allowed", NULL },
	{ "rules without protocol",
	  EP HP "        rules:\n          - allow: {method: GET, path: /}\n" BIN, 7, 9, E0 ".rules",
	  "'rules' needs 'protocol'", "protocol: rest" },
	{ "rest without allow", EP HP "        protocol: rest\n        enforcement: enforce\n" BIN, 5, 9,
	  E0 ".rules", "needs 'access' or 'rules'", NULL },
	{ "deny without base",
	  EP HP "        protocol: rest\n        deny_rules:\n          - {method: POST, path: /}\n" BIN,
	  8, 9, E0 ".deny_rules", "need a base allow set", NULL },
	{ "rule missing method",
	  EP HP "        protocol: rest\n        rules:\n          - allow: {path: /x}\n" BIN, 9, 20,
	  E0 ".rules[0].allow.method", "missing required key 'method'", NULL },
	{ "rule bad method",
	  EP HP "        protocol: rest\n        rules:\n          - allow: {method: \"GE T\", path: /x}\n" BIN,
	  9, 29, E0 ".rules[0].allow.method", "is not an HTTP method", NULL },
	{ "rule relative path",
	  EP HP "        protocol: rest\n        rules:\n          - allow: {method: GET, path: repos/x}\n" BIN,
	  9, 40, E0 ".rules[0].allow.path", "must start with /", NULL },
	{ "rule without allow",
	  EP HP "        protocol: rest\n        rules:\n          - {method: GET, path: /x}\n" BIN,
	  9, 14, E0 ".rules[0].method", "unknown key 'method'", NULL },
	{ "query as list",
	  EP HP "        protocol: rest\n        rules:\n          - allow:\n              method: GET\n"
	        "              path: /x\n              query:\n                q: [a, b]\n" BIN,
	  13, 20, E0 ".rules[0].allow.query.q", "expected a glob string", NULL },
	{ "encoded slash without protocol", EP HP "        allow_encoded_slash: true\n" BIN, 7, 9,
	  E0 ".allow_encoded_slash", "needs 'protocol'", NULL },
	{ "path selector without protocol", EP HP "        path: /v1/**\n" BIN, 7, 9, E0 ".path",
	  "'path' needs 'protocol'", NULL },
	/* a failed rule's slot is reused by the next one (fuzzer find) */
	{ "failed rule then rule with query",
	  EP HP "        protocol: rest\n        rules:\n"
	        "          - allow: {method: \"G T\", path: /a, query: {a: x, b: y, c: z}}\n"
	        "          - allow: {method: GET, path: /b, query: {d: w}}\n" BIN,
	  9, 29, E0 ".rules[0].allow.method", "is not an HTTP method", NULL },
	{ "failed query key then more keys",
	  EP HP "        protocol: rest\n        rules:\n"
	        "          - allow: {method: GET, path: /a, query: {\"\\0\": {any: [a, b, c]}, k: v, l: w}}\n" BIN,
	  9, 52, E0 ".rules[0].allow.query.", "NUL byte", NULL },
	{ "sql command on rest",
	  EP HP "        protocol: rest\n        rules:\n          - allow: {method: GET, path: /, command: SELECT}\n" BIN,
	  9, 43, E0 ".rules[0].allow.command", "'command' is not enforced by glassbox yet", NULL },
	{ "graphql operation in deny",
	  EP HP "        protocol: rest\n        access: full\n        deny_rules:\n"
	        "          - {method: POST, path: /graphql, operation_type: mutation}\n" BIN,
	  10, 44, E0 ".deny_rules[0].operation_type", "GraphQL operations", NULL },
	{ "persisted_queries value", EP HP "        persisted_queries: maybe\n" BIN, 7, 28,
	  E0 ".persisted_queries", "unknown value 'maybe' (expected one of: deny, allow_registered)", NULL },
	{ "endpoint path star", EP HP "        protocol: rest\n        access: full\n        path: \"*\"\n" BIN,
	  9, 15, E0 ".path", "must start with /", NULL },
	{ "tcp with enforcement",
	  EP "host: db.example.com\n        port: 5432\n        protocol: tcp\n        enforcement: enforce\n" BIN,
	  8, 9, E0 ".enforcement", "protocol tcp does not inspect payloads", NULL },
	{ "harness not bool",
	  "version: 1\nnetwork_policies:\n  p:\n    endpoints:\n      - {host: a.example.com, port: 443}\n"
	  "    binaries:\n      - {path: /usr/bin/curl, harness: maybe}\n",
	  7, 40, "network_policies.p.binaries[0].harness", "expected true or false", NULL },
	{ "rule unclosed class",
	  EP HP "        protocol: rest\n        rules:\n          - allow: {method: GET, path: \"/v[12/x\"}\n" BIN,
	  9, 40, E0 ".rules[0].allow.path", "unclosed '['", NULL },
	/* allowed_ips */
	{ "allowed_ips loopback", EP HP "        allowed_ips: [127.0.0.1]\n" BIN, 7, 23,
	  E0 ".allowed_ips[0]", "overlaps loopback", NULL },
	{ "allowed_ips metadata", EP HP "        allowed_ips: [10.0.0.0/16, 169.254.169.254]\n" BIN, 7, 36,
	  E0 ".allowed_ips[1]", "overlaps link-local", NULL },
	{ "allowed_ips unspecified", EP HP "        allowed_ips: [0.0.0.0]\n" BIN, 7, 23,
	  E0 ".allowed_ips[0]", "overlaps unspecified", NULL },
	{ "allowed_ips v6 link-local", EP HP "        allowed_ips: [\"fe80::1\"]\n" BIN, 7, 23,
	  E0 ".allowed_ips[0]", "fe80::/10", NULL },
	{ "allowed_ips mapped loopback", EP HP "        allowed_ips: [\"::ffff:127.0.0.1\"]\n" BIN, 7,
	  23, E0 ".allowed_ips[0]", "overlaps loopback", NULL },
	{ "allowed_ips bad prefix", EP HP "        allowed_ips: [10.0.0.0/33]\n" BIN, 7, 23,
	  E0 ".allowed_ips[0]", "invalid prefix length", NULL },
	{ "allowed_ips garbage", EP HP "        allowed_ips: [ten.0.0.1]\n" BIN, 7, 23,
	  E0 ".allowed_ips[0]", "not an IP address or CIDR", NULL },
	{ "allowed_ips empty", EP HP "        allowed_ips: []\n" BIN, 7, 22, E0 ".allowed_ips",
	  "non-empty list", NULL },
	/* fields glassbox does not enforce: refused, never weakened */
	{ "credential_signing refused",
	  EP HP "        credential_signing: sigv4\n        signing_service: s3\n" BIN, 7, 9,
	  E0 ".credential_signing", "'credential_signing' is not enforced by glassbox yet", NULL },
	{ "signing_service refused",
	  EP HP "        credential_signing: sigv4\n        signing_service: s3\n" BIN, 8, 9,
	  E0 ".signing_service", "'signing_service' is not enforced", NULL },
	{ "credential_signing needs service", EP HP "        credential_signing: sigv4:body\n" BIN, 7, 9,
	  E0 ".credential_signing", "needs 'signing_service'", NULL },
	{ "credential_signing value", EP HP "        credential_signing: sigv5\n" BIN, 7, 29,
	  E0 ".credential_signing", "unknown value 'sigv5'", "did you mean 'sigv4'?" },
	{ "mcp options refused", EP HP "        mcp: {max_body_bytes: 100}\n" BIN, 7, 9, E0 ".mcp",
	  "'mcp' is not enforced", NULL },
	{ "ws credential rewrite refused", EP HP "        websocket_credential_rewrite: true\n" BIN, 7,
	  9, E0 ".websocket_credential_rewrite", "is not enforced", NULL },
	{ "credential_binding refused", EP HP "        credential_binding: {provider: vault}\n" BIN, 7, 9,
	  E0 ".credential_binding", "is not enforced", NULL },
	{ "network_middlewares refused", "version: 1\nnetwork_middlewares:\n  m: {}\n", 3, 3,
	  "network_middlewares", "network_middlewares is not enforced", NULL },
};

static void dump(const struct gb_diags *d)
{
	gb_diags_print(d, stderr);
}

static const struct gb_diag *find(const struct gb_diags *d, enum gb_diag_level lvl, int line,
                                  int col, const char *field, const char *frag, const char *hint)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct gb_diag *g = &d->v[i];
		if (g->level == lvl && g->line == line && g->column == col &&
		    !strcmp(g->field ? g->field : "", field) && strstr(g->message, frag) &&
		    (!hint || (g->hint && strstr(g->hint, hint))))
			return g;
	}
	return NULL;
}

static void test_invalid_cases(void **state)
{
	(void)state;
	assert_true(sizeof cases / sizeof cases[0] >= 30);
	int failed = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct vcase *c = &cases[i];
		struct gb_diags d = { 0 };
		struct gb_policy *p = (struct gb_policy *)&d; /* must be reset to NULL */
		int rc = gb_policy_load_buf("t.yaml", c->yaml, strlen(c->yaml), &p, &d);
		bool ok = rc == -EINVAL && p == NULL && d.errors > 0 &&
		          find(&d, GB_DIAG_ERROR, c->line, c->column, c->field, c->frag, c->hint);
		if (ok && d.n) /* every diag names the file */
			ok = !strcmp(d.v[0].file, "t.yaml");
		if (!ok) {
			fprintf(stderr, "case '%s' failed (rc %d): want %d:%d %s: %s\n", c->name, rc,
			        c->line, c->column, c->field, c->frag);
			dump(&d);
			failed++;
		}
		gb_policy_free(p);
		gb_diags_free(&d);
	}
	assert_int_equal(failed, 0);
}

struct wcase {
	const char *name;
	const char *yaml;
	int line, column;
	const char *field, *frag;
};

#define BINS(path) \
	"version: 1\nnetwork_policies:\n  p:\n    endpoints:\n      - {host: a.example.com, port: 443}\n" \
	"    binaries:\n      - path: " path "\n"

static const struct wcase wcases[] = {
	{ "broad glob", BINS("/**"), 7, 15, "network_policies.p.binaries[0].path", "very broad binary glob" },
	{ "broad glob usr", BINS("/usr/**"), 7, 15, "network_policies.p.binaries[0].path",
	  "very broad binary glob" },
	{ "shell", BINS("/bin/bash"), 7, 15, "network_policies.p.binaries[0].path", "is a shell" },
	{ "env", BINS("/usr/bin/env"), 7, 15, "network_policies.p.binaries[0].path",
	  "is a program launcher" },
	{ "python", BINS("/usr/bin/python3.11"), 7, 15, "network_policies.p.binaries[0].path",
	  "is an interpreter" },
	{ "python glob", BINS("/usr/bin/python3*"), 7, 15, "network_policies.p.binaries[0].path",
	  "is an interpreter" },
	{ "audit default", EP HP "        protocol: rest\n        access: read-only\n" BIN, 5, 9, E0,
	  "runs in audit mode" },
	{ "broad allowed_ips", EP HP "        allowed_ips: [10.0.0.0/8]\n" BIN, 7, 23, E0 ".allowed_ips[0]",
	  "broader than /16" },
	{ "port ignored", EP "host: a.example.com\n        port: 80\n        ports: [443]\n" BIN, 6, 15,
	  E0 ".port", "port 80 is ignored" },
	{ "tls skip on rest",
	  EP HP "        protocol: rest\n        tls: skip\n        access: full\n        enforcement: enforce\n" BIN,
	  8, 9, E0, "cannot be inspected" },
	{ "loopback literal host", EP "host: 127.0.0.1\n        port: 8080\n" BIN, 5, 15, E0 ".host",
	  "always blocked: this endpoint can never be reached" },
	{ "link-local v6 literal host", EP "host: \"fe80::1\"\n        port: 8080\n" BIN, 5, 15, E0 ".host",
	  "is link-local (fe80::/10)" },
	{ "binaries missing",
	  "version: 1\nnetwork_policies:\n  p:\n    endpoints:\n      - {host: a.example.com, port: 443}\n",
	  4, 5, "network_policies.p.binaries", "no binaries: this entry allows nothing" },
	{ "endpoints empty", "version: 1\nnetwork_policies:\n  p:\n    endpoints: []\n" BIN, 4, 16,
	  "network_policies.p.endpoints", "no endpoints: this entry allows nothing" },
	{ "harness deprecated",
	  "version: 1\nnetwork_policies:\n  p:\n    endpoints:\n      - {host: a.example.com, port: 443}\n"
	  "    binaries:\n      - {path: /usr/bin/curl, harness: true}\n",
	  7, 40, "network_policies.p.binaries[0].harness", "'harness' is deprecated and ignored" },
	{ "enforcement on L4", EP HP "        enforcement: enforce\n" BIN, 7, 9, E0,
	  "has no effect on an endpoint without 'protocol'" },
	{ "? before = in a path glob",
	  EP HP "        protocol: rest\n        enforcement: enforce\n        rules:\n"
	        "          - allow: {method: GET, path: /s?page=1}\n" BIN,
	  10, 40, E0 ".rules[0].allow.path", "'?' matches one character of the path, not a query string" },
};

static void test_warning_cases(void **state)
{
	(void)state;
	int failed = 0;
	for (size_t i = 0; i < sizeof wcases / sizeof wcases[0]; i++) {
		const struct wcase *c = &wcases[i];
		struct gb_diags d = { 0 };
		struct gb_policy *p = NULL;
		int rc = gb_policy_load_buf("w.yaml", c->yaml, strlen(c->yaml), &p, &d);
		if (rc || !p || d.errors ||
		    !find(&d, GB_DIAG_WARNING, c->line, c->column, c->field, c->frag, NULL)) {
			fprintf(stderr, "warning case '%s' failed (rc %d)\n", c->name, rc);
			dump(&d);
			failed++;
		}
		gb_policy_free(p);
		gb_diags_free(&d);
	}
	assert_int_equal(failed, 0);
}

/* Binaries that are not launchers produce no warning (the warning is not
 * simply printed for everything). */
static void test_no_false_warnings(void **state)
{
	(void)state;
	const char *ok[] = { BINS("/usr/bin/curl"), BINS("/usr/lib/git-core/git-remote-http*"),
		             BINS("/usr/bin/pythonista-helper"),
		             /* '?' in a path glob is one character (issue 15): no error, no warning */
		             EP HP "        protocol: rest\n        enforcement: enforce\n        rules:\n"
		                   "          - allow: {method: GET, path: \"/v?/item-??\"}\n"
		                   "        deny_rules:\n          - {method: GET, path: /v?/secret}\n" BIN };
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		struct gb_diags d = { 0 };
		struct gb_policy *p = NULL;
		assert_int_equal(gb_policy_load_buf("x", ok[i], strlen(ok[i]), &p, &d), 0);
		if (d.n)
			dump(&d);
		assert_int_equal(d.n, 0);
		gb_policy_free(p);
		gb_diags_free(&d);
	}
}

/* One problem, one error: a wrong type is not also reported as "empty". */
static void test_one_error_per_problem(void **state)
{
	(void)state;
	const char *ys[] = {
		"version: 1\nnetwork_policies:\n  p:\n    endpoints: [{host: a.example.com, port: 1}]\n"
		"    binaries: {path: /usr/bin/curl}\n",
		EP HP "        allowed_ips: {a: b}\n" BIN,
		EP HP "        protocol: rest\n        enforcement: enforce\n        rules:\n"
		      "          - allow: {method: GET, path: /, query: {q: {any: {a: b}}}}\n" BIN,
		EP HP "        protocol: rest\n        enforcement: enforce\n        rules: {allow: x}\n" BIN,
		"version: 1\nlandlock:\n  compatibility: [best_effort]\n",
		"version: 1\nnetwork_policies:\n  p:\n    endpoints: {host: a.example.com}\n" BIN,
	};
	for (size_t i = 0; i < sizeof ys / sizeof ys[0]; i++) {
		struct gb_diags d = { 0 };
		struct gb_policy *p = NULL;
		assert_int_equal(gb_policy_load_buf("o", ys[i], strlen(ys[i]), &p, &d), -EINVAL);
		if (d.errors != 1) {
			fprintf(stderr, "input %zu:\n", i);
			dump(&d);
		}
		assert_int_equal(d.errors, 1);
		gb_diags_free(&d);
	}
}

static void test_long_path(void **state)
{
	(void)state;
	char *path = malloc(4098);
	assert_non_null(path);
	path[0] = '/';
	memset(path + 1, 'a', 4096);
	path[4097] = 0; /* 4097 characters */
	char *y = malloc(8192);
	assert_non_null(y);
	snprintf(y, 8192, "version: 1\nfilesystem_policy:\n  read_only:\n    - %s\n", path);
	struct gb_diags d = { 0 };
	struct gb_policy *p = NULL;
	assert_int_equal(gb_policy_load_buf("l", y, strlen(y), &p, &d), -EINVAL);
	assert_non_null(find(&d, GB_DIAG_ERROR, 4, 7, "filesystem_policy.read_only[0]",
	                     "4097 characters long (at most 4096)", NULL));
	gb_diags_free(&d);
	/* exactly 4096 is fine */
	path[4096] = 0;
	snprintf(y, 8192, "version: 1\nfilesystem_policy:\n  read_only:\n    - %s\n", path);
	assert_int_equal(gb_policy_load_buf("l", y, strlen(y), &p, &d), 0);
	gb_policy_free(p);
	gb_diags_free(&d);
	free(y);
	free(path);
}

static void test_too_many_fs_entries(void **state)
{
	(void)state;
	struct gb_buf b = GB_BUF_INIT;
	gb_buf_puts(&b, "version: 1\nfilesystem_policy:\n  read_only:\n");
	for (int i = 0; i < 200; i++)
		gb_buf_printf(&b, "    - /ro/%d\n", i);
	gb_buf_puts(&b, "  read_write:\n");
	for (int i = 0; i < 57; i++)
		gb_buf_printf(&b, "    - /rw/%d\n", i);
	struct gb_diags d = { 0 };
	struct gb_policy *p = NULL;
	assert_int_equal(gb_policy_load_buf("m", b.data, b.len, &p, &d), -EINVAL);
	assert_non_null(find(&d, GB_DIAG_ERROR, 3, 3, "filesystem_policy", "257 filesystem entries",
	                     NULL));
	assert_int_equal(d.errors, 1);
	gb_diags_free(&d);
	gb_buf_free(&b);
}

/* Every problem of a file in one run, in source order. */
static void test_all_errors_reported(void **state)
{
	(void)state;
	const char *y = "version: 1\n"
	                "filesystem_policy:\n"
	                "  read_only: [usr]\n"        /* 3 */
	                "  read_write: [/]\n"         /* 4 */
	                "process:\n"
	                "  run_as_user: root\n"       /* 6 */
	                "network_policies:\n"
	                "  p:\n"
	                "    endpoints:\n"
	                "      - host: \"*.com\"\n"   /* 10 */
	                "        port: 0\n"           /* 11 */
	                "    binaries:\n"
	                "      - path: curl\n";       /* 13 */
	struct gb_diags d = { 0 };
	struct gb_policy *p = NULL;
	assert_int_equal(gb_policy_load_buf("all.yaml", y, strlen(y), &p, &d), -EINVAL);
	if (d.errors != 6)
		dump(&d);
	assert_int_equal(d.errors, 6);
	int lines[] = { 3, 4, 6, 10, 11, 13 };
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(d.v[i].line, lines[i]);
	/* printed form: file:line:col: error: field: message */
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	assert_non_null(f);
	gb_diags_print(&d, f);
	fclose(f);
	assert_non_null(strstr(out, "all.yaml:3:15: error: filesystem_policy.read_only[0]: 'usr' is not "
	                            "an absolute path"));
	assert_non_null(strstr(out, "all.yaml:11:15: error: network_policies.p.endpoints[0].port:"));
	free(out);
	gb_diags_free(&d);
}

static void test_file_errors(void **state)
{
	(void)state;
	struct gb_diags d = { 0 };
	struct gb_policy *p = NULL;
	assert_int_equal(gb_policy_load_file("/nonexistent/policy.yaml", &p, &d), -ENOENT);
	assert_null(p);
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(d.v[0].message, "cannot open"));
	gb_diags_free(&d);
	assert_int_equal(gb_policy_load_file("/", &p, &d), -EINVAL);
	assert_non_null(strstr(d.v[0].message, "not a regular file"));
	gb_diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invalid_cases),
		cmocka_unit_test(test_warning_cases),
		cmocka_unit_test(test_no_false_warnings),
		cmocka_unit_test(test_one_error_per_problem),
		cmocka_unit_test(test_long_path),
		cmocka_unit_test(test_too_many_fs_entries),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_file_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
