/* tests/unit/test_schema.c — the generic pieces under the policy and config
 * loaders: the typed accessors (common/schema.h) on real YAML trees
 * (common/yaml.h), each asserting the verdict, the position, the field path
 * and the message; the field path bound; the bounded file reader; the diagnostics list (sorting, the
 * GB_DIAG_MAX cap with exact counts, suggestions); sizes and durations
 * (common/units.h); the arena; and the one IP-literal test
 * (common/ip_literal.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/arena.h"
#include "common/array.h"
#include "common/diag.h"
#include "common/ip_literal.h"
#include "common/schema.h"
#include "common/units.h"
#include "common/yaml.h"

struct fx {
	struct gb_ydoc doc;
	struct gb_diags d;
	struct gb_arena a;
	struct gb_schema s;
};

/* Parse y (must be valid YAML); the context copies strings into fx->a. */
static const struct gb_ynode *parse(struct fx *f, const char *y)
{
	memset(f, 0, sizeof *f);
	assert_int_equal(gb_yaml_parse("s.yaml", y, strlen(y), &f->doc, &f->d), 0);
	f->s = (struct gb_schema){ .file = "s.yaml", .d = &f->d, .a = &f->a };
	return f->doc.root;
}

static void done(struct fx *f)
{
	gb_yaml_free(&f->doc);
	gb_arena_free(&f->a);
	gb_diags_free(&f->d);
}

/* The single diagnostic of the fixture is at line:col under field and its
 * message contains frag. */
static void one(const struct fx *f, int line, int col, const char *field, const char *frag)
{
	if (f->d.n != 1 || f->d.v[0].line != line || f->d.v[0].column != col ||
	    strcmp(f->d.v[0].field, field) || !strstr(f->d.v[0].message, frag)) {
		gb_diags_print(&f->d, stderr);
		fail_msg("want one diag %d:%d %s: %s", line, col, field, frag);
	}
	assert_string_equal(f->d.v[0].file, "s.yaml");
}

static void test_str(void **state)
{
	(void)state;
	struct fx f;
	const struct gb_ynode *r = parse(&f, "a: hello\nb: [1]\nc: ~\nd: \"x\\0y\"\n");
	size_t m = gb_schema_field(&f.s, "a");
	const char *s = gb_schema_str(&f.s, gb_ymap_get(r, "a"), "a word");
	assert_string_equal(s, "hello");
	assert_ptr_not_equal(s, gb_ymap_get(r, "a")->str); /* copied into the arena */
	gb_schema_pop(&f.s, m);
	assert_int_equal(f.d.n, 0);
	m = gb_schema_field(&f.s, "b");
	assert_null(gb_schema_str(&f.s, gb_ymap_get(r, "b"), "a word"));
	gb_schema_pop(&f.s, m);
	one(&f, 2, 4, "b", "expected a word, got a list");
	gb_diags_free(&f.d);
	m = gb_schema_field(&f.s, "c");
	assert_null(gb_schema_str(&f.s, gb_ymap_get(r, "c"), "a word"));
	gb_schema_pop(&f.s, m);
	one(&f, 3, 4, "c", "got nothing (null)");
	gb_diags_free(&f.d);
	/* an embedded NUL would truncate the value a C consumer sees */
	m = gb_schema_field(&f.s, "d");
	assert_null(gb_schema_str(&f.s, gb_ymap_get(r, "d"), "a word"));
	gb_schema_pop(&f.s, m);
	one(&f, 4, 4, "d", "NUL byte");
	gb_diags_free(&f.d);
	/* without an arena the node's own string is returned */
	f.s.a = NULL;
	assert_ptr_equal(gb_schema_str(&f.s, gb_ymap_get(r, "a"), "a word"), gb_ymap_get(r, "a")->str);
	/* strbuf: fits exactly, or is an error that leaves the buffer alone */
	char buf[6] = "keep";
	assert_true(gb_schema_strbuf(&f.s, gb_ymap_get(r, "a"), "a word", buf, sizeof buf));
	assert_string_equal(buf, "hello");
	char small[5] = "keep";
	assert_false(gb_schema_strbuf(&f.s, gb_ymap_get(r, "a"), "a word", small, sizeof small));
	assert_string_equal(small, "keep");
	one(&f, 1, 4, "", "of at most 4 bytes, got 5");
	done(&f);
}

