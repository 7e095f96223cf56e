/* common/yaml.c — libyaml events -> the node tree of yaml.h, with the
 * bounds that keep hostile files from exhausting memory or time. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "common/yaml.h"

#define MAX_ANCHORS 1024

struct frame {
	struct gb_ynode *node;
	struct gb_ynode **keys, **vals; /* temporary (malloc) until the end event */
	size_t n, cap;
	struct gb_ynode *pending_key;   /* map: key waiting for its value */
	char *anchor;                   /* registered when the collection ends */
};

struct anchor {
	char *name;
	struct gb_ynode *node;
};

struct builder {
	const char *file;
	struct gb_diags *d;
	struct gb_ydoc *doc;
	struct frame stack[GB_YAML_MAX_DEPTH];
	int depth;
	struct anchor anchors[MAX_ANCHORS];
	size_t n_anchors;
	size_t nodes;   /* expanded */
	int docs;
	bool failed;    /* a fatal problem was reported: stop building */
};

/* The field path of the position being built, e.g. "a.b[2].c". */
static void cur_path(const struct builder *b, char *out, size_t outsz)
{
	size_t o = 0;
	out[0] = 0;
	for (int i = 0; i < b->depth && o < outsz; i++) {
		const struct frame *f = &b->stack[i];
		int w;
		if (f->node->kind == GB_Y_SEQ)
			w = snprintf(out + o, outsz - o, "[%zu]", f->n);
		else if (f->pending_key)
			w = snprintf(out + o, outsz - o, "%s%.*s", o ? "." : "",
			             (int)(f->pending_key->len > 200 ? 200 : f->pending_key->len),
			             f->pending_key->str);
		else
			break;
		if (w < 0)
			break;
		o += (size_t)w;
	}
}

static void berr(struct builder *b, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void berr(struct builder *b, int line, int col, const char *fmt, ...)
{
	char path[512];
	cur_path(b, path, sizeof path);
	va_list ap;
	va_start(ap, fmt);
	gb_diag_vadd(b->d, GB_DIAG_ERROR, b->file, line, col, path, NULL, fmt, ap);
	va_end(ap);
}

static struct gb_ynode *new_node(struct builder *b, enum gb_ykind k, const yaml_mark_t *m)
{
	if (++b->nodes > GB_YAML_MAX_NODES) {
		berr(b, (int)m->line + 1, (int)m->column + 1,
		     "document too large: more than %d nodes (aliases expanded)", GB_YAML_MAX_NODES);
		b->failed = true;
		return NULL;
	}
	struct gb_ynode *n = gb_arena_alloc(&b->doc->arena, sizeof *n);
	if (!n) {
		b->failed = true;
		return NULL;
	}
	n->kind = k;
	n->line = (int)m->line + 1;
	n->column = (int)m->column + 1;
	n->weight = 1;
	return n;
}

static int push_child(struct frame *f, struct gb_ynode *k, struct gb_ynode *v)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		struct gb_ynode **nv = realloc(f->vals, cap * sizeof *nv);
		if (!nv)
			return -ENOMEM;
		f->vals = nv;
		if (f->node->kind == GB_Y_MAP) {
			struct gb_ynode **nk = realloc(f->keys, cap * sizeof *nk);
			if (!nk)
				return -ENOMEM;
			f->keys = nk;
		}
		f->cap = cap;
	}
	if (f->node->kind == GB_Y_MAP)
		f->keys[f->n] = k;
	f->vals[f->n++] = v;
	return 0;
}

/* Attach a finished node to the collection being built (or make it root). */
static void attach(struct builder *b, struct gb_ynode *n)
{
	if (b->depth == 0) {
		b->doc->root = n;
		return;
	}
	struct frame *f = &b->stack[b->depth - 1];
	if (f->node->kind == GB_Y_MAP && !f->pending_key) {
		if (n->kind != GB_Y_SCALAR) {
			berr(b, n->line, n->column, "mapping keys must be plain strings");
			b->failed = true;
			return;
		}
		f->pending_key = n;
		return;
	}
	if (push_child(f, f->pending_key, n)) {
		b->failed = true;
		return;
	}
	f->pending_key = NULL;
}

