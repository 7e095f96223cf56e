/* exporter/checkpoint_sign.c — the daemon side: notice seals, sign them,
 * sign the active segment's tail every interval, journal each checkpoint
 * (contract: checkpoint.h).
 *
 * Seals are noticed from gb_journal_sealed(): the newest sealed segment,
 * which the journal's sealer thread moves when a seal ends (a rotation
 * only queues the seal: gb_journal_end() moves before the segment is
 * sealed) and which costs nothing to watch every tick; then the sealed
 * segments newer than the last signed one are signed from their index
 * (which holds the .zst's SHA-256).  Which segment was signed last is kept
 * in <journal>/checkpoint.json so a restart neither re-signs nor skips;
 * without it (first start, or a journal older than checkpoints) every
 * sealed segment is signed once, at the time it is first seen.
 *
 * A tail checkpoint hashes the active segment's bytes from the start: at
 * most segment_size (64 MiB) every interval (10 min), while the caller
 * holds the journal lock.  Done only when the segment grew since the last
 * checkpoint, so an idle journal does not fill up with checkpoints.  It
 * names the previous segment's SHA-256, so it first waits for a seal still
 * pending (gb_journal_settle: at most two, and only right after a rotation
 * — no more than the hash itself costs under the same lock). */
#include "exporter/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "exporter/journal_int.h"

#define STATE_FILE "checkpoint.json"

struct gb_ckpt_signer {
	EVP_PKEY *key;
	char dir[GB_PATH_MAX];
	char hostname[256];
	uint32_t interval_s;
	uint64_t signed_seg;   /* newest sealed segment signed */
	uint64_t seen_seg;     /* gb_journal_sealed() at the last scan */
	struct gb_jpos tail_end; /* journal end right after the last tail checkpoint */
	int64_t last_tail_ms;
	int64_t last_time_ms;  /* checkpoint times strictly increase (metadata.uid) */
	struct gb_buf b;
};

static void load_state(struct gb_ckpt_signer *s)
{
	char sha[65];
	/* the same {"segment": N, "sha256": ...} shape as head.json */
	if (jchain_read(s->dir, STATE_FILE, &s->signed_seg, sha) < 0)
		s->signed_seg = 0;
}

int gb_ckpt_signer_open(const char *keys_dir, const char *journal_dir, uint32_t interval_s,
                        const char *hostname, struct gb_ckpt_signer **out, char *err, size_t errlen)
{
	*out = NULL;
	struct gb_ckpt_signer *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = gb_ckpt_key_load_or_create(keys_dir, &s->key, err, errlen);
	if (rc < 0) {
		free(s);
		return rc;
	}
	snprintf(s->dir, sizeof s->dir, "%s", journal_dir);
	snprintf(s->hostname, sizeof s->hostname, "%s", hostname ? hostname : "localhost");
	s->interval_s = interval_s ? interval_s : GB_CKPT_DEFAULT_INTERVAL_S;
	s->last_tail_ms = gb_now_ms(CLOCK_MONOTONIC); /* an interval: no wall-clock jump moves it */
	s->seen_seg = UINT64_MAX; /* scan at the first tick */
	load_state(s);
	*out = s;
	return 0;
}

void gb_ckpt_signer_close(struct gb_ckpt_signer *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->key);
	gb_buf_free(&s->b);
	free(s);
}

static int journal_ckpt(struct gb_ckpt_signer *s, struct gb_journal *j, struct gb_ckpt *c)
{
	int64_t now = gb_now_ms(CLOCK_REALTIME);
	c->time_ms = now > s->last_time_ms ? now : s->last_time_ms + 1;
	int rc = gb_ckpt_sign(s->key, c);
	if (rc < 0)
		return rc;
	s->last_time_ms = c->time_ms;
	struct gb_ocsf_ctx ctx = { .hostname = s->hostname, .product_version = GB_VERSION };
	struct gb_ocsf_meta om;
	gb_buf_reset(&s->b);
	if ((rc = gb_ckpt_format(&ctx, c, &s->b, &om)) < 0)
		return rc;
	struct gb_jmeta m = { .time_ms = c->time_ms, .sandbox = "glassbox", .class_uid = om.class_uid,
		              .severity_id = om.severity_id };
	if ((rc = gb_journal_append(j, s->b.data, s->b.len, &m, NULL)) < 0)
		return rc;
	return gb_journal_flush(j);
}

