/* tests/unit/test_log.c — common/log.h: format, levels, one write per line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

/* Capture stderr into a pipe while fn runs; returns what was written. */
static size_t capture(void (*fn)(void), char *out, size_t cap)
{
	int p[2];
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	int saved = dup(STDERR_FILENO);
	dup2(p[1], STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(p[1]);
	ssize_t n = read(p[0], out, cap - 1);
	close(p[0]);
	out[n > 0 ? n : 0] = 0;
	return n > 0 ? (size_t)n : 0;
}

static void emit_levels(void)
{
	gb_log_error("serve", "journal %s: %s", "/x", "No space left on device");
	gb_log_warn(NULL, "ring %d", 3);
	gb_log_info("", "started");
	gb_log_debug("proxy", "hidden unless -v");
}

static void test_format_and_default_level(void **state)
{
	char buf[4096];
	gb_log_set_level(GB_LOG_INFO);
	capture(emit_levels, buf, sizeof buf);
	assert_string_equal(buf, "glassbox serve: journal /x: No space left on device\n"
	                         "glassbox: warning: ring 3\n"
	                         "glassbox: started\n");
}

static void test_quiet_and_verbose(void **state)
{
	char buf[4096];
	gb_log_set_level(GB_LOG_ERROR);
	capture(emit_levels, buf, sizeof buf);
	assert_string_equal(buf, "glassbox serve: journal /x: No space left on device\n");
	assert_false(gb_log_enabled(GB_LOG_WARN));
	gb_log_set_level(GB_LOG_DEBUG);
	capture(emit_levels, buf, sizeof buf);
	assert_non_null(strstr(buf, "glassbox proxy: hidden unless -v\n"));
	gb_log_set_level(GB_LOG_INFO);
}

static void emit_long(void)
{
	char big[5000];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = 0;
	errno = EAGAIN;
	gb_log_error("x", "%s", big);
	assert_int_equal(errno, EAGAIN); /* logging keeps errno */
}

static void test_long_line_cut_not_dropped(void **state)
{
	char buf[8192];
	size_t n = capture(emit_long, buf, sizeof buf);
	assert_true(n > 1000 && n <= 2048);
	assert_int_equal(buf[n - 1], '\n');
	assert_memory_equal(buf + n - 4, "...", 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_and_default_level),
		cmocka_unit_test(test_quiet_and_verbose),
		cmocka_unit_test(test_long_line_cut_not_dropped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
