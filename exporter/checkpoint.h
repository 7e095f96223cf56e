/* exporter/checkpoint.h — signed journal checkpoints: the host vouches, with
 * an Ed25519 key, for exactly which bytes the journal held at a moment.
 *
 * The hash chain (journal_verify.c) tells an altered segment from an intact
 * one only to someone who trusts the host: whoever rewrites a segment, its
 * index and head.json consistently is not detected.  A checkpoint closes
 * that gap for everyone who holds the public key: it is a signature over
 *
 *   seal:  a sealed segment's number, the SHA-256 of its .zst exactly as
 *          stored, its event count and uncompressed length, the previous
 *          segment's SHA-256 (made right after every seal);
 *   tail:  the active segment's number, a length O, the SHA-256 of its
 *          first O uncompressed bytes and the events in them (made every
 *          checkpoint_interval, and when the daemon stops);
 *
 * and the time.  Each checkpoint is journaled as an OCSF event (Event Log
 * Activity 1008, activity Other "Checkpoint", the signed fields in
 * unmapped.checkpoint), so every sink carries a copy off the host.
 *
 * Key: <keys dir>/journal.key (PKCS#8 PEM, 0600, directory 0700) and
 * journal.pub (SubjectPublicKeyInfo PEM), created at the daemon's first
 * start.  key_id = the first 16 hex digits of SHA-256(raw public key).
 *
 * Ownership: a gb_ckpt is plain data.  EVP_PKEYs returned are the caller's
 * (EVP_PKEY_free); the signer is released by gb_ckpt_signer_close.
 */
#ifndef GB_EXPORTER_CHECKPOINT_H
#define GB_EXPORTER_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "exporter/journal.h"
#include "exporter/ocsf.h"

#define GB_CKPT_FORMAT "glassbox-checkpoint/1"
#define GB_CKPT_KEY_FILE "journal.key"
#define GB_CKPT_PUB_FILE "journal.pub"
#define GB_CKPT_DEFAULT_INTERVAL_S 600

enum gb_ckpt_kind { GB_CKPT_SEAL = 1, GB_CKPT_TAIL = 2 };

struct gb_ckpt {
	enum gb_ckpt_kind kind;
	uint64_t segment;
	uint64_t offset;      /* uncompressed bytes covered (seal: the whole segment) */
	uint64_t events;      /* lines in them */
	char sha256[65];      /* seal: of the .zst; tail: of the first offset bytes */
	char prev_sha256[65]; /* the previous sealed segment's .zst ("" = none) */
	int64_t time_ms;      /* when it was signed (also its metadata.uid) */
	char key_id[17];
	char sig[129];        /* Ed25519 signature, hex */
};

/* ---- keys (checkpoint_key.c) ---- */

/* Load <keys_dir>/journal.key, creating the directory (0700) and a fresh
 * key pair when there is none.  A key file readable by group or others is
 * refused (-EPERM).  0 or -errno, err says why. */
int gb_ckpt_key_load_or_create(const char *keys_dir, EVP_PKEY **out, char *err, size_t errlen);
/* A public key from a PEM file (journal.pub, or a copy an auditor holds;
 * a private key file works too). */
int gb_ckpt_pub_load(const char *path, EVP_PKEY **out, char *err, size_t errlen);
/* The key's id (16 hex digits + NUL). */
int gb_ckpt_key_id(EVP_PKEY *k, char id[17]);
/* The public key as PEM, appended to out. */
int gb_ckpt_pub_pem(EVP_PKEY *k, struct gb_buf *out);

/* ---- one checkpoint (checkpoint.c) ---- */

/* The exact bytes that are signed (text, one field a line). */
int gb_ckpt_message(const struct gb_ckpt *c, char *buf, size_t len);
/* Fill key_id and sig.  0 or -errno. */
int gb_ckpt_sign(EVP_PKEY *k, struct gb_ckpt *c);
/* 0 when sig is a valid signature of c by k and key_id is k's, -EBADMSG
 * when not, other -errno. */
int gb_ckpt_check(EVP_PKEY *k, const struct gb_ckpt *c);
/* The OCSF event (one JSON object, no newline) appended to out. */
int gb_ckpt_format(const struct gb_ocsf_ctx *ctx, const struct gb_ckpt *c, struct gb_buf *out,
                   struct gb_ocsf_meta *meta);
/* 1 and *c filled when line is a checkpoint event, 0 when it is some other
 * event, -EBADMSG when it claims to be one but its fields are malformed. */
int gb_ckpt_parse(const char *line, size_t len, struct gb_ckpt *c);

/* ---- the daemon's signer (checkpoint_sign.c) ---- */

struct gb_ckpt_signer;

/* keys_dir: where the key lives; journal_dir: the journal the signer will
 * be ticked with; interval_s: tail checkpoints at most this far apart
 * (0 = GB_CKPT_DEFAULT_INTERVAL_S).  0 or -errno with err. */
int gb_ckpt_signer_open(const char *keys_dir, const char *journal_dir, uint32_t interval_s,
                        const char *hostname, struct gb_ckpt_signer **out, char *err, size_t errlen);
/* Sign and journal what is due: a seal checkpoint for every sealed segment
 * not yet signed, and a tail checkpoint when interval_s has passed (or
 * force_tail) and the active segment grew since the last one.  Call with
 * the journal writer serialised (serve's jlock held), after
 * gb_journal_tick.  Returns how many checkpoints were journaled, or -errno. */
int gb_ckpt_signer_tick(struct gb_ckpt_signer *s, struct gb_journal *j, bool force_tail);
void gb_ckpt_signer_close(struct gb_ckpt_signer *s);

/* ---- verification (checkpoint_verify.c) ---- */

/* What the checkpoints prove about one segment. */
struct gb_ckpt_seg {
	uint64_t segment;
	bool sealed;
	uint64_t events;        /* events read from it */
	int64_t first_ms, last_ms;
	bool seal_proven;       /* a valid seal checkpoint matches its .zst */
	uint64_t proven_events; /* events covered by a valid checkpoint (all when seal_proven) */
	uint64_t proven_offset;
	int64_t proven_at_ms;   /* time of the checkpoint that proves the most */
	uint64_t tail_ckpts;    /* valid checkpoint events after its last other event: they
	                         * vouch for themselves, so they are not "unproven" */
	bool broken;            /* a valid checkpoint disagrees with it, or it does not read */
	char why[256];          /* the first reason it is broken */
};

struct gb_ckpt_result {
	struct gb_ckpt_seg *segs; /* malloc'd, in journal order */
	size_t n_segs;
	uint64_t checkpoints;     /* checkpoint events found */
	uint64_t valid;           /* ... with a valid signature by the key */
	uint64_t invalid;         /* ... claiming the key but failing, or malformed */
	uint64_t other_key;       /* ... signed by another key (not counted as proof) */
	char key_id[17];
};

/* Read the whole journal (segments whose events end before since_ms are
 * skipped; 0 = all), check every checkpoint's signature with pub, and say
 * for each segment what is proven.  A forged checkpoint, a segment altered
 * or moved under a different number, a tail rewritten before a checkpoint:
 * each breaks the segment it names.  Each problem goes to report().
 * Returns the number of problems, or -errno. */
int gb_ckpt_verify(const char *journal_dir, EVP_PKEY *pub, int64_t since_ms,
                   void (*report)(void *arg, const char *text), void *arg,
                   struct gb_ckpt_result *res);
void gb_ckpt_result_free(struct gb_ckpt_result *res);

#endif
