/* tests/unit/test_policy_parse.c — every schema field lands in the model
 * with its value and source position; aliases; the canonical hash; static
 * section diffs; and hostile files (binary bytes, deep nesting, huge
 * scalars, alias bombs) that must fail cleanly and boundedly. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/policy.h"

static const char full[] =
    "# every field glassbox models\n"                       /* 1 */
    "version: 1\n"                                          /* 2 */
    "filesystem_policy:\n"                                  /* 3 */
    "  read_only: [/usr, /etc]\n"                           /* 4 */
    "  read_write:\n"                                       /* 5 */
    "    - /tmp\n"                                          /* 6 */
    "  include_workdir: true\n"                             /* 7 */
    "landlock:\n"                                           /* 8 */
    "  compatibility: hard_requirement\n"                   /* 9 */
    "process:\n"                                            /* 10 */
    "  run_as_user: \"1000\"\n"                             /* 11 */
    "  run_as_group: sandbox\n"                             /* 12 */
    "network_policies:\n"                                   /* 13 */
    "  zeta:\n"                                             /* 14 */
    "    name: Zeta API\n"                                  /* 15 */
    "    endpoints:\n"                                      /* 16 */
    "      - host: API.Example.COM\n"                       /* 17 */
    "        ports: [443, 8443]\n"                          /* 18 */
    "        path: /v1/**\n"                                /* 19 */
    "        protocol: rest\n"                              /* 20 */
    "        tls: skip\n"                                   /* 21 */
    "        enforcement: enforce\n"                        /* 22 */
    "        allow_encoded_slash: true\n"                   /* 23 */
    "        rules:\n"                                      /* 24 */
    "          - allow:\n"                                  /* 25 */
    "              method: get\n"                           /* 26 */
    "              path: /v1/items/*\n"                     /* 27 */
    "              query:\n"                                /* 28 */
    "                q: \"a*\"\n"                           /* 29 */
    "                tag: {any: [x, \"y?\"]}\n"             /* 30 */
    "                page: {glob: \"[0-9]*\"}\n"            /* 31 */
    "          - allow: {method: \"*\", path: \"**\"}\n"    /* 32 */
    "        deny_rules:\n"                                 /* 33 */
    "          - {method: DELETE, path: /v1/admin/**, query: {force: \"1\"}}\n" /* 34 */
    "        allowed_ips: [10.1.2.3/16, \"fd00::/8\", 192.0.2.7]\n"           /* 35 */
    "      - allowed_ips: [100.64.0.0/10]\n"                /* 36: hostless */
    "        port: 5432\n"                                  /* 37 */
    "    binaries: &bins\n"                                 /* 38 */
    "      - path: /usr/bin/curl\n"                         /* 39 */
    "      - path: /opt/tools/*/bin/**\n"                   /* 40 */
    "  alpha:\n"                                            /* 41 */
    "    endpoints:\n"                                      /* 42 */
    "      - host: \"*.example.org\"\n"                     /* 43 */
    "        port: 80\n"                                    /* 44 */
    "        protocol: rest\n"                              /* 45 */
    "        access: read-write\n"                          /* 46 */
    "      - {host: 198.51.100.1, port: 22}\n"              /* 47 */
    "    binaries: *bins\n";                                /* 48 */

static struct gb_policy *load_ok(const char *y, struct gb_diags *d)
{
	struct gb_policy *p = NULL;
	int rc = gb_policy_load_buf("full.yaml", y, strlen(y), &p, d);
	if (rc)
		gb_diags_print(d, stderr);
	assert_int_equal(rc, 0);
	assert_non_null(p);
	return p;
}

