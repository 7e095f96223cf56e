/* exporter/journal_read.c — reading the journal in order, sealed or active,
 * and following it as it grows (contract: journal.h).
 *
 * A reader that reaches the end of the active segment keeps its descriptor:
 * when the writer seals that segment the .jsonl is unlinked, but the open
 * file still holds every line, and the writer only starts segment N+1 after
 * N is complete.  So "EOF on N and N+1 exists" means N is done.  That holds
 * as well for a rotated segment the writer's sealer has not sealed yet (an
 * unsealed .jsonl older than the active one, listed as active): it is read
 * as a .jsonl, and when its seal lands meanwhile the open file still reads
 * (or, not yet opened, it is listed again and read sealed: same offsets).
 * Following uses inotify on the journal and day directories, set up at the
 * first wait (which returns at once so the caller reads again); events queue
 * from then on, so a line written between a read and the next wait is never
 * missed.
 *
 * A filtered reader skips what the indexes rule out without reading it:
 * whole segments (idx.json), frames of a sealed segment (their time range
 * and sandbox sets in idx.json) and blocks of the active segment (the same,
 * from its NNNN.blk.json sidecar, journal_blk.c) — a time-window query
 * decodes only the frames that overlap the window. */
#include "exporter/journal_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>
#include <zstd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/record.h"
#include "exporter/ocsf.h"

/* A follower without inotify (gb_jreader_wait) looks again this often. */
#define POLL_MS 100

enum mode { M_NONE, M_ACTIVE, M_SEALED };

static bool plain_name(const char *s);

struct gb_jreader {
	char *dir;
	struct gb_jfilter f;
	char *sandbox;
	bool filtering;
	uint64_t next_n;  /* first segment number not yet started */
	/* the segment list, kept while it can answer: sealed segments only
	 * ever go (retention), so it is listed again only when the next one
	 * is active or missing, or a file it names has gone */
	struct jseg *segs;
	size_t n_segs;
	bool segs_ok;
	struct gb_jpos from;
	/* current segment */
	enum mode mode;
	struct jseg seg;
	int fd;
	struct jidx x;     /* a sealed segment's index, or the active one's blocks */
	size_t blk;        /* active: the block holding the next line */
	const unsigned char *zmap;
	size_t zlen;
	struct stat zst;   /* the .zst's identity, for the shared frames */
	size_t frame;
	ZSTD_DCtx *dctx;
	/* the bytes being read: data[0] is at uncompressed offset base; data
	 * is buf (the active segment's reads, a frame decoded here) or a
	 * decoded frame shared with other readers (journal_cache.c) */
	const char *data;
	struct jframe *shared;
	char *buf;
	size_t cap, len, pos;
	uint64_t base;
	int ino;
	bool polling; /* no inotify instance to be had: wait by short sleeps */
	/* a follower's watch saw a new file or directory (or a wait timed out)
	 * since the directory was last listed at the end of the active
	 * segment: only then can a segment after newest_seen have appeared
	 * (refill) */
	bool may_rotate;
	uint64_t newest_seen; /* the highest segment number a listing showed */
	char sbuf[64];
	/* `"log_name":"NAME"`: a line without it is not the sandbox's */
	char needle[96];
	size_t needle_len;
	/* segments that were gone when the reader reached them (retention) */
	bool placed;      /* next_n is a position the reader had reached */
	uint64_t gap_first, gap_n;
	struct gb_jpos tell; /* just after what next() returned last */
	/* damage skipped and not yet handed out */
	bool dmg;
	struct gb_jpos dmg_at, dmg_end;
	uint64_t dmg_events;
	bool dmg_counted;
	int64_t dmg_ms;
	char dmg_what[256];
	struct gb_buf loss;
	char host[256];
};

/* Stream-decode a sealed segment whose index is unreadable, only to say how
 * many events the skipped segment holds.  -EBADMSG when it does not decode. */
