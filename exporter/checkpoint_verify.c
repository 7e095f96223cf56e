/* exporter/checkpoint_verify.c — what the signed checkpoints prove about
 * the journal (contract: checkpoint.h).
 *
 * Pass 1 reads every segment's events in order, counts them and collects
 * the checkpoint events, checking each signature.  Then, per segment:
 *  - sealed: its .zst's SHA-256 against every valid seal checkpoint that
 *    names it (altered or replaced after signing = broken), and against
 *    the ones that name another number (moved/reordered = broken);
 *  - tail checkpoints naming it: pass 2 hashes its uncompressed stream
 *    from the start and compares at each signed length (rewritten before
 *    the checkpoint = broken, even when a later seal signed the rewrite).
 * Proven: a segment whose seal checkpoint matches, or the prefix up to the
 * longest matching tail checkpoint.  Everything else is unproven: written
 * after the last checkpoint, or never signed. */
#include "exporter/checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporter/journal_int.h"

struct vc {
	void (*report)(void *arg, const char *text);
	void *arg;
	int problems;
	struct gb_ckpt *cps; /* valid checkpoints */
	size_t n_cps, cap;
};

__attribute__((format(printf, 2, 3))) static void problem(struct vc *v, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	v->problems++;
	if (v->report)
		v->report(v->arg, buf);
}

__attribute__((format(printf, 2, 3))) static void brk(struct gb_ckpt_seg *g, const char *fmt, ...)
{
	if (g->broken)
		return;
	g->broken = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g->why, sizeof g->why, fmt, ap);
	va_end(ap);
}

static int keep(struct vc *v, const struct gb_ckpt *c)
{
	if (v->n_cps == v->cap) {
		size_t nc = v->cap ? v->cap * 2 : 16;
		struct gb_ckpt *n = realloc(v->cps, nc * sizeof *n);
		if (!n)
			return -ENOMEM;
		v->cps = n;
		v->cap = nc;
	}
	v->cps[v->n_cps++] = *c;
	return 0;
}

/* Pass 1 over one segment. */
static int read_segment(struct vc *v, const char *dir, EVP_PKEY *pub, struct gb_ckpt_seg *g,
                        uint64_t expect, struct gb_ckpt_result *res)
{
	struct gb_jreader *r;
	struct gb_jpos from = { g->segment, 0 };
	int rc = gb_jreader_open(dir, NULL, &from, &r);
	if (rc < 0)
		return rc;
	const char *line;
	size_t len;
	struct gb_jpos pos;
	char pubid[17] = "";
	if (pub)
		gb_ckpt_key_id(pub, pubid);
	/* expect: a sealed segment's event count, so that reading stops before
	 * the next segment (whose damage is that segment's, not this one's) */
	while (g->events < expect && (rc = gb_jreader_next(r, &line, &len, &pos)) == 1 &&
	       pos.segment == g->segment) {
		g->events++;
		struct gb_jmeta m;
		char sb[64];
		if (gb_jmeta_parse(line, len, &m, sb, sizeof sb) == 0 && m.time_ms) {
			if (!g->first_ms || m.time_ms < g->first_ms)
				g->first_ms = m.time_ms;
			if (m.time_ms > g->last_ms)
				g->last_ms = m.time_ms;
		}
		struct gb_ckpt c;
		int pr = gb_ckpt_parse(line, len, &c);
		if (pr <= 0)
			g->tail_ckpts = 0;
		if (pr == 0)
			continue;
		res->checkpoints++;
		if (pr < 0) {
			res->invalid++;
			problem(v, "segment %" PRIu64 " event %" PRIu64 ": a malformed checkpoint", g->segment,
			        g->events);
			continue;
		}
		if (!pub)
			continue;
		if (strcmp(c.key_id, pubid)) {
			res->other_key++;
			g->tail_ckpts = 0;
			continue;
		}
		if (gb_ckpt_check(pub, &c) < 0) {
			res->invalid++;
			g->tail_ckpts = 0;
			problem(v, "segment %" PRIu64 " event %" PRIu64 ": checkpoint for segment %" PRIu64
			        " has a bad signature (forged or altered)", g->segment, g->events, c.segment);
			continue;
		}
		res->valid++;
		g->tail_ckpts++;
		if ((rc = keep(v, &c)) < 0)
			break;
	}
	if (rc < 0) {
		brk(g, "does not read (%s) after event %" PRIu64, strerror(-rc), g->events);
		problem(v, "segment %" PRIu64 ": %s", g->segment, g->why);
	}
	gb_jreader_close(r);
	return rc == -ENOMEM ? rc : 0;
}

