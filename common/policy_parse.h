/* common/policy_parse.h — internals of the policy loader: the arena that
 * owns a loaded policy, the YAML node tree (with source marks), diagnostic
 * helpers and the semantic validators.  Contract between policy_arena.c,
 * policy_yaml.c, policy_diag.c, policy_parse.c, policy_validate.c and
 * policy_hash.c, and exporter/config.c (which reuses the YAML tree and the
 * diagnostics so config errors read like policy errors).
 *
 * Ownership: an arena owns every block allocated from it; gb_parena_free()
 * releases them all.  A gb_ydoc owns its nodes (its own arena).  Diagnostic
 * strings are copied into the diag (gb_diag.owned_).
 */
#ifndef GB_COMMON_POLICY_PARSE_H
#define GB_COMMON_POLICY_PARSE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/policy.h"

/* Bounds that keep hostile files from exhausting memory or time. */
#define GB_POLICY_MAX_BYTES (8u << 20)    /* whole file */
#define GB_YAML_MAX_DEPTH 64               /* nesting of maps/sequences */
#define GB_YAML_MAX_NODES 400000           /* nodes after alias expansion */
#define GB_DIAG_MAX 500                    /* diagnostics kept per load */
#define GB_POLICY_MAX_PATH 4096            /* filesystem path length */
#define GB_POLICY_MAX_FS_ENTRIES 256       /* read_only + read_write */

/* ---------------- arena ---------------- */

struct gb_parena_blk;
struct gb_parena {
	struct gb_parena_blk *head;
	int err; /* -ENOMEM once an allocation failed (sticky) */
};
void *gb_parena_alloc(struct gb_parena *a, size_t n); /* zeroed; NULL on failure */
char *gb_parena_strndup(struct gb_parena *a, const char *s, size_t n);
char *gb_parena_strdup(struct gb_parena *a, const char *s); /* NULL stays NULL */
void gb_parena_free(struct gb_parena *a);

/* ---------------- YAML tree ---------------- */

enum gb_ykind { GB_Y_SCALAR = 1, GB_Y_MAP, GB_Y_SEQ };

struct gb_ynode {
	enum gb_ykind kind;
	int line, column; /* 1-based start mark */
	/* scalar */
	bool plain;       /* plain style and no tag: may be null, bool or int */
	const char *str;  /* NUL-terminated (may also contain NULs: see len) */
	size_t len;
	/* map: keys[i] -> vals[i]; sequence: vals[i] */
	struct gb_ynode **keys, **vals;
	size_t n;
	size_t weight;    /* nodes in this subtree, aliases expanded */
};

struct gb_ydoc {
	struct gb_parena arena;
	struct gb_ynode *root; /* NULL for an empty document */
};

/* Parse one YAML document into a tree.  Syntax errors, duplicate keys,
 * non-scalar keys, undefined aliases, multiple documents and the bounds
 * above become diagnostics.  Returns 0, -EINVAL (diags say why) or -ENOMEM.
 * Aliases share the anchored node (the tree is a DAG, never cyclic).
 * *doc must be released with gb_yaml_free() whatever the result: a failed
 * parse leaves the partial tree in its arena. */
int gb_yaml_parse(const char *file, const char *buf, size_t len, struct gb_ydoc *doc,
                  struct gb_diags *d);
void gb_yaml_free(struct gb_ydoc *doc);

bool gb_ynode_is_null(const struct gb_ynode *n);
/* Value of key in a map node, or NULL. */
struct gb_ynode *gb_ymap_get(const struct gb_ynode *map, const char *key);

/* ---------------- diagnostics ---------------- */

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

/* Nearest of `valid` to `word` by edit distance, or NULL when none is close
 * enough to be a plausible typo. */
const char *gb_suggest(const char *word, const char *const *valid, size_t n);

/* ---------------- loader context ---------------- */

struct gb_pctx {
	const char *file;
	struct gb_diags *d;
	struct gb_parena *a; /* the policy's arena */
	char path[1024];     /* current field path */
	size_t plen;
	enum gb_l7_protocol proto; /* protocol of the endpoint being parsed */
};

/* Field path stack: push returns the mark to pop back to. */
size_t gb_pctx_push(struct gb_pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gb_pctx_pop(struct gb_pctx *c, size_t mark);
/* Error/warning at node n (or line 0 when NULL), field = current path. */
void gb_perr(struct gb_pctx *c, const struct gb_ynode *n, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void gb_pwarn(struct gb_pctx *c, const struct gb_ynode *n, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---------------- semantic validators (policy_validate.c) ----------------
 * Each checks one value already converted by the parser, reports at node n
 * under the current field path, and returns true when the value is valid. */
bool gb_validate_fs_path(struct gb_pctx *c, const struct gb_ynode *n, const char *path, bool rw);
bool gb_validate_identity(struct gb_pctx *c, const struct gb_ynode *n, const char *v);
bool gb_validate_host(struct gb_pctx *c, const struct gb_ynode *n, const char *host, bool tcp);
bool gb_validate_cidr(struct gb_pctx *c, const struct gb_ynode *n, const char *s,
                      struct gb_cidr *out);
bool gb_validate_binary(struct gb_pctx *c, const struct gb_ynode *n, const char *path);
bool gb_validate_method(struct gb_pctx *c, const struct gb_ynode *n, const char *m);
bool gb_validate_rule_path(struct gb_pctx *c, const struct gb_ynode *n, const char *p);
/* Whole-endpoint rules (field combinations); `ep` is the endpoint's map. */
void gb_validate_endpoint(struct gb_pctx *c, const struct gb_ynode *ep,
                          const struct gb_endpoint_spec *s);

/* IP literal test shared by validator and hash (no brackets). */
bool gb_host_is_ip_literal(const char *host);

#endif