static int count_zst_lines(const char *path, uint64_t *lines)
{
	*lines = 0;
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	ZSTD_DStream *ds = ZSTD_createDStream();
	size_t inl = ZSTD_DStreamInSize(), outl = ZSTD_DStreamOutSize();
	char *in = malloc(inl), *out = malloc(outl);
	int rc = ds && in && out ? 0 : -ENOMEM;
	size_t last = 0, got;
	while (rc == 0 && (got = fread(in, 1, inl, f)) > 0) {
		ZSTD_inBuffer ib = { in, got, 0 };
		while (ib.pos < ib.size) {
			ZSTD_outBuffer ob = { out, outl, 0 };
			last = ZSTD_decompressStream(ds, &ob, &ib);
			if (ZSTD_isError(last)) {
				rc = -EBADMSG;
				break;
			}
			for (const char *p = out; (p = memchr(p, '\n', (size_t)(out + ob.pos - p))); p++)
				(*lines)++;
		}
	}
	if (rc == 0 && last != 0)
		rc = -EBADMSG; /* ends inside a frame */
	free(in);
	free(out);
	ZSTD_freeDStream(ds);
	fclose(f);
	return rc;
}

__attribute__((format(printf, 7, 8))) static void damage(struct gb_jreader *r, uint64_t seg,
                                                          uint64_t from, struct gb_jpos end,
                                                          uint64_t events, bool counted,
                                                          const char *fmt, ...)
{
	r->dmg = true;
	r->dmg_at = (struct gb_jpos){ seg, from };
	r->dmg_end = end;
	r->dmg_events = events;
	r->dmg_counted = counted;
	r->dmg_ms = r->x.last_ms;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->dmg_what, sizeof r->dmg_what, fmt, ap);
	va_end(ap);
}

/* The pending damage as one OCSF LOSS event (Event Log Activity). */
static int damage_line(struct gb_jreader *r, const char **line, size_t *len, struct gb_jpos *pos)
{
	char detail[512], id[64], end[32] = "end";
	if (r->dmg_end.segment == r->dmg_at.segment)
		snprintf(end, sizeof end, "%llu", (unsigned long long)r->dmg_end.offset);
	snprintf(detail, sizeof detail, "journal segment %llu, offsets %llu-%s: %s%s",
	         (unsigned long long)r->dmg_at.segment, (unsigned long long)r->dmg_at.offset, end,
	         r->dmg_what, r->dmg_counted ? "" : " (count unknown)");
	/* metadata.uid journal-SEGMENT:OFFSET: the same damage read again
	 * (a restarted sink) carries the same uid */
	snprintf(id, sizeof id, "journal-%llu", (unsigned long long)r->dmg_at.segment);
	struct gb_ocsf_ctx ctx = { .sandbox_name = NULL, .sandbox_id = id, .hostname = r->host,
		                   .product_version = GB_VERSION };
	struct gb_record rec;
	memset(&rec, 0, sizeof rec);
	rec.type = GB_REC_LOSS;
	rec.seq = r->dmg_at.offset;
	int64_t ms = r->dmg_ms;
	if (ms <= 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	rec.ts_ns = (uint64_t)ms * 1000000u;
	/* no ring sequence range: first > last says so */
	rec.u.loss = (struct gb_loss){ .cause = GB_LOSS_JOURNAL_DAMAGED, .count = r->dmg_events,
		                       .first_seq = 1, .last_seq = 0, .detail = detail };
	r->loss.len = 0;
	int rc = gb_ocsf_format(&ctx, &rec, &r->loss, NULL);
	if (rc < 0)
		return rc;
	r->dmg = false;
	*line = r->loss.data;
	*len = r->loss.len;
	if (pos)
		*pos = r->dmg_at;
	r->tell = r->dmg_end;
	return 2;
}

static void end_segment(struct gb_jreader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	if (r->zmap)
		munmap((void *)r->zmap, r->zlen);
	r->zmap = NULL;
	jframe_put(r->shared);
	r->shared = NULL;
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
		r->filtering = f->since_ms || f->until_ms || f->sandbox || f->min_severity ||
		               f->class_uid || f->action_id;
		if (f->sandbox && plain_name(f->sandbox)) {
			int k = snprintf(r->needle, sizeof r->needle, "\"log_name\":\"%s\"", f->sandbox);
			r->needle_len = k > 0 && (size_t)k < sizeof r->needle ? (size_t)k : 0;
		}
	}
	if (from) {
		r->from = *from;
		r->next_n = from->segment;
		r->placed = true;
	}
	r->tell = r->from;
	if (gethostname(r->host, sizeof r->host - 1) < 0)
		snprintf(r->host, sizeof r->host, "unknown");
	r->dctx = ZSTD_createDCtx();
	if (!r->dctx) {
		gb_jreader_close(r);
		return -ENOMEM;
	}
	/* inotify only for a reader that waits (gb_jreader_wait): closing an
	 * inotify instance costs the kernel a grace period (~1-15 ms), too much
	 * for the many short reads (logs, sinks' re-reads, retention counts). */
	*out = r;
	return 0;
}