/* Pass 2: the SHA-256 of the segment's first `offset` bytes, for every tail
 * checkpoint naming it (sorted by offset). */
static int cmp_off(const void *a, const void *b)
{
	const struct gb_ckpt *x = *(const struct gb_ckpt *const *)a, *y = *(const struct gb_ckpt *const *)b;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static void check_tails(struct vc *v, const char *dir, struct gb_ckpt_seg *g)
{
	size_t n = 0;
	for (size_t i = 0; i < v->n_cps; i++)
		n += v->cps[i].kind == GB_CKPT_TAIL && v->cps[i].segment == g->segment;
	if (!n)
		return;
	const struct gb_ckpt **t = calloc(n, sizeof *t);
	if (!t)
		return;
	n = 0;
	for (size_t i = 0; i < v->n_cps; i++)
		if (v->cps[i].kind == GB_CKPT_TAIL && v->cps[i].segment == g->segment)
			t[n++] = &v->cps[i];
	qsort(t, n, sizeof *t, cmp_off);
	struct gb_jreader *r;
	struct gb_jpos from = { g->segment, 0 };
	EVP_MD_CTX *md = EVP_MD_CTX_new(), *cp = EVP_MD_CTX_new();
	if (!md || !cp || !EVP_DigestInit_ex(md, EVP_sha256(), NULL) || gb_jreader_open(dir, NULL, &from, &r) < 0) {
		EVP_MD_CTX_free(md);
		EVP_MD_CTX_free(cp);
		free(t);
		return;
	}
	uint64_t off = 0, events = 0;
	size_t k = 0;
	const char *line;
	size_t len;
	struct gb_jpos pos;
	for (;;) {
		/* compare every checkpoint that ends here */
		while (k < n && t[k]->offset <= off) {
			unsigned char d[EVP_MAX_MD_SIZE];
			unsigned dl = 0;
			char sha[65] = "";
			if (t[k]->offset == off && EVP_MD_CTX_copy_ex(cp, md) && EVP_DigestFinal_ex(cp, d, &dl))
				gb_hex(d, dl, sha);
			if (strcmp(sha, t[k]->sha256) || t[k]->events != events) {
				brk(g, "events 1-%" PRIu64 " differ from what the checkpoint of %" PRId64
				    " ms signed (%" PRIu64 " events in %" PRIu64 " bytes)", events, t[k]->time_ms,
				    t[k]->events, t[k]->offset);
				problem(v, "segment %" PRIu64 ": %s", g->segment, g->why);
			} else if (!g->broken && t[k]->offset > g->proven_offset) {
				g->proven_offset = t[k]->offset;
				if (!g->seal_proven)
					g->proven_events = events;
				if (t[k]->time_ms > g->proven_at_ms && !g->seal_proven)
					g->proven_at_ms = t[k]->time_ms;
			}
			k++;
		}
		if (k == n || gb_jreader_next(r, &line, &len, &pos) != 1 || pos.segment != g->segment)
			break;
		EVP_DigestUpdate(md, line, len);
		EVP_DigestUpdate(md, "\n", 1);
		off += len + 1;
		events++;
	}
	for (; k < n; k++) {
		brk(g, "ends at byte %" PRIu64 ", before the %" PRIu64 " bytes a checkpoint signed (truncated)",
		    off, t[k]->offset);
		problem(v, "segment %" PRIu64 ": %s", g->segment, g->why);
	}
	gb_jreader_close(r);
	EVP_MD_CTX_free(md);
	EVP_MD_CTX_free(cp);
	free(t);
}

static void check_seal(struct vc *v, const char *dir, const struct jseg *s, struct gb_ckpt_seg *g)
{
	char p[GB_PATH_MAX], sha[65] = "";
	bool was_broken = g->broken;
	if (jseg_path(p, sizeof p, dir, s, ".jsonl.zst") < 0 || gb_sha256_file(p, sha) < 0) {
		brk(g, "its data cannot be read");
		problem(v, "segment %" PRIu64 ": %s", g->segment, g->why);
		return;
	}
	/* The most specific reason first: bytes signed under another number. */
	for (size_t i = 0; i < v->n_cps; i++) {
		const struct gb_ckpt *c = &v->cps[i];
		if (c->kind == GB_CKPT_SEAL && c->segment != g->segment && !strcmp(c->sha256, sha))
			brk(g, "holds what was signed as segment %" PRIu64 " (moved or reordered)", c->segment);
	}
	for (size_t i = 0; i < v->n_cps; i++) {
		const struct gb_ckpt *c = &v->cps[i];
		if (c->kind != GB_CKPT_SEAL)
			continue;
		if (c->segment == g->segment) {
			if (strcmp(c->sha256, sha))
				brk(g, "altered or replaced after it was signed (SHA-256 %.16s..., signed %.16s...)",
				    sha, c->sha256);
			else if (c->events != g->events)
				brk(g, "%" PRIu64 " events read, %" PRIu64 " signed", g->events, c->events);
			else {
				g->seal_proven = true;
				g->proven_events = g->events;
				g->proven_at_ms = c->time_ms;
			}
		}
	}
	if (g->broken) {
		g->seal_proven = false;
		g->proven_events = 0;
		if (!was_broken)
			problem(v, "segment %" PRIu64 ": %s", g->segment, g->why);
	}
}

int gb_ckpt_verify(const char *journal_dir, EVP_PKEY *pub, int64_t since_ms,
                   void (*report)(void *arg, const char *text), void *arg,
                   struct gb_ckpt_result *res)
{
	memset(res, 0, sizeof *res);
	if (pub)
		gb_ckpt_key_id(pub, res->key_id);
	struct vc v = { .report = report, .arg = arg };
	struct jseg *segs;
	size_t n;
	int rc = jseg_list(journal_dir, &segs, &n);
	if (rc < 0)
		return rc;
	res->segs = calloc(n ? n : 1, sizeof *res->segs);
	if (!res->segs) {
		free(segs);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct jseg *s = &segs[i];
		uint64_t expect = UINT64_MAX;
		if (s->sealed && s->has_idx && !s->active) {
			char p[GB_PATH_MAX];
			struct jidx x;
			if (jseg_path(p, sizeof p, journal_dir, s, ".idx.json") == 0 && jidx_read(p, &x) == 0) {
				bool old = since_ms && x.last_ms && x.last_ms < since_ms;
				expect = x.events;
				jidx_free(&x);
				if (old)
					continue;
			}
		}
		struct gb_ckpt_seg *g = &res->segs[res->n_segs++];
		g->segment = s->n;
		g->sealed = s->sealed && !s->active;
		rc = read_segment(&v, journal_dir, pub, g, expect, res);
	}
	for (size_t i = 0, k = 0; rc == 0 && i < n && k < res->n_segs; i++) {
		struct gb_ckpt_seg *g = &res->segs[k];
		if (segs[i].n != g->segment)
			continue;
		k++;
		if (g->sealed)
			check_seal(&v, journal_dir, &segs[i], g);
		check_tails(&v, journal_dir, g);
	}
	/* A signed segment that is not there at all. */
	for (size_t i = 0; rc == 0 && i < v.n_cps; i++) {
		bool found = i && v.cps[i - 1].segment == v.cps[i].segment; /* said once */
		for (size_t k = 0; k < n && !found; k++)
			found = segs[k].n == v.cps[i].segment;
		bool retained = n && v.cps[i].segment < segs[0].n; /* chain.json tells */
		if (!found && !retained)
			problem(&v, "segment %" PRIu64 " was signed at %" PRId64 " ms but is missing",
			        v.cps[i].segment, v.cps[i].time_ms);
	}
	free(v.cps);
	free(segs);
	if (rc < 0) {
		gb_ckpt_result_free(res);
		return rc;
	}
	return v.problems;
}

void gb_ckpt_result_free(struct gb_ckpt_result *res)
{
	free(res->segs);
	res->segs = NULL;
	res->n_segs = 0;
}
