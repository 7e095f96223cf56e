/* exporter/journal_cache.c — sealed segments' indexes, parsed once per
 * process, and the active segment's block sidecar, parsed incrementally
 * (journal_int.h: jidx_read_cached, jblk_read_cached).
 *
 * A window query opens every segment the time range may touch, and parsing
 * an idx.json (jansson, ~13 KB with its frame table) costs 0.5-2 ms: on a
 * 1 M-event journal that alone broke a 50 ms budget.  A sealed index never
 * changes in place (it is written once by an atomic rename; a redone seal
 * renames a new file over it), so an entry is keyed by the path and the
 * file's identity (device, inode, size, mtime) and is valid while they
 * match.  Retention's deletion simply makes the entry unreachable; slots are
 * reused round-robin.  One mutex: readers on the API's connection threads
 * share the cache, and each gets its own copy of the frame table. */
#include "exporter/journal_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SLOTS 256

struct slot {
	bool used;
	char path[GB_PATH_MAX];
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct jidx x;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *slots; /* SLOTS of them, allocated at first use */
static size_t next_victim;

static bool same(const struct slot *s, const char *path, const struct stat *st)
{
	return s->used && s->dev == st->st_dev && s->ino == st->st_ino && s->size == st->st_size &&
	       s->mtime.tv_sec == st->st_mtim.tv_sec && s->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	       !strcmp(s->path, path);
}

/* A copy of src into dst (its own frame table).  0 or -ENOMEM. */
static int copy(struct jidx *dst, const struct jidx *src)
{
	*dst = *src;
	return jidx_copy_frames(dst, src);
}

int jidx_read_cached(const char *path, struct jidx *x)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return errno == ENOENT ? -ENOENT : -EBADMSG;
	if (strlen(path) >= GB_PATH_MAX)
		return jidx_read(path, x);
	pthread_mutex_lock(&lock);
	if (slots)
		for (size_t i = 0; i < SLOTS; i++)
			if (same(&slots[i], path, &st)) {
				int rc = copy(x, &slots[i].x);
				pthread_mutex_unlock(&lock);
				return rc;
			}
	pthread_mutex_unlock(&lock);
	int rc = jidx_read(path, x);
	if (rc < 0)
		return rc;
	struct stat st2;
	/* replaced while we read it: use it, do not keep it */
	if (stat(path, &st2) < 0 || st2.st_ino != st.st_ino || st2.st_size != st.st_size)
		return 0;
	pthread_mutex_lock(&lock);
	if (!slots)
		slots = calloc(SLOTS, sizeof *slots);
	if (slots) {
		struct slot *s = &slots[next_victim];
		next_victim = (next_victim + 1) % SLOTS;
		if (s->used)
			jidx_free(&s->x);
		s->used = false;
		if (copy(&s->x, x) == 0) {
			snprintf(s->path, sizeof s->path, "%s", path);
			s->dev = st.st_dev;
			s->ino = st.st_ino;
			s->size = st.st_size;
			s->mtime = st.st_mtim;
			s->used = true;
		}
	}
	pthread_mutex_unlock(&lock);
	return 0;
}

/* ---- the active segment's block sidecar ----
 *
 * A filtered reader of the active segment needs its blocks (journal_blk.c),
 * and parsing the whole sidecar (jansson, one JSON line per block) again
 * for every query costs up to ~2 ms for a full 64 MiB segment.  The sidecar
 * only ever grows by whole lines while its segment is active, so a few
 * slots keep, per path, the bytes parsed and what they gave; a call reads
 * the file (a few KB, far cheaper than parsing it) and parses only what
 * follows those bytes.  Whenever they are no longer the file's first bytes
 * — a recovery's rewrite, a new journal in the same place, a file edited
 * in place — it is parsed again from its start: a reader never believes a
 * block the file does not say now.  The blocks handed out stop, as
 * jblk_read's do, at the first one that ends beyond the segment's size. */

#define BLK_SLOTS 4

struct blk_slot {
	bool used;
	char path[GB_PATH_MAX];
	char *raw;       /* the sidecar's bytes parsed so far (whole lines) */
	size_t raw_len;
	uint64_t expect; /* where the next block must start */
	bool stopped;    /* a line was not believed: nothing after it is */
	struct jidx x;   /* names and blocks */
};

static struct blk_slot *blk_slots;
static size_t blk_victim;

static void blk_reset(struct blk_slot *b, const char *path, uint64_t segment)
{
	jidx_free(&b->x);
	jidx_init(&b->x, segment, 0);
	free(b->raw);
	b->raw = NULL;
	snprintf(b->path, sizeof b->path, "%s", path);
	b->raw_len = 0;
	b->expect = 0;
	b->stopped = false;
	b->used = true;
}

/* The slot's state after what it holds, with data (len bytes) the file
 * now.  0 or -ENOMEM (the slot is then dropped). */