/* Does the kept list answer "which segment is next"? */
static bool list_answers(const struct gb_jreader *r)
{
	if (!r->segs_ok)
		return false;
	for (size_t i = 0; i < r->n_segs; i++)
		if (r->segs[i].n >= r->next_n)
			return !r->segs[i].active && !r->segs[i].has_jsonl;
	return false;
}

static void list_drop(struct gb_jreader *r)
{
	free(r->segs);
	r->segs = NULL;
	r->n_segs = 0;
	r->segs_ok = false;
}

/* Open the first segment numbered >= next_n.  0 = none yet. */
static int start_segment(struct gb_jreader *r)
{
	bool fresh = !list_answers(r);
	if (fresh) {
		list_drop(r);
		int lrc = jseg_list(r->dir, &r->segs, &r->n_segs);
		if (lrc < 0)
			return lrc;
		r->segs_ok = true;
		if (r->n_segs && r->segs[r->n_segs - 1].n > r->newest_seen)
			r->newest_seen = r->segs[r->n_segs - 1].n;
	}
	struct jseg *v = r->segs;
	size_t n = r->n_segs;
	int rc = 0;
	size_t i = 0;
	while (i < n && v[i].n < r->next_n)
		i++;
	for (; i < n; i++) {
		struct jseg *s = &v[i];
		char p[GB_PATH_MAX];
		if (r->placed && s->n > r->next_n && !r->gap_n) {
			r->gap_first = r->next_n;
			r->gap_n = s->n - r->next_n;
		}
		r->placed = true;
		r->seg = *s;
		uint64_t skip = s->n == r->from.segment ? r->from.offset : 0;
		if (!s->active && s->sealed && s->has_idx) {
			int xrc = jseg_path(p, sizeof p, r->dir, s, ".idx.json");
			if (xrc == 0)
				xrc = jidx_read_cached(p, &r->x);
			if (xrc == -ENOENT && !fresh) { /* gone since the list: list again */
				list_drop(r);
				return start_segment(r);
			}
			if (xrc < 0) {
				/* Skip the segment, say so (`glassbox journal verify`
				 * says more).  Its events are counted from the data when
				 * that still decodes. */
				memset(&r->x, 0, sizeof r->x);
				uint64_t lines = 0;
				char z[GB_PATH_MAX];
				/* a cursor inside it: what is left cannot be counted */
				bool counted = !skip && jseg_path(z, sizeof z, r->dir, s, ".jsonl.zst") == 0 &&
				               count_zst_lines(z, &lines) == 0;
				r->next_n = s->n + 1;
				damage(r, s->n, skip, (struct gb_jpos){ s->n + 1, 0 }, lines, counted,
				       "the index %s is unreadable", p);
				rc = 3;
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
					if (!r->gap_n)
						r->gap_first = s->n;
					r->gap_n++;
					r->next_n = s->n + 1;
					rc = 0;
					continue;
				}
				break;
			}
			r->zlen = (size_t)st.st_size;
			r->zst = st;
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
					list_drop(r);
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
			if (r->filtering) {
				/* its blocks (a hint: a missing or short sidecar only
				 * means more is read) */
				struct stat st;
				jidx_init(&r->x, s->n, 0);
				if (fstat(r->fd, &st) == 0 &&
				    jblk_read_cached(r->dir, s, (uint64_t)st.st_size, &r->x) < 0)
					jidx_free(&r->x);
				r->blk = 0;
			}
			r->mode = M_ACTIVE;
			r->base = skip;
			r->len = r->pos = 0;
			r->from.offset = 0;
			rc = 1;
			break;
		}
	}
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
		while (r->filtering && r->frame < r->x.n_frames &&
		       !jidx_frame_may_match(&r->x, &r->x.frames[r->frame], &r->f))
			r->frame++;
		if (r->frame >= r->x.n_frames)
			return 2;
		const struct jidx_frame *fr = &r->x.frames[r->frame];
		const char *bad = NULL;
		size_t d = 0;
		jframe_put(r->shared);
		r->shared = NULL;
		if (fr->c_off > r->zlen || fr->c_len > r->zlen - fr->c_off)
			bad = "it lies beyond the end of the file";
		else if ((r->shared = jframe_get(&r->zst, fr->c_off, fr->c_len)) &&
		         r->shared->len == fr->u_len) {
			/* decoded whole by a reader before: the same bytes */
			r->data = r->shared->data;
			d = r->shared->len;
		} else if (fr->u_len > J_FRAME_MAX ||
		           ZSTD_getFrameContentSize(r->zmap + fr->c_off, (size_t)fr->c_len) != fr->u_len)
			/* checked before allocating: an index (or frame header) that
			 * claims a huge frame must not make the reader allocate it */
			bad = "its header and the index disagree on its length";
		else {
			jframe_put(r->shared);
			r->shared = NULL;
			/* a frame others may want too is decoded into a shared
			 * buffer, kept once it decoded whole; a larger one into buf */
			struct jframe *f = fr->u_len <= J_FRAME_CACHE_MAX ? jframe_new((size_t)fr->u_len) : NULL;
			char *out = f ? f->data : NULL;
			size_t cap = (size_t)fr->u_len;
			if (!out) {
				if (grow(r, (size_t)fr->u_len) < 0)
					return -ENOMEM;
				out = r->buf;
				cap = r->cap;
			}
			d = ZSTD_decompressDCtx(r->dctx, out, cap ? cap : 1, r->zmap + fr->c_off,
			                        (size_t)fr->c_len);
			if (ZSTD_isError(d))
				bad = ZSTD_getErrorName(d);
			else if (d != fr->u_len)
				bad = "it decodes to the wrong length";
			if (f && !bad) {
				f->dev = r->zst.st_dev;
				f->ino = r->zst.st_ino;
				f->size = r->zst.st_size;
				f->mtime = r->zst.st_mtim;
				f->c_off = fr->c_off;
				f->c_len = fr->c_len;
				jframe_add(f);
				r->shared = f;
			} else if (f) {
				jframe_put(f);
			}
			r->data = r->shared ? r->shared->data : r->buf;
		}
		if (bad) {
			damage(r, r->seg.n, fr->u_off, (struct gb_jpos){ r->seg.n, fr->u_off + fr->u_len },
			       fr->lines, true, "frame %zu does not decode (%s)", r->frame, bad);
			r->base = fr->u_off + fr->u_len;
			r->len = r->pos = 0;
			r->frame++;
			return 3;
		}
		r->base = fr->u_off;
		r->len = d;
		r->pos = 0;
		r->frame++;
		return 1;
	}
	/* active: past the blocks the filter rules out (base + pos is where
	 * the next line starts, and a block holds whole lines) */
	if (r->filtering && r->blk < r->x.n_frames) {
		uint64_t o = r->base + r->pos, to = o;
		const struct jidx_frame *b = r->x.frames;
		while (r->blk < r->x.n_frames && b[r->blk].u_off + b[r->blk].u_len <= to)
			r->blk++;
		while (r->blk < r->x.n_frames && b[r->blk].u_off <= to &&
		       !jidx_frame_may_match(&r->x, &b[r->blk], &r->f)) {
			to = b[r->blk].u_off + b[r->blk].u_len;
			r->blk++;
		}
		if (to != o) {
			if (lseek(r->fd, (off_t)to, SEEK_SET) < 0)
				return -errno;
			r->base = to;
			r->len = r->pos = 0;
		}
	}
	/* active: keep the unfinished tail, read more after it */
	r->data = r->buf;
	if (r->pos) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->base += r->pos;
		r->len -= r->pos;
		r->pos = 0;
	}
	if (grow(r, r->len + 65536) < 0)
		return -ENOMEM;
	r->data = r->buf;
	ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
	if (n < 0)
		return -errno;
	if (n > 0) {
		r->len += (size_t)n;
		return 1;
	}
	/* EOF: finished when a later segment exists (the writer moved on).
	 * A follower looks only when its watch says something was created
	 * since its last look (the writer creates N+1's .jsonl, in a new day
	 * directory maybe: the root's watch sees that), or a wait timed out
	 * (a watch that could not be added): listing the journal at every
	 * end of data was a tenth of the Kafka sink's thread following a busy
	 * journal, two directory reads per wake-up.  An event queued since is
	 * read by the caller's next wait, which then says "read again". */
	if (r->ino >= 0) {
		if (!r->may_rotate && r->newest_seen <= r->seg.n)
			return 0;
		r->may_rotate = false;
	}
	struct jseg *v;
	size_t cnt;
	if (jseg_list(r->dir, &v, &cnt) < 0)
		return 0;
	bool later = cnt && v[cnt - 1].n > r->seg.n;
	if (cnt && v[cnt - 1].n > r->newest_seen)
		r->newest_seen = v[cnt - 1].n;
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

