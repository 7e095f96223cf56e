/* exporter/evidence.h — the offline-verifiable evidence bundle:
 * `glassbox evidence export|verify`.
 *
 * A bundle is a ustar file (tar.h):
 *   manifest.json              format, host, range, key id, and for every
 *                              other member its size and SHA-256 (and for a
 *                              segment: its number, events and time range)
 *   journal.pub                the host's checkpoint key (checkpoint.h)
 *   journal/DAY/N.jsonl.zst    the sealed segments covering the range, with
 *   journal/DAY/N.idx.json     their indexes, as stored
 *   journal/DAY/N.jsonl        the active segment as of the export (to its
 *                              last whole line)
 *   checkpoints.jsonl          every checkpoint event of the range (copies:
 *                              the segments hold them too)
 *   policy-revisions.jsonl     the CONFIG events (policy loaded, updated,
 *                              approved, rejected) of the range, authors and
 *                              approvals as recorded
 *
 * Verification needs nothing but the bundle (or, better, the host's public
 * key from elsewhere, --key): every member against the manifest, no member
 * the manifest does not name, then the checkpoints (gb_ckpt_verify) over
 * the bundled segments.  A member that differs is reported with the
 * segment and event range it holds.
 *
 * Ownership: options are borrowed for the call.
 */
#ifndef GB_EXPORTER_EVIDENCE_H
#define GB_EXPORTER_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "exporter/checkpoint.h"

#define GB_EVIDENCE_FORMAT "glassbox-evidence/1"

struct gb_evidence_opts {
	const char *journal_dir;
	const char *pub_path;  /* the key to bundle (journal.pub) */
	int64_t since_ms;      /* 0 = everything */
	const char *sandbox;   /* NULL = all; else only segments holding its events
	                        * (and glassbox's own: checkpoints, losses) */
	const char *hostname;
	const char *out;       /* FILE.tar, replaced atomically */
};

struct gb_evidence_stats {
	uint64_t segments, events, checkpoints, config_events;
};

/* 0 or -errno with err. */
int gb_evidence_export(const struct gb_evidence_opts *o, struct gb_evidence_stats *st, char *err,
                       size_t errlen);

/* Check a bundle.  key_path NULL = the bundled journal.pub (then the
 * result says only that the bundle is self-consistent with that key).
 * res gets the checkpoint result over the bundled segments (free it with
 * gb_ckpt_result_free).  Returns the number of problems, or -errno with err
 * when the bundle cannot be read at all. */
int gb_evidence_verify(const char *tar_path, const char *key_path,
                       void (*report)(void *arg, const char *text), void *arg,
                       struct gb_ckpt_result *res, char *key_id, char *err, size_t errlen);

#endif
