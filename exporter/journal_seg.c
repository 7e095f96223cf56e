/* exporter/journal_seg.c — segment names and listing, segment indexes,
 * head/chain files (journal_int.h).  The index is small and written once per
 * segment, so jansson writes and reads it. */
#include "exporter/journal_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int jseg_path(char *buf, size_t len, const char *dir, const struct jseg *s, const char *suffix)
{
	int n = snprintf(buf, len, "%s/%s/%0*llu%s", dir, s->day, J_NAME_DIGITS,
	                 (unsigned long long)s->n, suffix);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static bool is_day(const char *d)
{
	/* YYYY-MM-DD */
	if (strlen(d) != 10 || d[4] != '-' || d[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (d[i] < '0' || d[i] > '9'))
			return false;
	return true;
}

/* "NNNNNNNNNNNN.suffix" -> number and suffix, or false */
static bool parse_name(const char *f, uint64_t *n, const char **suffix)
{
	uint64_t v = 0;
	int i = 0;
	for (; i < J_NAME_DIGITS; i++) {
		if (f[i] < '0' || f[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(f[i] - '0');
	}
	*n = v;
	*suffix = f + i;
	return v > 0;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct jseg *x = a, *y = b;
	return x->n < y->n ? -1 : x->n > y->n;
}

static struct jseg *find_or_add(struct jseg **v, size_t *n, size_t *cap, uint64_t num,
                                const char *day)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].n == num)
			return &(*v)[i];
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		struct jseg *nv = realloc(*v, nc * sizeof *nv);
		if (!nv)
			return NULL;
		*v = nv;
		*cap = nc;
	}
	struct jseg *s = &(*v)[(*n)++];
	memset(s, 0, sizeof *s);
	s->n = num;
	memcpy(s->day, day, 10);
	return s;
}

int jseg_list(const char *dir, struct jseg **out, size_t *count)
{
	*out = NULL;
	*count = 0;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	struct jseg *v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d))) {
		if (!is_day(e->d_name))
			continue;
		char sub[GB_PATH_MAX];
		snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
		DIR *dd = opendir(sub);
		if (!dd)
			continue; /* removed by retention meanwhile */
		struct dirent *f;
		while ((f = readdir(dd))) {
			uint64_t num;
			const char *suf;
			if (!parse_name(f->d_name, &num, &suf))
				continue;
			bool jl = !strcmp(suf, ".jsonl"), zs = !strcmp(suf, ".jsonl.zst"),
			     ix = !strcmp(suf, ".idx.json");
			if (!jl && !zs && !ix)
				continue;
			struct jseg *s = find_or_add(&v, &n, &cap, num, e->d_name);
			if (!s) {
				rc = -ENOMEM;
				break;
			}
			s->has_jsonl |= jl;
			s->sealed |= zs;
			s->has_idx |= ix;
		}
		closedir(dd);
	}
	closedir(d);
	if (rc < 0) {
		free(v);
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		v[i].active = v[i].has_jsonl && !(v[i].sealed && v[i].has_idx);
	if (n)
		qsort(v, n, sizeof *v, cmp_seg);
	*out = v;
	*count = n;
	return 0;
}

/* ---- index ---- */

/* Bit of a sandbox in x's table; all bits when it has none or is not in
 * the table (a filter then cannot rule the frame out). */
static uint64_t sbx_bit(const struct jidx *x, const char *name)
{
	if (!name || !*name)
		return ~0ull;
	for (size_t i = 0; i < x->n_sbx && i < 64; i++)
		if (!strcmp(x->sbx[i].name, name))
			return 1ull << i;
	return ~0ull;
}


/* A frame's meta in JSON: time range and sandbox names (masks are indexes
 * into one process's table, names survive a reorder). */