static void test_bool(void **state)
{
	(void)state;
	struct fx f;
	const struct gb_ynode *r = parse(&f, "[true, False, TRUE, \"true\", yes, ~, {}]\n");
	bool b = false;
	assert_true(gb_schema_bool(&f.s, r->vals[0], &b) && b);
	assert_true(gb_schema_bool(&f.s, r->vals[1], &b) && !b);
	assert_true(gb_schema_bool(&f.s, r->vals[2], &b) && b);
	assert_int_equal(f.d.n, 0);
	/* a quoted "true" is a string, and YAML 1.1's yes is not a boolean here */
	for (size_t i = 3; i < r->n; i++) {
		b = true;
		assert_false(gb_schema_bool(&f.s, r->vals[i], &b));
		assert_true(b);
	}
	assert_int_equal(f.d.errors, 4);
	assert_non_null(strstr(f.d.v[0].message, "expected true or false, got 'true'"));
	assert_non_null(strstr(f.d.v[2].message, "got nothing (null)"));
	assert_non_null(strstr(f.d.v[3].message, "got a mapping"));
	done(&f);
}

static void test_int(void **state)
{
	(void)state;
	struct fx f;
	const struct gb_ynode *r =
	    parse(&f, "[443, -7, +9, \"80\", 0x10, 1e3, 65536, 9999999999999999999, 99999999999999999999, \"\", -]\n");
	long long v = 0;
	assert_true(gb_schema_int(&f.s, r->vals[0], 1, 65535, "a port", &v) && v == 443);
	assert_true(gb_schema_int(&f.s, r->vals[1], -10, 10, "n", &v) && v == -7);
	assert_true(gb_schema_int(&f.s, r->vals[2], -10, 10, "n", &v) && v == 9);
	assert_int_equal(f.d.n, 0);
	/* strict dialect (the policy): a quoted number is a string */
	assert_false(gb_schema_int(&f.s, r->vals[3], 1, 65535, "a port", &v));
	one(&f, 1, 15, "", "expected a port, got the string '80'");
	gb_diags_free(&f.d);
	/* the config's dialect takes it */
	f.s.quoted_numbers = true;
	assert_true(gb_schema_int(&f.s, r->vals[3], 1, 65535, "a port", &v) && v == 80);
	f.s.quoted_numbers = false;
	/* hex, floats, out of range, saturating and overlong numbers, a lone sign */
	v = 1234;
	for (size_t i = 4; i < r->n; i++)
		assert_false(gb_schema_int(&f.s, r->vals[i], 1, 65535, "a port", &v));
	assert_int_equal(v, 1234);
	assert_int_equal(f.d.errors, 7);
	assert_non_null(strstr(f.d.v[2].message, "got 65536 (out of range 1..65535)"));
	assert_non_null(strstr(f.d.v[3].message, "out of range")); /* saturated, still refused */
	assert_non_null(strstr(f.d.v[4].message, "got '99999999999999999999'"));
	done(&f);
}

static void test_enum(void **state)
{
	(void)state;
	static const char *const vals[] = { "best_effort", "hard_requirement" };
	struct fx f;
	const struct gb_ynode *r = parse(&f, "x: hard_requirement\ny: best_efort\nz: [a]\n");
	size_t m = gb_schema_field(&f.s, "x");
	assert_int_equal(gb_schema_enum(&f.s, gb_ymap_get(r, "x"), vals, 2), 1);
	gb_schema_pop(&f.s, m);
	m = gb_schema_field(&f.s, "y");
	assert_int_equal(gb_schema_enum(&f.s, gb_ymap_get(r, "y"), vals, 2), -1);
	gb_schema_pop(&f.s, m);
	one(&f, 2, 4, "y", "unknown value 'best_efort' (expected one of: best_effort, hard_requirement)");
	assert_string_equal(f.d.v[0].hint, "did you mean 'best_effort'?");
	gb_diags_free(&f.d);
	assert_int_equal(gb_schema_enum(&f.s, gb_ymap_get(r, "z"), vals, 2), -1);
	one(&f, 3, 4, "", "got a list");
	done(&f);
}

