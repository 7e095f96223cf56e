/* exporter/journal_held.h — which of a ring's unacknowledged records the
 * journal already holds.
 *
 * A daemon killed after a batch's journal write and before the ring commit
 * leaves records that are journaled but unacknowledged: the next daemon
 * reads them again.  It asks this module which of them the journal already
 * holds and skips exactly those, so journaling is exactly once per
 * (sandbox id, sequence).  A record is "held" only on positive evidence: a
 * line of the sandbox whose metadata.uid is "SID:SEQ" and whose top-level
 * time is the record's own time (the producer's timestamp, which the
 * mapper copies into the event) — so a record that is not in the journal is
 * never skipped, whatever the journal holds of other rings or runs.
 *
 * Ownership: the caller owns recs; nothing is kept after the call.  Reads
 * the journal through a gb_jreader (independent of the writer); the caller
 * serialises against its own writer (no seal or write while it reads).
 */
#ifndef GB_EXPORTER_JOURNAL_HELD_H
#define GB_EXPORTER_JOURNAL_HELD_H

#include <stddef.h>
#include <stdint.h>

struct gb_held_rec {
	uint64_t seq;
	int64_t time_ms; /* the record's ts_ns / 1e6, as the event's "time" */
};

/* recs[0..n): a ring's records after its commit point, in ring order
 * (ascending sequences).  Reads the journal's events of sandbox `name` with
 * a time at or after the earliest of recs (the index and block sidecar let
 * the reader skip everything older: this reads the journal's tail) and sets
 * held[i] when recs[i] is held by a line with uid "sid:SEQ" and the same
 * time.  Returns how many are held (0..n), or -errno when the journal
 * cannot be read (held[] then all 0: the caller skips nothing). */
int gb_journal_held(const char *dir, const char *name, const char *sid,
                    const struct gb_held_rec *recs, size_t n, uint8_t *held);

#endif
