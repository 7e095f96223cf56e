/* common/ring.h — one sandbox's event ring: a shared-memory file mapped by
 * many producers (threads of the supervisor/proxy) and one consumer (the
 * daemon, another process).  Lock-free with C11 atomics.
 *
 * Records are variable length: a ring header (length, type, flags, sequence,
 * CLOCK_REALTIME ns) then the payload (see record.h).  A producer reserves
 * space with atomics (no lock, no syscall on the fast path), writes, then
 * publishes; the consumer reads published records in sequence order.
 *
 * Full ring: by default a write fails fast with -ENOBUFS and is counted in the
 * shared header (dropped count and sequence range), so the consumer learns
 * exactly how many records were lost and where.  GB_RING_WAIT makes the
 * producer wait up to a timeout for space instead (fail-closed auditing).
 *
 * Abandoned reservations: a producer that dies between reserve and publish
 * leaves a slot that is never published.  The consumer waits for it up to
 * `abandon_ms` (gb_ring_consumer_opts) while it can see later records are
 * published, then skips it and reports it as loss (cause ABANDONED).
 *
 * The consumer position lives in the shared header: a restarted consumer
 * resumes after the last record it acknowledged with gb_ring_consume() (or,
 * with deferred_commit, the last gb_ring_commit()).  A
 * restarted producer (gb_ring_open_producer on an existing file) continues
 * the sequence; gb_ring_create() on an existing file starts a new generation,
 * which the consumer detects and reports.
 *
 * Ownership: a struct gb_ring is owned by the opener and released with
 * gb_ring_close(); the file stays.  Threads of one process may share one
 * producer handle.  The consumer handle is single-threaded.
 */
#ifndef GB_COMMON_RING_H
#define GB_COMMON_RING_H

#include <stddef.h>
#include <stdint.h>

#define GB_RING_DEFAULT_SIZE (16u << 20) /* data area bytes; power of two */
/* A finished sandbox whose ring still holds undrained records leaves it as
 * <root>/run/glassbox/GB_RING_LEFTOVER_DIR/NAME@TAG.ring (NAME never holds
 * '@'); glassbox serve drains it and removes it once journaled. */
#define GB_RING_LEFTOVER_DIR "leftover"

struct gb_ring;

struct gb_ring_opts {
	size_t size;            /* data area, power of two >= 4096; 0 = default */
	const char *sandbox_id; /* stored in the header (<= 63 bytes) */
};

/* Create (or re-initialise, starting a new generation) the ring file at path,
 * mode 0600, and open it as a producer. */
int gb_ring_create(const char *path, const struct gb_ring_opts *opts, struct gb_ring **out);
/* Open an existing ring as a producer; the sequence continues. */
int gb_ring_open_producer(const char *path, struct gb_ring **out);
/* Open an existing ring as its consumer. */
int gb_ring_open_consumer(const char *path, struct gb_ring **out);
void gb_ring_close(struct gb_ring *r);

const char *gb_ring_sandbox_id(const struct gb_ring *r);
uint64_t gb_ring_generation(const struct gb_ring *r);
size_t gb_ring_max_record(const struct gb_ring *r); /* largest payload accepted */

/* ---- producer ---- */

#define GB_RING_WAIT 0x1u /* wait for space (up to timeout_ms) instead of dropping */

/* Copy a payload in as one record.  Returns 0 and stores the sequence number
 * in *seq (may be NULL); -ENOBUFS when full (counted as dropped), -ETIMEDOUT
 * when GB_RING_WAIT timed out (also counted), -EMSGSIZE when the payload can
 * never fit. */
int gb_ring_write(struct gb_ring *r, uint16_t type, uint16_t flags, const void *payload,
                  size_t len, unsigned wflags, int timeout_ms, uint64_t *seq);

/* Zero-copy variant: reserve len bytes, fill slot->data, then publish. */
struct gb_ring_slot {
	void *data;
	size_t len;
	uint64_t seq;
	void *priv_; /* ring internal */
};
int gb_ring_reserve(struct gb_ring *r, uint16_t type, uint16_t flags, size_t len,
                    unsigned wflags, int timeout_ms, struct gb_ring_slot *slot);
void gb_ring_publish(struct gb_ring *r, struct gb_ring_slot *slot);

/* ---- consumer ---- */

struct gb_ring_consumer_opts {
	int abandon_ms;      /* how long an unpublished slot may block later ones; 0 = 2000 */
	int deferred_commit; /* consume() moves only this handle's position; the
	                      * shared one (what a restart resumes from, and what
	                      * frees space for producers) moves at gb_ring_commit().
	                      * For a consumer that makes a batch durable at once. */
};
void gb_ring_consumer_set(struct gb_ring *r, const struct gb_ring_consumer_opts *o);

/* Publish the position reached by gb_ring_consume() (deferred_commit). */
void gb_ring_commit(struct gb_ring *r);
/* Forget the consume()s since the last commit: the next gb_ring_next()
 * starts again after the committed position (the batch could not be made
 * durable and will be handled again). */
void gb_ring_rewind(struct gb_ring *r);

/* What gb_ring_next() hands out.  For a LOSS entry (is_loss) the fields
 * loss_cause/first_seq/last_seq/count describe what was lost, and data/len
 * are empty; otherwise data points into the shared mapping and stays valid
 * until gb_ring_consume(). */
struct gb_ring_entry {
	int is_loss;
	uint16_t type, flags;
	uint64_t seq, ts_ns;
	const void *data;
	size_t len;
	/* loss */
	uint8_t loss_cause; /* gb_loss_cause (record.h) */
	uint64_t first_seq, last_seq, count;
};

/* Next record or loss report in sequence order.  Returns 1 with *e filled,
 * 0 when nothing arrived within timeout_ms (sleeps on a futex; -1 = forever,
 * 0 = poll), negative errno on error.  The entry must be acknowledged with
 * gb_ring_consume() before the next call; until then a restarted consumer
 * would see it again, and so does the next gb_ring_next(). */
int gb_ring_next(struct gb_ring *r, struct gb_ring_entry *e, int timeout_ms);
/* Acknowledge the entry the last gb_ring_next() handed out (the handle
 * remembers it; a second call does nothing). */
void gb_ring_consume(struct gb_ring *r);

/* Counters from the shared header, for metrics and tests. */
struct gb_ring_stats {
	uint64_t generation;
	uint64_t next_seq;    /* next sequence a producer will take */
	uint64_t read_seq;    /* next sequence the consumer expects */
	uint64_t dropped;     /* records refused for lack of space, all time */
	uint64_t drop_first, drop_last; /* pending (not yet reported) drop range */
	uint64_t abandoned;   /* reservations skipped by the consumer */
	size_t size, used;
};
void gb_ring_stats(const struct gb_ring *r, struct gb_ring_stats *s);

#endif