static void add_anchor(struct builder *b, const char *name, struct gb_ynode *n, int line, int col)
{
	if (!name)
		return;
	/* Redefinition: the newest wins (YAML 1.2). */
	for (size_t i = 0; i < b->n_anchors; i++)
		if (!strcmp(b->anchors[i].name, name)) {
			b->anchors[i].node = n;
			return;
		}
	if (b->n_anchors == MAX_ANCHORS) {
		berr(b, line, col, "too many anchors (more than %d)", MAX_ANCHORS);
		b->failed = true;
		return;
	}
	char *c = strdup(name);
	if (!c) {
		b->failed = true;
		return;
	}
	b->anchors[b->n_anchors++] = (struct anchor){ c, n };
}

static int cmp_key(const void *x, const void *y)
{
	const struct gb_ynode *a = *(struct gb_ynode *const *)x, *c = *(struct gb_ynode *const *)y;
	if (a->len != c->len)
		return a->len < c->len ? -1 : 1;
	int r = memcmp(a->str, c->str, a->len);
	if (r)
		return r;
	/* equal keys: source order, so the later one is reported */
	return a->line != c->line ? (a->line < c->line ? -1 : 1) : (a->column < c->column ? -1 : 1);
}

static void check_dup_keys(struct builder *b, struct frame *f)
{
	if (f->n < 2)
		return;
	struct gb_ynode **s = malloc(f->n * sizeof *s);
	if (!s) {
		b->failed = true;
		return;
	}
	memcpy(s, f->keys, f->n * sizeof *s);
	qsort(s, f->n, sizeof *s, cmp_key);
	for (size_t i = 1; i < f->n; i++)
		if (s[i]->len == s[i - 1]->len && !memcmp(s[i]->str, s[i - 1]->str, s[i]->len)) {
			/* the path names the map holding the duplicate */
			char path[512];
			b->depth--;
			cur_path(b, path, sizeof path);
			b->depth++;
			gb_diag_add(b->d, GB_DIAG_ERROR, b->file, s[i]->line, s[i]->column, path,
			            NULL, "duplicate key '%.*s' (first defined at line %d)",
			            (int)(s[i]->len > 200 ? 200 : s[i]->len), s[i]->str, s[i - 1]->line);
		}
	free(s);
}

static void end_collection(struct builder *b, int line, int col)
{
	struct frame *f = &b->stack[b->depth - 1];
	struct gb_ynode *n = f->node;
	if (n->kind == GB_Y_MAP)
		check_dup_keys(b, f);
	n->n = f->n;
	if (f->n) {
		n->vals = gb_arena_alloc(&b->doc->arena, f->n * sizeof *n->vals);
		if (n->kind == GB_Y_MAP)
			n->keys = gb_arena_alloc(&b->doc->arena, f->n * sizeof *n->keys);
		if (!n->vals || (n->kind == GB_Y_MAP && !n->keys)) {
			b->failed = true;
			n->n = 0;
		} else {
			memcpy(n->vals, f->vals, f->n * sizeof *n->vals);
			if (n->kind == GB_Y_MAP)
				memcpy(n->keys, f->keys, f->n * sizeof *n->keys);
		}
	}
	for (size_t i = 0; i < n->n; i++)
		n->weight += n->vals[i]->weight + (n->keys ? 1 : 0);
	char *anchor = f->anchor;
	free(f->keys);
	free(f->vals);
	*f = (struct frame){ 0 };
	b->depth--;
	if (anchor) {
		add_anchor(b, anchor, n, line, col);
		free(anchor);
	}
	attach(b, n);
}