/* ---- the cheap look before the parse ----
 * Parsing a line (jansson) costs tens of microseconds; most lines a window
 * or sandbox query decodes are not wanted.  These scans reject a line only
 * when the parse would: they rely on the mapper's output (compact JSON, keys
 * written by exporter/ocsf*.c, a hostile value's quotes escaped so a value
 * cannot spell a key) and fall back to the parse whenever unsure.  A broken
 * line is still handed out as damage to a reader it may concern (one that
 * carries its sandbox's name); `journal verify` names every one. */

/* Names the writer copies into JSON without escaping (sandbox names are
 * validated to these). */
static bool plain_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

/* Could the line hold "action_id":id?  (any occurrence: the parse decides) */
static bool may_have_action(const char *line, size_t len, int id)
{
	static const char k[] = "\"action_id\":";
	const size_t kl = sizeof k - 1;
	for (const char *p = line, *end = line + len;
	     (p = memmem(p, (size_t)(end - p), k, kl)) != NULL; p += kl)
		if (p + kl < end && p[kl] == '0' + id && (p + kl + 1 == end || p[kl + 1] < '0' ||
		                                           p[kl + 1] > '9'))
			return true;
	return false;
}

/* The top-level "time" when the mapper's layout makes it certain: the first
 * "time" key, before any nested object, an integer.  false = parse. */
