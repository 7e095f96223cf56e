/* exporter/journal.h — the journal: the source of truth for every OCSF event.
 *
 * Layout under the journal directory (default <root>/var/lib/glassbox/journal):
 *
 *   YYYY-MM-DD/NNNNNNNNNNNN.jsonl      the active segment: OCSF JSON lines
 *   YYYY-MM-DD/NNNNNNNNNNNN.jsonl.zst  a sealed segment: zstd, one frame per
 *                                      ~frame_bytes of whole lines, each frame
 *                                      decodable on its own
 *   YYYY-MM-DD/NNNNNNNNNNNN.idx.json   its index: time range, sandboxes,
 *                                      counts by class and severity, frame
 *                                      table, SHA-256 of the .zst and of the
 *                                      previous sealed segment
 *   head.json                          last sealed segment and its SHA-256
 *   chain.json                         where the chain starts after retention
 *
 * Segment numbers (N) increase by one and never repeat; the day directory is
 * the UTC day the segment was opened.  A position in the journal is a
 * gb_jpos {segment, offset}: offset counts uncompressed bytes, so it means
 * the same before and after sealing.
 *
 * Writing: one writer per directory (an flock on DIR/.lock).  Each append is
 * one write(2) of a whole line (or, with buffer_bytes, a batch of lines goes
 * in one write at gb_journal_flush), so the line survives a crash of the
 * process once written and of the host after the next fsync (group commit:
 * every fsync_interval_ms by default).  Segments rotate by size and age; retention
 * deletes the oldest sealed segments by age and total size and says what it
 * deleted, so the caller can report undelivered events as LOSS.
 *
 * Sealing is in the background: a rotation syncs and closes the active
 * segment and opens the next; the writer handle's own sealer thread then
 * compresses it, oldest first (each index names the previous segment's
 * SHA-256).  Until then a rotated segment is an unsealed .jsonl that is not
 * the newest, which every reader, retention and verify take as such; at
 * most 2 wait (a rotation beyond that waits for the sealer).
 *
 * Ownership: handles are the caller's, released with the matching close.
 * A writer handle owns its sealer thread (started at the first rotation,
 * finished and joined by gb_journal_close).  A writer handle is not
 * thread-safe (serialise appends; the sealer shares nothing with the
 * caller but what the handle locks itself); readers are independent of the
 * writer and of each other.
 */
#ifndef GB_EXPORTER_JOURNAL_H
#define GB_EXPORTER_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gb_fsync_mode {
	GB_FSYNC_GROUP,  /* fsync at most every fsync_interval_ms (default) */
	GB_FSYNC_ALWAYS, /* fsync after every append */
	GB_FSYNC_NEVER,  /* leave it to the kernel */
};

struct gb_journal_opts {
	const char *dir;
	uint64_t segment_bytes;     /* rotate at this size; 0 = 64 MiB */
	uint32_t segment_age_s;     /* rotate when this old; 0 = 3600 */
	uint32_t frame_bytes;       /* uncompressed bytes per zstd frame; 0 = 1 MiB */
	int zstd_level;             /* 0 = 3 */
	enum gb_fsync_mode fsync;
	uint32_t fsync_interval_ms; /* 0 = 100 */
	uint64_t retain_bytes;      /* sealed bytes kept; 0 = no limit */
	uint32_t retain_age_s;      /* sealed segments older than this go; 0 = no limit */
	uint32_t buffer_bytes;      /* 0: every append is one write(2); else appends
	                             * collect in memory until gb_journal_flush() (or
	                             * the buffer fills) — for a caller that
	                             * acknowledges its input only after a flush */
};

/* What the index needs to know about one event. */
struct gb_jmeta {
	int64_t time_ms;
	const char *sandbox; /* metadata.log_name; NULL or "" = none */
	uint32_t class_uid;
	uint8_t severity_id;
	uint8_t action_id;   /* OCSF action_id: 1 allowed, 2 denied, 0 none */
};

