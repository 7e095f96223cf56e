/* tests/unit/test_tar.c — the evidence bundle's ustar writer and strict
 * reader: members round-trip; the reader refuses what a hostile bundle
 * would use to escape its unpack directory or exhaust memory (../, an
 * absolute name, "." components, a symlink member, a bad checksum, a
 * truncated archive, a member over the size limit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporter/tar.h"

static FILE *archive(const char *name, const char *data)
{
	FILE *f = tmpfile();
	assert_non_null(f);
	assert_int_equal(gb_tar_add(f, name, data, strlen(data), 1700000000), 0);
	assert_int_equal(gb_tar_finish(f), 0);
	rewind(f);
	return f;
}

static void test_roundtrip(void **state)
{
	(void)state;
	FILE *f = tmpfile();
	char big[1500];
	memset(big, 'x', sizeof big);
	assert_int_equal(gb_tar_add(f, "manifest.json", "{}", 2, 1), 0);
	assert_int_equal(gb_tar_add(f, "journal/2026-12-01/000000000001.jsonl.zst", big, sizeof big, 1), 0);
	assert_int_equal(gb_tar_add(f, "empty", "", 0, 1), 0);
	assert_int_equal(gb_tar_finish(f), 0);
	rewind(f);
	char name[100], *d;
	size_t len;
	assert_int_equal(gb_tar_next(f, name, &d, &len, 1 << 20), 1);
	assert_string_equal(name, "manifest.json");
	assert_int_equal(len, 2);
	free(d);
	assert_int_equal(gb_tar_next(f, name, &d, &len, 1 << 20), 1);
	assert_string_equal(name, "journal/2026-12-01/000000000001.jsonl.zst");
	assert_int_equal(len, sizeof big);
	assert_memory_equal(d, big, sizeof big);
	free(d);
	assert_int_equal(gb_tar_next(f, name, &d, &len, 1 << 20), 1);
	assert_int_equal(len, 0);
	free(d);
	assert_int_equal(gb_tar_next(f, name, &d, &len, 1 << 20), 0);
	fclose(f);
}

static void test_writer_refuses_bad_names(void **state)
{
	(void)state;
	FILE *f = tmpfile();
	const char *bad[] = { "../x", "/etc/passwd", "a/../b", "a/./b", "a//b", "dir/", "", "sp ace" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(gb_tar_add(f, bad[i], "x", 1, 0), -EINVAL);
	fclose(f);
}

/* Patch a header field of a one-member archive and fix its checksum. */
static FILE *patched(const char *name, size_t off, const char *val, bool fix_sum)
{
	FILE *f = archive("good", "data");
	unsigned char h[512];
	assert_int_equal(fread(h, 1, 512, f), 512);
	if (name) {
		memset(h, 0, 100);
		memcpy(h, name, strlen(name));
	}
	if (val)
		memcpy(h + off, val, strlen(val));
	if (fix_sum) {
		unsigned s = 0;
		for (int i = 0; i < 512; i++)
			s += (i >= 148 && i < 156) ? ' ' : h[i];
		snprintf((char *)h + 148, 8, "%06o", s);
		h[155] = ' ';
	}
	rewind(f);
	assert_int_equal(fwrite(h, 1, 512, f), 512);
	rewind(f);
	return f;
}

static void expect(FILE *f, int rc)
{
	char name[100], *d = NULL;
	size_t len;
	assert_int_equal(gb_tar_next(f, name, &d, &len, 1 << 20), rc);
	free(d);
	fclose(f);
}

static void test_reader_refuses_hostile(void **state)
{
	(void)state;
	expect(patched("../../etc/cron.d/x", 0, NULL, true), -EBADMSG);
	expect(patched("/etc/passwd", 0, NULL, true), -EBADMSG);
	expect(patched("a/./b", 0, NULL, true), -EBADMSG);
	expect(patched("a\\b", 0, NULL, true), -EBADMSG);
	expect(patched(NULL, 156, "2", true), -EBADMSG);     /* symlink */
	expect(patched(NULL, 156, "5", true), -EBADMSG);     /* directory */
	expect(patched(NULL, 345, "evil", true), -EBADMSG);  /* ustar prefix field */
	expect(patched(NULL, 124, "77777777777", true), -EFBIG);
	expect(patched(NULL, 124, "0000000001x", true), -EBADMSG);
	expect(patched("other", 0, NULL, false), -EBADMSG);  /* checksum no longer matches */
	/* truncated: header only, then the data cut */
	FILE *f = archive("good", "some data here");
	FILE *t = tmpfile();
	char buf[520];
	assert_int_equal(fread(buf, 1, 520, f), 520);
	fwrite(buf, 1, 520, t);
	rewind(t);
	fclose(f);
	expect(t, -EBADMSG);
	/* no end-of-archive blocks at all */
	t = tmpfile();
	expect(t, -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_writer_refuses_bad_names),
		cmocka_unit_test(test_reader_refuses_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
