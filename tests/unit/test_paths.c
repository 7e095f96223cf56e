/* tests/unit/test_paths.c — common/paths.h: normalisation (repeated and
 * trailing slashes, "." components), the root prefix (NULL, "", "/" and
 * spellings of one root give byte-identical paths), the layout of every
 * builder, names that try to leave the sandboxes directory, results that
 * do not fit, and gb_path_same through a symlink.  The property that
 * matters: whatever spelling of the root `run` and `serve` get, they build
 * the same serve.lock and ring paths (integration.serve_runtime_dir shows
 * the programs meeting). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/array.h"
#include "common/paths.h"

static void norm_is(const char *in, const char *want)
{
	char out[GB_PATH_MAX];
	assert_int_equal(gb_path_norm(out, sizeof out, in), 0);
	assert_string_equal(out, want);
	/* in place, as the header allows */
	char same[GB_PATH_MAX];
	snprintf(same, sizeof same, "%s", in);
	assert_int_equal(gb_path_norm(same, sizeof same, same), 0);
	assert_string_equal(same, want);
}

static void t_norm(void **state)
{
	(void)state;
	norm_is("", "");
	norm_is("/", "/");
	norm_is("//", "/");
	norm_is("///a", "/a");
	norm_is("/a/", "/a");
	norm_is("/a//b///c//", "/a/b/c");
	norm_is("/a/./b/.", "/a/b");
	norm_is("./a", "a");
	norm_is(".", ".");
	norm_is("./", ".");
	norm_is("a/b/", "a/b");
	norm_is("/a/../b", "/a/../b"); /* ".." needs the filesystem: kept */
	norm_is("/.hidden/x.", "/.hidden/x.");
}

static void t_norm_too_long(void **state)
{
	(void)state;
	char out[8];
	assert_int_equal(gb_path_norm(out, sizeof out, "/abcdefgh"), -ENAMETOOLONG);
	assert_string_equal(out, "");
	assert_int_equal(gb_path_norm(out, sizeof out, "/abcdef"), 0); /* 7 + NUL fits */
	assert_string_equal(out, "/abcdef");
	/* collapsing makes it fit: the limit is on the result */
	assert_int_equal(gb_path_norm(out, sizeof out, "//a//b//c//"), 0);
	assert_string_equal(out, "/a/b/c");
	assert_int_equal(gb_path_norm(out, 0, "/"), -ENAMETOOLONG);
}

/* Every spelling of the real root, and of one temporary root, gives the
 * same bytes for every path both programs use. */
static void t_root_spellings(void **state)
{
	(void)state;
	static const char *const real[] = { NULL, "", "/", "//", "/./" };
	static const char *const tmp[] = { "/tmp/r", "/tmp/r/", "/tmp//r", "//tmp/r//", "/tmp/./r/." };
	char a[GB_PATH_MAX], b[GB_PATH_MAX];
	for (size_t i = 0; i < GB_ARRAY_LEN(real); i++) {
		assert_int_equal(gb_path_serve_lock(a, sizeof a, real[i]), 0);
		assert_string_equal(a, "/run/glassbox/serve.lock");
		assert_int_equal(gb_path_ring(a, sizeof a, real[i], "s1"), 0);
		assert_string_equal(a, "/run/glassbox/sandboxes/s1/events.ring");
		assert_int_equal(gb_path_journal(a, sizeof a, real[i]), 0);
		assert_string_equal(a, "/var/lib/glassbox/journal");
	}
	for (size_t i = 0; i < GB_ARRAY_LEN(tmp); i++) {
		assert_int_equal(gb_path_serve_lock(a, sizeof a, tmp[i]), 0);
		assert_string_equal(a, "/tmp/r/run/glassbox/serve.lock");
		assert_int_equal(gb_path_sandboxes(a, sizeof a, tmp[i]), 0);
		assert_string_equal(a, "/tmp/r/run/glassbox/sandboxes");
		assert_int_equal(gb_path_sandbox(b, sizeof b, tmp[i], "s1"), 0);
		assert_string_equal(b, "/tmp/r/run/glassbox/sandboxes/s1");
	}
	/* a relative root stays relative (resolved against the cwd by open) */
	assert_int_equal(gb_path_runtime(a, sizeof a, "rel/"), 0);
	assert_string_equal(a, "rel/run/glassbox");
}

/* The whole layout of paths.h, and that derived paths nest as the
 * supervisor and the daemon assume (the ring is in the sandbox dir, the
 * sandbox dir in the sandboxes dir, serve.lock beside them). */
