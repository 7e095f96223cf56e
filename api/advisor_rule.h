/* api/advisor_rule.h — the policy advisor's pure part: which denials may
 * become proposals, the narrowest rule that would have allowed them (as a
 * policy file fragment for PATCH), path-shape generalisation, and the risk
 * findings of a candidate.  No I/O, no state: unit-tested on its own
 * (tests/unit/test_advisor_rule.c).
 *
 * Ownership: every output goes to a caller buffer (gb_buf) or a new jansson
 * value the caller owns.
 */
#ifndef GB_API_ADVISOR_RULE_H
#define GB_API_ADVISOR_RULE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* 1 when a denial to host (as asked) / ip (as resolved, may be "") must
 * never be proposed: loopback, link-local, unspecified, multicast and
 * metadata destinations (the proxy blocks them whatever the policy says, so
 * a rule would only mislead), or nothing to name (empty host). */
int gb_adv_never_propose(const char *host, const char *ip);

/* A path's shape: ID-like segments (all digits with >= 2 of them, UUIDs, 16+
 * hex digits) and the owner/name segments of forge paths
 * (/repos/{org}/{repo}/..., /api/v3/repos/...) become "*"; the query is
 * dropped.  out gets at most len-1 bytes. */
void gb_adv_path_shape(const char *path, char *out, size_t len);

/* The path rules for a set of denied paths (JSON array of strings): a
 * shape is used only for a shape two or more distinct paths share, every
 * other path stays exact.  Returns a new array of unique path globs. */
json_t *gb_adv_path_rules(json_t *paths);

/* Entry name for host:port: allow_<host, [.-*] as _>_<port>[_<method>]. */
void gb_adv_rule_name(const char *host, unsigned port, const char *method, char *out,
                      size_t len);

/* The proposal as a policy file (version 1, one network_policies entry):
 * binaries = JSON array of exact paths; method "" = an L4 endpoint, else an
 * inspected REST endpoint (enforce) with one allow rule per path rule. */
void gb_adv_rule_yaml(struct gb_buf *out, const char *name, const char *host, unsigned port,
                      json_t *binaries, const char *method, json_t *path_rules);

/* Risk findings of a proposal against the running policy (its emitted YAML,
 * may be NULL): [{"kind","reason"}].  ip is the address the denial went to
 * (may be ""). */
json_t *gb_adv_findings(const char *host, const char *ip, unsigned port, json_t *binaries,
                        const char *method, json_t *path_rules, const char *running_yaml);

/* A unified-style diff of the candidate against the running policy: the
 * entry's lines as added, and, when running already has an entry of that
 * name, a note that PATCH replaces it. */
void gb_adv_diff(struct gb_buf *out, const char *name, const char *yaml, const char *running_yaml);

/* Review token: hex SHA-256 over the proposal id, the running policy's
 * sha256 and the proposal's YAML.  out >= 65 bytes. */
void gb_adv_token(int64_t id, const char *running_sha, const char *yaml, char *out);

/* Learn mode's export as a policy to run with (advisor_export.c): base's
 * static sections and network entries plus the learned entries of
 * net_yaml (the export's network section; a learned entry replaces a base
 * entry of the same name), emitted in the policy's own schema.  base_path
 * is read with the policy loader.  0, or -errno with the reason in err
 * (the loader's first diagnostic for a bad file). */
int gb_adv_export_with_base(const char *base_path, const char *net_yaml, struct gb_buf *out,
                            char *err, size_t errlen);

#endif
