/* exporter/journal_read.c — reading the journal in order, sealed or active,
 * and following it as it grows (contract: journal.h).
 *
 * A reader that reaches the end of the active segment keeps its descriptor:
 * when the writer seals that segment the .jsonl is unlinked, but the open
 * file still holds every line, and the writer only starts segment N+1 after
 * N is complete.  So "EOF on N and N+1 exists" means N is done.
 * Following uses inotify on the journal and day directories; events queue
 * from the moment the reader opens, so a line written between the last read
 * and the wait is never missed. */
#include "exporter/journal_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

enum mode { M_NONE, M_ACTIVE, M_SEALED };

struct gb_jreader {
	char *dir;
	struct gb_jfilter f;
	char *sandbox;
	bool filtering;
	uint64_t next_n;  /* first segment number not yet started */
	struct gb_jpos from;
	/* current segment */
	enum mode mode;
	struct jseg seg;
	int fd;
	struct jidx x;
	const unsigned char *zmap;
	size_t zlen;
	size_t frame;
	ZSTD_DCtx *dctx;
	/* decoded bytes: buf[0] is at uncompressed offset base */
	char *buf;
	size_t cap, len, pos;
	uint64_t base;
	int ino;
	char sbuf[64];
};

static void end_segment(struct gb_jreader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	if (r->zmap)
		munmap((void *)r->zmap, r->zlen);
	r->zmap = NULL;
	jidx_free(&r->x);
	r->mode = M_NONE;
	r->len = r->pos = 0;
	r->next_n = r->seg.n + 1;
}

static void watch_days(struct gb_jreader *r)
{
	if (r->ino < 0)
		return;
	inotify_add_watch(r->ino, r->dir, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
	struct jseg *v;
	size_t n;
	if (jseg_list(r->dir, &v, &n) < 0)
		return;
	char p[GB_PATH_MAX];
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(v[i].day, v[i - 1].day)) {
			snprintf(p, sizeof p, "%s/%s", r->dir, v[i].day);
			inotify_add_watch(r->ino, p, IN_CREATE | IN_MODIFY | IN_MOVED_TO | IN_CLOSE_WRITE);
		}
	free(v);
}

int gb_jreader_open(const char *dir, const struct gb_jfilter *f, const struct gb_jpos *from,
                    struct gb_jreader **out)
{
	struct gb_jreader *r = calloc(1, sizeof *r);
	if (!r || !(r->dir = strdup(dir))) {
		free(r);
		return -ENOMEM;
	}
	r->fd = -1;
	r->ino = -1;
	if (f) {
		r->f = *f;
		if (f->sandbox) {
			if (!(r->sandbox = strdup(f->sandbox))) {
				gb_jreader_close(r);
				return -ENOMEM;
			}
			r->f.sandbox = r->sandbox;
		}
		r->filtering = f->since_ms || f->until_ms || f->sandbox || f->min_severity || f->class_uid;
	}
	if (from) {
		r->from = *from;
		r->next_n = from->segment;
	}
	r->dctx = ZSTD_createDCtx();
	r->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (!r->dctx) {
		gb_jreader_close(r);
		return -ENOMEM;
	}
	watch_days(r);
	*out = r;
	return 0;
}