static bool fast_time(const char *line, size_t len, int64_t *t)
{
	const char *p = memmem(line, len, "\"time\":", 7);
	if (!p || (p > line + 1 && memchr(line + 1, '{', (size_t)(p - line - 1))))
		return false;
	const char *q = p + 7, *end = line + len;
	int64_t v = 0;
	int digits = 0;
	for (; q < end && *q >= '0' && *q <= '9' && digits < 18; q++, digits++)
		v = v * 10 + (*q - '0');
	if (!digits || q == end || (*q != ',' && *q != '}'))
		return false;
	*t = v;
	return true;
}

/* 1 wanted, 0 filtered out, -1 not an event (a filter cannot judge it). */
static int wanted(struct gb_jreader *r, const char *line, size_t len)
{
	if (!r->filtering)
		return 1;
	if (r->needle_len && !memmem(line, len, r->needle, r->needle_len))
		return 0;
	if (r->f.action_id && !may_have_action(line, len, r->f.action_id))
		return 0;
	int64_t t;
	if ((r->f.since_ms || r->f.until_ms) && fast_time(line, len, &t) &&
	    ((r->f.since_ms && t < r->f.since_ms) || (r->f.until_ms && t > r->f.until_ms)))
		return 0;
	struct gb_jmeta m;
	if (gb_jmeta_parse(line, len, &m, r->sbuf, sizeof r->sbuf) < 0)
		return -1;
	const struct gb_jfilter *f = &r->f;
	if (f->since_ms && m.time_ms < f->since_ms)
		return 0;
	if (f->until_ms && m.time_ms > f->until_ms)
		return 0;
	if (f->sandbox && strcmp(f->sandbox, m.sandbox))
		return 0;
	if (f->class_uid && f->class_uid != m.class_uid)
		return 0;
	if (f->min_severity && m.severity_id != 99 && m.severity_id < f->min_severity)
		return 0;
	if (f->action_id && f->action_id != m.action_id)
		return 0;
	return 1;
}

