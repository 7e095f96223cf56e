/* exporter/sink_file.c — the file sink: a JSONL copy of the journal for a
 * log shipper, rotated by size (PATH, PATH.1 ... PATH.keep).  A batch is
 * written and fsync'ed before it is acknowledged. */
#include "exporter/sink_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct file_state {
	int fd;
	uint64_t size;
};

static int file_open(struct sink *s)
{
	struct file_state *f = s->priv;
	if (!f) {
		if (!(f = calloc(1, sizeof *f)))
			return -ENOMEM;
		f->fd = -1;
		s->priv = f;
	}
	if (f->fd >= 0)
		return 0;
	f->fd = open(s->c.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (f->fd < 0) {
		int e = -errno;
		snprintf(s->err, sizeof s->err, "%s: %s", s->c.path, strerror(-e));
		return e;
	}
	struct stat st;
	f->size = fstat(f->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	return 0;
}

/* PATH.(keep-1) -> PATH.keep ... PATH -> PATH.1; the oldest goes. */
static int rotate(struct sink *s, struct file_state *f)
{
	uint32_t keep = s->c.keep ? s->c.keep : 5;
	char from[GB_PATH_MAX + 16], to[GB_PATH_MAX + 16]; /* PATH.N */
	for (uint32_t i = keep; i >= 1; i--) {
		if (i == 1)
			snprintf(from, sizeof from, "%s", s->c.path);
		else
			snprintf(from, sizeof from, "%s.%u", s->c.path, i - 1);
		snprintf(to, sizeof to, "%s.%u", s->c.path, i);
		if (rename(from, to) < 0 && errno != ENOENT) {
			int e = -errno;
			snprintf(s->err, sizeof s->err, "rotating %s: %s", from, strerror(-e));
			return e;
		}
	}
	close(f->fd);
	f->fd = -1;
	return file_open(s);
}

static int file_deliver(struct sink *s, const struct gb_buf *b, size_t n, int *retry_after_ms)
{
	(void)n;
	(void)retry_after_ms;
	struct file_state *f = s->priv;
	int rc = file_open(s);
	if (rc < 0)
		return rc;
	uint64_t limit = s->c.rotate_bytes ? s->c.rotate_bytes : 64ull << 20;
	if (f->size && f->size + b->len > limit && (rc = rotate(s, f)) < 0)
		return rc;
	off_t before = (off_t)f->size;
	size_t done = 0;
	while (done < b->len) {
		ssize_t w = write(f->fd, b->data + done, b->len - done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			snprintf(s->err, sizeof s->err, "%s: %s", s->c.path, strerror(-rc));
			/* no half batch: the retry writes it whole */
			if (ftruncate(f->fd, before) < 0)
				close(f->fd), f->fd = -1;
			return rc;
		}
		done += (size_t)w;
	}
	if (fdatasync(f->fd) < 0) {
		rc = -errno;
		snprintf(s->err, sizeof s->err, "%s: fsync: %s", s->c.path, strerror(-rc));
		return rc;
	}
	f->size += b->len;
	return 0;
}

static void file_close(struct sink *s)
{
	struct file_state *f = s->priv;
	if (f && f->fd >= 0)
		close(f->fd);
	free(f);
	s->priv = NULL;
}

const struct sink_batch_kind gb_sink_file_kind = { .open = file_open, .deliver = file_deliver, .close = file_close };
