/* tests/unit/test_daemon_config.c — the daemon config loader on files with
 * errors.  Regression for a fuzz finding (fuzz_daemon_config): a YAML syntax
 * error after valid keys leaked the partial tree; LeakSanitizer (Debug
 * build) fails this test on that code.  Also: the error names file:line:col,
 * and a valid file still loads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exporter/config.h"

static struct gb_daemon_config cfg;

static int load_text(const char *text, struct gb_diags *d, char *path, size_t plen)
{
	snprintf(path, plen, "/tmp/gb-dconf-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	gb_daemon_config_defaults(&cfg, NULL);
	int rc = gb_daemon_config_load(&cfg, path, 1, d);
	unlink(path);
	return rc;
}

static void t_syntax_error_after_keys(void **state)
{
	(void)state;
	struct gb_diags d = { 0 };
	char path[64];
	/* valid nested keys (tree nodes allocated), then a syntax error */
	int rc = load_text("runtime_dir: /run/x\njournal:\n  dir: /var/j\n  segment_size: 64MiB\n"
	                   "sinks:\n  - name: a\n    type: file\n    path: /tmp/o\n{}\n",
	                   &d, path, sizeof path);
	assert_int_equal(rc, -EINVAL);
	assert_true(d.errors >= 1);
	gb_diags_free(&d);
}

static void t_valid_loads(void **state)
{
	(void)state;
	struct gb_diags d = { 0 };
	char path[64];
	assert_int_equal(load_text("journal:\n  segment_size: 8KiB\n  fsync: always\n", &d, path, sizeof path), 0);
	assert_int_equal(cfg.journal.segment_bytes, 8192);
	gb_diags_free(&d);
}

/* The sandbox: section: every key, and "not set" where the file is silent. */
static void t_sandbox_defaults(void **state)
{
	(void)state;
	struct gb_diags d = { 0 };
	char path[64];
	assert_int_equal(load_text("journal:\n  fsync: never\n", &d, path, sizeof path), 0);
	assert_int_equal(cfg.run.memory_max, -1);
	assert_int_equal(cfg.run.pids_max, -1);
	assert_true(cfg.run.cpus < 0);
	assert_int_equal(cfg.run.files, -1);
	assert_int_equal(cfg.run.internal_needs_allowed_ips, -1);
	assert_string_equal(cfg.run.upstream_ca, "");
	assert_int_equal(load_text("sandbox:\n  memory: 512MiB\n  pids: 64\n  cpus: 1.5\n  files: 256\n"
	                           "  upstream_ca: /etc/glassbox/up.pem\n  internal_needs_allowed_ips: true\n",
	                           &d, path, sizeof path), 0);
	assert_int_equal(cfg.run.memory_max, 512 << 20);
	assert_int_equal(cfg.run.pids_max, 64);
	assert_true(cfg.run.cpus == 1.5);
	assert_int_equal(cfg.run.files, 256);
	assert_int_equal(cfg.run.internal_needs_allowed_ips, 1);
	assert_string_equal(cfg.run.upstream_ca, "/etc/glassbox/up.pem");
	/* "max" is no limit (0), as in the cgroup files; quoted numbers too */
	assert_int_equal(load_text("sandbox:\n  memory: max\n  pids: max\n  cpus: \"0\"\n  files: \"64\"\n",
	                           &d, path, sizeof path), 0);
	assert_int_equal(cfg.run.memory_max, 0);
	assert_int_equal(cfg.run.pids_max, 0);
	assert_true(cfg.run.cpus == 0);
	assert_int_equal(cfg.run.files, 64);
	assert_int_equal(d.errors, 0);
	gb_diags_free(&d);
}

/* Each bad value is its own error at FILE:LINE:COL and names the field;
 * nothing bad is stored. */
static void t_sandbox_errors(void **state)
{
	(void)state;
	static const struct {
		const char *line, *field;
		int col;
	} bad[] = {
		{ "memory: 12Q", "sandbox.memory", 11 },
		{ "memory: 1KiB", "sandbox.memory", 11 },     /* below 1 MiB */
		{ "memory: -5", "sandbox.memory", 11 },
		{ "pids: lots", "sandbox.pids", 9 },
		{ "pids: 0", "sandbox.pids", 9 },             /* "max" says none */
		{ "pids: 99999999", "sandbox.pids", 9 },
		{ "cpus: inf", "sandbox.cpus", 9 },
		{ "cpus: -1", "sandbox.cpus", 9 },
		{ "cpus: 1e3", "sandbox.cpus", 9 },
		{ "cpus: 5000", "sandbox.cpus", 9 },
		{ "cpus: max", "sandbox.cpus", 9 },
		{ "files: 3", "sandbox.files", 10 },
		{ "files: max", "sandbox.files", 10 },        /* no "none" for a file limit */
		{ "upstream_ca: rel.pem", "sandbox.upstream_ca", 16 },
		{ "internal_needs_allowed_ips: maybe", "sandbox.internal_needs_allowed_ips", 31 },
		{ "memroy: 1GiB", "sandbox.memroy", 3 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct gb_diags d = { 0 };
		char path[64], text[128], want[160];
		snprintf(text, sizeof text, "# limits\nsandbox:\n  %s\n", bad[i].line);
		assert_int_equal(load_text(text, &d, path, sizeof path), -EINVAL);
		assert_int_equal(d.errors, 1);
		assert_true(d.n >= 1);
		snprintf(want, sizeof want, "%s:3:%d: error: %s: ", path, bad[i].col, bad[i].field);
		char *got = NULL;
		size_t glen = 0;
		FILE *f = open_memstream(&got, &glen);
		gb_diags_print(&d, f);
		fclose(f);
		if (strncmp(got, want, strlen(want)))
			fail_msg("%s: expected '%s...', got '%s'", bad[i].line, want, got);
		free(got);
		assert_int_equal(cfg.run.memory_max, -1);
		assert_int_equal(cfg.run.pids_max, -1);
		assert_true(cfg.run.cpus < 0);
		assert_int_equal(cfg.run.files, -1);
		assert_int_equal(cfg.run.internal_needs_allowed_ips, -1);
		assert_string_equal(cfg.run.upstream_ca, "");
		gb_diags_free(&d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_syntax_error_after_keys),
		cmocka_unit_test(t_valid_loads),
		cmocka_unit_test(t_sandbox_defaults),
		cmocka_unit_test(t_sandbox_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
