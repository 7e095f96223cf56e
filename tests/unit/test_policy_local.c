/* tests/unit/test_policy_local.c — the supervisor's reading of the agent's
 * policy.local (enforcer/sandbox/policy_local.h), attacked: a symlinked
 * file or directory, a FIFO, a hard link, a file over the bound are
 * refused without being read; the entries are validated all or nothing,
 * renamed agent_*, static sections and too many entries refused. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "enforcer/sandbox/policy_local.h"
#include "tmpdir.h"

static char dir[64], buf[GB_POLICY_LOCAL_MAX + 2], err[512];

static void put(const char *rel, const char *text)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int rd(void)
{
	int wd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(wd >= 0);
	size_t len = 0;
	err[0] = 0;
	int rc = gb_policy_local_read(wd, buf, sizeof buf, &len, err, sizeof err);
	close(wd);
	return rc;
}

static void reading(void **state)
{
	(void)state;
	char p[256], q[256];
	assert_int_equal(gb_tmpdir_make(dir, sizeof dir, "plocal"), 0);
	assert_int_equal(rd(), -ENOENT);
	snprintf(p, sizeof p, "%s/.glassbox", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(rd(), -ENOENT);
	put("secret", "version: 1\nnetwork_policies: {}\n");
	/* the file as a symlink: never followed */
	snprintf(p, sizeof p, "%s/.glassbox/policy.local.yaml", dir);
	snprintf(q, sizeof q, "%s/secret", dir);
	assert_int_equal(symlink(q, p), 0);
	assert_int_equal(rd(), -ELOOP);
	assert_non_null(strstr(err, "symlink"));
	unlink(p);
	/* a hard link to another file */
	assert_int_equal(link(q, p), 0);
	assert_int_equal(rd(), -EMLINK);
	unlink(p);
	/* a FIFO: refused at once, no read that could block */
	assert_int_equal(mkfifo(p, 0644), 0);
	assert_int_equal(rd(), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	unlink(p);
	/* too big */
	char *big = malloc(GB_POLICY_LOCAL_MAX + 10);
	assert_non_null(big);
	memset(big, '#', GB_POLICY_LOCAL_MAX + 9);
	big[GB_POLICY_LOCAL_MAX + 9] = 0;
	put(".glassbox/policy.local.yaml", big);
	free(big);
	assert_int_equal(rd(), -EFBIG);
	/* fine */
	put(".glassbox/policy.local.yaml", "version: 1\n");
	assert_int_equal(rd(), 0);
	assert_string_equal(buf, "version: 1\n");
	unlink(p);
	/* the directory as a symlink */
	snprintf(p, sizeof p, "%s/.glassbox", dir);
	assert_int_equal(rmdir(p), 0);
	snprintf(q, sizeof q, "%s/elsewhere", dir);
	assert_int_equal(mkdir(q, 0755), 0);
	put("elsewhere/policy.local.yaml", "version: 1\n");
	assert_int_equal(symlink(q, p), 0);
	assert_int_equal(rd(), -ELOOP);
	assert_non_null(strstr(err, ".glassbox"));
	gb_tmpdir_remove(dir);
}

struct seen {
	int n;
	char keys[4][64];
	char yaml[4][1024];
};

static void collect(void *ctx, const char *key, const char *yaml, const char *sha)
{
	struct seen *s = ctx;
	assert_int_equal(strlen(sha), 64);
	if (s->n < 4) {
		snprintf(s->keys[s->n], sizeof s->keys[0], "%s", key);
		snprintf(s->yaml[s->n], sizeof s->yaml[0], "%s", yaml);
	}
	s->n++;
}

static int entries(const char *text, struct seen *s)
{
	memset(s, 0, sizeof *s);
	err[0] = 0;
	return gb_policy_local_entries(text, strlen(text), collect, s, err, sizeof err);
}

static void validating(void **state)
{
	(void)state;
	struct seen s;
	assert_int_equal(entries("version: 1\nnetwork_policies:\n  fetch:\n    endpoints: [{host: a.test,"
	                         " port: 80}]\n    binaries: [{path: /usr/bin/curl}]\n  b:\n    endpoints:"
	                         " [{host: b.test, port: 443}]\n    binaries: [{path: /usr/bin/git}]\n", &s),
	                 2);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.keys[1], "agent_fetch"); /* never the operator's "fetch" */
	assert_non_null(strstr(s.yaml[1], "\"agent_fetch\":"));
	assert_non_null(strstr(s.yaml[1], "a.test"));
	assert_null(strstr(s.yaml[1], "filesystem_policy"));
	/* bad YAML, with its position */
	assert_int_equal(entries("version: 1\nnetwork_policies:\n  x: [\n", &s), -EINVAL);
	assert_non_null(strstr(err, "policy.local.yaml:"));
	assert_int_equal(s.n, 0);
	/* a static section */
	assert_int_equal(entries("version: 1\nfilesystem_policy:\n  read_write: [/etc]\nnetwork_policies:"
	                         "\n  a:\n    endpoints: [{host: a.test, port: 80}]\n    binaries: [{path:"
	                         " /usr/bin/curl}]\n", &s), -EINVAL);
	assert_non_null(strstr(err, "only network_policies"));
	assert_int_equal(s.n, 0);
	/* nothing to propose */
	assert_int_equal(entries("version: 1\nnetwork_policies: {}\n", &s), -EINVAL);
	/* too many entries: none is handed out */
	struct gb_buf b = GB_BUF_INIT;
	gb_buf_puts(&b, "version: 1\nnetwork_policies:\n");
	for (int i = 0; i <= GB_POLICY_LOCAL_ENTRIES; i++)
		gb_buf_printf(&b, "  e%d:\n    endpoints: [{host: h%d.test, port: 80}]\n    binaries: "
		              "[{path: /usr/bin/curl}]\n", i, i);
	assert_int_equal(entries(gb_buf_cstr(&b), &s), -EINVAL);
	assert_int_equal(s.n, 0);
	/* an entry too large for one record: none is handed out */
	b.len = 0;
	gb_buf_puts(&b, "version: 1\nnetwork_policies:\n  ok:\n    endpoints: [{host: a.test, port: 80}]\n"
	            "    binaries: [{path: /usr/bin/curl}]\n  huge:\n    endpoints: [{host: a.test, port:"
	            " 80}]\n    binaries:\n");
	for (int i = 0; i < 200; i++)
		gb_buf_printf(&b, "      - path: /usr/bin/tool-with-a-long-name-%d\n", i);
	assert_int_equal(entries(gb_buf_cstr(&b), &s), -EINVAL);
	assert_int_equal(s.n, 0);
	gb_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reading),
		cmocka_unit_test(validating),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
