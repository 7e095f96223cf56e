/* tests/unit/test_serve_limits.c — gb_serve_start refuses more sinks than
 * retention can account for (GB_MAX_SINKS), whoever the caller: before,
 * serve started every sink it was given but counted retention losses for
 * the first 16 only, so a 17th sink lost events to retention silently.
 * The refusal comes first: nothing is created on disk. */
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

#include "exporter/serve.h"

static void t_too_many_sinks(void **state)
{
	(void)state;
	char top[64];
	snprintf(top, sizeof top, "/tmp/gb-serve-XXXXXX");
	assert_non_null(mkdtemp(top));
	char run[128], jdir[128], cdir[128];
	snprintf(run, sizeof run, "%s/run", top); /* where the root's sandboxes would go */
	snprintf(jdir, sizeof jdir, "%s/journal", top);
	snprintf(cdir, sizeof cdir, "%s/cursors", top);
	static struct gb_sink_conf sinks[GB_MAX_SINKS + 1];
	for (int i = 0; i <= GB_MAX_SINKS; i++) {
		sinks[i].kind = GB_SINK_FILE;
		snprintf(sinks[i].name, sizeof sinks[i].name, "s%d", i);
		snprintf(sinks[i].path, sizeof sinks[i].path, "%s/out%d", top, i);
	}
	struct gb_serve_opts o = { .root = top, .journal = { .dir = jdir }, .sinks = sinks,
		                   .n_sinks = GB_MAX_SINKS + 1, .cursor_dir = cdir };
	struct gb_serve *s = (struct gb_serve *)1;
	char err[256] = "";
	assert_int_equal(gb_serve_start(&o, &s, err, sizeof err), -E2BIG);
	assert_null(s);
	assert_non_null(strstr(err, "at most 16 sinks"));
	struct stat st;
	assert_int_equal(stat(run, &st), -1);
	assert_int_equal(stat(jdir, &st), -1);
	assert_int_equal(rmdir(top), 0); /* empty: no sink ran */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_too_many_sinks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