/* Open the first segment numbered >= next_n.  0 = none yet. */
static int start_segment(struct gb_jreader *r)
{
	struct jseg *v;
	size_t n;
	int rc = jseg_list(r->dir, &v, &n);
	if (rc < 0)
		return rc;
	size_t i = 0;
	while (i < n && v[i].n < r->next_n)
		i++;
	for (; i < n; i++) {
		struct jseg *s = &v[i];
		char p[GB_PATH_MAX];
		r->seg = *s;
		uint64_t skip = s->n == r->from.segment ? r->from.offset : 0;
		if (!s->active && s->sealed && s->has_idx) {
			if (jseg_path(p, sizeof p, r->dir, s, ".idx.json") < 0 || jidx_read(p, &r->x) < 0) {
				rc = -EBADMSG; /* `glassbox journal verify` says more */
				break;
			}
			if (!jidx_may_match(&r->x, r->filtering ? &r->f : NULL) ||
			    (skip && skip >= r->x.bytes)) {
				jidx_free(&r->x);
				r->next_n = s->n + 1;
				continue;
			}
			jseg_path(p, sizeof p, r->dir, s, ".jsonl.zst");
			int fd = open(p, O_RDONLY | O_CLOEXEC);
			struct stat st;
			if (fd < 0 || fstat(fd, &st) < 0) {
				rc = -errno;
				if (fd >= 0)
					close(fd);
				jidx_free(&r->x);
				if (rc == -ENOENT) { /* retention took it meanwhile */
					r->next_n = s->n + 1;
					rc = 0;
					continue;
				}
				break;
			}
			r->zlen = (size_t)st.st_size;
			r->zmap = r->zlen ? mmap(NULL, r->zlen, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
			close(fd);
			if (r->zmap == MAP_FAILED) {
				r->zmap = NULL;
				rc = -errno;
				jidx_free(&r->x);
				break;
			}
			r->mode = M_SEALED;
			r->frame = 0;
			while (r->frame < r->x.n_frames &&
			       r->x.frames[r->frame].u_off + r->x.frames[r->frame].u_len <= skip)
				r->frame++;
			r->base = r->frame < r->x.n_frames ? r->x.frames[r->frame].u_off : r->x.bytes;
			r->len = r->pos = 0;
			r->from.offset = skip; /* lines before it are skipped after decoding */
			rc = 1;
			break;
		}
		if (s->has_jsonl) {
			if (jseg_path(p, sizeof p, r->dir, s, ".jsonl") < 0)
				break;
			r->fd = open(p, O_RDONLY | O_CLOEXEC);
			if (r->fd < 0) {
				if (errno == ENOENT) { /* sealed between list and open: list again */
					free(v);
					return start_segment(r);
				}
				rc = -errno;
				break;
			}
			if (skip && lseek(r->fd, (off_t)skip, SEEK_SET) < 0) {
				rc = -errno;
				close(r->fd);
				r->fd = -1;
				break;
			}
			r->mode = M_ACTIVE;
			r->base = skip;
			r->len = r->pos = 0;
			r->from.offset = 0;
			rc = 1;
			break;
		}
	}
	free(v);
	return rc;
}

static int grow(struct gb_jreader *r, size_t need)
{
	if (need <= r->cap)
		return 0;
	size_t nc = r->cap ? r->cap : 65536;
	while (nc < need)
		nc *= 2;
	char *nb = realloc(r->buf, nc);
	if (!nb)
		return -ENOMEM;
	r->buf = nb;
	r->cap = nc;
	return 0;
}

/* More bytes into buf.  1 = got some, 0 = none now, 2 = segment finished. */
static int refill(struct gb_jreader *r)
{
	if (r->mode == M_SEALED) {
		if (r->frame >= r->x.n_frames)
			return 2;
		const struct jidx_frame *fr = &r->x.frames[r->frame];
		if (fr->c_off + fr->c_len > r->zlen)
			return -EBADMSG;
		if (grow(r, (size_t)fr->u_len) < 0)
			return -ENOMEM;
		size_t d = ZSTD_decompressDCtx(r->dctx, r->buf, r->cap, r->zmap + fr->c_off, (size_t)fr->c_len);
		if (ZSTD_isError(d) || d != fr->u_len)
			return -EBADMSG;
		r->base = fr->u_off;
		r->len = d;
		r->pos = 0;
		r->frame++;
		return 1;
	}
	/* active: keep the unfinished tail, read more after it */
	if (r->pos) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->base += r->pos;
		r->len -= r->pos;
		r->pos = 0;
	}
	if (grow(r, r->len + 65536) < 0)
		return -ENOMEM;
	ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
	if (n < 0)
		return -errno;
	if (n > 0) {
		r->len += (size_t)n;
		return 1;
	}
	/* EOF: finished when a later segment exists (the writer moved on). */
	struct jseg *v;
	size_t cnt;
	if (jseg_list(r->dir, &v, &cnt) < 0)
		return 0;
	bool later = cnt && v[cnt - 1].n > r->seg.n;
	free(v);
	if (!later)
		return 0;
	/* One more read: the last lines may have landed after our EOF. */
	n = read(r->fd, r->buf + r->len, r->cap - r->len);
	if (n > 0) {
		r->len += (size_t)n;
		return 1;
	}
	return 2;
}

static bool wanted(struct gb_jreader *r, const char *line, size_t len)
{
	if (!r->filtering)
		return true;
	struct gb_jmeta m;
	if (gb_jmeta_parse(line, len, &m, r->sbuf, sizeof r->sbuf) < 0)
		return false;
	const struct gb_jfilter *f = &r->f;
	if (f->since_ms && m.time_ms < f->since_ms)
		return false;
	if (f->until_ms && m.time_ms > f->until_ms)
		return false;
	if (f->sandbox && strcmp(f->sandbox, m.sandbox))
		return false;
	if (f->class_uid && f->class_uid != m.class_uid)
		return false;
	if (f->min_severity && m.severity_id != 99 && m.severity_id < f->min_severity)
		return false;
	return true;
}

int gb_jreader_next(struct gb_jreader *r, const char **line, size_t *len, struct gb_jpos *pos)
{
	for (;;) {
		if (r->mode == M_NONE) {
			int rc = start_segment(r);
			if (rc <= 0)
				return rc;
		}
		char *nl = r->pos < r->len ? memchr(r->buf + r->pos, '\n', r->len - r->pos) : NULL;
		if (nl) {
			char *l = r->buf + r->pos;
			size_t n = (size_t)(nl - l);
			uint64_t off = r->base + r->pos;
			r->pos += n + 1;
			if (r->from.offset && r->seg.n == r->from.segment && off < r->from.offset)
				continue;
			if (!wanted(r, l, n))
				continue;
			*line = l;
			*len = n;
			if (pos) {
				pos->segment = r->seg.n;
				pos->offset = off;
			}
			return 1;
		}
		int rc = refill(r);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return 0;
		if (rc == 2)
			end_segment(r);
	}
}

int gb_jreader_wait(struct gb_jreader *r, int timeout_ms)
{
	if (r->ino < 0)
		return -ENOSYS;
	struct pollfd p = { .fd = r->ino, .events = POLLIN };
	int n = poll(&p, 1, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 1 : -errno;
	if (n == 0)
		return 0;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool newdir = false;
	ssize_t k;
	while ((k = read(r->ino, buf, sizeof buf)) > 0)
		for (char *q = buf; q < buf + k;) {
			struct inotify_event *e = (struct inotify_event *)(void *)q;
			newdir |= (e->mask & IN_ISDIR) != 0;
			q += sizeof *e + e->len;
		}
	if (newdir)
		watch_days(r); /* a new day directory: watch it too */
	return 1;
}

void gb_jreader_close(struct gb_jreader *r)
{
	if (!r)
		return;
	end_segment(r);
	if (r->ino >= 0)
		close(r->ino);
	ZSTD_freeDCtx(r->dctx);
	free(r->buf);
	free(r->sandbox);
	free(r->dir);
	free(r);
}
