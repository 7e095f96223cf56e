/* tests/unit/test_cgroup.c — enforcer/sandbox/cgroup.h: size parsing, and
 * (as root, where a cgroup hierarchy is writable) a real group: a child that
 * joins it cannot fork past pids.max, the refusals are counted, and the group
 * is removed afterwards. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "enforcer/sandbox/cgroup.h"

static void parse_size(void **state)
{
	(void)state;
	uint64_t v = 1;
	assert_int_equal(gb_cgroup_parse_size("max", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(gb_cgroup_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(gb_cgroup_parse_size("64M", &v), 0);
	assert_int_equal(v, 64ULL << 20);
	assert_int_equal(gb_cgroup_parse_size("2GiB", &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(gb_cgroup_parse_size("512k", &v), 0);
	assert_int_equal(v, 512ULL << 10);
	const char *bad[] = { "", "-1", "lots", "12Q", "1.5G", "99999999999999999999T", "M" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(gb_cgroup_parse_size(bad[i], &v), -EINVAL);
}

static void pids_limit_holds(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	struct gb_cgroup cg;
	struct gb_cgroup_limits l = { .pids_max = 5 };
	char err[512];
	if (gb_cgroup_create("unit-test", &l, &cg, err, sizeof err) < 0) {
		fprintf(stderr, "no writable cgroup here (%s)\n", err);
		skip();
		return;
	}
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char e[256];
		if (gb_cgroup_join_self(&cg, e, sizeof e) < 0)
			_exit(2);
		/* At most 20 forks; the children wait on a pipe so they count. */
		int p[2];
		if (pipe(p) < 0)
			_exit(3);
		int made = 0;
		for (int i = 0; i < 20; i++) {
			pid_t c = fork();
			if (c == 0) {
				char b;
				close(p[1]);
				ssize_t r = read(p[0], &b, 1);
				(void)r;
				_exit(0);
			}
			if (c < 0)
				break;
			made++;
		}
		close(p[1]);
		while (wait(NULL) > 0)
			;
		_exit(made);
	}
	assert_int_equal(gb_cgroup_add(&cg, pid, err, sizeof err), 0);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_true(WEXITSTATUS(st) < 5); /* the child itself is one of the 5 */
	struct gb_cgroup_events ev;
	gb_cgroup_read_events(&cg, &ev);
	assert_true(ev.pids_max > 0);
	char dir[512];
	snprintf(dir, sizeof dir, "%s", cg.version == 2 ? cg.v2 : cg.pids);
	gb_cgroup_destroy(&cg);
	struct stat sb;
	assert_int_equal(stat(dir, &sb), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_size),
		cmocka_unit_test(pids_limit_holds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
