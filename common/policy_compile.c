/* common/policy_compile.c — turn the network section of a policy into a
 * structure built for lookup.
 *
 * Exact hosts (and IP literals) live in an open-addressing hash table keyed
 * by the normalised host.  Wildcard hosts, whose only wildcard is in the
 * first label (`*.example.com`: exactly one label there; `**.`: one or
 * more), live in a second table keyed by the suffix
 * after that label: a request host "a.b.example.com" probes the suffixes
 * "b.example.com", "example.com", "com" and tests the first-label pattern
 * only on the few endpoints found there.  Every bucket lists its endpoints
 * in key order, so the first binary match is the one reported.  Anything
 * the validator would not produce (a '*' in a later label) is still matched
 * correctly, by a full-glob scan of a short side list.  Ports are sorted
 * sets, binary globs are classified once (exact / glob with literal
 * prefix), presets are expanded into rules. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "common/fsutil.h"
#include "common/sha256.h"
#include "common/policy_compiled_int.h"
#include "common/policy_match.h"

/* ---------------- hashing ---------------- */

uint64_t gbc_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

const struct gbc_bucket *gbc_lookup(const struct gbc_table *t, const char *key, size_t n,
                                    uint64_t h)
{
	if (!t->b)
		return NULL;
	for (uint64_t i = h & t->mask;; i = (i + 1) & t->mask) {
		const struct gbc_bucket *b = &t->b[i];
		if (!b->key)
			return NULL;
		if (b->hash == h && b->klen == n && !memcmp(b->key, key, n))
			return b;
	}
}

long gbc_norm_host(const char *h, char *out, size_t outsz, bool *is_ip)
{
	*is_ip = false;
	size_t n = strlen(h);
	if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
		h++;
		n -= 2;
	}
	if (n && h[n - 1] == '.')
		n--; /* one trailing root dot names the same host */
	if (n + 1 > outsz)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = h[i];
		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	out[n] = '\0';
	/* IP literals compare by value: "::FFFF:1.2.3.4" == "::ffff:1.2.3.4". */
	if (n && n < 64 && (strchr(out, ':') || (out[n - 1] >= '0' && out[n - 1] <= '9'))) {
		unsigned char a[16];
		char txt[INET6_ADDRSTRLEN];
		int fam = strchr(out, ':') ? AF_INET6 : AF_INET;
		if (inet_pton(fam, out, a) == 1 && inet_ntop(fam, a, txt, sizeof txt)) {
			size_t tl = strlen(txt);
			if (tl + 1 > outsz)
				return -1;
			memcpy(out, txt, tl + 1);
			n = tl;
			*is_ip = true;
		}
	}
	return (long)n;
}

/* ---------------- deep copy ---------------- */

static struct gb_l7_rule *copy_rules(struct gb_arena *a, const struct gb_l7_rule *r, size_t n)
{
	if (!n)
		return NULL;
	struct gb_l7_rule *o = gb_arena_alloc(a, n * sizeof *o);
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		o[i].method = gb_arena_strdup(a, r[i].method ? r[i].method : "*");
		o[i].path = gb_arena_strdup(a, r[i].path ? r[i].path : "**");
		o[i].line = r[i].line;
		o[i].n_query = r[i].n_query;
		if (r[i].n_query) {
			struct gb_query_match *q = gb_arena_alloc(a, r[i].n_query * sizeof *q);
			if (!q)
				return NULL;
			for (size_t k = 0; k < r[i].n_query; k++) {
				q[k].key = gb_arena_strdup(a, r[i].query[k].key ? r[i].query[k].key : "");
				q[k].n_globs = r[i].query[k].n_globs;
				const char **g = gb_arena_alloc(a, (q[k].n_globs + 1) * sizeof *g);
				if (!g)
					return NULL;
				for (size_t j = 0; j < q[k].n_globs; j++)
					g[j] = gb_arena_strdup(a, r[i].query[k].globs[j] ? r[i].query[k].globs[j] : "");
				q[k].globs = g;
			}
			o[i].query = q;
		}
	}
	return o;
}