static int blk_update(struct blk_slot *b, const char *data, size_t len)
{
	if (b->stopped || len <= b->raw_len)
		return 0;
	size_t used;
	int rc = jblk_parse(&b->x, data + b->raw_len, len - b->raw_len, &b->expect, UINT64_MAX,
	                    &used);
	if (rc < 0)
		return rc;
	b->stopped = rc == 1;
	if (!used)
		return 0;
	char *nr = realloc(b->raw, b->raw_len + used);
	if (!nr)
		return -ENOMEM;
	memcpy(nr + b->raw_len, data + b->raw_len, used);
	b->raw = nr;
	b->raw_len += used;
	return 0;
}

int jblk_read_cached(const char *dir, const struct jseg *s, uint64_t file_bytes, struct jidx *x)
{
	char p[GB_PATH_MAX];
	int rc = jseg_path(p, sizeof p, dir, s, ".blk.json");
	if (rc < 0)
		return rc;
	char *data;
	size_t len;
	if ((rc = jblk_slurp(dir, s, &data, &len)) < 0 || !data)
		return rc;
	pthread_mutex_lock(&lock);
	if (!blk_slots)
		blk_slots = calloc(BLK_SLOTS, sizeof *blk_slots);
	if (!blk_slots) {
		pthread_mutex_unlock(&lock);
		uint64_t expect = 0;
		size_t used;
		rc = jblk_parse(x, data, len, &expect, file_bytes, &used);
		free(data);
		return rc < 0 ? rc : 0;
	}
	struct blk_slot *b = NULL;
	for (size_t i = 0; i < BLK_SLOTS && !b; i++)
		if (blk_slots[i].used && !strcmp(blk_slots[i].path, p))
			b = &blk_slots[i];
	if (!b) {
		b = &blk_slots[blk_victim];
		blk_victim = (blk_victim + 1) % BLK_SLOTS;
		blk_reset(b, p, s->n);
	} else if (len < b->raw_len || (b->raw_len && memcmp(data, b->raw, b->raw_len))) {
		blk_reset(b, p, s->n); /* not what was parsed: all again */
	}
	rc = blk_update(b, data, len);
	free(data);
	if (rc < 0)
		b->used = false;
	else {
		/* the names, and the blocks that lie within the segment's bytes */
		memcpy(x->sbx, b->x.sbx, sizeof x->sbx);
		x->n_sbx = b->x.n_sbx;
		x->sbx_overflow = b->x.sbx_overflow;
		size_t n = 0;
		while (n < b->x.n_frames && b->x.frames[n].u_off + b->x.frames[n].u_len <= file_bytes)
			n++;
		if (n) {
			struct jidx_frame *f = malloc(n * sizeof *f);
			if (!f)
				rc = -ENOMEM;
			else {
				memcpy(f, b->x.frames, n * sizeof *f);
				free(x->frames);
				x->frames = f;
				x->n_frames = x->cap_frames = n;
			}
		}
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

/* ---- decoded frames ----
 * A handful of 1 MiB frames (FRAME_SLOTS, each at most J_FRAME_CACHE_MAX):
 * what repeated and paginated queries touch; a sink reading through
 * gigabytes only churns them.  LRU by a use counter. */

#define FRAME_SLOTS 8

static struct {
	struct jframe *f;
	uint64_t used;
} frames[FRAME_SLOTS];
static uint64_t frame_clock;

struct jframe *jframe_new(size_t len)
{
	struct jframe *f = malloc(sizeof *f + (len ? len : 1));
	if (f) {
		memset(f, 0, sizeof *f);
		f->refs = 1;
		f->len = len;
	}
	return f;
}

static bool frame_is(const struct jframe *f, const struct stat *st, uint64_t c_off,
                     uint64_t c_len)
{
	return f->dev == st->st_dev && f->ino == st->st_ino && f->size == st->st_size &&
	       f->mtime.tv_sec == st->st_mtim.tv_sec && f->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	       f->c_off == c_off && f->c_len == c_len;
}

struct jframe *jframe_get(const struct stat *zst, uint64_t c_off, uint64_t c_len)
{
	struct jframe *hit = NULL;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < FRAME_SLOTS && !hit; i++)
		if (frames[i].f && frame_is(frames[i].f, zst, c_off, c_len)) {
			hit = frames[i].f;
			hit->refs++;
			frames[i].used = ++frame_clock;
		}
	pthread_mutex_unlock(&lock);
	return hit;
}

static void unref(struct jframe *f)
{
	if (--f->refs == 0)
		free(f);
}

void jframe_add(struct jframe *f)
{
	if (f->len > J_FRAME_CACHE_MAX)
		return;
	pthread_mutex_lock(&lock);
	size_t v = 0;
	for (size_t i = 0; i < FRAME_SLOTS; i++) {
		if (frames[i].f && frames[i].f->dev == f->dev && frames[i].f->ino == f->ino &&
		    frames[i].f->c_off == f->c_off && frames[i].f->c_len == f->c_len) {
			v = i; /* the same frame, decoded by two readers at once */
			break;
		}
		if (!frames[i].f || frames[i].used < frames[v].used)
			v = i;
		if (!frames[v].f)
			break;
	}
	if (frames[v].f)
		unref(frames[v].f);
	f->refs++;
	frames[v].f = f;
	frames[v].used = ++frame_clock;
	pthread_mutex_unlock(&lock);
}

void jframe_put(struct jframe *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&lock);
	unref(f);
	pthread_mutex_unlock(&lock);
}