void jidx_frame_meta_json(json_t *f, const struct jidx *x, const struct jidx_frame *fr)
{
	if (!fr->has_meta)
		return;
	json_object_set_new(f, "min_ms", json_integer(fr->min_ms));
	json_object_set_new(f, "max_ms", json_integer(fr->max_ms));
	const uint64_t masks[3] = { fr->sbx, fr->deny, fr->allow };
	const char *keys[3] = { "sbx", "deny", "allow" };
	for (int k = 0; k < 3; k++) {
		uint64_t all = x->n_sbx >= 64 ? ~0ull : (1ull << x->n_sbx) - 1;
		if (x->sbx_overflow || (masks[k] & ~all)) {
			json_object_set_new(f, keys[k], json_string("*"));
			continue;
		}
		json_t *a = json_array();
		for (size_t i = 0; i < x->n_sbx; i++)
			if (masks[k] & (1ull << i))
				json_array_append_new(a, json_string(x->sbx[i].name));
		json_object_set_new(f, keys[k], a);
	}
	/* each sandbox's [min, max], in the order of "sbx" */
	if (fr->n_st == J_ST_MANY || x->sbx_overflow ||
	    (size_t)__builtin_popcountll(fr->sbx) != fr->n_st)
		return;
	json_t *t = json_array();
	for (size_t i = 0; i < x->n_sbx; i++)
		if (fr->sbx & (1ull << i))
			for (uint8_t e = 0; e < fr->n_st; e++)
				if (fr->st[e].bit == i)
					json_array_append_new(t, json_pack("[II]", (json_int_t)fr->st[e].min_ms,
					                                   (json_int_t)fr->st[e].max_ms));
	json_object_set_new(f, "sbx_t", t);
}

/* The inverse against x's table; a name missing from it, or "*", means
 * every bit.  A frame without the keys has no meta (an older index).
 * 0 or -EBADMSG. */
int jidx_frame_meta_parse(json_t *f, const struct jidx *x, struct jidx_frame *fr)
{
	json_t *mn = json_object_get(f, "min_ms"), *mx = json_object_get(f, "max_ms");
	fr->has_meta = false;
	if (!mn && !mx)
		return 0;
	if (!json_is_integer(mn) || !json_is_integer(mx))
		return -EBADMSG;
	fr->min_ms = json_integer_value(mn);
	fr->max_ms = json_integer_value(mx);
	uint64_t *masks[3] = { &fr->sbx, &fr->deny, &fr->allow };
	const char *keys[3] = { "sbx", "deny", "allow" };
	for (int k = 0; k < 3; k++) {
		json_t *a = json_object_get(f, keys[k]);
		*masks[k] = 0;
		if (json_is_string(a)) {
			*masks[k] = ~0ull;
			continue;
		}
		if (!json_is_array(a))
			return -EBADMSG;
		size_t i;
		json_t *v;
		json_array_foreach(a, i, v)
			*masks[k] |= x->sbx_overflow ? ~0ull : sbx_bit(x, json_string_value(v));
	}
	fr->n_st = J_ST_MANY;
	json_t *names = json_object_get(f, "sbx"), *t = json_object_get(f, "sbx_t");
	size_t nn = json_array_size(names);
	if (json_is_array(t) && json_array_size(t) == nn && nn <= J_FRAME_SBX && !x->sbx_overflow) {
		fr->n_st = 0;
		for (size_t i = 0; i < nn; i++) {
			uint64_t bit = sbx_bit(x, json_string_value(json_array_get(names, i)));
			json_t *mn2 = json_array_get(json_array_get(t, i), 0),
			       *mx2 = json_array_get(json_array_get(t, i), 1);
			if (bit == ~0ull || !json_is_integer(mn2) || !json_is_integer(mx2)) {
				fr->n_st = J_ST_MANY;
				break;
			}
			fr->st[fr->n_st].bit = (uint8_t)__builtin_ctzll(bit);
			fr->st[fr->n_st].min_ms = json_integer_value(mn2);
			fr->st[fr->n_st].max_ms = json_integer_value(mx2);
			fr->n_st++;
		}
	}
	fr->has_meta = true;
	return 0;
}

void jidx_init(struct jidx *x, uint64_t segment, int64_t opened_ms)
{
	memset(x, 0, sizeof *x);
	x->segment = segment;
	x->opened_ms = opened_ms;
}

void jidx_free(struct jidx *x)
{
	free(x->frames);
	x->frames = NULL;
	x->n_frames = x->cap_frames = 0;
}

