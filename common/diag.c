/* common/diag.c — the diagnostics list (contract: diag.h): every problem
 * with file, line, column, field path, message and hint, printed in
 * compiler style, and the "did you mean" suggestion for a mistyped word.
 * Each diag owns one block holding copies of its strings (gb_diag.owned_),
 * so callers may pass temporaries. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"

static int grow(struct gb_diags *d)
{
	if (d->n < d->cap)
		return 0;
	size_t cap = d->cap ? d->cap * 2 : 16;
	struct gb_diag *v = realloc(d->v, cap * sizeof *v);
	if (!v)
		return -1;
	d->v = v;
	d->cap = cap;
	return 0;
}

static void push(struct gb_diags *d, enum gb_diag_level level, const char *file, int line,
                 int column, const char *field, const char *hint, const char *msg);

void gb_diag_vadd(struct gb_diags *d, enum gb_diag_level level, const char *file, int line,
                  int column, const char *field, const char *hint, const char *fmt, va_list ap)
{
	if (!d)
		return;
	/* Counted even when not kept, so a load with too many problems still
	 * fails and the summary is right. */
	if (level == GB_DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
	if (d->n >= GB_DIAG_MAX)
		return; /* gb_diags_finish() says how many were left out */
	char msg[1024];
	vsnprintf(msg, sizeof msg, fmt, ap);
	push(d, level, file, line, column, field, hint, msg);
}

static void push(struct gb_diags *d, enum gb_diag_level level, const char *file, int line,
                 int column, const char *field, const char *hint, const char *msg)
{
	if (grow(d))
		return;
	const char *parts[4] = { file ? file : "", field ? field : "", msg, hint };
	size_t len[4], total = 0;
	for (int i = 0; i < 4; i++) {
		len[i] = parts[i] ? strlen(parts[i]) : 0;
		total += len[i] + 1;
	}
	char *blk = malloc(total), *p = blk;
	if (!blk)
		return;
	const char *out[4];
	for (int i = 0; i < 4; i++) {
		if (!parts[i]) {
			out[i] = NULL;
			continue;
		}
		memcpy(p, parts[i], len[i] + 1);
		out[i] = p;
		p += len[i] + 1;
	}
	d->v[d->n++] = (struct gb_diag){ .level = level,
		                         .file = out[0],
		                         .line = line,
		                         .column = column,
		                         .field = out[1],
		                         .message = out[2],
		                         .hint = out[3],
		                         .owned_ = blk };
}

void gb_diag_add(struct gb_diags *d, enum gb_diag_level level, const char *file, int line,
                 int column, const char *field, const char *hint, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	gb_diag_vadd(d, level, file, line, column, field, hint, fmt, ap);
	va_end(ap);
}

void gb_diags_free(struct gb_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].owned_);
	free(d->v);
	*d = (struct gb_diags){ 0 };
}

void gb_diags_print(const struct gb_diags *d, void *stdio_file)
{
	FILE *f = stdio_file;
	for (size_t i = 0; d && i < d->n; i++) {
		const struct gb_diag *g = &d->v[i];
		const char *lvl = g->level == GB_DIAG_ERROR ? "error" : "warning";
		if (g->file && *g->file)
			fprintf(f, "%s:", g->file);
		if (g->line > 0)
			fprintf(f, "%d:%d:", g->line, g->column);
		fprintf(f, "%s%s: ", (g->file && *g->file) || g->line > 0 ? " " : "", lvl);
		if (g->field && *g->field)
			fprintf(f, "%s: ", g->field);
		fputs(g->message ? g->message : "", f);
		if (g->hint)
			fprintf(f, " (%s)", g->hint);
		fputc('\n', f);
	}
}

static int cmp_pos(const void *x, const void *y)
{
	const struct gb_diag *a = x, *b = y;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->column != b->column)
		return a->column < b->column ? -1 : 1;
	return 0;
}

void gb_diags_finish(struct gb_diags *d, size_t from, size_t counted_before, const char *file)
{
	if (!d)
		return;
	/* insertion sort: stable, and the list is bounded by GB_DIAG_MAX */
	for (size_t i = from + 1; i < d->n; i++) {
		struct gb_diag t = d->v[i];
		size_t j = i;
		while (j > from && cmp_pos(&d->v[j - 1], &t) > 0) {
			d->v[j] = d->v[j - 1];
			j--;
		}
		d->v[j] = t;
	}
	size_t counted = d->errors + d->warnings - counted_before, kept = d->n - from;
	if (counted > kept) {
		char msg[160];
		snprintf(msg, sizeof msg, "%zu more problem%s not shown (the first %zu are listed)",
		         counted - kept, counted - kept == 1 ? "" : "s", kept);
		push(d, GB_DIAG_ERROR, file, 0, 0, NULL, NULL, msg);
	}
}

/* Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions, so "hots" is one edit from "host"), case-insensitive. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t r0[65], r1[65], r2[65]; /* rows i-2, i-1, i */
	size_t *pp = r0, *p = r1, *cur = r2;
	if (la > 64 || lb > 64)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		p[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		int ca = tolower((unsigned char)a[i - 1]);
		for (size_t j = 1; j <= lb; j++) {
			int cb = tolower((unsigned char)b[j - 1]);
			size_t v = p[j - 1] + (ca != cb);
			if (p[j] + 1 < v)
				v = p[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			cur[j] = v;
		}
		size_t *t = pp;
		pp = p;
		p = cur;
		cur = t;
	}
	return p[lb];
}

const char *gb_suggest(const char *word, const char *const *valid, size_t n)
{
	const char *best = NULL;
	size_t bd = (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, valid[i]);
		if (d < bd) {
			bd = d;
			best = valid[i];
		}
	}
	size_t len = strlen(word);
	size_t limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
	return best && bd <= limit ? best : NULL;
}
