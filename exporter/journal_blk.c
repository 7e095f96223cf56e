/* exporter/journal_blk.c — the active segment's block sidecar,
 * NNNN.blk.json (journal_int.h).
 *
 * A sealed segment's index tells a reader each frame's time range and
 * sandboxes, so a window query decodes only the frames it needs.  The active
 * segment has no index yet, and it can be most of the recent journal (64 MiB
 * by default), so the writer keeps the same table for it as it appends: the
 * segment is cut into blocks exactly where the seal will cut its frames, and
 * each block, once its bytes are written, is one JSON line appended here.
 *
 * It is a hint, never the truth: a crash can leave it short (the reader then
 * scans what it does not cover), recovery rewrites it from the data, the
 * seal removes it (the index takes over), a reader uses blocks only while
 * they continue each other from offset 0 and end within the file, and
 * `journal verify` recomputes every block from the lines it covers. */
#include "exporter/journal_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"

static int block_line(struct gb_buf *b, const struct jidx *x, const struct jidx_frame *fr)
{
	json_t *o = json_pack("{sIsIsI}", "u_off", (json_int_t)fr->u_off, "u_len",
	                      (json_int_t)fr->u_len, "lines", (json_int_t)fr->lines);
	if (!o)
		return -ENOMEM;
	jidx_frame_meta_json(o, x, fr);
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		return -ENOMEM;
	gb_buf_puts(b, s);
	gb_buf_putc(b, '\n');
	free(s);
	return b->err ? -ENOMEM : 0;
}

static int lines_of(const struct jidx *x, size_t from, struct gb_buf *b)
{
	for (size_t i = from; i < x->n_frames; i++) {
		int rc = block_line(b, x, &x->frames[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int jblk_append(const char *dir, const struct jseg *s, const struct jidx *x, size_t from)
{
	if (from >= x->n_frames)
		return 0;
	char p[GB_PATH_MAX];
	int rc = jseg_path(p, sizeof p, dir, s, ".blk.json");
	if (rc < 0)
		return rc;
	struct gb_buf b = GB_BUF_INIT;
	if ((rc = lines_of(x, from, &b)) == 0) {
		/* one write: a reader sees whole lines or (torn by a crash) a last
		 * line it cannot parse and stops before */
		int fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (fd < 0)
			rc = -errno;
		else {
			rc = gb_write_all(fd, b.data, b.len);
			close(fd);
		}
	}
	gb_buf_free(&b);
	return rc;
}

int jblk_rewrite(const char *dir, const struct jseg *s, const struct jidx *x)
{
	char p[GB_PATH_MAX];
	int rc = jseg_path(p, sizeof p, dir, s, ".blk.json");
	if (rc < 0)
		return rc;
	struct gb_buf b = GB_BUF_INIT;
	if ((rc = lines_of(x, 0, &b)) == 0)
		rc = gb_write_file_atomic(p, b.len ? b.data : "", b.len, 0640, 0);
	gb_buf_free(&b);
	return rc;
}

/* Add the names of one sandbox array to x's table (so the masks resolve). */
static void learn_names(struct jidx *x, json_t *a)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
	{
		const char *n = json_string_value(v);
		if (!n || !*n)
			continue;
		size_t k = 0;
		while (k < x->n_sbx && strcmp(x->sbx[k].name, n))
			k++;
		if (k < x->n_sbx)
			continue;
		if (x->n_sbx < J_MAX_SANDBOXES && strlen(n) < sizeof x->sbx[0].name)
			snprintf(x->sbx[x->n_sbx++].name, sizeof x->sbx[0].name, "%s", n);
		else
			x->sbx_overflow = true;
	}
}

/* One sidecar line (with its newline) into x: 1 added, 0 not believed (it
 * does not continue *expect, ends beyond limit, or does not parse), -ENOMEM. */
static int block_parse(struct jidx *x, const char *line, size_t n, uint64_t *expect,
                       uint64_t limit)
{
	json_t *o = json_loadb(line, n, 0, NULL);
	struct jidx_frame fr;
	memset(&fr, 0, sizeof fr);
	json_int_t uo = json_integer_value(json_object_get(o, "u_off")),
	           ul = json_integer_value(json_object_get(o, "u_len")),
	           ln = json_integer_value(json_object_get(o, "lines"));
	bool ok = o && uo >= 0 && ul > 0 && ln > 0 && (uint64_t)uo == *expect &&
	          *expect <= limit && (uint64_t)ul <= limit - *expect;
	if (ok) {
		learn_names(x, json_object_get(o, "sbx"));
		fr.u_off = (uint64_t)uo;
		fr.u_len = (uint64_t)ul;
		ok = jidx_frame_meta_parse(o, x, &fr) == 0 && fr.has_meta;
	}
	json_decref(o);
	if (!ok)
		return 0;
	fr.lines = (uint64_t)ln;
	if (x->n_frames == x->cap_frames) {
		size_t nc = x->cap_frames ? x->cap_frames * 2 : 16;
		struct jidx_frame *nf = realloc(x->frames, nc * sizeof *nf);
		if (!nf)
			return -ENOMEM;
		x->frames = nf;
		x->cap_frames = nc;
	}
	x->frames[x->n_frames++] = fr;
	*expect += fr.u_len;
	return 1;
}

int jblk_parse(struct jidx *x, const char *buf, size_t len, uint64_t *expect, uint64_t limit,
               size_t *used)
{
	*used = 0;
	while (*used < len) {
		const char *l = buf + *used, *nl = memchr(l, '\n', len - *used);
		if (!nl)
			return 0; /* an unfinished (or torn) last line: not yet */
		/* bounded: a block is >= frame_bytes of a segment <= 64 MiB by
		 * default; a sidecar that claims more than this many is not
		 * believed further */
		if (x->n_frames >= J_BLK_MAX)
			return 1;
		int rc = block_parse(x, l, (size_t)(nl - l) + 1, expect, limit);
		if (rc <= 0)
			return rc < 0 ? rc : 1;
		*used += (size_t)(nl - l) + 1;
	}
	return 0;
}

int jblk_slurp(const char *dir, const struct jseg *s, char **data, size_t *len)
{
	char p[GB_PATH_MAX];
	*data = NULL;
	*len = 0;
	int rc = jseg_path(p, sizeof p, dir, s, ".blk.json");
	if (rc < 0)
		return rc;
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	size_t want = (uint64_t)st.st_size > J_BLK_FILE_MAX ? (size_t)J_BLK_FILE_MAX
	                                                     : (size_t)st.st_size;
	char *buf = malloc(want ? want : 1);
	size_t got = 0;
	rc = buf ? 0 : -ENOMEM;
	while (rc == 0 && got < want) {
		ssize_t n = pread(fd, buf + got, want - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = -errno;
		else if (n == 0)
			break; /* shrank meanwhile: what is there */
		else
			got += (size_t)n;
	}
	close(fd);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*data = buf;
	*len = got;
	return 0;
}

int jblk_read(const char *dir, const struct jseg *s, uint64_t file_bytes, struct jidx *x)
{
	char *data;
	size_t len, used;
	int rc = jblk_slurp(dir, s, &data, &len);
	if (rc < 0 || !data)
		return rc;
	uint64_t expect = 0;
	rc = jblk_parse(x, data, len, &expect, file_bytes, &used);
	free(data);
	return rc < 0 ? rc : 0;
}
