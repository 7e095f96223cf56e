/* exporter/sink_file.c — the file sink: a JSONL copy of the journal for a
 * log shipper (contract: sink.h).
 *
 * Each batch is written whole and fsync'd before it is acknowledged, so a
 * line the cursor has passed is on disk.  Rotation by size, the way
 * logrotate does it: path -> path.1 -> ... -> path.KEEP (the oldest goes),
 * and a fresh path.  A shipper that follows by name sees the new file; one
 * that holds the old descriptor reads it to its end first.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "exporter/sink.h"

struct fsink {
	char path[4096];
	uint64_t max_bytes;
	uint32_t keep;
	int fd;
	uint64_t size;
};

static int fs_reopen(struct fsink *f, char *err, size_t errlen)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = open(f->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (f->fd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", f->path, strerror(e));
		return -e;
	}
	struct stat st;
	f->size = fstat(f->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	return 0;
}

static int fs_open(const struct gb_sink_conf *c, void **state, char *err, size_t errlen)
{
	struct fsink *f = calloc(1, sizeof *f);
	if (!f)
		return -ENOMEM;
	snprintf(f->path, sizeof f->path, "%s", c->file.path);
	f->max_bytes = c->file.max_bytes ? c->file.max_bytes : 64ull << 20;
	f->keep = c->file.keep ? c->file.keep : 5;
	f->fd = -1;
	int rc = fs_reopen(f, err, errlen);
	if (rc < 0) {
		free(f);
		return rc;
	}
	*state = f;
	return 0;
}

static int fs_rotate(struct fsink *f, char *err, size_t errlen)
{
	char a[4200], b[4200];
	for (uint32_t i = f->keep; i > 1; i--) {
		snprintf(a, sizeof a, "%s.%u", f->path, i - 1);
		snprintf(b, sizeof b, "%s.%u", f->path, i);
		if (rename(a, b) < 0 && errno != ENOENT)
			goto fail;
	}
	snprintf(b, sizeof b, "%s.1", f->path);
	if (rename(f->path, b) < 0 && errno != ENOENT)
		goto fail;
	return fs_reopen(f, err, errlen);
fail:;
	int e = errno;
	snprintf(err, errlen, "rotating %s: %s", f->path, strerror(e));
	return -e;
}

static long fs_deliver(void *state, const struct gb_sink_event *ev, size_t n, int *retry_after_ms,
                       char *err, size_t errlen)
{
	struct fsink *f = state;
	size_t i = 0;
	while (i < n) {
		if (f->size && f->size + ev[i].len + 1 > f->max_bytes) {
			int rc = fs_rotate(f, err, errlen);
			if (rc < 0)
				return i && fdatasync(f->fd) == 0 ? (long)i : rc;
		}
		/* As many lines as fit before the next rotation, in one writev. */
		struct iovec iov[128];
		size_t k = 0, bytes = 0;
		while (i + k / 2 < n && k + 2 <= 128) {
			const struct gb_sink_event *e = &ev[i + k / 2];
			if (k && f->size + bytes + e->len + 1 > f->max_bytes)
				break;
			iov[k++] = (struct iovec){ (void *)e->line, e->len };
			iov[k++] = (struct iovec){ "\n", 1 };
			bytes += e->len + 1;
		}
		ssize_t w = writev(f->fd, iov, (int)k);
		if (w < 0 || (size_t)w != bytes) {
			int e = w < 0 ? errno : ENOSPC;
			snprintf(err, errlen, "writing %s: %s", f->path, strerror(e));
			/* A short write left part of a line: start the next attempt
			 * on a fresh line so the file stays JSONL. */
			if (w > 0) {
				ssize_t nl = write(f->fd, "\n", 1);
				(void)nl;
				f->size += (uint64_t)w + 1;
			}
			return i && fdatasync(f->fd) == 0 ? (long)i : -e;
		}
		f->size += bytes;
		i += k / 2;
	}
	if (fdatasync(f->fd) < 0) {
		int e = errno;
		snprintf(err, errlen, "fsync %s: %s", f->path, strerror(e));
		return -e;
	}
	return (long)n;
}

static void fs_close(void *state)
{
	struct fsink *f = state;
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

const struct gb_sink_driver gb_sink_file_driver = { fs_open, fs_deliver, fs_close };
