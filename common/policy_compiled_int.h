/* common/policy_compiled_int.h — layout of a compiled policy, shared by the
 * compiler (policy_compile.c), the decision (policy_decide.c) and the
 * revision store (policy_store.c).  Nothing outside the policy engine may
 * include it.
 *
 * Ownership: a gb_policy_compiled owns one arena holding a deep copy of the
 * network entries it was built from (sorted by key: index order is key
 * order, which is how "the lexicographically smallest key" is reported)
 * and every index over them.  It is immutable once built; only `refs`
 * changes. */
#ifndef GB_COMMON_POLICY_COMPILED_INT_H
#define GB_COMMON_POLICY_COMPILED_INT_H

#include <stdatomic.h>

#include "common/arena.h"
#include "common/policy.h"

struct gbc_bin {
	const char *pat;
	uint32_t len;
	uint32_t lit;  /* length of the literal prefix before any glob meta */
	bool glob;
};

struct gbc_entry {
	const struct gb_net_entry *m; /* the deep copy in the arena */
	struct gbc_bin *bins;
	uint32_t n_bins;
};

struct gbc_ep {
	const struct gb_endpoint_spec *spec;
	uint32_t entry;        /* index into entries (key order) */
	uint32_t index;        /* endpoint index inside its entry */
	const char *host;      /* normalised pattern, NULL when hostless */
	const char *label;     /* wildcard: the first-label pattern */
	uint32_t label_len;
	bool label_any;        /* first label is exactly "**": one or more labels */
	enum gb_host_kind kind;
	const uint16_t *ports; /* sorted, unique */
	uint32_t n_ports;
	bool l7;
	enum gb_mode mode;
	const struct gb_l7_rule *rules; /* explicit or expanded preset */
	size_t n_rules;
};

struct gbc_bucket {
	const char *key; /* NULL = empty slot */
	uint32_t klen;
	uint64_t hash;
	uint32_t first, n; /* endpoint indices idx[first .. first+n) ascending */
};

struct gbc_table {
	struct gbc_bucket *b;
	uint64_t mask;
	uint32_t *idx;
	size_t n_keys;
};

struct gb_policy_compiled {
	atomic_uint refs;
	uint64_t revision;
	char hash[65];
	struct gb_net_entry *model; /* deep copy, key order */
	size_t n_entries;
	struct gbc_entry *entries;
	struct gbc_ep *eps;
	size_t n_eps;
	struct gbc_table exact;    /* host -> endpoints */
	struct gbc_table wild;     /* suffix after the first label -> endpoints */
	uint32_t *hostless;        /* allowed_ips endpoints without host */
	size_t n_hostless;
	uint32_t *generic;         /* odd wildcard shapes, matched by full glob */
	size_t n_generic;
	struct gb_arena arena;
};

uint64_t gbc_hash(const char *s, size_t n);
const struct gbc_bucket *gbc_lookup(const struct gbc_table *t, const char *key, size_t n,
                                    uint64_t h);
/* Normalise a host (pattern or request) into out: lower case, one trailing
 * dot and IPv6 brackets removed, IP literals in inet_ntop form.  Returns
 * the length, or -1 when it does not fit; *is_ip tells literals apart. */
long gbc_norm_host(const char *h, char *out, size_t outsz, bool *is_ip);

/* Build a compiled policy from entries (any order) — used by compile and
 * by the store's merge. */
int gbc_build(const struct gb_net_entry *const *entries, size_t n, struct gb_policy_compiled **out);

#endif