struct gb_jpos {
	uint64_t segment;
	uint64_t offset;
};

struct gb_journal;

/* Open (creating directories) for writing.  Recovers from a crash: an
 * unfinished seal is redone, a torn last line of the active segment is cut
 * (and counted in *torn if not NULL), the active segment's index counters
 * are rebuilt.  Returns 0, -EBUSY when another writer holds the directory,
 * other -errno.  err gets a sentence on failure. */
int gb_journal_open(const struct gb_journal_opts *o, struct gb_journal **out, char *err,
                    size_t errlen);

/* Append one event (a JSON object without newline).  Rotates first when the
 * active segment is full or too old.  *pos (may be NULL) gets the event's
 * position.  Returns 0 or -errno (the event was not written). */
int gb_journal_append(struct gb_journal *j, const char *line, size_t len,
                      const struct gb_jmeta *m, struct gb_jpos *pos);

/* Write what appends collected (buffer_bytes).  On failure nothing of the
 * batch stays in the segment or the index: the caller re-appends it.
 * Returns 0 or -errno. */
int gb_journal_flush(struct gb_journal *j);
/* How many flushes failed and were undone so far: a caller that appended
 * into the buffer and sees this change before its own flush knows its
 * events were dropped with someone else's batch. */
uint64_t gb_journal_rollbacks(const struct gb_journal *j);
/* How many writes reached the segment so far (a buffer flushed, or a line
 * too long for the buffer written at once).  An event appended when this
 * read W is on disk once it reads more than W — even if the caller's own
 * later flush fails: a flush undoes only what is still buffered. */
uint64_t gb_journal_writes(const struct gb_journal *j);
/* Is an event on disk that was appended when gb_journal_writes() read w and
 * gb_journal_rollbacks() read r?  Only if a write came after it and before
 * the next rollback (a rollback drops everything still buffered, a write
 * takes all of it): writes moving on alone does not say so when a rollback
 * dropped the event first (journal_full under TSan).  false when it cannot
 * be told any more (64 rollbacks later). */
bool gb_journal_durable(const struct gb_journal *j, uint64_t w, uint64_t r);

/* Housekeeping: due group commit, rotation by age.  Call it every ~100 ms. */
int gb_journal_tick(struct gb_journal *j);

/* Seal the active segment now (if it has events) and wait for that seal;
 * the next append opens a new one.  (Rotations by size and age inside
 * append and tick do not wait: the sealer thread seals in the background.)
 * 0, or -errno from the flush, the sync or the seal. */
int gb_journal_rotate(struct gb_journal *j);

/* Wait until every rotated segment is sealed (the sealer has nothing left).
 * 0, or the error of a seal that failed since the last call (logged when it
 * happened; its .jsonl stays and the next open seals it). */
int gb_journal_settle(struct gb_journal *j);

/* The newest segment whose seal has ended (by this handle's sealer, or found
 * sealed at open); 0 = none.  Moves when a seal is done, never backwards:
 * what the checkpoint signer watches.  Safe from any thread. */
uint64_t gb_journal_sealed(const struct gb_journal *j);

/* Apply retention to sealed segments (oldest first) by age and total size.
 * For each segment about to be deleted, on_delete (may be NULL) gets its
 * number and event count while the segment can still be read, so the caller
 * can count what a sink had not delivered and report it as LOSS. */
int gb_journal_retain(struct gb_journal *j,
                      void (*on_delete)(void *arg, uint64_t segment, uint64_t events), void *arg);

/* Position the next append will get. */
struct gb_jpos gb_journal_end(const struct gb_journal *j);

/* fsync and close; the active segment stays active for the next open.
 * Waits for the sealer to seal every rotated segment first. */
void gb_journal_close(struct gb_journal *j);

/* ---- reading ---- */

