/* common/policy_parse_int.h — private to the policy loader: its bounds and
 * the semantic validators, shared by policy_parse.c (the schema walker),
 * policy_validate.c, policy_hash.c and policy_static.c.  Nothing outside
 * common/policy_*.c includes it; the generic pieces it stands on are public
 * (common/yaml.h, common/schema.h, common/diag.h, common/arena.h).
 *
 * Ownership: validators borrow the walker's context and the node for the
 * call; strings they accept were copied into the policy's arena by the
 * walker (gb_schema_str).
 */
#ifndef GB_COMMON_POLICY_PARSE_INT_H
#define GB_COMMON_POLICY_PARSE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/policy.h"
#include "common/schema.h"
#include "common/yaml.h"

/* Bounds that keep hostile files from exhausting memory or time (the YAML
 * tree's own bounds are in common/yaml.h). */
#define GB_POLICY_MAX_BYTES (8u << 20)    /* whole file */
#define GB_POLICY_MAX_PATH 4096            /* filesystem path length */
#define GB_POLICY_MAX_FS_ENTRIES 256       /* read_only + read_write */

/* ---------------- semantic validators (policy_validate.c) ----------------
 * Each checks one value already converted by the walker, reports at node n
 * under the current field path, and returns true when the value is valid. */
bool gb_validate_fs_path(struct gb_schema *c, const struct gb_ynode *n, const char *path, bool rw);
bool gb_validate_identity(struct gb_schema *c, const struct gb_ynode *n, const char *v);
bool gb_validate_host(struct gb_schema *c, const struct gb_ynode *n, const char *host, bool tcp);
bool gb_validate_cidr(struct gb_schema *c, const struct gb_ynode *n, const char *s,
                      struct gb_cidr *out);
bool gb_validate_binary(struct gb_schema *c, const struct gb_ynode *n, const char *path);
bool gb_validate_method(struct gb_schema *c, const struct gb_ynode *n, const char *m);
bool gb_validate_rule_path(struct gb_schema *c, const struct gb_ynode *n, const char *p);
/* Whole-endpoint rules (field combinations); `ep` is the endpoint's map. */
void gb_validate_endpoint(struct gb_schema *c, const struct gb_ynode *ep,
                          const struct gb_endpoint_spec *s);

#endif