int jidx_copy_frames(struct jidx *dst, const struct jidx *src)
{
	dst->frames = NULL;
	dst->n_frames = dst->cap_frames = 0;
	if (!src->n_frames)
		return 0;
	dst->frames = malloc(src->n_frames * sizeof *dst->frames);
	if (!dst->frames)
		return -ENOMEM;
	memcpy(dst->frames, src->frames, src->n_frames * sizeof *dst->frames);
	dst->n_frames = dst->cap_frames = src->n_frames;
	return 0;
}

/* The st entry of a one-bit mask, created if there is room; NULL: the
 * frame has more sandboxes than fit, or the bit is not one sandbox. */
static struct jidx_st *st_entry(struct jidx_frame *fr, uint64_t bit)
{
	if (fr->n_st == J_ST_MANY || !bit || (bit & (bit - 1)))
		return NULL;
	uint8_t b = (uint8_t)__builtin_ctzll(bit);
	for (uint8_t i = 0; i < fr->n_st; i++)
		if (fr->st[i].bit == b)
			return &fr->st[i];
	if (fr->n_st == J_FRAME_SBX)
		return NULL;
	fr->st[fr->n_st].bit = b;
	fr->st[fr->n_st].min_ms = fr->st[fr->n_st].max_ms = 0;
	return &fr->st[fr->n_st++];
}

static void frame_add(struct jidx_frame *fr, uint64_t bit, const struct gb_jmeta *m)
{
	if (fr->n_st != J_ST_MANY) {
		struct jidx_st *e = st_entry(fr, bit);
		if (!e)
			fr->n_st = J_ST_MANY;
		else if (m->time_ms) {
			if (!e->min_ms || m->time_ms < e->min_ms)
				e->min_ms = m->time_ms;
			if (m->time_ms > e->max_ms)
				e->max_ms = m->time_ms;
		}
	}
	if (m->time_ms) {
		if (!fr->min_ms || m->time_ms < fr->min_ms)
			fr->min_ms = m->time_ms;
		if (m->time_ms > fr->max_ms)
			fr->max_ms = m->time_ms;
	}
	fr->sbx |= bit;
	if (m->action_id == 2)
		fr->deny |= bit;
	else if (m->action_id == 1)
		fr->allow |= bit;
	fr->lines++;
}

/* Close the open block at the current end (it becomes frames[n_frames]). */
static int block_close(struct jidx *x)
{
	if (x->n_frames == x->cap_frames) {
		size_t nc = x->cap_frames ? x->cap_frames * 2 : 16;
		struct jidx_frame *nf = realloc(x->frames, nc * sizeof *nf);
		if (!nf)
			return -ENOMEM;
		x->frames = nf;
		x->cap_frames = nc;
	}
	x->blk.u_len = x->bytes - x->blk.u_off;
	x->blk.has_meta = true;
	x->frames[x->n_frames++] = x->blk;
	memset(&x->blk, 0, sizeof x->blk);
	x->blk.u_off = x->bytes;
	return 0;
}

void jidx_frame_meta(const struct jidx *x, struct jidx_frame *fr, const char *data, size_t len)
{
	fr->min_ms = fr->max_ms = 0;
	fr->sbx = fr->deny = fr->allow = 0;
	fr->n_st = 0;
	uint64_t lines = fr->lines;
	fr->lines = 0;
	for (size_t off = 0; off < len;) {
		const char *nl = memchr(data + off, '\n', len - off);
		size_t l = nl ? (size_t)(nl - (data + off)) : len - off;
		struct gb_jmeta m;
		char sb[64];
		if (gb_jmeta_parse(data + off, l, &m, sb, sizeof sb) < 0) {
			memset(&m, 0, sizeof m);
			m.sandbox = "";
		}
		frame_add(fr, sbx_bit(x, m.sandbox), &m);
		off += l + 1;
	}
	if (lines)
		fr->lines = lines;
	fr->has_meta = true;
}