static int copy_entry(struct gb_arena *a, const struct gb_net_entry *e, struct gb_net_entry *o)
{
	o->key = gb_arena_strdup(a, e->key ? e->key : "");
	o->name = gb_arena_strdup(a, e->name ? e->name : o->key);
	o->line = e->line;
	o->column = e->column;
	o->n_endpoints = e->n_endpoints;
	o->n_binaries = e->n_binaries;
	o->endpoints = gb_arena_alloc(a, (e->n_endpoints + 1) * sizeof *o->endpoints);
	o->binaries = gb_arena_alloc(a, (e->n_binaries + 1) * sizeof *o->binaries);
	if (!o->endpoints || !o->binaries)
		return -ENOMEM;
	for (size_t b = 0; b < e->n_binaries; b++) {
		o->binaries[b] = e->binaries[b];
		o->binaries[b].path = gb_arena_strdup(a, e->binaries[b].path ? e->binaries[b].path : "");
	}
	for (size_t i = 0; i < e->n_endpoints; i++) {
		const struct gb_endpoint_spec *s = &e->endpoints[i];
		struct gb_endpoint_spec *d = &o->endpoints[i];
		*d = *s;
		d->host = gb_arena_strdup(a, s->host);
		d->path = gb_arena_strdup(a, s->path);
		d->access = gb_arena_strdup(a, s->access);
		d->ports = gb_arena_alloc(a, (s->n_ports + 1) * sizeof *d->ports);
		d->allowed_ips = gb_arena_alloc(a, (s->n_allowed_ips + 1) * sizeof *d->allowed_ips);
		if (!d->ports || !d->allowed_ips)
			return -ENOMEM;
		if (s->n_ports)
			memcpy(d->ports, s->ports, s->n_ports * sizeof *d->ports);
		if (s->n_allowed_ips)
			memcpy(d->allowed_ips, s->allowed_ips, s->n_allowed_ips * sizeof *d->allowed_ips);
		d->rules = copy_rules(a, s->rules, s->n_rules);
		d->deny_rules = copy_rules(a, s->deny_rules, s->n_deny_rules);
		if ((s->n_rules && !d->rules) || (s->n_deny_rules && !d->deny_rules))
			return -ENOMEM;
	}
	return a->err;
}

/* ---------------- presets ---------------- */

static const char *const preset_ro[] = { "GET", "HEAD", "OPTIONS" };
static const char *const preset_rw[] = { "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH" };
static const char *const preset_full[] = { "*" };

static int expand_preset(struct gb_arena *a, const char *access, const struct gb_l7_rule **out,
                         size_t *n)
{
	const char *const *m;
	size_t k;
	if (!strcmp(access, "read-only")) {
		m = preset_ro;
		k = 3;
	} else if (!strcmp(access, "read-write")) {
		m = preset_rw;
		k = 6;
	} else if (!strcmp(access, "full")) {
		m = preset_full;
		k = 1;
	} else {
		return -EINVAL; /* a typo must never change what is allowed */
	}
	struct gb_l7_rule *r = gb_arena_alloc(a, k * sizeof *r);
	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < k; i++) {
		r[i].method = m[i];
		r[i].path = "**";
	}
	*out = r;
	*n = k;
	return 0;
}

/* ---------------- content hash ---------------- */

struct hasher {
	struct gb_sha256 ctx; /* sha256.h: no EVP fetch at start */
};

static void h_str(struct hasher *h, const char *s)
{
	uint32_t n = s ? (uint32_t)strlen(s) + 1 : 0; /* NULL and "" differ */
	gb_sha256_update(&h->ctx, &n, sizeof n);
	if (s)
		gb_sha256_update(&h->ctx, s, n - 1);
}

static void h_u64(struct hasher *h, uint64_t v)
{
	gb_sha256_update(&h->ctx, &v, sizeof v);
}