static void test_full_round_trip(void **state)
{
	(void)state;
	struct gb_diags d = { 0 };
	struct gb_policy *p = load_ok(full, &d);
	/* only the expected warnings: tls skip on an L7 endpoint, fd00::/8
	 * broader than /48, 100.64.0.0/10 broader than /16 (10.1.0.0/16 is
	 * fine), alpha's L7 endpoint has no enforcement */
	assert_int_equal(d.errors, 0);
	if (d.warnings != 4)
		gb_diags_print(&d, stderr);
	assert_int_equal(d.warnings, 4);
	assert_int_equal(d.v[0].line, 21);
	assert_int_equal(d.v[1].line, 35);
	assert_int_equal(d.v[2].line, 36);
	assert_int_equal(d.v[3].line, 43);

	assert_int_equal(p->version, 1);
	assert_int_equal(p->n_read_only, 2);
	assert_string_equal(p->read_only[0], "/usr");
	assert_string_equal(p->read_only[1], "/etc");
	assert_int_equal(p->n_read_write, 1);
	assert_string_equal(p->read_write[0], "/tmp");
	assert_true(p->include_workdir);
	assert_int_equal(p->landlock, GB_LL_HARD_REQUIREMENT);
	assert_string_equal(p->run_as_user, "1000");
	assert_string_equal(p->run_as_group, "sandbox");

	/* entries sorted by key */
	assert_int_equal(p->n_entries, 2);
	const struct gb_net_entry *a = &p->entries[0], *z = &p->entries[1];
	assert_string_equal(a->key, "alpha");
	assert_string_equal(a->name, "alpha"); /* defaults to the key */
	assert_int_equal(a->line, 41);
	assert_int_equal(a->column, 3);
	assert_string_equal(z->key, "zeta");
	assert_string_equal(z->name, "Zeta API");

	assert_int_equal(z->n_endpoints, 2);
	const struct gb_endpoint_spec *e = &z->endpoints[0];
	assert_int_equal(e->line, 17);
	assert_int_equal(e->column, 9);
	assert_string_equal(e->host, "API.Example.COM"); /* as written; matching lower-cases */
	assert_int_equal(e->n_ports, 2);
	assert_int_equal(e->ports[0], 443);
	assert_int_equal(e->ports[1], 8443);
	assert_string_equal(e->path, "/v1/**");
	assert_int_equal(e->protocol, GB_PROTO_REST);
	assert_int_equal(e->tls, GB_TLS_SKIP);
	assert_int_equal(e->enforcement, GB_MODE_ENFORCE);
	assert_true(e->enforcement_given);
	assert_true(e->allow_encoded_slash);
	assert_null(e->access);
	assert_int_equal(e->n_rules, 2);
	const struct gb_l7_rule *r = &e->rules[0];
	assert_string_equal(r->method, "GET"); /* upper-cased */
	assert_string_equal(r->path, "/v1/items/*");
	assert_int_equal(r->line, 26);
	assert_int_equal(r->n_query, 3);
	assert_string_equal(r->query[0].key, "q");
	assert_int_equal(r->query[0].n_globs, 1);
	assert_string_equal(r->query[0].globs[0], "a*");
	assert_string_equal(r->query[1].key, "tag");
	assert_int_equal(r->query[1].n_globs, 2);
	assert_string_equal(r->query[1].globs[0], "x");
	assert_string_equal(r->query[1].globs[1], "y?");
	assert_string_equal(r->query[2].key, "page");
	assert_int_equal(r->query[2].n_globs, 1);
	assert_string_equal(r->query[2].globs[0], "[0-9]*");
	assert_string_equal(e->rules[1].method, "*");
	assert_string_equal(e->rules[1].path, "**");
	assert_int_equal(e->rules[1].n_query, 0);
	assert_int_equal(e->n_deny_rules, 1);
	assert_string_equal(e->deny_rules[0].method, "DELETE");
	assert_string_equal(e->deny_rules[0].path, "/v1/admin/**");
	assert_int_equal(e->deny_rules[0].n_query, 1);
	assert_string_equal(e->deny_rules[0].query[0].key, "force");
	assert_string_equal(e->deny_rules[0].query[0].globs[0], "1");

	assert_int_equal(e->n_allowed_ips, 3);
	uint8_t v4[4];
	inet_pton(AF_INET, "10.1.0.0", v4); /* host bits cleared */
	assert_int_equal(e->allowed_ips[0].family, AF_INET);
	assert_memory_equal(e->allowed_ips[0].addr, v4, 4);
	assert_int_equal(e->allowed_ips[0].prefix, 16);
	uint8_t v6[16];
	inet_pton(AF_INET6, "fd00::", v6);
	assert_int_equal(e->allowed_ips[1].family, AF_INET6);
	assert_memory_equal(e->allowed_ips[1].addr, v6, 16);
	assert_int_equal(e->allowed_ips[1].prefix, 8);
	inet_pton(AF_INET, "192.0.2.7", v4);
	assert_memory_equal(e->allowed_ips[2].addr, v4, 4);
	assert_int_equal(e->allowed_ips[2].prefix, 32);

	/* hostless endpoint */
	e = &z->endpoints[1];
	assert_null(e->host);
	assert_int_equal(e->n_ports, 1);
	assert_int_equal(e->ports[0], 5432);
	assert_int_equal(e->protocol, GB_PROTO_NONE);
	assert_int_equal(e->tls, GB_TLS_AUTO);
	assert_int_equal(e->n_allowed_ips, 1);
	assert_int_equal(e->allowed_ips[0].prefix, 10);

	assert_int_equal(z->n_binaries, 2);
	assert_string_equal(z->binaries[0].path, "/usr/bin/curl");
	assert_int_equal(z->binaries[0].line, 39);
	assert_int_equal(z->binaries[0].column, 15);
	assert_string_equal(z->binaries[1].path, "/opt/tools/*/bin/**");

	/* alpha: preset, audit by default, L4 endpoint; binaries via alias */
	assert_int_equal(a->n_endpoints, 2);
	e = &a->endpoints[0];
	assert_string_equal(e->host, "*.example.org");
	assert_string_equal(e->access, "read-write");
	assert_int_equal(e->n_rules, 0); /* the compiler expands presets */
	assert_int_equal(e->enforcement, GB_MODE_AUDIT);
	assert_false(e->enforcement_given);
	e = &a->endpoints[1];
	assert_string_equal(e->host, "198.51.100.1");
	assert_int_equal(e->ports[0], 22);
	assert_int_equal(e->protocol, GB_PROTO_NONE);
	assert_int_equal(a->n_binaries, 2);
	assert_string_equal(a->binaries[1].path, "/opt/tools/*/bin/**");

	assert_int_equal(strlen(p->sha256), 64);
	gb_policy_free(p);
	gb_diags_free(&d);
}