static void on_event(struct builder *b, yaml_event_t *ev)
{
	const yaml_mark_t *m = &ev->start_mark;
	int line = (int)m->line + 1, col = (int)m->column + 1;
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++b->docs > 1) {
			berr(b, line, col, "only one YAML document is allowed in a file");
			b->failed = true;
		}
		break;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT: {
		if (b->depth >= GB_YAML_MAX_DEPTH) {
			berr(b, line, col, "nesting deeper than %d levels", GB_YAML_MAX_DEPTH);
			b->failed = true;
			return;
		}
		bool map = ev->type == YAML_MAPPING_START_EVENT;
		struct gb_ynode *n = new_node(b, map ? GB_Y_MAP : GB_Y_SEQ, m);
		if (!n)
			return;
		const yaml_char_t *a = map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
		struct frame *f = &b->stack[b->depth++];
		*f = (struct frame){ .node = n };
		if (a && !(f->anchor = strdup((const char *)a)))
			b->failed = true;
		break;
	}
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		if (b->depth > 0)
			end_collection(b, line, col);
		break;
	case YAML_SCALAR_EVENT: {
		struct gb_ynode *n = new_node(b, GB_Y_SCALAR, m);
		if (!n)
			return;
		n->len = ev->data.scalar.length;
		n->str = gb_arena_strndup(&b->doc->arena, (const char *)ev->data.scalar.value, n->len);
		if (!n->str) {
			b->failed = true;
			return;
		}
		n->plain = ev->data.scalar.plain_implicit && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		add_anchor(b, (const char *)ev->data.scalar.anchor, n, line, col);
		attach(b, n);
		break;
	}
	case YAML_ALIAS_EVENT: {
		const char *name = (const char *)ev->data.alias.anchor;
		struct gb_ynode *t = NULL;
		for (size_t i = 0; i < b->n_anchors; i++)
			if (!strcmp(b->anchors[i].name, name))
				t = b->anchors[i].node;
		if (!t) {
			/* Also covers an alias to an enclosing, unfinished anchor:
			 * that would be a cycle. */
			berr(b, line, col, "undefined alias '*%.100s'", name);
			b->failed = true;
			return;
		}
		if (t->weight > GB_YAML_MAX_NODES || (b->nodes += t->weight) > GB_YAML_MAX_NODES) {
			berr(b, line, col,
			     "document too large: more than %d nodes (aliases expanded)", GB_YAML_MAX_NODES);
			b->failed = true;
			return;
		}
		attach(b, t);
		break;
	}
	default:
		break;
	}
}

int gb_yaml_parse(const char *file, const char *buf, size_t len, struct gb_ydoc *doc,
                  struct gb_diags *d)
{
	struct builder *b = calloc(1, sizeof *b);
	if (!b)
		return -ENOMEM;
	*doc = (struct gb_ydoc){ 0 };
	b->file = file;
	b->d = d;
	b->doc = doc;
	size_t errors0 = d ? d->errors : 0;

	yaml_parser_t p;
	if (!yaml_parser_initialize(&p)) {
		free(b);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	for (bool done = false; !done && !b->failed;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			yaml_mark_t mk = p.problem_mark;
			const yaml_mark_t *m = &mk;
			if (p.error == YAML_READER_ERROR) {
				/* reader errors carry a byte offset, not a mark */
				size_t off = p.problem_offset < len ? p.problem_offset : len;
				mk.line = mk.column = 0;
				for (size_t i = 0; i < off; i++) {
					if (buf[i] == '\n') {
						mk.line++;
						mk.column = 0;
					} else {
						mk.column++;
					}
				}
			}
			if (p.error == YAML_MEMORY_ERROR)
				b->failed = true;
			else if (p.context)
				berr(b, (int)m->line + 1, (int)m->column + 1, "YAML syntax error: %s %s",
				     p.problem ? p.problem : "error", p.context);
			else
				berr(b, (int)m->line + 1, (int)m->column + 1, "YAML syntax error: %s",
				     p.problem ? p.problem : "error");
			b->failed = true;
			break;
		}
		on_event(b, &ev);
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	for (int i = 0; i < b->depth; i++) {
		free(b->stack[i].keys);
		free(b->stack[i].vals);
		free(b->stack[i].anchor);
	}
	for (size_t i = 0; i < b->n_anchors; i++)
		free(b->anchors[i].name);
	int rc = 0;
	if (doc->arena.err)
		rc = -ENOMEM;
	else if (b->failed)
		rc = -EINVAL;
	/* Duplicate keys are errors but not fatal: the tree is complete, so
	 * the schema walk still reports everything else; the load fails on
	 * the error count. */
	if (rc && (rc == -ENOMEM || !d || d->errors == errors0)) {
		/* out of memory without a diagnostic: say so */
		gb_diag_add(d, GB_DIAG_ERROR, file, 0, 0, NULL, NULL, "out of memory while parsing");
		rc = -ENOMEM;
	}
	free(b);
	return rc;
}

static int read_fail(int rc, int fd, char *buf, struct gb_diags *d, const char *path, const char *fmt,
                     ...) __attribute__((format(printf, 6, 7)));
static int read_fail(int rc, int fd, char *buf, struct gb_diags *d, const char *path, const char *fmt,
                     ...)
{
	free(buf);
	if (fd >= 0)
		close(fd);
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		gb_diag_vadd(d, GB_DIAG_ERROR, path, 0, 0, NULL, NULL, fmt, ap);
		va_end(ap);
	}
	return rc;
}