struct gb_jfilter {
	int64_t since_ms, until_ms; /* 0 = unbounded */
	const char *sandbox;        /* NULL = all */
	int min_severity;           /* 0 = all */
	uint32_t class_uid;         /* 0 = all */
	uint8_t action_id;          /* 0 = all, 1 allowed, 2 denied */
};

struct gb_jreader;

/* Read events in journal order from `from` (NULL = the oldest).  Segments
 * whose index rules them out under the filter are skipped without reading,
 * and so are frames of a sealed segment and blocks of the active one whose
 * time range and sandbox sets rule them out (idx.json, NNNN.blk.json). */
int gb_jreader_open(const char *dir, const struct gb_jfilter *f, const struct gb_jpos *from,
                    struct gb_jreader **out);
/* Next matching event: 1 with *line and *len (valid until the next call, no
 * newline) and *pos (may be NULL), 0 at the current end, -errno on error.
 * 2: damage was skipped (a sealed frame that does not decode, a sealed
 * segment whose index is unreadable): *line is an OCSF LOSS event (Event
 * Log Activity, status_detail "journal_damaged", count = the events the
 * index puts there, the positions in its message) to deliver like any
 * event, returned whatever the filter, *pos is where the damage starts;
 * reading continues after it.  Damage never makes next() fail. */
int gb_jreader_next(struct gb_jreader *r, const char **line, size_t *len, struct gb_jpos *pos);
/* Where reading continues after what next() returned last (for an event,
 * pos.offset + len + 1; after damage, its end): what a cursor stores. */
struct gb_jpos gb_jreader_tell(const struct gb_jreader *r);
/* Sleep until the journal may have grown (inotify, no polling) or
 * timeout_ms passes (-1 = forever).  Returns 1 woken, 0 timeout, -errno.
 * With no inotify instance to be had (EMFILE: the per-user limit), it
 * wakes every 100 ms instead, saying "may have grown". */
int gb_jreader_wait(struct gb_jreader *r, int timeout_ms);
void gb_jreader_close(struct gb_jreader *r);
/* Segments the reader found gone when it reached them (retention deleted
 * them first: a reader resumed from an old position, or one that fell
 * behind): 1 with the first missing segment and how many (then cleared),
 * 0 when nothing was skipped since the last call. */
int gb_jreader_gap(struct gb_jreader *r, uint64_t *first, uint64_t *n);

/* Where the journal ends now: just after the last whole line of the newest
 * segment (what a follower that wants only new events starts from).
 * 0 or -errno. */
int gb_journal_tail(const char *dir, struct gb_jpos *end);

/* Index fields of one OCSF JSON line (sandbox is copied into sbuf). */
int gb_jmeta_parse(const char *line, size_t len, struct gb_jmeta *m, char *sbuf, size_t sbuflen);

/* ---- positions (journal_pos.c) ---- */

/* How far pos is behind the journal's end: *segments from pos's segment to
 * the newest (0 = in the newest), *bytes uncompressed bytes after pos
 * (sealed segments' sizes from their index, the active one's file size).
 * 0 or -errno (both counts are then 0). */
int gb_journal_lag(const char *dir, const struct gb_jpos *pos, uint64_t *segments,
                   uint64_t *bytes);
/* How many events of pos->segment start before pos->offset (what a sink
 * whose cursor is pos has delivered of that segment).  For a sealed
 * segment the index's per-frame line counts answer all but the frame
 * holding the offset, which alone is decoded.  0 or -errno. */
int gb_journal_lines_before(const char *dir, const struct gb_jpos *pos, uint64_t *lines);

/* ---- verification ---- */

/* Check the chain: every sealed segment's SHA-256 matches its index and the
 * next segment's prev link, numbers are contiguous, the last sealed segment
 * matches head.json, every frame decodes and the counts match the index.
 * Each problem is reported through report(arg, text).  Returns the number of
 * problems (0 = intact) or -errno when the journal cannot be read. */
int gb_journal_verify(const char *dir, void (*report)(void *arg, const char *text), void *arg,
                      uint64_t *segments_checked);

#endif