static void test_defaults(void **state)
{
	(void)state;
	struct gb_diags d = { 0 };
	struct gb_policy *p = load_ok("version: 1\n", &d);
	assert_int_equal(d.n, 0);
	assert_int_equal(p->n_read_only + p->n_read_write + p->n_entries, 0);
	assert_false(p->include_workdir);
	assert_int_equal(p->landlock, GB_LL_BEST_EFFORT);
	assert_null(p->run_as_user);
	assert_null(p->run_as_group);
	gb_policy_free(p);
	/* null sections and tls spellings */
	p = load_ok("version: 1\nfilesystem_policy:\nprocess: ~\nnetwork_policies:\n", &d);
	assert_int_equal(d.errors, 0);
	gb_policy_free(p);
	gb_diags_free(&d);
}

/* ---------------- hash ---------------- */

static void hash_of(const char *y, char out[65])
{
	struct gb_diags d = { 0 };
	struct gb_policy *p = load_ok(y, &d);
	memcpy(out, p->sha256, 65);
	gb_policy_free(p);
	gb_diags_free(&d);
}

#define NET(hosts, port, extra)                                                              \
	"version: 1\nnetwork_policies:\n  a:\n    endpoints:\n      - {host: " hosts ", port: " port \
	extra "}\n    binaries: [{path: /usr/bin/curl}]\n"