static void h_rules(struct hasher *h, const struct gb_l7_rule *r, size_t n)
{
	h_u64(h, n);
	for (size_t i = 0; i < n; i++) {
		h_str(h, r[i].method);
		h_str(h, r[i].path);
		h_u64(h, r[i].n_query);
		for (size_t k = 0; k < r[i].n_query; k++) {
			h_str(h, r[i].query[k].key);
			h_u64(h, r[i].query[k].n_globs);
			for (size_t j = 0; j < r[i].query[k].n_globs; j++)
				h_str(h, r[i].query[k].globs[j]);
		}
	}
}

static int hash_model(const struct gb_net_entry *m, size_t n, char out[65])
{
	struct hasher h;
	gb_sha256_init(&h.ctx);
	h_u64(&h, n);
	for (size_t i = 0; i < n; i++) {
		const struct gb_net_entry *e = &m[i];
		h_str(&h, e->key);
		h_str(&h, e->name);
		h_u64(&h, e->n_binaries);
		for (size_t b = 0; b < e->n_binaries; b++)
			h_str(&h, e->binaries[b].path);
		h_u64(&h, e->n_endpoints);
		for (size_t k = 0; k < e->n_endpoints; k++) {
			const struct gb_endpoint_spec *s = &e->endpoints[k];
			h_str(&h, s->host);
			h_u64(&h, s->n_ports);
			for (size_t p = 0; p < s->n_ports; p++)
				h_u64(&h, s->ports[p]);
			h_str(&h, s->path);
			h_u64(&h, (uint64_t)s->protocol << 32 | (uint64_t)s->tls << 16 |
			              (uint64_t)s->enforcement << 8 | (uint64_t)s->enforcement_given << 1 |
			              (uint64_t)s->body_credential_rewrite << 2 |
			              (uint64_t)s->allow_encoded_slash);
			h_str(&h, s->access);
			h_rules(&h, s->rules, s->n_rules);
			h_rules(&h, s->deny_rules, s->n_deny_rules);
			h_u64(&h, s->n_allowed_ips);
			for (size_t c = 0; c < s->n_allowed_ips; c++) {
				h_u64(&h, (uint64_t)s->allowed_ips[c].family << 8 | s->allowed_ips[c].prefix);
				gb_sha256_update(&h.ctx, s->allowed_ips[c].addr, 16);
			}
		}
	}
	unsigned char md[32];
	gb_sha256_final(&h.ctx, md);
	gb_hex(md, 32, out);
	return 0;
}

/* ---------------- index building ---------------- */

struct keyed {
	const char *key;
	uint32_t klen;
	uint32_t ep;
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	return x->ep < y->ep ? -1 : x->ep > y->ep;
}

static int build_table(struct gb_arena *a, struct keyed *k, size_t n, struct gbc_table *t)
{
	if (!n)
		return 0;
	qsort(k, n, sizeof *k, cmp_keyed);
	size_t keys = 0;
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(k[i].key, k[i - 1].key))
			keys++;
	size_t cap = 8;
	while (cap < keys * 2)
		cap <<= 1;
	t->b = gb_arena_alloc(a, cap * sizeof *t->b);
	t->idx = gb_arena_alloc(a, n * sizeof *t->idx);
	if (!t->b || !t->idx)
		return -ENOMEM;
	t->mask = cap - 1;
	t->n_keys = keys;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && !strcmp(k[j].key, k[i].key)) {
			t->idx[j] = k[j].ep;
			j++;
		}
		uint64_t h = gbc_hash(k[i].key, k[i].klen);
		uint64_t s = h & t->mask;
		while (t->b[s].key)
			s = (s + 1) & t->mask;
		t->b[s] = (struct gbc_bucket){ k[i].key, k[i].klen, h, (uint32_t)i, (uint32_t)(j - i) };
		i = j;
	}
	return 0;
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static int cmp_entry_ptr(const void *a, const void *b)
{
	const struct gb_net_entry *x = *(const struct gb_net_entry *const *)a;
	const struct gb_net_entry *y = *(const struct gb_net_entry *const *)b;
	return strcmp(x->key ? x->key : "", y->key ? y->key : "");
}