int gb_jreader_next(struct gb_jreader *r, const char **line, size_t *len, struct gb_jpos *pos)
{
	for (;;) {
		if (r->dmg)
			return damage_line(r, line, len, pos);
		if (r->mode == M_NONE) {
			int rc = start_segment(r);
			if (rc == 3)
				continue; /* the damage is handed out first */
			if (rc <= 0)
				return rc;
		}
		const char *nl = r->pos < r->len ? memchr(r->data + r->pos, '\n', r->len - r->pos) : NULL;
		if (nl) {
			const char *l = r->data + r->pos;
			size_t n = (size_t)(nl - l);
			uint64_t off = r->base + r->pos;
			r->pos += n + 1;
			if (r->from.offset && r->seg.n == r->from.segment && off < r->from.offset)
				continue;
			int w = wanted(r, l, n);
			if (w < 0) {
				/* A broken line (the active segment is not checksummed):
				 * never dropped silently — it is handed out as damage. */
				damage(r, r->seg.n, off, (struct gb_jpos){ r->seg.n, off + n + 1 }, 1, true,
				       "a line of %zu bytes is not an OCSF event", n);
				r->dmg_ms = 0;
				continue;
			}
			if (!w)
				continue;
			*line = l;
			*len = n;
			r->tell = (struct gb_jpos){ r->seg.n, off + n + 1 };
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

struct gb_jpos gb_jreader_tell(const struct gb_jreader *r)
{
	return r->tell;
}

int gb_jreader_wait(struct gb_jreader *r, int timeout_ms)
{
	if (r->polling) {
		/* Out of inotify instances (a per-user limit the host shares, e.g.
		 * hundreds of followers): "may have grown" every POLL_MS. */
		int ms = timeout_ms < 0 || timeout_ms > POLL_MS ? POLL_MS : timeout_ms;
		struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		return 1;
	}
	if (r->ino < 0) {
		/* First wait: watch from now on, and say "may have grown" once so
		 * the caller reads again — a line written between its last read
		 * and this moment is then found by that read, and every later one
		 * wakes the watch. */
		r->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (r->ino < 0) {
			if (errno != EMFILE && errno != ENFILE && errno != ENOMEM)
				return -errno;
			r->polling = true;
			return 1;
		}
		watch_days(r);
		r->may_rotate = true; /* what was created before the watch */
		return 1;
	}
	/* Woken only by what can mean more to read: a segment's .jsonl
	 * written, or something created or moved in (a segment, a seal landing,
	 * a day directory).  The sealer's own writes (the .zst, its index, the
	 * sidecars) are thousands of IN_MODIFY per seal that used to wake every
	 * follower for nothing. */
	int64_t until = timeout_ms >= 0 ? gb_now_ms(CLOCK_MONOTONIC) + timeout_ms : -1;
	for (;;) {
		int left = -1;
		if (until >= 0) {
			int64_t now = gb_now_ms(CLOCK_MONOTONIC);
			left = now >= until ? 0 : (int)(until - now);
		}
		struct pollfd p = { .fd = r->ino, .events = POLLIN };
		int n = poll(&p, 1, left);
		if (n < 0)
			return errno == EINTR ? 1 : -errno;
		if (n == 0) {
			r->may_rotate = true;
			return 0;
		}
		char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
		bool newdir = false, grew = false;
		ssize_t k;
		while ((k = read(r->ino, buf, sizeof buf)) > 0)
			for (char *q = buf; q < buf + k;) {
				struct inotify_event *e = (struct inotify_event *)(void *)q;
				newdir |= (e->mask & IN_ISDIR) != 0;
				if (e->mask & ~(uint32_t)(IN_MODIFY | IN_CLOSE_WRITE)) {
					/* created, moved in, a watch gone, the queue overflowed */
					r->may_rotate = true;
					grew = true;
				} else {
					size_t l = e->len ? strnlen(e->name, e->len) : 0;
					grew |= !l || (l > 6 && !memcmp(e->name + l - 6, ".jsonl", 6));
				}
				q += sizeof *e + e->len;
			}
		if (newdir)
			watch_days(r); /* a new day directory: watch it too */
		if (grew)
			return 1;
	}
}

void gb_jreader_close(struct gb_jreader *r)
{
	if (!r)
		return;
	end_segment(r);
	if (r->ino >= 0)
		close(r->ino);
	ZSTD_freeDCtx(r->dctx);
	list_drop(r);
	free(r->buf);
	gb_buf_free(&r->loss);
	free(r->sandbox);
	free(r->dir);
	free(r);
}

int gb_journal_tail(const char *dir, struct gb_jpos *end)
{
	struct jseg *v;
	size_t n;
	int rc = jseg_list(dir, &v, &n);
	if (rc < 0)
		return rc;
	if (!n) {
		free(v);
		return -ENOENT;
	}
	struct jseg s = v[n - 1];
	free(v);
	*end = (struct gb_jpos){ s.n + 1, 0 }; /* sealed: the next segment's start */
	if (!s.active)
		return 0;
	char p[GB_PATH_MAX];
	if ((rc = jseg_path(p, sizeof p, dir, &s, ".jsonl")) < 0)
		return rc;
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno; /* sealed meanwhile: N+1 */
	struct stat st;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	/* Just after the last line end: a write in progress can have made the
	 * size end inside a line.  Backwards in 64 KiB steps, bounded by the
	 * file. */
	uint64_t at = (uint64_t)st.st_size, found = 0;
	char buf[65536];
	while (at > 0 && !found) {
		size_t k = at < sizeof buf ? (size_t)at : sizeof buf;
		ssize_t got = pread(fd, buf, k, (off_t)(at - k));
		if (got <= 0) {
			rc = got < 0 ? -errno : -EIO;
			break;
		}
		for (ssize_t i = got - 1; i >= 0; i--)
			if (buf[i] == '\n') {
				found = at - k + (uint64_t)i + 1;
				break;
			}
		at -= k;
	}
	close(fd);
	if (rc < 0)
		return rc;
	*end = (struct gb_jpos){ s.n, found };
	return 0;
}

int gb_jreader_gap(struct gb_jreader *r, uint64_t *first, uint64_t *n)
{
	if (!r->gap_n)
		return 0;
	*first = r->gap_first;
	*n = r->gap_n;
	r->gap_first = r->gap_n = 0;
	return 1;
}