static void test_units(void **state)
{
	(void)state;
	uint64_t v = 0;
	assert_int_equal(gb_parse_size("64MiB", &v), 0);
	assert_int_equal(v, 64u << 20);
	assert_int_equal(gb_parse_size("10 GB", &v), 0);
	assert_int_equal(v, 10000000000ull);
	assert_int_equal(gb_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(gb_parse_duration_ms("30d", &v), 0);
	assert_int_equal(v, 30ull * 86400000);
	/* a sign, leading space (" -5" would wrap to a huge number), a fraction,
	 * an unknown unit, overflow of the number or of the product */
	static const char *const bad[] = { "-5", " -5", " 5", "+5", "1.5GiB", "5 parsecs", "", "MiB",
		                           "99999999999999999999", "17000000TiB" };
	v = 7;
	for (size_t i = 0; i < GB_ARRAY_LEN(bad); i++)
		assert_int_equal(gb_parse_size(bad[i], &v), -EINVAL);
	assert_int_equal(gb_parse_duration_ms("-1s", &v), -EINVAL);
	assert_int_equal(gb_parse_duration_ms("1y", &v), -EINVAL);
	assert_int_equal(gb_parse_duration_ms(NULL, &v), -EINVAL);
	assert_int_equal(v, 7);
	/* the accessors: value, unit error with a hint, minimum */
	struct fx f;
	const struct gb_ynode *r = parse(&f, "[1MiB, lots, 100, 2m, soon, 5ms]\n");
	assert_true(gb_schema_size(&f.s, r->vals[0], 4096, &v) && v == 1u << 20);
	assert_false(gb_schema_size(&f.s, r->vals[1], 4096, &v));
	one(&f, 1, 8, "", "'lots' is not a size");
	assert_non_null(strstr(f.d.v[0].hint, "KiB"));
	gb_diags_free(&f.d);
	assert_false(gb_schema_size(&f.s, r->vals[2], 4096, &v));
	one(&f, 1, 14, "", "must be at least 4096 bytes");
	gb_diags_free(&f.d);
	assert_true(gb_schema_duration_ms(&f.s, r->vals[3], 1000, &v) && v == 120000);
	assert_false(gb_schema_duration_ms(&f.s, r->vals[4], 1000, &v));
	one(&f, 1, 23, "", "'soon' is not a duration");
	gb_diags_free(&f.d);
	assert_false(gb_schema_duration_ms(&f.s, r->vals[5], 1000, &v));
	one(&f, 1, 29, "", "must be at least 1000ms");
	done(&f);
}

static void test_shapes_and_keys(void **state)
{
	(void)state;
	static const char *const keys[] = { "host", "port", "ports" };
	struct fx f;
	const struct gb_ynode *r = parse(&f, "ep:\n  hots: a\n  port: 1\n  xyzzy: 2\nl: ~\ns: 5\n");
	const struct gb_ynode *ep = gb_ymap_get(r, "ep");
	assert_true(gb_schema_map(&f.s, ep, "an endpoint"));
	size_t m = gb_schema_field(&f.s, "ep");
	gb_schema_check_keys(&f.s, ep, keys, GB_ARRAY_LEN(keys));
	gb_schema_missing(&f.s, ep, "host", "a host name");
	gb_schema_pop(&f.s, m);
	assert_int_equal(f.s.plen, 0); /* every push popped */
	assert_int_equal(f.d.errors, 3);
	assert_int_equal(f.d.v[0].line, 2);
	assert_int_equal(f.d.v[0].column, 3);
	assert_string_equal(f.d.v[0].field, "ep.hots");
	assert_string_equal(f.d.v[0].message, "unknown key 'hots'");
	assert_string_equal(f.d.v[0].hint, "did you mean 'host'?");
	assert_string_equal(f.d.v[1].field, "ep.xyzzy");
	assert_null(f.d.v[1].hint); /* nothing close: no suggestion */
	assert_string_equal(f.d.v[2].field, "ep.host");
	assert_non_null(strstr(f.d.v[2].message, "missing required key 'host' (a host name)"));
	assert_int_equal(f.d.v[2].line, 2); /* at the map */
	gb_diags_free(&f.d);
	/* the terse dialect leaves the key to the path */
	f.s.unknown_key_terse = true;
	gb_schema_check_keys(&f.s, ep, keys, GB_ARRAY_LEN(keys));
	assert_string_equal(f.d.v[0].message, "unknown key");
	assert_string_equal(f.d.v[0].field, "hots");
	gb_diags_free(&f.d);
	/* a null list is empty, not an error; a scalar is an error */
	assert_false(gb_schema_seq(&f.s, gb_ymap_get(r, "l"), "a list"));
	assert_int_equal(f.d.n, 0);
	assert_false(gb_schema_seq(&f.s, gb_ymap_get(r, "s"), "a list of ports"));
	one(&f, 6, 4, "", "expected a list of ports, got a scalar");
	gb_diags_free(&f.d);
	assert_false(gb_schema_map(&f.s, gb_ymap_get(r, "l"), "a mapping"));
	one(&f, 5, 4, "", "expected a mapping, got nothing (null)");
	/* the key node (where a diagnostic about the key belongs) */
	assert_int_equal(gb_ymap_key(ep, "port")->line, 3);
	assert_null(gb_ymap_key(ep, "nope"));
	assert_null(gb_ymap_key(gb_ymap_get(r, "s"), "port"));
	done(&f);
}

/* A hostile nesting of field names cannot overflow the path. */
static void test_path_bound(void **state)
{
	(void)state;
	struct gb_schema s = { 0 };
	char key[300];
	memset(key, 'k', sizeof key - 1);
	key[sizeof key - 1] = 0;
	size_t marks[20];
	for (int i = 0; i < 20; i++) {
		marks[i] = gb_schema_field(&s, key);
		assert_true(s.plen < sizeof s.path);
		assert_int_equal(strlen(s.path), s.plen);
	}
	assert_int_equal(s.plen, sizeof s.path - 1);
	for (int i = 19; i >= 0; i--)
		gb_schema_pop(&s, marks[i]);
	assert_int_equal(s.plen, 0);
	assert_string_equal(s.path, "");
	/* a key node is cut at 200 bytes */
	struct gb_ynode k = { .kind = GB_Y_SCALAR, .str = key, .len = strlen(key) };
	gb_schema_push(&s, "[%d]", 3);
	gb_schema_field_node(&s, &k);
	assert_int_equal(s.plen, 3 + 1 + 200);
}

static void test_yaml_tree(void **state)
{
	(void)state;
	struct gb_ydoc doc;
	struct gb_diags d = { 0 };
	/* two documents, a non-scalar key, an undefined alias, a duplicate key */
	static const char *const bad[] = { "a: 1\n---\nb: 2\n", "? [a]\n: 1\n", "a: *nope\n",
		                           "a: 1\nb: 2\na: 3\n" };
	static const char *const why[] = { "only one YAML document", "mapping keys must be plain",
		                           "undefined alias '*nope'", "duplicate key 'a' (first defined at line 1)" };
	static const int line[] = { 2, 1, 1, 3 };
	/* a duplicate key leaves a complete tree: reported, but not fatal */
	static const int rc[] = { -EINVAL, -EINVAL, -EINVAL, 0 };
	for (size_t i = 0; i < GB_ARRAY_LEN(bad); i++) {
		assert_int_equal(gb_yaml_parse("t", bad[i], strlen(bad[i]), &doc, &d), rc[i]);
		assert_true(d.errors >= 1);
		assert_non_null(strstr(d.v[0].message, why[i]));
		assert_int_equal(d.v[0].line, line[i]);
		gb_yaml_free(&doc);
		gb_diags_free(&d);
	}
	/* aliases share the anchored node; null spellings */
	static const char ok[] = "x: &x {k: v}\ny: *x\nn1: ~\nn2: null\nn3:\nq: \"null\"\n";
	assert_int_equal(gb_yaml_parse("t", ok, strlen(ok), &doc, &d), 0);
	assert_ptr_equal(gb_ymap_get(doc.root, "x"), gb_ymap_get(doc.root, "y"));
	assert_true(gb_ynode_is_null(gb_ymap_get(doc.root, "n1")));
	assert_true(gb_ynode_is_null(gb_ymap_get(doc.root, "n2")));
	assert_true(gb_ynode_is_null(gb_ymap_get(doc.root, "n3")));
	assert_false(gb_ynode_is_null(gb_ymap_get(doc.root, "q")));
	assert_true(gb_ynode_is_null(gb_ymap_get(doc.root, "absent")));
	gb_yaml_free(&doc);
	assert_int_equal(gb_yaml_parse("t", "", 0, &doc, &d), 0);
	assert_null(doc.root);
	gb_yaml_free(&doc);
	assert_int_equal(d.n, 0);
}

/* The reader under both loaders: bounded, regular files only, never blocks. */
static void test_read_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/gb-test-schema.XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/f.yaml", dir);
	struct gb_diags d = { 0 };
	char *buf = NULL;
	size_t len = 0;
	assert_int_equal(gb_yaml_read_file(path, 100, "test", true, &buf, &len, &d), -ENOENT);
	assert_int_equal(d.n, 0); /* missing_ok: no diagnostic */
	assert_int_equal(gb_yaml_read_file(path, 100, "test", false, &buf, &len, &d), -ENOENT);
	assert_non_null(strstr(d.v[0].message, "cannot open"));
	assert_string_equal(d.v[0].file, path);
	gb_diags_free(&d);
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	fputs("a: 1\n", f);
	fclose(f);
	assert_int_equal(gb_yaml_read_file(path, 5, "test", false, &buf, &len, &d), 0);
	assert_int_equal(len, 5);
	assert_string_equal(buf, "a: 1\n"); /* NUL-terminated */
	free(buf);
	assert_int_equal(gb_yaml_read_file(path, 4, "test", false, &buf, &len, &d), -EINVAL);
	assert_non_null(strstr(d.v[0].message, "file too large: 5 bytes (a test may be at most 4 bytes)"));
	gb_diags_free(&d);
	assert_int_equal(gb_yaml_read_file(dir, 100, "test", false, &buf, &len, &d), -EINVAL);
	assert_non_null(strstr(d.v[0].message, "not a regular file"));
	gb_diags_free(&d);
	/* a FIFO without a writer: a blocking open would hang here */
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(gb_yaml_read_file(path, 100, "test", false, &buf, &len, &d), -EINVAL);
	assert_non_null(strstr(d.v[0].message, "not a regular file"));
	gb_diags_free(&d);
	/* /dev/zero never ends: refused before the first read */
	assert_int_equal(gb_yaml_read_file("/dev/zero", 100, "test", false, &buf, &len, &d), -EINVAL);
	gb_diags_free(&d);
	unlink(path);
	rmdir(dir);
}