static void t_layout(void **state)
{
	(void)state;
	const char *r = "/x/";
	char p[GB_PATH_MAX];
	struct { int (*f)(char *, size_t, const char *); const char *want; } rooted[] = {
		{ gb_path_runtime, "/x/run/glassbox" },
		{ gb_path_sandboxes, "/x/run/glassbox/sandboxes" },
		{ gb_path_serve_lock, "/x/run/glassbox/serve.lock" },
		{ gb_path_metrics, "/x/run/glassbox/metrics.json" },
		{ gb_path_api_sock, "/x/run/glassbox/api.sock" },
		{ gb_path_journal, "/x/var/lib/glassbox/journal" },
		{ gb_path_cursors, "/x/var/lib/glassbox/cursors" },
		{ gb_path_ca, "/x/var/lib/glassbox/ca" },
		{ gb_path_advisor_db, "/x/var/lib/glassbox/advisor.db" },
		{ gb_path_keys, "/x/var/lib/glassbox/keys" },
		{ gb_path_config, "/x/etc/glassbox/glassbox.yaml" },
		{ gb_path_credentials, "/x/etc/glassbox/credentials" },
	};
	for (size_t i = 0; i < GB_ARRAY_LEN(rooted); i++) {
		assert_int_equal(rooted[i].f(p, sizeof p, r), 0);
		assert_string_equal(p, rooted[i].want);
	}
	assert_int_equal(gb_path_ring(p, sizeof p, r, "a.b-c_d"), 0);
	assert_string_equal(p, "/x/run/glassbox/sandboxes/a.b-c_d/events.ring");
	assert_int_equal(gb_path_control_sock(p, sizeof p, r, "n"), 0);
	assert_string_equal(p, "/x/run/glassbox/sandboxes/n/control.sock");
	assert_int_equal(gb_path_cursor(p, sizeof p, "/var/c//", "siem"), 0);
	assert_string_equal(p, "/var/c/siem");
	assert_int_equal(gb_path_join(p, sizeof p, "/a/", "/b//c/"), 0);
	assert_string_equal(p, "/a/b/c");
}

/* A name is one component: nothing can point a builder outside
 * sandboxes/ (or a cursor outside its directory). */
static void t_names_stay_inside(void **state)
{
	(void)state;
	static const char *const bad[] = { "", ".", "..", "../x", "a/b", "/etc", "x/", NULL };
	char p[GB_PATH_MAX];
	for (size_t i = 0; i < GB_ARRAY_LEN(bad); i++) {
		strcpy(p, "junk");
		assert_int_equal(gb_path_sandbox(p, sizeof p, "/r", bad[i]), -EINVAL);
		assert_string_equal(p, "");
		assert_int_equal(gb_path_ring(p, sizeof p, "/r", bad[i]), -EINVAL);
		assert_int_equal(gb_path_control_sock(p, sizeof p, "/r", bad[i]), -EINVAL);
		assert_int_equal(gb_path_cursor(p, sizeof p, "/c", bad[i]), -EINVAL);
	}
	/* dots inside a name are fine: only the two special names are refused */
	assert_int_equal(gb_path_sandbox(p, sizeof p, "/r", "..a"), 0);
	assert_string_equal(p, "/r/run/glassbox/sandboxes/..a");
}

static void t_too_long(void **state)
{
	(void)state;
	char root[GB_PATH_MAX];
	memset(root, 'a', sizeof root - 1);
	root[0] = '/';
	root[sizeof root - 1] = 0;
	char p[GB_PATH_MAX];
	assert_int_equal(gb_path_serve_lock(p, sizeof p, root), -ENAMETOOLONG);
	assert_string_equal(p, "");
	assert_int_equal(gb_path_ring(p, sizeof p, root, "s"), -ENAMETOOLONG);
	/* a small buffer too */
	char small[16];
	assert_int_equal(gb_path_ring(small, sizeof small, "/", "s"), -ENAMETOOLONG);
	assert_int_equal(gb_path_runtime(small, sizeof small, NULL), 0);
	assert_string_equal(small, "/run/glassbox");
}

/* The one name rule every program applies (supervisor, daemon, API, CLI):
 * nothing that could leave sandboxes/, pass as an option, or differ
 * between two programs' spellings. */
static void t_sandbox_names(void **state)
{
	(void)state;
	char n63[64], n64[65];
	memset(n63, 'a', 63);
	n63[63] = 0;
	memset(n64, 'a', 64);
	n64[64] = 0;
	assert_true(gb_sandbox_name_valid("a.b_c-1"));
	assert_true(gb_sandbox_name_valid("A9"));
	assert_true(gb_sandbox_name_valid(n63));
	assert_false(gb_sandbox_name_valid(n64));
	assert_false(gb_sandbox_name_valid(NULL));
	assert_false(gb_sandbox_name_valid(""));
	assert_false(gb_sandbox_name_valid("."));
	assert_false(gb_sandbox_name_valid(".."));
	assert_false(gb_sandbox_name_valid(".hidden"));
	assert_false(gb_sandbox_name_valid("a/b"));
	assert_false(gb_sandbox_name_valid("-x"));
	assert_false(gb_sandbox_name_valid("a b"));
	assert_false(gb_sandbox_name_valid("a\nb"));
	assert_false(gb_sandbox_name_valid("caf\xc3\xa9"));
}

static void t_same(void **state)
{
	(void)state;
	char dir[] = "/tmp/gb-paths-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char real[300], link[300], slashed[300];
	snprintf(real, sizeof real, "%s/real", dir);
	snprintf(link, sizeof link, "%s/link", dir);
	snprintf(slashed, sizeof slashed, "%s//real/", dir);
	assert_int_equal(gb_path_same(real, slashed), 1); /* spelling only: need not exist */
	assert_int_equal(mkdir(real, 0700), 0);
	assert_int_equal(symlink("real", link), 0);
	assert_int_equal(gb_path_same(real, link), 1);   /* same inode */
	assert_int_equal(gb_path_same(link, slashed), 1);
	assert_int_equal(gb_path_same(real, dir), 0);
	assert_int_equal(gb_path_same(real, "/nonexistent/real"), 0);
	unlink(link);
	rmdir(real);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_norm),
		cmocka_unit_test(t_norm_too_long),
		cmocka_unit_test(t_root_spellings),
		cmocka_unit_test(t_layout),
		cmocka_unit_test(t_names_stay_inside),
		cmocka_unit_test(t_too_long),
		cmocka_unit_test(t_same),
		cmocka_unit_test(t_sandbox_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