/* Sign every sealed segment newer than signed_seg, oldest first. */
static int sign_seals(struct gb_ckpt_signer *s, struct gb_journal *j)
{
	struct jseg *v;
	size_t n;
	int rc = jseg_list(s->dir, &v, &n), done = 0;
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n && rc >= 0; i++) {
		if (v[i].n <= s->signed_seg || v[i].active || !v[i].sealed || !v[i].has_idx)
			continue;
		char p[GB_PATH_MAX];
		struct jidx x;
		if (jseg_path(p, sizeof p, s->dir, &v[i], ".idx.json") < 0 || jidx_read(p, &x) < 0) {
			gb_log_warn("serve", "checkpoint: index of segment %" PRIu64 " unreadable, not signed",
			            v[i].n);
			continue;
		}
		struct gb_ckpt c = { .kind = GB_CKPT_SEAL, .segment = x.segment, .offset = x.bytes,
			             .events = x.events };
		snprintf(c.sha256, sizeof c.sha256, "%s", x.sha256);
		snprintf(c.prev_sha256, sizeof c.prev_sha256, "%s", x.prev_sha256);
		jidx_free(&x);
		if ((rc = journal_ckpt(s, j, &c)) < 0)
			break;
		s->signed_seg = v[i].n;
		done++;
		jchain_write(s->dir, STATE_FILE, s->signed_seg, c.sha256);
	}
	free(v);
	return rc < 0 ? rc : done;
}

/* SHA-256 and line count of the first len bytes of the file. */
static int hash_prefix(const char *path, uint64_t len, char sha[65], uint64_t *lines)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	char buf[65536];
	uint64_t done = 0;
	int rc = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) ? 0 : -ENOMEM;
	*lines = 0;
	while (rc == 0 && done < len) {
		size_t want = len - done < sizeof buf ? (size_t)(len - done) : sizeof buf;
		ssize_t r = pread(fd, buf, want, (off_t)done);
		if (r <= 0) {
			rc = r < 0 ? -errno : -EIO;
			break;
		}
		EVP_DigestUpdate(md, buf, (size_t)r);
		for (const char *p = buf; (p = memchr(p, '\n', (size_t)(buf + r - p))); p++)
			(*lines)++;
		done += (uint64_t)r;
	}
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned dl = 0;
	if (rc == 0 && EVP_DigestFinal_ex(md, d, &dl))
		gb_hex(d, dl, sha);
	EVP_MD_CTX_free(md);
	close(fd);
	return rc;
}

static int sign_tail(struct gb_ckpt_signer *s, struct gb_journal *j)
{
	int rc = gb_journal_flush(j);
	if (rc < 0)
		return rc;
	struct gb_jpos end = gb_journal_end(j);
	if (end.offset == 0 || (end.segment == s->tail_end.segment && end.offset == s->tail_end.offset))
		return 0; /* nothing new since the last tail checkpoint */
	struct jseg *v;
	size_t n;
	if ((rc = jseg_list(s->dir, &v, &n)) < 0)
		return rc;
	struct gb_ckpt c = { .kind = GB_CKPT_TAIL, .segment = end.segment, .offset = end.offset };
	rc = -ENOENT;
	for (size_t i = 0; i < n; i++) {
		char p[GB_PATH_MAX];
		if (v[i].n < end.segment && v[i].sealed && v[i].has_idx &&
		    jseg_path(p, sizeof p, s->dir, &v[i], ".idx.json") == 0) {
			struct jidx x;
			if (jidx_read(p, &x) == 0) {
				snprintf(c.prev_sha256, sizeof c.prev_sha256, "%s", x.sha256);
				jidx_free(&x);
			}
		}
		if (v[i].n == end.segment && v[i].active && jseg_path(p, sizeof p, s->dir, &v[i], ".jsonl") == 0)
			rc = hash_prefix(p, end.offset, c.sha256, &c.events);
	}
	free(v);
	if (rc < 0)
		return rc;
	if ((rc = journal_ckpt(s, j, &c)) < 0)
		return rc;
	s->tail_end = gb_journal_end(j);
	return 1;
}

int gb_ckpt_signer_tick(struct gb_ckpt_signer *s, struct gb_journal *j, bool force_tail)
{
	int done = 0, rc;
	int64_t now = gb_now_ms(CLOCK_MONOTONIC);
	bool tail = force_tail || now - s->last_tail_ms >= (int64_t)s->interval_s * 1000;
	/* a tail names its predecessor's seal, and a final tail (serve
	 * stopping) should follow the seal checkpoints of every rotated
	 * segment: the pending seals end first (a failed one is the sealer's
	 * to log; its segment is simply not signed yet) */
	if (tail)
		gb_journal_settle(j);
	uint64_t sealed = gb_journal_sealed(j);
	if (sealed != s->seen_seg) {
		if ((rc = sign_seals(s, j)) < 0)
			return rc;
		done += rc;
		/* a checkpoint itself may have rotated the journal: its seal
		 * moves gb_journal_sealed() later, and the next tick looks again */
		s->seen_seg = sealed;
	}
	if (tail) {
		s->last_tail_ms = now;
		if ((rc = sign_tail(s, j)) < 0)
			return rc;
		done += rc;
	}
	return done;
}
