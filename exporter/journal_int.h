/* exporter/journal_int.h — what the journal's files share: segment names and
 * listing, the per-segment index (in memory and as idx.json), head.json and
 * chain.json.  Not a public contract (journal.h is). */
#ifndef GB_EXPORTER_JOURNAL_INT_H
#define GB_EXPORTER_JOURNAL_INT_H

#include "exporter/journal.h"

#include "common/clock.h"
#include "common/fsutil.h"
#include "common/paths.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#define J_NAME_DIGITS 12
/* Largest uncompressed frame a reader accepts (frames are ~frame_bytes,
 * 1 MiB by default, cut at line ends): bounds what a damaged index can make
 * a reader allocate. */
#define J_FRAME_MAX (256ull << 20)

/* One segment found on disk. */
struct jseg {
	uint64_t n;
	char day[11];   /* YYYY-MM-DD */
	bool active;    /* .jsonl present and no .zst + index: being written, or
	                 * rotated and not yet sealed (the sealer's, when not
	                 * the newest) */
	bool sealed;    /* .zst present */
	bool has_idx;
	bool has_jsonl; /* a leftover .jsonl next to a finished seal */
};

/* All segments under dir, sorted by number.  *out is malloc'd. */
int jseg_list(const char *dir, struct jseg **out, size_t *n);
/* DIR/DAY/NNNN<suffix> */
int jseg_path(char *buf, size_t len, const char *dir, const struct jseg *s, const char *suffix);

/* Counters kept per segment and written to its index. */
#define J_MAX_SANDBOXES 64
#define J_MAX_CLASSES 16
#define J_FRAME_SBX 16
#define J_ST_MANY 0xff
/* A frame of a sealed segment, or a block of the active one (the same
 * cut: the first line end at or after frame_bytes, so a block becomes the
 * frame of the same bytes at seal).  The time range and the sandbox sets
 * let a reader skip it without decoding; sandbox sets are bit masks over
 * the segment's sbx table (bit i = sbx[i]; all bits when has_meta is false
 * or the table overflowed: nothing can be skipped). */
struct jidx_frame {
	uint64_t c_off, c_len; /* in the .zst (0 for a block of the active segment) */
	uint64_t u_off, u_len; /* in the uncompressed stream */
	uint64_t lines;
	bool has_meta;
	int64_t min_ms, max_ms;        /* event times (0 = events without time) */
	uint64_t sbx, deny, allow;     /* sandboxes with events, denied, allowed */
	/* each sandbox's own time range (a frame mixes a drain thread's late
	 * batch with others' current ones: the frame's range alone is wide);
	 * n_st = J_ST_MANY when more sandboxes than fit, or unknown */
	uint8_t n_st;
	struct jidx_st { uint8_t bit; int64_t min_ms, max_ms; } st[J_FRAME_SBX];
};
struct jidx {
	uint64_t segment;
	int64_t first_ms, last_ms; /* event times; 0 when empty */
	int64_t opened_ms;
	uint64_t events, bytes;    /* bytes = uncompressed length */
	struct { char name[64]; uint64_t n; } sbx[J_MAX_SANDBOXES];
	size_t n_sbx;
	bool sbx_overflow;         /* more sandboxes than fit: a filter cannot skip */
	struct { uint32_t uid; uint64_t n; } cls[J_MAX_CLASSES];
	size_t n_cls;
	uint64_t sev[8];           /* severity_id 0..6, [7] = 99 Other */
	struct jidx_frame *frames;
	size_t n_frames, cap_frames;
	/* the active segment's open block (jidx_count cuts blocks when
	 * frame_bytes is set) */
	uint32_t frame_bytes;
	struct jidx_frame blk;
	char sha256[65], prev_sha256[65];
};

void jidx_init(struct jidx *x, uint64_t segment, int64_t opened_ms);
void jidx_free(struct jidx *x);
void jidx_count(struct jidx *x, const struct gb_jmeta *m, size_t line_bytes);
/* Could this segment hold an event the filter wants? */
bool jidx_may_match(const struct jidx *x, const struct gb_jfilter *f);
/* Could this frame (or block) of x hold one?  Frames without meta: yes. */
bool jidx_frame_may_match(const struct jidx *x, const struct jidx_frame *fr,
                          const struct gb_jfilter *f);
/* A copy of x's frames (n_frames of them) into dst, which owns the copy. */
int jidx_copy_frames(struct jidx *dst, const struct jidx *src);

/* The active segment's block sidecar (NNNN.blk.json, journal_blk.c): one
 * JSON line per closed block, appended after the block's data is written;
 * rewritten whole at recovery, removed at seal.  A hint that readers check
 * (contiguous from 0, within the file) and verify recomputes. */