static int compile_endpoint(struct gb_policy_compiled *c, struct gbc_ep *ep,
                            struct keyed *exact, size_t *n_exact, struct keyed *wild,
                            size_t *n_wild, uint32_t id)
{
	struct gb_arena *a = &c->arena;
	const struct gb_endpoint_spec *s = ep->spec;
	uint16_t *ports = gb_arena_alloc(a, (s->n_ports + 1) * sizeof *ports);
	if (!ports)
		return -ENOMEM;
	size_t np = 0;
	for (size_t i = 0; i < s->n_ports; i++)
		if (s->ports[i])
			ports[np++] = s->ports[i];
	qsort(ports, np, sizeof *ports, cmp_u16);
	size_t u = 0;
	for (size_t i = 0; i < np; i++)
		if (!u || ports[u - 1] != ports[i])
			ports[u++] = ports[i];
	ep->ports = ports;
	ep->n_ports = (uint32_t)u;

	ep->l7 = s->protocol != GB_PROTO_NONE && s->protocol != GB_PROTO_TCP;
	/* OpenShell: anything but an explicit "enforce" on an L7 endpoint is
	 * audit.  An L4 endpoint has nothing to audit: it is enforce. */
	ep->mode = !ep->l7 ? GB_MODE_ENFORCE
	                   : (s->enforcement_given && s->enforcement == GB_MODE_ENFORCE)
	                         ? GB_MODE_ENFORCE
	                         : GB_MODE_AUDIT;
	ep->rules = s->rules;
	ep->n_rules = s->n_rules;
	if (ep->l7 && !s->n_rules && s->access) {
		int r = expand_preset(a, s->access, &ep->rules, &ep->n_rules);
		if (r)
			return r;
	}

	if (!s->host) {
		ep->kind = GB_HOST_NONE;
		c->hostless[c->n_hostless++] = id;
		return 0;
	}
	char buf[1024];
	bool is_ip;
	long hl = gbc_norm_host(s->host, buf, sizeof buf, &is_ip);
	if (hl <= 0)
		return -EINVAL;
	ep->host = gb_arena_strdup(a, buf);
	if (!ep->host)
		return -ENOMEM;
	if (is_ip || !strchr(buf, '*')) {
		ep->kind = is_ip ? GB_HOST_IP_LITERAL : GB_HOST_EXACT;
		exact[(*n_exact)++] = (struct keyed){ ep->host, (uint32_t)hl, id };
		return 0;
	}
	ep->kind = GB_HOST_WILDCARD;
	const char *dot = strchr(ep->host, '.');
	const char *label = ep->host;
	size_t ll = dot ? (size_t)(dot - label) : strlen(label);
	bool simple = dot && dot[1] && !gb_glob_has_meta(dot + 1);
	bool any = ll == 2 && label[0] == '*' && label[1] == '*';
	if (simple && !any && memmem(label, ll, "**", 2))
		simple = false; /* "**x" shapes: full glob */
	if (!simple) {
		c->generic[c->n_generic++] = id;
		return 0;
	}
	ep->label = label;
	ep->label_len = (uint32_t)ll;
	ep->label_any = any;
	wild[(*n_wild)++] = (struct keyed){ dot + 1, (uint32_t)strlen(dot + 1), id };
	return 0;
}

static void classify_bin(struct gbc_bin *b, const char *p)
{
	b->pat = p;
	b->len = (uint32_t)strlen(p);
	/* As in OpenShell, only '*' turns a binary entry into a glob: one
	 * without it is compared exactly, '?' and '[' included. */
	b->glob = strchr(p, '*') != NULL;
	size_t lit = 0;
	while (p[lit] && p[lit] != '*' && p[lit] != '?' && p[lit] != '[')
		lit++;
	b->lit = (uint32_t)lit;
}

