/* exporter/journal_seal.c — turning an active segment into a sealed one.
 *
 * The .jsonl is cut into frames of about frame_bytes, always at a line end,
 * and each frame is compressed as its own zstd frame: a reader that wants
 * the middle of a segment decodes one frame, not the whole file.  The
 * SHA-256 covers the .zst bytes exactly as stored; the next sealed segment
 * repeats it as prev_sha256, and head.json names the newest, so an altered,
 * missing or truncated segment breaks the chain (journal_verify.c).
 *
 * Order of effects, each durable before the next: .zst (tmp, fsync,
 * rename), index, head.json, then the .jsonl goes.  A crash anywhere leaves
 * the .jsonl in place and the seal is simply redone on the next open.
 *
 * Runs on the writer's sealer thread (journal_write.c), concurrently with
 * appends to the next segment and with readers: it touches only segment
 * s's files and head.json, and x is the sealer's alone while it runs. */
#include "exporter/journal_int.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

/* Compress data[0..len) into fd as frames; fills x->frames and the hash. */
static int compress_frames(int fd, const char *data, size_t len, struct jidx *x,
                           uint32_t frame_bytes, int level)
{
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t cap = ZSTD_compressBound(frame_bytes * 2u + 65536u);
	char *buf = malloc(cap);
	size_t fcap = len / frame_bytes + 2;
	struct jidx_frame *frames = calloc(fcap, sizeof *frames);
	int rc = 0;
	if (!cc || !md || !buf || !frames || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		rc = -ENOMEM;
		goto out;
	}
	/* the blocks the writer tracked (journal_blk.c) carry each frame's
	 * time range and sandboxes; frames it did not track are read for them */
	const struct jidx_frame *old = x->frames;
	size_t old_n = x->n_frames, k = 0;
	ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
	size_t nf = 0, off = 0;
	uint64_t c_off = 0;
	while (off < len) {
		/* A frame ends at the first line end at or after frame_bytes. */
		size_t end = off + frame_bytes < len ? off + frame_bytes : len;
		const char *nl = memchr(data + end - 1, '\n', len - (end - 1));
		end = nl ? (size_t)(nl - data) + 1 : len;
		size_t ulen = end - off;
		if (ZSTD_compressBound(ulen) > cap) {
			size_t ncap = ZSTD_compressBound(ulen);
			char *nb = realloc(buf, ncap);
			if (!nb) {
				rc = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		size_t c = ZSTD_compress2(cc, buf, cap, data + off, ulen);
		if (ZSTD_isError(c)) {
			rc = -EIO;
			goto out;
		}
		if ((rc = gb_write_all(fd, buf, c)) < 0)
			goto out;
		EVP_DigestUpdate(md, buf, c);
		if (nf == fcap) {
			struct jidx_frame *nfr = realloc(frames, (fcap *= 2) * sizeof *frames);
			if (!nfr) {
				rc = -ENOMEM;
				goto out;
			}
			frames = nfr;
		}
		uint64_t lines = 0;
		for (const char *p = data + off; (p = memchr(p, '\n', (size_t)(data + end - p))); p++)
			lines++;
		struct jidx_frame *fr = &frames[nf++];
		*fr = (struct jidx_frame){ .c_off = c_off, .c_len = c, .u_off = off, .u_len = ulen,
			                   .lines = lines };
		while (k < old_n && old[k].u_off < off)
			k++;
		const struct jidx_frame *m = NULL;
		if (k < old_n && old[k].u_off == off && old[k].u_len == ulen && old[k].has_meta)
			m = &old[k];
		else if (x->blk.u_off == off && end == len && x->blk.lines == lines)
			m = &x->blk; /* the open block is the last frame */
		if (m && m->lines == lines) {
			*fr = *m; /* its meta; the offsets are the frame's */
			fr->c_off = c_off;
			fr->c_len = c;
			fr->u_off = off;
			fr->u_len = ulen;
			fr->has_meta = true;
		} else {
			jidx_frame_meta(x, fr, data + off, ulen);
		}
		c_off += c;
		off = end;
	}
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned dl = 0;
	EVP_DigestFinal_ex(md, d, &dl);
	gb_hex(d, dl, x->sha256);
	free(x->frames);
	x->frames = frames;
	x->n_frames = nf;
	x->cap_frames = fcap;
	frames = NULL;
out:
	free(frames);
	free(buf);
	EVP_MD_CTX_free(md);
	ZSTD_freeCCtx(cc);
	return rc;
}

int jseal(const char *dir, const struct jseg *s, struct jidx *x, uint32_t frame_bytes, int level)
{
	char src[GB_PATH_MAX], dst[GB_PATH_MAX], tmp[GB_PATH_MAX], idx[GB_PATH_MAX];
	if (jseg_path(src, sizeof src, dir, s, ".jsonl") < 0 ||
	    jseg_path(dst, sizeof dst, dir, s, ".jsonl.zst") < 0 ||
	    jseg_path(tmp, sizeof tmp, dir, s, ".jsonl.zst.tmp") < 0 ||
	    jseg_path(idx, sizeof idx, dir, s, ".idx.json") < 0)
		return -ENAMETOOLONG;
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	struct stat st;
	if (fstat(in, &st) < 0) {
		int e = -errno;
		close(in);
		return e;
	}
	size_t len = (size_t)st.st_size;
	const char *data = "";
	void *m = NULL;
	if (len) {
		/* populated at once: the file was just written and is in the
		 * page cache; one call maps it all instead of a fault per page
		 * (16 384 of them for a 64 MiB segment) */
		m = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, in, 0);
		if (m == MAP_FAILED) {
			int e = -errno;
			close(in);
			return e;
		}
		data = m;
	}
	close(in);
	int rc = 0;
	int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (out < 0)
		rc = -errno;
	if (rc == 0)
		rc = compress_frames(out, data, len, x, frame_bytes, level);
	if (m)
		munmap(m, len);
	if (out >= 0) {
		if (rc == 0 && fsync(out) < 0)
			rc = -errno;
		close(out);
	}
	if (rc == 0 && rename(tmp, dst) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	x->bytes = len;
	if ((rc = jidx_write(idx, x)) < 0)
		return rc;
	if ((rc = jchain_write(dir, "head.json", s->n, x->sha256)) < 0)
		return rc;
	if (unlink(src) < 0 && errno != ENOENT)
		return -errno;
	char blk[GB_PATH_MAX];
	if (jseg_path(blk, sizeof blk, dir, s, ".blk.json") == 0)
		unlink(blk); /* the index took over */
	return gb_fsync_dir(src);
}
