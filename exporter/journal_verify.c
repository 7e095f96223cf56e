/* exporter/journal_verify.c — `glassbox journal verify`: is every sealed
 * segment present and unaltered?
 *
 * What is checked and why it catches each kind of tampering:
 *  - SHA-256 of each .zst against its own index: a changed byte;
 *  - each index's prev_sha256 against the previous segment's SHA-256: a
 *    segment replaced together with its index;
 *  - contiguous numbers, and chain.json for where retention cut the chain:
 *    a deleted segment in the middle or at the start;
 *  - head.json against the newest sealed segment: a deleted or replaced
 *    last segment;
 *  - every frame decodes to the bytes and lines its index promises, and the
 *    lines total the index's event count: a truncated or spliced file;
 *  - the active segment (no hash yet: it is still growing), and a rotated
 *    one the writer's sealer has not sealed yet (at most 2, older than the
 *    active one, listed as active too): every line is a whole OCSF event
 *    (a JSON object with class_uid and metadata.uid), and the file ends at
 *    a line end — a broken or cut line, which a filtered reader would
 *    otherwise have to drop. */
#include "exporter/journal_int.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

struct vctx {
	void (*report)(void *arg, const char *text);
	void *arg;
	int problems;
};

__attribute__((format(printf, 2, 3))) static void problem(struct vctx *v, const char *fmt, ...)
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

/* A frame's (or block's) time range and sandbox sets must cover its lines:
 * a reader skips it on their word. */
static void check_meta(struct vctx *v, const struct jidx *x, const char *what, size_t i,
                       const struct jidx_frame *f, const char *data, size_t len)
{
	if (!f->has_meta)
		return;
	struct jidx_frame t = *f;
	jidx_frame_meta(x, &t, data, len);
	bool short_st = false; /* a sandbox's own range leaves out some of its events */
	for (uint8_t a = 0; f->n_st != J_ST_MANY && t.n_st != J_ST_MANY && a < t.n_st; a++)
		for (uint8_t b = 0; b < f->n_st; b++)
			if (f->st[b].bit == t.st[a].bit &&
			    ((t.st[a].min_ms && (!f->st[b].min_ms || f->st[b].min_ms > t.st[a].min_ms)) ||
			     t.st[a].max_ms > f->st[b].max_ms))
				short_st = true;
	if ((t.min_ms && (!f->min_ms || f->min_ms > t.min_ms)) || t.max_ms > f->max_ms ||
	    (t.sbx & ~f->sbx) || (t.deny & ~f->deny) || (t.allow & ~f->allow) || short_st)
		problem(v, "segment %llu: %s %zu: the index's time range or sandboxes do not cover its "
		        "events (readers would skip some)", (unsigned long long)x->segment, what, i);
}

