/* common/policy.h — the policy model (what the YAML loader produces) and the
 * decision API (what the proxy and `policy explain` call).
 *
 * Loading:   gb_policy_load_file()/gb_policy_load_buf() parse OpenShell policy
 *            files unchanged (libyaml), validate everything and report every
 *            problem with file, line, column and field path (gb_diag).
 * Compiling: gb_policy_compile() turns the network section into a structure
 *            built for lookup (hashed exact hosts, wildcard suffix structure,
 *            port sets, compiled binary globs, per-endpoint L7 rules).
 * Deciding:  gb_policy_decide() — one function serves the proxy and explain.
 * Revisions: gb_policy_store holds the current compiled revision behind an
 *            atomic pointer; readers take it without locks; set/update swap it.
 *
 * Ownership: a gb_policy owns all its strings (one arena) and is freed with
 * gb_policy_free().  A compiled policy holds its own copy of what it needs and
 * is reference-counted by the store; decisions hold it only for the call.
 * Diagnostics (struct gb_diags) are common/diag.h's.
 */
#ifndef GB_COMMON_POLICY_H
#define GB_COMMON_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/record.h"

/* ---------------- model ---------------- */

enum gb_landlock_compat { GB_LL_BEST_EFFORT = 0, GB_LL_HARD_REQUIREMENT = 1 };
enum gb_l7_protocol {
	GB_PROTO_NONE = 0, /* L4 passthrough */
	GB_PROTO_REST, GB_PROTO_WEBSOCKET, GB_PROTO_GRAPHQL, GB_PROTO_MCP,
	GB_PROTO_JSON_RPC, GB_PROTO_SQL, GB_PROTO_TCP,
};
enum gb_tls_mode { GB_TLS_AUTO = 0, GB_TLS_SKIP = 1 };

struct gb_cidr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t prefix;
};

/* One query matcher: key must be present and every value must match one of
 * the globs. */
struct gb_query_match {
	const char *key;
	const char **globs;
	size_t n_globs;
};

struct gb_l7_rule {
	const char *method; /* "*" = any; uppercase */
	const char *path;   /* glob; "**" = anything */
	struct gb_query_match *query;
	size_t n_query;
	int line;           /* source position, for reporting */
};

struct gb_endpoint_spec {
	const char *host;         /* NULL for hostless (allowed_ips only) */
	uint16_t *ports;
	size_t n_ports;
	const char *path;         /* L7 path selector, or NULL */
	enum gb_l7_protocol protocol;
	enum gb_tls_mode tls;
	enum gb_mode enforcement; /* default AUDIT for L7 endpoints (OpenShell) */
	bool enforcement_given;
	const char *access;       /* preset as written, or NULL */
	struct gb_l7_rule *rules; /* explicit rules (the loader leaves a preset in
	                           * `access`; the compiler expands it) */
	size_t n_rules;
	struct gb_l7_rule *deny_rules;
	size_t n_deny_rules;
	struct gb_cidr *allowed_ips;
	size_t n_allowed_ips;
	bool allow_encoded_slash;
	bool body_credential_rewrite; /* request_body_credential_rewrite (enforcer/proxy/cred.h) */
	int line, column;
};

struct gb_binary_spec {
	const char *path; /* exact path, or glob with * and ** */
	int line, column;
};

struct gb_net_entry {
	const char *key;  /* network_policies key */
	const char *name; /* display name (defaults to key) */
	struct gb_endpoint_spec *endpoints;
	size_t n_endpoints;
	struct gb_binary_spec *binaries;
	size_t n_binaries;
	int line, column;
};

struct gb_policy {
	int version;
	/* static */
	const char **read_only;
	size_t n_read_only;
	const char **read_write;
	size_t n_read_write;
	bool include_workdir;
	enum gb_landlock_compat landlock;
	const char *run_as_user;  /* NULL = default "sandbox" */
	const char *run_as_group;
	/* dynamic */
	struct gb_net_entry *entries; /* sorted by key */
	size_t n_entries;
	char sha256[65];              /* hash of the canonical network section */
	void *arena_;                 /* owns everything above */
};

/* Parse + validate.  On success returns 0 and *out; warnings may still be in
 * diags.  On any error returns -EINVAL with every problem in diags and *out
 * NULL.  Other negative errno for I/O.  `name` is used in diagnostics. */
int gb_policy_load_file(const char *path, struct gb_policy **out, struct gb_diags *diags);
int gb_policy_load_buf(const char *name, const char *buf, size_t len, struct gb_policy **out,
                       struct gb_diags *diags);
void gb_policy_free(struct gb_policy *p);

/* Canonical JSON of the network section (entries by key, effective values:
 * lower-cased hosts without a trailing dot, sorted unique ports, effective
 * enforcement, normalised CIDRs), the text gb_policy.sha256 hashes. */
int gb_policy_canonical_network(const struct gb_policy *p, struct gb_buf *out);
/* Hex SHA-256 of the canonical network section into out[65]. */
int gb_policy_hash_network(const struct gb_policy *p, char out[65]);

/* Which static sections (fixed at sandbox start) differ between a and b.
 * Lists compare as sets; an absent run_as_* equals "sandbox".  Each
 * difference is also an error in diags (when non-NULL) naming the field. */
