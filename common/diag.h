/* common/diag.h — diagnostics for files people write (a policy, the daemon
 * config): every problem with file, line, column, field path, message and
 * hint, kept in a list and printed compiler style:
 *
 *     FILE:LINE:COL: error: FIELD: MESSAGE (HINT)
 *
 * A loader reports every problem it finds instead of stopping at the first,
 * so one run shows them all; the list keeps at most GB_DIAG_MAX of them and
 * gb_diags_finish() says how many more were counted.
 *
 * Ownership: a gb_diags owns its entries; each entry made by gb_diag_add()
 * owns one block holding copies of its strings (gb_diag.owned_), so callers
 * may pass temporaries.  gb_diags_free() releases everything.  Not
 * thread-safe: one loader per list at a time.
 */
#ifndef GB_COMMON_DIAG_H
#define GB_COMMON_DIAG_H

#include <stdarg.h>
#include <stddef.h>

#define GB_DIAG_MAX 500 /* diagnostics kept per load (all are counted) */

enum gb_diag_level { GB_DIAG_ERROR = 0, GB_DIAG_WARNING = 1 };

struct gb_diag {
	enum gb_diag_level level;
	const char *file;   /* as given to the loader */
	int line, column;   /* 1-based; 0 when not tied to a position */
	const char *field;  /* field path, e.g. "network_policies.github.endpoints[0].port" */
	const char *message;/* what is wrong and what was expected */
	const char *hint;   /* "did you mean 'read_only'?" or NULL */
	void *owned_;       /* block holding the strings above when the loader
	                     * made the diag; freed by gb_diags_free (NULL = static) */
};

struct gb_diags {
	struct gb_diag *v;
	size_t n, cap;
	size_t errors, warnings; /* exact counts, also of entries not kept */
};
void gb_diags_free(struct gb_diags *d);
/* "FILE:LINE:COL: error: FIELD: MESSAGE (HINT)" one per line, to a FILE *. */
void gb_diags_print(const struct gb_diags *d, void *stdio_file);

/* Add one problem (d may be NULL: nothing happens).  line 0 = no position;
 * field and hint may be NULL. */
void gb_diag_add(struct gb_diags *d, enum gb_diag_level level, const char *file, int line,
                 int column, const char *field, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
void gb_diag_vadd(struct gb_diags *d, enum gb_diag_level level, const char *file, int line,
                  int column, const char *field, const char *hint, const char *fmt, va_list ap)
    __attribute__((format(printf, 8, 0)));

/* End of a load: stable sort of d->v[from..] by line then column (0 = no
 * position first), then one closing line saying how many problems were
 * counted but not kept (the list holds at most GB_DIAG_MAX; the counts in
 * d->errors/warnings stay exact).  counted_before = errors + warnings at
 * the start of the load. */
void gb_diags_finish(struct gb_diags *d, size_t from, size_t counted_before, const char *file);

/* Nearest of `valid` to `word` by edit distance (case-insensitive, adjacent
 * transpositions count as one edit), or NULL when none is close enough to be
 * a plausible typo. */
const char *gb_suggest(const char *word, const char *const *valid, size_t n);

#endif
