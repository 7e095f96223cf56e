/* exporter/journal_cache.c — sealed segments' indexes, parsed once per
 * process (journal_int.h: jidx_read_cached).
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
