/* tests/unit/tmpdir.h — a private temporary directory for a unit test,
 * removed with everything in it (the tests that work on a real filesystem
 * all need one; this is the one way they get it).
 *
 * Ownership: the caller's buffer holds the path; nothing is allocated.
 */
#ifndef GB_TESTS_TMPDIR_H
#define GB_TESTS_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

/* /tmp/gb-TAG-XXXXXX, created 0700; 0 or -1. */
static inline int gb_tmpdir_make(char *buf, size_t len, const char *tag)
{
	if ((size_t)snprintf(buf, len, "/tmp/gb-%s-XXXXXX", tag) >= len)
		return -1;
	return mkdtemp(buf) ? 0 : -1;
}

static inline int gb_tmpdir_rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

/* rm -rf dir (never follows a symlink out of it). */
static inline void gb_tmpdir_remove(const char *dir)
{
	nftw(dir, gb_tmpdir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A cmocka teardown for a setup that made a tmpdir and set *state to it. */
static inline int gb_tmpdir_teardown(void **state)
{
	gb_tmpdir_remove(*state);
	return 0;
}

#endif