static void test_hash(void **state)
{
	(void)state;
	char h1[65], h2[65], h3[65];
	hash_of(NET("api.example.com", "443", ""), h1);
	/* case, one trailing dot, formatting, comments, port vs ports: same */
	hash_of("# comment\nversion: 1\nnetwork_policies:\n  a:\n    binaries:\n      - path: "
	        "/usr/bin/curl\n    endpoints:\n      - ports: [443, 443]\n        host: API.example.com.\n",
	        h2);
	assert_string_equal(h1, h2);
	/* a different port, host, binary or mode changes it */
	hash_of(NET("api.example.com", "444", ""), h3);
	assert_string_not_equal(h1, h3);
	hash_of(NET("api2.example.com", "443", ""), h3);
	assert_string_not_equal(h1, h3);
	hash_of(NET("api.example.com", "443", ", protocol: rest, access: full"), h2);
	hash_of(NET("api.example.com", "443", ", protocol: rest, access: full, enforcement: audit"), h3);
	assert_string_equal(h2, h3); /* audit is the default: same effect, same hash */
	hash_of(NET("api.example.com", "443", ", protocol: rest, access: full, enforcement: enforce"), h3);
	assert_string_not_equal(h2, h3);
	/* static sections are not part of the network hash */
	hash_of("version: 1\nfilesystem_policy: {read_only: [/usr]}\nnetwork_policies: {}\n", h2);
	hash_of("version: 1\nnetwork_policies: {}\n", h3);
	assert_string_equal(h2, h3);

	/* the canonical text is valid JSON-ish and holds the normalised host */
	struct gb_diags d = { 0 };
	struct gb_policy *p = load_ok(NET("API.example.com.", "443", ""), &d);
	struct gb_buf b = GB_BUF_INIT;
	assert_int_equal(gb_policy_canonical_network(p, &b), 0);
	assert_non_null(strstr(gb_buf_cstr(&b), "\"host\":\"api.example.com\""));
	assert_non_null(strstr(gb_buf_cstr(&b), "\"ports\":[443]"));
	char h[65];
	assert_int_equal(gb_policy_hash_network(p, h), 0);
	assert_string_equal(h, p->sha256);
	gb_buf_free(&b);
	gb_policy_free(p);
	gb_diags_free(&d);
}

/* ---------------- static diff ---------------- */

static void test_static_diff(void **state)
{
	(void)state;
	struct gb_diags d = { 0 };
	struct gb_policy *a = load_ok("version: 1\nfilesystem_policy: {read_only: [/usr, /etc], "
	                              "read_write: [/tmp]}\nprocess: {run_as_user: sandbox}\n", &d);
	struct gb_policy *b = load_ok("version: 1\nfilesystem_policy: {read_only: [/etc, /usr, /usr], "
	                              "read_write: [/tmp]}\nnetwork_policies: {}\n", &d);
	assert_int_equal(gb_policy_static_diff(a, b, &d), 0); /* order, dups, default user */
	assert_int_equal(d.n, 0);
	struct gb_policy *c = load_ok("version: 1\nfilesystem_policy: {read_only: [/usr, /etc], "
	                              "read_write: [/tmp, /srv]}\nlandlock: {compatibility: "
	                              "hard_requirement}\nprocess: {run_as_group: \"1000\"}\n", &d);
	unsigned diff = gb_policy_static_diff(a, c, &d);
	assert_int_equal(diff, GB_STATIC_FILESYSTEM | GB_STATIC_LANDLOCK | GB_STATIC_PROCESS);
	assert_int_equal(d.errors, 3);
	assert_string_equal(d.v[0].field, "filesystem_policy.read_write");
	assert_string_equal(d.v[1].field, "landlock.compatibility");
	assert_string_equal(d.v[2].field, "process.run_as_group");
	assert_non_null(strstr(d.v[0].message, "cannot change at runtime"));
	gb_diags_free(&d);
	assert_int_equal(gb_policy_static_diff(c, c, NULL), 0);
	gb_policy_free(a);
	gb_policy_free(b);
	gb_policy_free(c);
}

/* ---------------- hostile input ---------------- */

static int load_any(const char *buf, size_t len, struct gb_diags *d)
{
	struct gb_policy *p = NULL;
	int rc = gb_policy_load_buf("h", buf, len, &p, d);
	gb_policy_free(p);
	return rc;
}

static bool has_msg(const struct gb_diags *d, const char *frag)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->v[i].message, frag))
			return true;
	return false;
}