void jidx_count(struct jidx *x, const struct gb_jmeta *m, size_t line_bytes)
{
	x->events++;
	x->bytes += line_bytes;
	if (m->time_ms) {
		if (!x->first_ms || m->time_ms < x->first_ms)
			x->first_ms = m->time_ms;
		if (m->time_ms > x->last_ms)
			x->last_ms = m->time_ms;
	}
	if (m->sandbox && *m->sandbox) {
		size_t i = 0;
		for (; i < x->n_sbx; i++)
			if (!strcmp(x->sbx[i].name, m->sandbox))
				break;
		if (i < x->n_sbx)
			x->sbx[i].n++;
		else if (x->n_sbx < J_MAX_SANDBOXES && strlen(m->sandbox) < sizeof x->sbx[0].name) {
			snprintf(x->sbx[x->n_sbx].name, sizeof x->sbx[0].name, "%s", m->sandbox);
			x->sbx[x->n_sbx++].n = 1;
		} else
			x->sbx_overflow = true;
	}
	size_t i = 0;
	for (; i < x->n_cls; i++)
		if (x->cls[i].uid == m->class_uid)
			break;
	if (i < x->n_cls)
		x->cls[i].n++;
	else if (x->n_cls < J_MAX_CLASSES) {
		x->cls[x->n_cls].uid = m->class_uid;
		x->cls[x->n_cls++].n = 1;
	}
	x->sev[m->severity_id <= 6 ? m->severity_id : 7]++;
	if (x->frame_bytes) {
		/* the open block; cut where the seal will cut its frame.  Out of
		 * memory for the block table only costs readers the skip: the
		 * block then stays open and is scanned. */
		frame_add(&x->blk, x->sbx_overflow ? ~0ull : sbx_bit(x, m->sandbox), m);
		if (x->bytes - x->blk.u_off >= x->frame_bytes)
			(void)block_close(x);
	}
}

bool jidx_may_match(const struct jidx *x, const struct gb_jfilter *f)
{
	if (!f || !x->events)
		return x->events > 0;
	if (f->since_ms && x->last_ms && x->last_ms < f->since_ms)
		return false;
	if (f->until_ms && x->first_ms && x->first_ms > f->until_ms)
		return false;
	if (f->sandbox && !x->sbx_overflow) {
		bool found = false;
		for (size_t i = 0; i < x->n_sbx && !found; i++)
			found = !strcmp(x->sbx[i].name, f->sandbox);
		if (!found)
			return false;
	}
	if (f->class_uid) {
		bool found = false;
		for (size_t i = 0; i < x->n_cls && !found; i++)
			found = x->cls[i].uid == f->class_uid;
		if (!found && x->n_cls < J_MAX_CLASSES)
			return false;
	}
	if (f->min_severity > 0) {
		uint64_t n = x->sev[7];
		for (int s = f->min_severity; s <= 6; s++)
			n += x->sev[s];
		if (!n)
			return false;
	}
	return true;
}

bool jidx_frame_may_match(const struct jidx *x, const struct jidx_frame *fr,
                          const struct gb_jfilter *f)
{
	if (!f || !fr->has_meta)
		return true;
	if (!fr->lines)
		return false;
	if (f->since_ms && fr->max_ms && fr->max_ms < f->since_ms)
		return false;
	if (f->until_ms && fr->min_ms && fr->min_ms > f->until_ms)
		return false;
	uint64_t want = ~0ull;
	if (f->sandbox && !x->sbx_overflow) {
		want = sbx_bit(x, f->sandbox);
		/* not in the table: no frame names it, only an all-bits ("*")
		 * frame may hold it — bit 63, which a table of fewer than 64
		 * names never gives a sandbox */
		if (want == ~0ull && x->n_sbx < 64)
			want = 1ull << 63;
	}
	/* the sandbox's own time range in this frame, when it is known */
	if (want != ~0ull && (want & (want - 1)) == 0 && fr->n_st != J_ST_MANY) {
		uint8_t b = (uint8_t)__builtin_ctzll(want);
		for (uint8_t i = 0; i < fr->n_st; i++)
			if (fr->st[i].bit == b) {
				if (f->since_ms && fr->st[i].max_ms && fr->st[i].max_ms < f->since_ms)
					return false;
				if (f->until_ms && fr->st[i].min_ms && fr->st[i].min_ms > f->until_ms)
					return false;
			}
	}
	uint64_t have = f->action_id == 2 ? fr->deny : f->action_id == 1 ? fr->allow : fr->sbx;
	return (want & have) != 0;
}