static void test_diags(void **state)
{
	(void)state;
	struct gb_diags d = { 0 };
	/* more problems than are kept: the counts stay exact, one line says so */
	for (int i = GB_DIAG_MAX + 9; i > 0; i--)
		gb_diag_add(&d, i % 2 ? GB_DIAG_ERROR : GB_DIAG_WARNING, "f", i, 1, "x", NULL, "p%d", i);
	assert_int_equal(d.n, GB_DIAG_MAX);
	assert_int_equal(d.errors + d.warnings, GB_DIAG_MAX + 9);
	gb_diags_finish(&d, 0, 0, "f");
	assert_int_equal(d.n, GB_DIAG_MAX + 1);
	for (size_t i = 1; i < GB_DIAG_MAX; i++)
		assert_true(d.v[i - 1].line < d.v[i].line); /* sorted by position */
	assert_non_null(strstr(d.v[GB_DIAG_MAX].message, "9 more problems not shown"));
	gb_diags_free(&d);
	assert_int_equal(d.n + d.errors + d.cap, 0);
	/* strings are copied: the caller's temporaries may die */
	char tmp[16] = "field";
	gb_diag_add(&d, GB_DIAG_ERROR, "f", 1, 2, tmp, "hint", "m");
	tmp[0] = 'X';
	assert_string_equal(d.v[0].field, "field");
	gb_diag_add(NULL, GB_DIAG_ERROR, "f", 1, 2, NULL, NULL, "ignored"); /* no list: no crash */
	gb_diags_free(&d);
	/* suggestions: a transposition is one edit; far words get none */
	static const char *const v[] = { "host", "port", "read_only", "read_write" };
	assert_string_equal(gb_suggest("hots", v, 4), "host");
	assert_string_equal(gb_suggest("READ_ONYL", v, 4), "read_only");
	assert_null(gb_suggest("zzzz", v, 4));
	char longw[100];
	memset(longw, 'a', sizeof longw - 1);
	longw[sizeof longw - 1] = 0;
	assert_null(gb_suggest(longw, v, 4)); /* bounded work on a long word */
}