int gbc_build(const struct gb_net_entry *const *in, size_t n, struct gb_policy_compiled **out)
{
	*out = NULL;
	struct gb_policy_compiled *c = calloc(1, sizeof *c);
	if (!c)
		return -ENOMEM;
	atomic_init(&c->refs, 1);
	c->revision = 1;
	int rc = -ENOMEM;
	struct keyed *exact = NULL, *wild = NULL;
	const struct gb_net_entry **sorted = malloc((n + 1) * sizeof *sorted);
	if (!sorted)
		goto fail;
	memcpy(sorted, in, n * sizeof *sorted);
	/* Stable order for equal keys (hand-built policies): merge sort is
	 * overkill; qsort with the index as tie-break via pointer order. */
	qsort(sorted, n, sizeof *sorted, cmp_entry_ptr);

	size_t n_eps = 0;
	for (size_t i = 0; i < n; i++)
		n_eps += sorted[i]->n_endpoints;
	c->n_entries = n;
	c->model = gb_arena_alloc(&c->arena, (n + 1) * sizeof *c->model);
	c->entries = gb_arena_alloc(&c->arena, (n + 1) * sizeof *c->entries);
	c->eps = gb_arena_alloc(&c->arena, (n_eps + 1) * sizeof *c->eps);
	c->hostless = gb_arena_alloc(&c->arena, (n_eps + 1) * sizeof *c->hostless);
	c->generic = gb_arena_alloc(&c->arena, (n_eps + 1) * sizeof *c->generic);
	exact = malloc((n_eps + 1) * sizeof *exact);
	wild = malloc((n_eps + 1) * sizeof *wild);
	if (!c->model || !c->entries || !c->eps || !c->hostless || !c->generic || !exact || !wild)
		goto fail;
	size_t n_exact = 0, n_wild = 0;
	for (size_t i = 0; i < n; i++) {
		rc = copy_entry(&c->arena, sorted[i], &c->model[i]);
		if (rc)
			goto fail;
		const struct gb_net_entry *m = &c->model[i];
		struct gbc_entry *ce = &c->entries[i];
		ce->m = m;
		ce->n_bins = (uint32_t)m->n_binaries;
		ce->bins = gb_arena_alloc(&c->arena, (m->n_binaries + 1) * sizeof *ce->bins);
		rc = -ENOMEM;
		if (!ce->bins)
			goto fail;
		for (size_t b = 0; b < m->n_binaries; b++)
			classify_bin(&ce->bins[b], m->binaries[b].path);
		for (size_t k = 0; k < m->n_endpoints; k++) {
			struct gbc_ep *ep = &c->eps[c->n_eps];
			ep->spec = &m->endpoints[k];
			ep->entry = (uint32_t)i;
			ep->index = (uint32_t)k;
			rc = compile_endpoint(c, ep, exact, &n_exact, wild, &n_wild, (uint32_t)c->n_eps);
			if (rc)
				goto fail;
			c->n_eps++;
		}
	}
	rc = build_table(&c->arena, exact, n_exact, &c->exact);
	if (!rc)
		rc = build_table(&c->arena, wild, n_wild, &c->wild);
	if (!rc)
		rc = hash_model(c->model, c->n_entries, c->hash);
	if (!rc && c->arena.err)
		rc = c->arena.err;
	if (rc)
		goto fail;
	free(exact);
	free(wild);
	free(sorted);
	*out = c;
	return 0;
fail:
	free(exact);
	free(wild);
	free(sorted);
	gb_arena_free(&c->arena);
	free(c);
	return rc ? rc : -ENOMEM;
}

int gb_policy_compile(const struct gb_policy *p, struct gb_policy_compiled **out)
{
	if (!p || !out)
		return -EINVAL;
	const struct gb_net_entry **v = malloc((p->n_entries + 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_entries; i++)
		v[i] = &p->entries[i];
	int rc = gbc_build(v, p->n_entries, out);
	free(v);
	return rc;
}

void gb_policy_compiled_ref(struct gb_policy_compiled *c)
{
	if (c)
		atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

void gb_policy_compiled_unref(struct gb_policy_compiled *c)
{
	if (!c)
		return;
	if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1) {
		gb_arena_free(&c->arena);
		free(c);
	}
}

uint64_t gb_policy_compiled_revision(const struct gb_policy_compiled *c)
{
	return c ? c->revision : 0;
}

const char *gb_policy_compiled_hash(const struct gb_policy_compiled *c)
{
	return c ? c->hash : "";
}

size_t gb_policy_compiled_n_entries(const struct gb_policy_compiled *c)
{
	return c ? c->n_entries : 0;
}