static void test_random_bytes(void **state)
{
	(void)state;
	/* Bounded: 400 buffers from a fixed seed, half raw bytes, half
	 * YAML-ish tokens, so both the scanner and the schema walker see junk. */
	static const char *const tok[] = { "version: 1\n", "- ", ": ", "{", "}", "[", "]", ",", "&a ",
		                           "*a ", "\n  ", "network_policies:", "host: ", "\"", "'",
		                           "\xff", "\0", "port: 443", "!!str ", "? ", "---\n" };
	uint64_t s = 0x9e3779b97f4a7c15ull;
	char buf[512];
	for (int it = 0; it < 400; it++) {
		size_t len = 0;
		while (len < sizeof buf - 32) {
			s = s * 6364136223846793005ull + 1442695040888963407ull;
			uint32_t r = (uint32_t)(s >> 33);
			if (it % 2) {
				buf[len++] = (char)(r & 0xff);
			} else {
				const char *t = tok[r % (sizeof tok / sizeof tok[0])];
				size_t tl = t[0] ? strlen(t) : 1;
				memcpy(buf + len, t, tl);
				len += tl;
			}
			if ((r >> 8) % 97 == 0)
				break;
		}
		struct gb_diags d = { 0 };
		int rc = load_any(buf, len, &d);
		assert_true(rc == 0 || rc == -EINVAL);
		if (rc)
			assert_true(d.errors > 0 && d.n > 0);
		for (size_t i = 0; i < d.n; i++)
			assert_non_null(d.v[i].message);
		gb_diags_free(&d);
	}
}

static void test_invalid_utf8_and_nul(void **state)
{
	(void)state;
	struct gb_diags d = { 0 };
	const char bad[] = "version: 1\nprocess:\n  run_as_user: \xff\xfe\n";
	assert_int_equal(load_any(bad, sizeof bad - 1, &d), -EINVAL);
	assert_int_equal(d.v[0].line, 3);
	assert_non_null(strstr(d.v[0].message, "YAML syntax error"));
	gb_diags_free(&d);
	const char nul[] = "version: 1\n\0process: {}\n";
	assert_int_equal(load_any(nul, sizeof nul - 1, &d), -EINVAL);
	assert_int_equal(d.v[0].line, 2);
	gb_diags_free(&d);
}

static void test_deep_nesting(void **state)
{
	(void)state;
	size_t n = 100000;
	char *b = malloc(n + 1);
	assert_non_null(b);
	memset(b, '[', n);
	b[n] = 0;
	struct gb_diags d = { 0 };
	assert_int_equal(load_any(b, n, &d), -EINVAL);
	assert_true(has_msg(&d, "nesting deeper than 64 levels"));
	gb_diags_free(&d);
	/* block mappings, 200 levels */
	struct gb_buf y = GB_BUF_INIT;
	gb_buf_puts(&y, "version: 1\nnetwork_policies:\n");
	for (int i = 0; i < 200; i++)
		gb_buf_printf(&y, "%*sk%d:\n", 2 * (i + 1), "", i);
	assert_int_equal(load_any(y.data, y.len, &d), -EINVAL);
	assert_true(has_msg(&d, "nesting deeper than 64 levels"));
	gb_diags_free(&d);
	gb_buf_free(&y);
	free(b);
}

static void test_huge_scalars(void **state)
{
	(void)state;
	/* a 6 MiB host name: rejected with a message, not a crash */
	size_t n = 6u << 20;
	struct gb_buf y = GB_BUF_INIT;
	gb_buf_puts(&y, "version: 1\nnetwork_policies:\n  p:\n    endpoints:\n      - port: 443\n        host: ");
	assert_int_equal(gb_buf_reserve(&y, n + 200), 0);
	memset(y.data + y.len, 'a', n);
	y.len += n;
	gb_buf_puts(&y, "\n    binaries: [{path: /usr/bin/curl}]\n");
	struct gb_diags d = { 0 };
	assert_int_equal(load_any(y.data, y.len, &d), -EINVAL);
	assert_int_equal(d.errors, 1);
	assert_int_equal(d.v[0].line, 6);
	assert_int_equal(d.v[0].column, 15);
	assert_non_null(strstr(d.v[0].message, "1-253 characters"));
	gb_diags_free(&d);
	/* over the file size bound */
	assert_int_equal(gb_buf_reserve(&y, 3u << 20), 0);
	memset(y.data + y.len, '#', 3u << 20);
	y.len += 3u << 20;
	assert_int_equal(load_any(y.data, y.len, &d), -EINVAL);
	assert_true(has_msg(&d, "file too large"));
	gb_diags_free(&d);
	gb_buf_free(&y);
}

