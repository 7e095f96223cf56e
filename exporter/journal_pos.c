/* exporter/journal_pos.c — questions about a position in the journal that
 * the segment index answers without reading events: how far a cursor is
 * behind the end, and how many events of its segment lie before it
 * (contract: journal.h). */
#include "exporter/journal_int.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

/* The index of sealed segment s, or -errno (-ENOENT: not sealed). */
static int read_idx(const char *dir, const struct jseg *s, struct jidx *x)
{
	char p[GB_PATH_MAX];
	if (!s->sealed || !s->has_idx || s->active)
		return -ENOENT;
	int rc = jseg_path(p, sizeof p, dir, s, ".idx.json");
	return rc < 0 ? rc : jidx_read(p, x);
}

int gb_journal_lag(const char *dir, const struct gb_jpos *pos, uint64_t *segments,
                   uint64_t *bytes)
{
	struct jseg *v;
	size_t n;
	*segments = *bytes = 0;
	int rc = jseg_list(dir, &v, &n);
	if (rc < 0 || !n)
		return rc;
	uint64_t newest = v[n - 1].n, total = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i].n < pos->segment)
			continue;
		uint64_t size = 0;
		struct jidx x;
		struct stat st;
		char p[GB_PATH_MAX];
		if (read_idx(dir, &v[i], &x) == 0) {
			size = x.bytes;
			jidx_free(&x);
		} else if (jseg_path(p, sizeof p, dir, &v[i], ".jsonl") == 0 && stat(p, &st) == 0)
			size = (uint64_t)st.st_size;
		if (v[i].n == pos->segment)
			size = size > pos->offset ? size - pos->offset : 0;
		total += size;
	}
	free(v);
	*segments = newest > pos->segment ? newest - pos->segment : 0;
	*bytes = total;
	return 0;
}

/* Events of segment pos->segment read from `from` with offsets below
 * pos->offset. */
static int count_from(const char *dir, const struct gb_jpos *pos, uint64_t from, uint64_t *lines)
{
	struct gb_jreader *r;
	struct gb_jpos start = { pos->segment, from };
	int rc = gb_jreader_open(dir, NULL, &start, &r);
	if (rc < 0)
		return rc;
	const char *l;
	size_t len;
	struct gb_jpos at;
	/* damage (rc 2, a LOSS in its place) is no event before the position */
	while ((rc = gb_jreader_next(r, &l, &len, &at)) >= 1 && at.segment == pos->segment &&
	       at.offset < pos->offset)
		*lines += rc == 1;
	gb_jreader_close(r);
	return rc < 0 ? rc : 0;
}

int gb_journal_lines_before(const char *dir, const struct gb_jpos *pos, uint64_t *lines)
{
	*lines = 0;
	if (pos->offset == 0)
		return 0;
	struct jseg *v;
	size_t n;
	int rc = jseg_list(dir, &v, &n);
	if (rc < 0)
		return rc;
	size_t i = 0;
	while (i < n && v[i].n != pos->segment)
		i++;
	struct jidx x;
	if (i == n || read_idx(dir, &v[i], &x) < 0) {
		/* active (or gone): no frame table, so count what can be read */
		free(v);
		return count_from(dir, pos, 0, lines);
	}
	free(v);
	uint64_t from = x.bytes;
	for (size_t f = 0; f < x.n_frames; f++) {
		const struct jidx_frame *fr = &x.frames[f];
		if (fr->u_off + fr->u_len <= pos->offset) {
			*lines += fr->lines;
			continue;
		}
		from = fr->u_off; /* the offset is inside this frame */
		break;
	}
	jidx_free(&x);
	return from < pos->offset ? count_from(dir, pos, from, lines) : 0;
}