#define GB_STATIC_FILESYSTEM 0x1u
#define GB_STATIC_LANDLOCK 0x2u
#define GB_STATIC_PROCESS 0x4u
unsigned gb_policy_static_diff(const struct gb_policy *a, const struct gb_policy *b,
                               struct gb_diags *diags);

/* The policy as a YAML file in its own schema (static sections from st,
 * omitted when st is NULL; network entries e[0..n)): what `policy get`
 * prints and `policy set` accepts back.  Appends to out; 0 or -ENOMEM.
 * (policy_emit.c) */
int gb_policy_yaml(const struct gb_policy *st, const struct gb_net_entry *e, size_t n,
                   struct gb_buf *out);
/* gb_policy.sha256 of a policy holding exactly these network entries. */
int gb_policy_hash_entries(const struct gb_net_entry *e, size_t n, char out[65]);

/* ---------------- decision ---------------- */

struct gb_policy_compiled;

int gb_policy_compile(const struct gb_policy *p, struct gb_policy_compiled **out);
void gb_policy_compiled_ref(struct gb_policy_compiled *c);
void gb_policy_compiled_unref(struct gb_policy_compiled *c);
uint64_t gb_policy_compiled_revision(const struct gb_policy_compiled *c);
/* The revision's network entries (key order), valid while c is held. */
const struct gb_net_entry *gb_policy_compiled_entries(const struct gb_policy_compiled *c,
                                                      size_t *n);
/* Hex SHA-256 of the compiled network section (entries in key order with
 * everything that affects a decision); lives as long as c. */
const char *gb_policy_compiled_hash(const struct gb_policy_compiled *c);
size_t gb_policy_compiled_n_entries(const struct gb_policy_compiled *c);

struct gb_decide_in {
	const char *host;   /* as asked by the client; case and one trailing dot ignored */
	uint16_t port;
	const char *exe;    /* kernel-resolved executable */
	const char *const *ancestors;
	size_t n_ancestors;
	const char *script; /* reported in reasons, never grants */
	/* L7; method NULL = connection-level decision only */
	const char *method;
	const char *path;   /* request target path as received (canonicalised here) */
	const char *query;  /* raw query string without '?', or NULL */
};

/* What the destination check needs to know about the matched endpoint. */
enum gb_host_kind { GB_HOST_EXACT = 0, GB_HOST_WILDCARD, GB_HOST_IP_LITERAL, GB_HOST_NONE };

struct gb_decision {
	enum gb_verdict verdict;
	enum gb_reason reason;
	char reason_text[512];
	const char *entry;    /* matched entry key, or NULL (points into compiled policy) */
	char endpoint[300];   /* "host:port" of the matched endpoint, or "" */
	char rule[300];       /* matched L7 rule, "METHOD PATH", or "" */
	enum gb_mode mode;    /* enforcement of the matched endpoint */
	bool l7;              /* matched endpoint inspects HTTP (protocol set) */
	bool audited;         /* L7 violation let through because of audit mode */
	bool tls_skip;        /* matched endpoint says `tls: skip` (no termination) */
	bool body_credential_rewrite; /* matched endpoint rewrites placeholders in bodies */
	enum gb_l7_protocol protocol; /* of the matched endpoint */
	char canonical_path[GB_STR_MAX]; /* for L7 decisions */
	/* for gb_policy_dest_check(): */
	enum gb_host_kind host_kind;
	const struct gb_cidr *allowed_ips;
	size_t n_allowed_ips;
	uint64_t revision;
};

/* Decide.  Deny by default.  Never allocates; safe from many threads. */
void gb_policy_decide(const struct gb_policy_compiled *c, const struct gb_decide_in *in,
                      struct gb_decision *out);

/* Destination tier check for one resolved (or literal) address after the
 * policy allowed: returns GB_SSRF_NONE when the address may be used, else
 * the tier that refuses it (record.h gb_ssrf_tier).  addr is a sockaddr_in
 * or sockaddr_in6. */
int gb_policy_dest_check(const struct gb_decision *d, const struct sockaddr *addr, uint16_t port);
/* The destination rules that need no DNS answer, for an allowed decision:
 * an IP-literal host gets the whole check above, a name the port rules
 * (control-plane ports).  The proxy applies it before resolving and
 * `policy explain` applies it, so the two never disagree. */
int gb_policy_dest_check_static(const struct gb_decision *d, const char *host, uint16_t port);

/* ---------------- revisions ---------------- */

struct gb_policy_store;

/* The store starts at revision 1 with the given policy (static + network). */
int gb_policy_store_new(const struct gb_policy *initial, struct gb_policy_store **out);
void gb_policy_store_free(struct gb_policy_store *s);

/* Lock-free read of the current revision; pair with gb_policy_store_put(). */
const struct gb_policy_compiled *gb_policy_store_get(struct gb_policy_store *s);
void gb_policy_store_put(struct gb_policy_store *s, const struct gb_policy_compiled *c);

/* set: replace the network section; update: merge entries by key.  A policy
 * whose static sections differ from the running ones is refused (-EPERM,
 * diags says which field).  On success the new revision number is returned
 * in *rev and is visible to the next decision. */
int gb_policy_store_set(struct gb_policy_store *s, const struct gb_policy *p, uint64_t *rev,
                        struct gb_diags *diags);
int gb_policy_store_update(struct gb_policy_store *s, const struct gb_policy *p, uint64_t *rev,
                           struct gb_diags *diags);

#endif