static void test_arena(void **state)
{
	(void)state;
	struct gb_arena a = { 0 };
	for (int i = 0; i < 1000; i++) {
		unsigned char *p = gb_arena_alloc(&a, (size_t)i * 7 + 1);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
		for (int k = 0; k < i * 7 + 1; k++)
			assert_int_equal(p[k], 0);
		memset(p, 0xab, (size_t)i * 7 + 1);
	}
	assert_non_null(gb_arena_alloc(&a, 1u << 20)); /* a block of its own */
	char *s = gb_arena_strndup(&a, "a\0b", 3);
	assert_memory_equal(s, "a\0b\0", 4);
	assert_null(gb_arena_strdup(&a, NULL));
	/* an impossible size fails, and the failure is sticky */
	assert_null(gb_arena_alloc(&a, SIZE_MAX - 8));
	assert_int_equal(a.err, -ENOMEM);
	assert_null(gb_arena_alloc(&a, 1));
	gb_arena_free(&a);
	assert_int_equal(a.err, 0);
	assert_non_null(gb_arena_alloc(&a, 1)); /* reusable after free */
	gb_arena_free(&a);
}

static void test_ip_literal(void **state)
{
	(void)state;
	int v = 0;
	assert_true(gb_ip_literal("198.18.0.1", &v) && v == 4);
	assert_true(gb_ip_literal("::1", &v) && v == 6);
	assert_true(gb_ip_literal("::ffff:10.0.0.1", &v) && v == 6);
	assert_true(gb_ip_literal("2001:db8::1", NULL));
	static const char *const no[] = { "", "[::1]", "1.2.3", "1.2.3.4.5", "01.2.3.4", "example.com",
		                          "fe80::1%eth0", "1.2.3.4 ", "256.1.1.1", "::1/128" };
	for (size_t i = 0; i < GB_ARRAY_LEN(no); i++) {
		v = 0;
		assert_false(gb_ip_literal(no[i], &v));
		assert_int_equal(v, 0);
	}
	assert_false(gb_ip_literal(NULL, &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_str),        cmocka_unit_test(test_bool),
		cmocka_unit_test(test_int),        cmocka_unit_test(test_enum),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_shapes_and_keys), cmocka_unit_test(test_path_bound),
		cmocka_unit_test(test_yaml_tree),  cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_diags),
		cmocka_unit_test(test_arena),      cmocka_unit_test(test_ip_literal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
