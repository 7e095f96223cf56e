/* common/yaml.h — one YAML document as a small node tree with source marks,
 * so a schema walker (common/schema.h) can name line, column and field path
 * for every problem.  Built from libyaml events.
 *
 * Hostile input is bounded here, once: nesting depth, node count with
 * aliases expanded (a "billion laughs" file stops at GB_YAML_MAX_NODES
 * without allocating for the expansion, because aliases share the anchored
 * node), anchor count, and one document per file.  Duplicate keys are
 * errors: YAML says keys are unique, and silently keeping the first or the
 * last would let a reviewer read a different file than the one in effect.
 *
 * Ownership: a gb_ydoc owns all its nodes and strings (one arena) until
 * gb_yaml_free().  Node pointers and strings borrowed from it die with it.
 * Aliases share the anchored node, so the tree is a DAG (never cyclic): a
 * walker must not free or mutate nodes.
 */
#ifndef GB_COMMON_YAML_H
#define GB_COMMON_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"
#include "common/diag.h"

#define GB_YAML_MAX_DEPTH 64     /* nesting of maps/sequences */
#define GB_YAML_MAX_NODES 400000 /* nodes after alias expansion */

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
	struct gb_arena arena;
	struct gb_ynode *root; /* NULL for an empty document */
};

/* Parse one YAML document into a tree.  Syntax errors, duplicate keys,
 * non-scalar keys, undefined aliases, multiple documents and the bounds
 * above become diagnostics naming `file`.  Returns -EINVAL (diags say why)
 * or -ENOMEM when there is no usable tree, else 0 — also after duplicate
 * keys, which are counted as errors in d but leave a complete tree, so a
 * walker still reports everything else (the caller fails on d->errors).
 * Call gb_yaml_free() in every case. */
int gb_yaml_parse(const char *file, const char *buf, size_t len, struct gb_ydoc *doc,
                  struct gb_diags *d);
void gb_yaml_free(struct gb_ydoc *doc);

/* Read a file people wrote (a policy, the daemon config) whole: a regular
 * file (never a FIFO or a device, which could block or never end) of at
 * most max bytes, read to EOF (it may grow while being read; the bound
 * holds).  Problems are diagnostics naming the file; `what` names the kind
 * in the size message ("a policy may be at most N bytes").  Returns 0 with
 * *buf (malloc'd, NUL-terminated, the caller frees it) and *len, or -errno,
 * -EINVAL (not regular, too large) or -ENOMEM.  missing_ok: a file that
 * does not exist is -ENOENT without a diagnostic. */
int gb_yaml_read_file(const char *path, size_t max, const char *what, bool missing_ok, char **buf,
                      size_t *len, struct gb_diags *d);

/* NULL, or a plain scalar spelled as YAML's null (empty, ~, null). */
bool gb_ynode_is_null(const struct gb_ynode *n);
/* Value of key in a map node, or NULL (also when map is not a map). */
struct gb_ynode *gb_ymap_get(const struct gb_ynode *map, const char *key);
/* The key node itself (its position is where a diagnostic about the key
 * belongs), or NULL. */
struct gb_ynode *gb_ymap_key(const struct gb_ynode *map, const char *key);

#endif