static void test_alias_bomb(void **state)
{
	(void)state;
	/* "billion laughs": 10^9 nodes if expanded; stops at the node bound
	 * without expanding (aliases share nodes). */
	const char *bomb = "version: 1\n"
	                   "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	                   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	                   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	                   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	                   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	                   "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	                   "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
	                   "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
	                   "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
	struct gb_diags d = { 0 };
	assert_int_equal(load_any(bomb, strlen(bomb), &d), -EINVAL);
	assert_true(has_msg(&d, "document too large"));
	gb_diags_free(&d);
	/* too many anchors */
	struct gb_buf y = GB_BUF_INIT;
	gb_buf_puts(&y, "version: 1\nx:\n");
	for (int i = 0; i < 1100; i++)
		gb_buf_printf(&y, "  - &a%d v\n", i);
	assert_int_equal(load_any(y.data, y.len, &d), -EINVAL);
	assert_true(has_msg(&d, "too many anchors"));
	gb_diags_free(&d);
	gb_buf_free(&y);
}

static void test_many_errors_bounded(void **state)
{
	(void)state;
	/* 5000 bad paths: the list is capped, the count is exact */
	struct gb_buf y = GB_BUF_INIT;
	gb_buf_puts(&y, "version: 1\nnetwork_policies:\n  p:\n    endpoints: [{host: a.example.com, port: 1}]\n"
	                "    binaries:\n");
	for (int i = 0; i < 5000; i++)
		gb_buf_printf(&y, "      - path: rel%d\n", i);
	struct gb_diags d = { 0 };
	assert_int_equal(load_any(y.data, y.len, &d), -EINVAL);
	assert_int_equal(d.errors, 5000);
	assert_int_equal(d.n, 501);
	assert_true(has_msg(&d, "4500 more problems not shown (the first 500 are listed)"));
	assert_string_equal(d.v[d.n - 1].file, "h");
	gb_diags_free(&d);
	gb_buf_free(&y);
}

static void test_many_unknown_keys(void **state)
{
	(void)state;
	/* 150 000 unknown keys in one endpoint: linear work, exact count */
	struct gb_buf y = GB_BUF_INIT;
	gb_buf_puts(&y, "version: 1\nnetwork_policies:\n  p:\n    binaries: [{path: /usr/bin/curl}]\n"
	                "    endpoints:\n      - host: a.example.com\n        port: 443\n");
	for (int i = 0; i < 150000; i++)
		gb_buf_printf(&y, "        hots%d: 1\n", i);
	struct gb_diags d = { 0 };
	assert_int_equal(load_any(y.data, y.len, &d), -EINVAL);
	assert_int_equal(d.errors, 150000);
	assert_non_null(d.v[0].hint); /* the first ones still get suggestions */
	gb_diags_free(&d);
	gb_buf_free(&y);
}

static void test_load_file(void **state)
{
	(void)state;
	char path[] = "/tmp/gb-policy-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, full, strlen(full)), (ssize_t)strlen(full));
	close(fd);
	struct gb_diags d = { 0 };
	struct gb_policy *p = NULL;
	assert_int_equal(gb_policy_load_file(path, &p, &d), 0);
	assert_int_equal(p->n_entries, 2);
	assert_string_equal(d.v[0].file, path);
	gb_policy_free(p);
	gb_diags_free(&d);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_round_trip),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_static_diff),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_invalid_utf8_and_nul),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_huge_scalars),
		cmocka_unit_test(test_alias_bomb),
		cmocka_unit_test(test_many_errors_bounded),
		cmocka_unit_test(test_many_unknown_keys),
		cmocka_unit_test(test_load_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