int jidx_write(const char *path, const struct jidx *x)
{
	json_t *o = json_object(), *sb = json_object(), *cl = json_object(), *sv = json_object(),
	       *fr = json_array();
	for (size_t i = 0; i < x->n_sbx; i++)
		json_object_set_new(sb, x->sbx[i].name, json_integer((json_int_t)x->sbx[i].n));
	for (size_t i = 0; i < x->n_cls; i++) {
		char k[16];
		snprintf(k, sizeof k, "%u", x->cls[i].uid);
		json_object_set_new(cl, k, json_integer((json_int_t)x->cls[i].n));
	}
	for (int i = 0; i < 8; i++)
		if (x->sev[i]) {
			char k[16];
			snprintf(k, sizeof k, "%d", i < 7 ? i : 99);
			json_object_set_new(sv, k, json_integer((json_int_t)x->sev[i]));
		}
	for (size_t i = 0; i < x->n_frames; i++) {
		json_t *f = json_pack("{sIsIsIsIsI}", "c_off", (json_int_t)x->frames[i].c_off, "c_len",
		                      (json_int_t)x->frames[i].c_len, "u_off",
		                      (json_int_t)x->frames[i].u_off, "u_len",
		                      (json_int_t)x->frames[i].u_len, "lines",
		                      (json_int_t)x->frames[i].lines);
		jidx_frame_meta_json(f, x, &x->frames[i]);
		json_array_append_new(fr, f);
	}
	json_object_set_new(o, "segment", json_integer((json_int_t)x->segment));
	json_object_set_new(o, "opened_ms", json_integer(x->opened_ms));
	json_object_set_new(o, "first_ms", json_integer(x->first_ms));
	json_object_set_new(o, "last_ms", json_integer(x->last_ms));
	json_object_set_new(o, "events", json_integer((json_int_t)x->events));
	json_object_set_new(o, "bytes", json_integer((json_int_t)x->bytes));
	json_object_set_new(o, "sandboxes", sb);
	json_object_set_new(o, "sandboxes_overflow", json_boolean(x->sbx_overflow));
	json_object_set_new(o, "classes", cl);
	json_object_set_new(o, "severities", sv);
	json_object_set_new(o, "frames", fr);
	json_object_set_new(o, "sha256", json_string(x->sha256));
	json_object_set_new(o, "prev_sha256", json_string(x->prev_sha256));
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!s)
		return -ENOMEM;
	size_t n = strlen(s);
	s[n] = '\n'; /* the NUL goes; write n + 1 bytes */
	int rc = gb_write_file_atomic(path, s, n + 1, 0640, 0);
	free(s);
	return rc;
}

static int get_u64(json_t *o, const char *k, uint64_t *v)
{
	json_t *x = json_object_get(o, k);
	if (!json_is_integer(x) || json_integer_value(x) < 0)
		return -EBADMSG;
	*v = (uint64_t)json_integer_value(x);
	return 0;
}

static int get_sha(json_t *o, const char *k, char out[65])
{
	const char *s = json_string_value(json_object_get(o, k));
	if (!s || (strlen(s) != 64 && *s))
		return -EBADMSG;
	snprintf(out, 65, "%s", s);
	return 0;
}