int jblk_append(const char *dir, const struct jseg *s, const struct jidx *x, size_t from);
int jblk_rewrite(const char *dir, const struct jseg *s, const struct jidx *x);
/* Read the sidecar into x->frames (names resolved against x->sbx, which is
 * filled from the names found).  Stops at the first block that does not
 * continue the previous one or ends beyond file_bytes. */
int jblk_read(const char *dir, const struct jseg *s, uint64_t file_bytes, struct jidx *x);
/* The same, kept between calls (journal_cache.c): the sidecar only grows
 * while its segment is active, so a reader's call parses only the lines
 * appended since the last one — when the bytes it parsed before are still
 * the file's first bytes (compared at every call), else all again. */
int jblk_read_cached(const char *dir, const struct jseg *s, uint64_t file_bytes, struct jidx *x);
/* Its parts: the sidecar's bytes (*data malloc'd, NULL when there is none;
 * at most J_BLK_FILE_MAX), and its whole lines from buf into x, blocks
 * continuing *expect and ending within limit, *used = the bytes taken:
 * 0 (the end, or an unfinished last line), 1 (stopped at a line not
 * believed), -ENOMEM. */
#define J_BLK_MAX (1u << 16)
#define J_BLK_FILE_MAX (64ull << 20)
int jblk_slurp(const char *dir, const struct jseg *s, char **data, size_t *len);
int jblk_parse(struct jidx *x, const char *buf, size_t len, uint64_t *expect, uint64_t limit,
               size_t *used);
/* Decoded frames of sealed segments, shared by a process's readers
 * (journal_cache.c): a query that pages with a cursor, a dashboard that
 * asks again, a small logs query decode the same 1 MiB frame to hand out
 * a few lines.  Only frames that decoded whole (zstd checksum, the index's
 * length) are kept, keyed by the .zst's identity (device, inode, size,
 * mtime: a rewrite in place is another file) and the frame's place in it.
 * An entry is immutable and reference-counted: get() gives a reference or
 * NULL, put() drops one; add() takes the caller's frame (refs = 1, the
 * caller's) and keeps a reference of its own when it fits. */
struct jframe {
	int refs; /* under the cache's lock */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	uint64_t c_off, c_len;
	size_t len;
	char data[];
};
#define J_FRAME_CACHE_MAX (4u << 20) /* larger frames are not kept */
struct jframe *jframe_new(size_t len);
struct jframe *jframe_get(const struct stat *zst, uint64_t c_off, uint64_t c_len);
void jframe_add(struct jframe *f);
void jframe_put(struct jframe *f);

/* A frame's meta as JSON keys of f (min_ms, max_ms, sbx/deny/allow as
 * sandbox names, "*" for all), and back against x's sandbox table. */
void jidx_frame_meta_json(json_t *f, const struct jidx *x, const struct jidx_frame *fr);
int jidx_frame_meta_parse(json_t *f, const struct jidx *x, struct jidx_frame *fr);
/* Recompute one frame's meta from its lines (the seal when no block was
 * tracked; verify). */
void jidx_frame_meta(const struct jidx *x, struct jidx_frame *fr, const char *data, size_t len);
int jidx_write(const char *path, const struct jidx *x);
int jidx_read(const char *path, struct jidx *x);
/* The same through a per-process cache of sealed indexes, keyed by the
 * file's identity (journal_cache.c; thread-safe).  For readers only. */
int jidx_read_cached(const char *path, struct jidx *x);

/* head.json / chain.json: {"segment": N, "sha256": "..."} */
int jchain_write(const char *dir, const char *file, uint64_t segment, const char *sha);
int jchain_read(const char *dir, const char *file, uint64_t *segment, char sha[65]);

/* Seal: compress the .jsonl of segment s into .zst frames cut at line
 * boundaries, finish x (frames, sha256; prev_sha256 must be set), write the
 * index and head.json, then remove the .jsonl.  Used by the writer and by
 * crash recovery. */
int jseal(const char *dir, const struct jseg *s, struct jidx *x, uint32_t frame_bytes, int level);

/* Tests only: while held, the writer's sealer starts no seal (rotations
 * still queue up to the bound, then wait), so a test can look at the
 * journal with rotated segments unsealed.  gb_journal_close ends a hold;
 * gb_journal_rotate and gb_journal_settle must not be called during one
 * (they would wait for the held sealer). */
void jseal_hold(struct gb_journal *j, bool hold);

/* Tests only: the pause before a failed seal's next try, doubled per try
 * from min_ms up to max_ms (default 250 ms .. 30 s); takes effect at the
 * next pause. */
void jseal_retry_pause(struct gb_journal *j, int64_t min_ms, int64_t max_ms);

#endif