int gb_yaml_read_file(const char *path, size_t max, const char *what, bool missing_ok, char **out,
                      size_t *outlen, struct gb_diags *d)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer (it is then
	 * refused as not regular); reads of a regular file ignore the flag */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT && missing_ok)
			return -ENOENT;
		return read_fail(-e, -1, NULL, d, path, "cannot open: %s", strerror(e));
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		return read_fail(-e, fd, NULL, d, path, "cannot stat: %s", strerror(e));
	}
	if (!S_ISREG(st.st_mode))
		return read_fail(-EINVAL, fd, NULL, d, path, "not a regular file");
	if ((unsigned long long)st.st_size > max)
		return read_fail(-EINVAL, fd, NULL, d, path, "file too large: %lld bytes (a %s may be at most %zu bytes)",
		                 (long long)st.st_size, what, max);
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *buf = malloc(cap);
	if (!buf)
		return read_fail(-ENOMEM, fd, NULL, d, path, NULL);
	/* Read to EOF (the file may grow between fstat and read); bounded. */
	for (;;) {
		if (len == cap) {
			if (cap > max)
				return read_fail(-EINVAL, fd, buf, d, path, "file too large (a %s may be at most %zu bytes)",
				                 what, max);
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				return read_fail(-ENOMEM, fd, buf, d, path, NULL);
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			return read_fail(-e, fd, buf, d, path, "read: %s", strerror(e));
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (len == cap) { /* room for the NUL */
		char *nb = realloc(buf, cap + 1);
		if (!nb)
			return read_fail(-ENOMEM, -1, buf, d, path, NULL);
		buf = nb;
	}
	buf[len] = 0;
	*out = buf;
	*outlen = len;
	return 0;
}

void gb_yaml_free(struct gb_ydoc *doc)
{
	gb_arena_free(&doc->arena);
	doc->root = NULL;
}

bool gb_ynode_is_null(const struct gb_ynode *n)
{
	if (!n)
		return true;
	if (n->kind != GB_Y_SCALAR || !n->plain)
		return false;
	return n->len == 0 || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
	       !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}

static struct gb_ynode *const *map_slot(const struct gb_ynode *map, const char *key)
{
	if (!map || map->kind != GB_Y_MAP)
		return NULL;
	size_t kl = strlen(key);
	for (size_t i = 0; i < map->n; i++)
		if (map->keys[i]->len == kl && !memcmp(map->keys[i]->str, key, kl))
			return &map->keys[i];
	return NULL;
}

struct gb_ynode *gb_ymap_get(const struct gb_ynode *map, const char *key)
{
	struct gb_ynode *const *k = map_slot(map, key);
	return k ? map->vals[k - map->keys] : NULL;
}

struct gb_ynode *gb_ymap_key(const struct gb_ynode *map, const char *key)
{
	struct gb_ynode *const *k = map_slot(map, key);
	return k ? *k : NULL;
}