/* Hash the .zst and decode its frames against the index. */
static void check_body(struct vctx *v, const char *path, const struct jidx *x, char sha[65])
{
	sha[0] = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		problem(v, "segment %llu: %s: %s", (unsigned long long)x->segment, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	size_t len = (size_t)st.st_size;
	const unsigned char *m = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	close(fd);
	if (m == MAP_FAILED) {
		problem(v, "segment %llu: cannot map %s", (unsigned long long)x->segment, path);
		return;
	}
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned dl = 0;
	EVP_Digest(m ? m : (const unsigned char *)"", len, d, &dl, EVP_sha256(), NULL);
	gb_hex(d, dl, sha);

	ZSTD_DCtx *dc = ZSTD_createDCtx();
	char *buf = NULL;
	size_t cap = 0;
	uint64_t c_expect = 0, u_expect = 0, lines = 0;
	for (size_t i = 0; i < x->n_frames && dc; i++) {
		const struct jidx_frame *f = &x->frames[i];
		if (f->c_off != c_expect || f->u_off != u_expect || f->c_off + f->c_len > len) {
			problem(v, "segment %llu: frame %zu is not where the index says", (unsigned long long)x->segment, i);
			break;
		}
		if (f->u_len > J_FRAME_MAX ||
		    ZSTD_getFrameContentSize(m + f->c_off, (size_t)f->c_len) != f->u_len) {
			problem(v, "segment %llu: frame %zu: its header and the index disagree on its length",
			        (unsigned long long)x->segment, i);
			break;
		}
		if (f->u_len > cap) {
			char *nb = realloc(buf, (size_t)f->u_len);
			if (!nb)
				break;
			buf = nb;
			cap = (size_t)f->u_len;
		}
		size_t got = ZSTD_decompressDCtx(dc, buf, cap, m + f->c_off, (size_t)f->c_len);
		if (ZSTD_isError(got) || got != f->u_len) {
			problem(v, "segment %llu: frame %zu does not decode (%s)", (unsigned long long)x->segment,
			        i, ZSTD_isError(got) ? ZSTD_getErrorName(got) : "wrong length");
			break;
		}
		uint64_t nl = 0;
		for (const char *p = buf; (p = memchr(p, '\n', (size_t)(buf + got - p))); p++)
			nl++;
		if (nl != f->lines || (got && buf[got - 1] != '\n'))
			problem(v, "segment %llu: frame %zu holds %llu lines, the index says %llu",
			        (unsigned long long)x->segment, i, (unsigned long long)nl,
			        (unsigned long long)f->lines);
		check_meta(v, x, "frame", i, f, buf, got);
		lines += nl;
		c_expect += f->c_len;
		u_expect += f->u_len;
	}
	if (c_expect != len && v->problems == 0)
		problem(v, "segment %llu: %zu bytes, the frames cover %llu", (unsigned long long)x->segment,
		        len, (unsigned long long)c_expect);
	if (lines != x->events || u_expect != x->bytes)
		problem(v, "segment %llu: %llu events in %llu bytes decoded, the index says %llu in %llu",
		        (unsigned long long)x->segment, (unsigned long long)lines,
		        (unsigned long long)u_expect, (unsigned long long)x->events,
		        (unsigned long long)x->bytes);
	free(buf);
	ZSTD_freeDCtx(dc);
	if (m)
		munmap((void *)m, len);
}

/* Each line of an unsealed segment must be an OCSF event.  what: "active"
 * for the newest, "unsealed" for one waiting for the sealer. */
static void check_active(struct vctx *v, const char *dir, const struct jseg *s, const char *what)
{
	char p[GB_PATH_MAX];
	if (jseg_path(p, sizeof p, dir, s, ".jsonl") < 0)
		return;
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (errno != ENOENT) /* sealed meanwhile: nothing left to check here */
			problem(v, "segment %llu (%s): %s: %s", (unsigned long long)s->n, what, p, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	size_t len = (size_t)st.st_size;
	const char *m = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	close(fd);
	if (m == MAP_FAILED) {
		problem(v, "segment %llu (%s): cannot map %s", (unsigned long long)s->n, what, p);
		return;
	}
	uint64_t bad = 0;
	size_t off = 0;
	while (off < len) {
		const char *nl = memchr(m + off, '\n', len - off);
		if (!nl) {
			problem(v, "segment %llu (%s): the last line is cut (%zu bytes at offset %zu, no "
			        "line end)", (unsigned long long)s->n, what, len - off, off);
			break;
		}
		size_t l = (size_t)(nl - (m + off));
		struct gb_jmeta meta;
		char sb[64];
		if (gb_jmeta_parse(m + off, l, &meta, sb, sizeof sb) < 0 || !meta.class_uid ||
		    !memmem(m + off, l, "\"uid\":", 6)) {
			if (bad++ < 20)
				problem(v, "segment %llu (%s): the line at offset %zu (%zu bytes) is not an OCSF "
				        "event", (unsigned long long)s->n, what, off, l);
		}
		off += l + 1;
	}
	if (bad > 20)
		problem(v, "segment %llu (%s): %llu lines in all are not OCSF events",
		        (unsigned long long)s->n, what, (unsigned long long)bad);
	/* its block sidecar, as a reader would take it */
	struct jidx bx;
	jidx_init(&bx, s->n, 0);
	if (jblk_read(dir, s, len, &bx) == 0)
		for (size_t i = 0; i < bx.n_frames; i++) {
			const struct jidx_frame *f = &bx.frames[i];
			uint64_t nl = 0;
			for (const char *q = m + f->u_off; (q = memchr(q, '\n', (size_t)(m + f->u_off + f->u_len - q))); q++)
				nl++;
			if (nl != f->lines || m[f->u_off + f->u_len - 1] != '\n' ||
			    (f->u_off && m[f->u_off - 1] != '\n'))
				problem(v, "segment %llu (%s): block %zu holds %llu lines, its sidecar says "
				        "%llu", (unsigned long long)s->n, what, i, (unsigned long long)nl,
				        (unsigned long long)f->lines);
			else
				check_meta(v, &bx, "active block", i, f, m + f->u_off, (size_t)f->u_len);
		}
	jidx_free(&bx);
	if (m)
		munmap((void *)m, len);
}

int gb_journal_verify(const char *dir, void (*report)(void *arg, const char *text), void *arg,
                      uint64_t *segments_checked)
{
	struct vctx v = { report, arg, 0 };
	struct jseg *segs;
	size_t n;
	int rc = jseg_list(dir, &segs, &n);
	if (rc < 0)
		return rc;
	uint64_t head_n = 0, chain_n = 0;
	char head_sha[65] = "", chain_sha[65] = "";
	int hr = jchain_read(dir, "head.json", &head_n, head_sha);
	int cr = jchain_read(dir, "chain.json", &chain_n, chain_sha);
	if (hr == -EBADMSG)
		problem(&v, "head.json is damaged");
	if (cr == -EBADMSG)
		problem(&v, "chain.json is damaged");

	uint64_t prev_n = 0, checked = 0;
	char prev_sha[65] = "";
	bool first = true, seen_active = false;
	for (size_t i = 0; i < n; i++) {
		struct jseg *s = &segs[i];
		if (s->active) {
			if (!first && !seen_active && s->n != prev_n + 1)
				problem(&v, "segments %llu..%llu are missing", (unsigned long long)prev_n + 1,
				        (unsigned long long)s->n - 1);
			check_active(&v, dir, s, i + 1 == n ? "active" : "unsealed");
			seen_active = true;
			prev_n = s->n;
			continue;
		}
		if (seen_active)
			problem(&v, "segment %llu is sealed but an older segment is still active",
			        (unsigned long long)s->n);
		if (!s->sealed || !s->has_idx) {
			problem(&v, "segment %llu: %s is missing", (unsigned long long)s->n,
			        s->sealed ? "its index" : "its data (.jsonl.zst)");
			first = false;
			prev_n = s->n;
			prev_sha[0] = 0;
			continue;
		}
		char p[GB_PATH_MAX];
		jseg_path(p, sizeof p, dir, s, ".idx.json");
		struct jidx x;
		if (jidx_read(p, &x) < 0) {
			problem(&v, "segment %llu: index %s does not parse", (unsigned long long)s->n, p);
			first = false;
			prev_n = s->n;
			prev_sha[0] = 0;
			continue;
		}
		if (x.segment != s->n)
			problem(&v, "segment %llu: its index names segment %llu", (unsigned long long)s->n,
			        (unsigned long long)x.segment);
		if (first) {
			if (cr == 0) {
				if (chain_n != s->n || strcmp(chain_sha, x.prev_sha256))
					problem(&v, "segment %llu: the journal starts here but retention left it at "
					            "segment %llu", (unsigned long long)s->n, (unsigned long long)chain_n);
			} else if (s->n != 1 || x.prev_sha256[0])
				problem(&v, "segments before %llu are missing", (unsigned long long)s->n);
		} else {
			if (s->n != prev_n + 1)
				problem(&v, "segments %llu..%llu are missing", (unsigned long long)prev_n + 1,
				        (unsigned long long)s->n - 1);
			else if (prev_sha[0] && strcmp(prev_sha, x.prev_sha256))
				problem(&v, "segment %llu: does not follow segment %llu (prev_sha256 differs)",
				        (unsigned long long)s->n, (unsigned long long)prev_n);
		}
		char sha[65];
		jseg_path(p, sizeof p, dir, s, ".jsonl.zst");
		check_body(&v, p, &x, sha);
		if (sha[0] && strcmp(sha, x.sha256))
			problem(&v, "segment %llu: altered (SHA-256 %s, the index says %s)",
			        (unsigned long long)s->n, sha, x.sha256);
		jidx_free(&x);
		snprintf(prev_sha, sizeof prev_sha, "%s", sha);
		prev_n = s->n;
		first = false;
		checked++;
	}
	/* The newest sealed segment must be the one head.json names. */
	uint64_t last_sealed = 0;
	char last_sha[65] = "";
	for (size_t i = 0; i < n; i++)
		if (!segs[i].active && segs[i].sealed)
			last_sealed = segs[i].n;
	if (last_sealed)
		snprintf(last_sha, sizeof last_sha, "%s", prev_sha);
	/* Seals running while we read (serve is live; its sealer thread seals
	 * in the background): the data is renamed into place, then head.json
	 * moves, then the .jsonl goes — so the listing and head.json may be
	 * apart.  That is no damage: the newest sealed segment still has its
	 * .jsonl (head.json not yet moved), or head.json names a segment listed
	 * as unsealed (sealed since; the sealer may have sealed up to two of
	 * them between the listing and the read of head.json). */
	bool in_seal = false;
	for (size_t i = 0; i < n && hr == 0; i++)
		if ((segs[i].n == last_sealed && head_n + 1 == last_sealed && segs[i].has_jsonl) ||
		    (segs[i].n == head_n && head_n > last_sealed && segs[i].active))
			in_seal = true;
	if (in_seal)
		;
	else if (hr == 0 && head_n != last_sealed)
		problem(&v, "head.json names segment %llu, the newest sealed segment is %llu",
		        (unsigned long long)head_n, (unsigned long long)last_sealed);
	else if (hr == 0 && last_sealed && strcmp(head_sha, last_sha))
		problem(&v, "segment %llu: differs from the one head.json recorded",
		        (unsigned long long)last_sealed);
	else if (hr == -ENOENT && last_sealed)
		problem(&v, "head.json is missing");
	free(segs);
	if (segments_checked)
		*segments_checked = checked;
	return v.problems;
}