int jidx_read(const char *path, struct jidx *x)
{
	json_error_t je;
	json_t *o = json_load_file(path, 0, &je);
	if (!o)
		return errno == ENOENT ? -ENOENT : -EBADMSG;
	memset(x, 0, sizeof *x);
	uint64_t u = 0;
	int rc = 0;
	rc |= get_u64(o, "segment", &x->segment);
	rc |= get_u64(o, "events", &x->events);
	rc |= get_u64(o, "bytes", &x->bytes);
	rc |= get_u64(o, "first_ms", &u);
	x->first_ms = (int64_t)u;
	rc |= get_u64(o, "last_ms", &u);
	x->last_ms = (int64_t)u;
	rc |= get_u64(o, "opened_ms", &u);
	x->opened_ms = (int64_t)u;
	rc |= get_sha(o, "sha256", x->sha256);
	rc |= get_sha(o, "prev_sha256", x->prev_sha256);
	x->sbx_overflow = json_is_true(json_object_get(o, "sandboxes_overflow"));
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(o, "sandboxes"), k, v)
	{
		if (x->n_sbx < J_MAX_SANDBOXES && strlen(k) < sizeof x->sbx[0].name) {
			snprintf(x->sbx[x->n_sbx].name, sizeof x->sbx[0].name, "%s", k);
			x->sbx[x->n_sbx++].n = (uint64_t)json_integer_value(v);
		} else
			x->sbx_overflow = true;
	}
	json_object_foreach(json_object_get(o, "classes"), k, v)
	{
		if (x->n_cls < J_MAX_CLASSES) {
			x->cls[x->n_cls].uid = (uint32_t)strtoul(k, NULL, 10);
			x->cls[x->n_cls++].n = (uint64_t)json_integer_value(v);
		}
	}
	json_object_foreach(json_object_get(o, "severities"), k, v)
	{
		long s = strtol(k, NULL, 10);
		x->sev[s >= 0 && s <= 6 ? s : 7] += (uint64_t)json_integer_value(v);
	}
	json_t *fr = json_object_get(o, "frames");
	size_t nf = json_array_size(fr);
	if (nf) {
		x->frames = calloc(nf, sizeof *x->frames);
		if (!x->frames) {
			json_decref(o);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < nf && rc == 0; i++) {
		json_t *f = json_array_get(fr, i);
		rc |= get_u64(f, "c_off", &x->frames[i].c_off);
		rc |= get_u64(f, "c_len", &x->frames[i].c_len);
		rc |= get_u64(f, "u_off", &x->frames[i].u_off);
		rc |= get_u64(f, "u_len", &x->frames[i].u_len);
		rc |= get_u64(f, "lines", &x->frames[i].lines);
		rc |= jidx_frame_meta_parse(f, x, &x->frames[i]);
		/* Frames lie end to end in the .zst and in order in the stream,
		 * as the writer cuts them: an index that says otherwise would send
		 * a reader backwards (a wrong length is the frame's own damage,
		 * found when it decodes). */
		const struct jidx_frame *pf = i ? &x->frames[i - 1] : NULL;
		if (x->frames[i].c_off != (pf ? pf->c_off + pf->c_len : 0) ||
		    (pf && x->frames[i].u_off < pf->u_off))
			rc = -1;
		x->n_frames = x->cap_frames = i + 1;
	}
	json_decref(o);
	if (rc) {
		jidx_free(x);
		return -EBADMSG;
	}
	return 0;
}

int jchain_write(const char *dir, const char *file, uint64_t segment, const char *sha)
{
	char path[GB_PATH_MAX], body[160];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	int n = snprintf(body, sizeof body, "{\"segment\":%llu,\"sha256\":\"%s\"}\n",
	                 (unsigned long long)segment, sha);
	return gb_write_file_atomic(path, body, (size_t)n, 0640, 0);
}

int jchain_read(const char *dir, const char *file, uint64_t *segment, char sha[65])
{
	char path[GB_PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	json_error_t je;
	json_t *o = json_load_file(path, 0, &je);
	if (!o)
		return errno == ENOENT ? -ENOENT : -EBADMSG;
	int rc = get_u64(o, "segment", segment) | get_sha(o, "sha256", sha);
	json_decref(o);
	return rc ? -EBADMSG : 0;
}

int gb_jmeta_parse(const char *line, size_t len, struct gb_jmeta *m, char *sbuf, size_t sbuflen)
{
	json_error_t je;
	json_t *o = json_loadb(line, len, 0, &je);
	memset(m, 0, sizeof *m);
	if (!json_is_object(o)) {
		json_decref(o);
		return -EBADMSG;
	}
	m->time_ms = (int64_t)json_integer_value(json_object_get(o, "time"));
	m->class_uid = (uint32_t)json_integer_value(json_object_get(o, "class_uid"));
	json_int_t sev = json_integer_value(json_object_get(o, "severity_id"));
	m->severity_id = (uint8_t)(sev >= 0 && sev <= 6 ? sev : 99);
	json_int_t act = json_integer_value(json_object_get(o, "action_id"));
	m->action_id = (uint8_t)(act == 1 || act == 2 ? act : 0);
	const char *s = json_string_value(json_object_get(json_object_get(o, "metadata"), "log_name"));
	if (sbuf && sbuflen) {
		snprintf(sbuf, sbuflen, "%s", s ? s : "");
		m->sandbox = sbuf;
	}
	json_decref(o);
	return 0;
}
