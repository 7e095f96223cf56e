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
#include <string.h>

/* /tmp/gb-TAG-XXXXXX, created 0700; 0 or -1. */
static inline int gb_tmpdir_make(char *buf, size_t len, const char *tag)
{
	if ((size_t)snprintf(buf, len, "/tmp/gb-%s-XXXXXX", tag) >= len)
		return -1;
	return mkdtemp(buf) ? 0 : -1;
}

/* /tmp/gb-TAG-XXXXXX made, buf = that + "/" + sub, not made: for code
 * that creates its own directory (the journal); 0 or -1. */
static inline int gb_tmpdir_make_sub(char *buf, size_t len, const char *tag, const char *sub)
{
	if (gb_tmpdir_make(buf, len, tag) < 0)
		return -1;
	size_t n = strlen(buf);
	return (size_t)snprintf(buf + n, len - n, "/%s", sub) >= len - n ? -1 : 0;
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

/* Undo gb_tmpdir_make_sub: buf back to the tmpdir, removed with all in it. */
static inline void gb_tmpdir_remove_sub(char *buf)
{
	char *slash = strrchr(buf, '/');
	if (slash)
		*slash = 0;
	gb_tmpdir_remove(buf);
}

/* A cmocka teardown for a setup that made a tmpdir and set *state to it. */
static inline int gb_tmpdir_teardown(void **state)
{
	gb_tmpdir_remove(*state);
	return 0;
}

#endif
