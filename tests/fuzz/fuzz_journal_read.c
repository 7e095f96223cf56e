/* tests/fuzz/fuzz_journal_read.c — libFuzzer harness for the journal's
 * readers: the index reader (idx.json), the zstd frame reader, the active
 * segment's line reader, filtered and positioned reads, and `journal
 * verify` — everything that reads journal files, which are on disk and so
 * untrusted to `logs`, the sinks and verify.  Properties besides memory
 * safety: the reader never fails on damage (it returns events, LOSS
 * entries (2) and then 0), and every position it hands out is ordered.
 *
 * Input: u16 idx_len, u16 zst_len (little-endian), the idx.json bytes, the
 * .jsonl.zst bytes of sealed segment 1, the rest as active segment 2. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exporter/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[256], day[300], idx[400], zst[400], act[400];

static void put(const char *path, const uint8_t *p, size_t n)
{
	if (!n) {
		unlink(path);
		return;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, p, n) < 0)
		(void)0;
	close(fd);
}

static void read_all(const struct gb_jfilter *f, const struct gb_jpos *from)
{
	struct gb_jreader *r;
	if (gb_jreader_open(dir, f, from, &r) < 0)
		return;
	const char *l;
	size_t n;
	struct gb_jpos pos, prev = { 0, 0 };
	int rc = 0;
	for (int i = 0; i < 100000 && (rc = gb_jreader_next(r, &l, &n, &pos)) >= 1; i++) {
		if (!l || memchr(l, '\n', n))
			__builtin_trap();
		if (pos.segment < prev.segment ||
		    (pos.segment == prev.segment && pos.offset < prev.offset && rc == 1))
			__builtin_trap();
		prev = pos;
	}
	if (rc < 0 && rc != -ENOMEM)
		__builtin_trap(); /* damage is never an error */
	gb_jreader_close(r);
}

static void cleanup(void)
{
	unlink(idx);
	unlink(zst);
	unlink(act);
	char p[420];
	snprintf(p, sizeof p, "%s/head.json", dir);
	unlink(p);
	rmdir(day);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		atexit(cleanup);
		const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(dir, sizeof dir, "%s/gb-fuzz-journal-%d", base, (int)getpid());
		snprintf(day, sizeof day, "%s/2026-01-01", dir);
		mkdir(dir, 0700);
		mkdir(day, 0700);
		snprintf(idx, sizeof idx, "%s/000000000001.idx.json", day);
		snprintf(zst, sizeof zst, "%s/000000000001.jsonl.zst", day);
		snprintf(act, sizeof act, "%s/000000000002.jsonl", day);
	}
	if (size < 4)
		return 0;
	size_t il = (size_t)data[0] | (size_t)data[1] << 8, zl = (size_t)data[2] | (size_t)data[3] << 8;
	data += 4;
	size -= 4;
	if (il > size)
		il = size;
	if (zl > size - il)
		zl = size - il;
	put(idx, data, il);
	put(zst, data + il, zl);
	put(act, data + il + zl, size - il - zl);

	read_all(NULL, NULL);
	struct gb_jfilter f = { .sandbox = "alpha", .min_severity = 3, .since_ms = 1 };
	read_all(&f, NULL);
	struct gb_jpos from = { 1, il };
	read_all(NULL, &from);
	gb_journal_verify(dir, NULL, NULL, NULL);
	return 0;
}
