/* common/policy_hash.c — the canonical form of a policy's network section
 * and its SHA-256 (gb_policy.sha256, CONFIG records, revision identity).
 *
 * Canonical means: two files that allow exactly the same things hash the
 * same whatever their key order, comments, quoting or spelling of
 * defaults — entries by key, hosts lower-cased without one trailing dot,
 * ports sorted and unique, enforcement as it takes effect, CIDRs as
 * normalised text.  Anything that changes a decision changes the hash.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/fsutil.h"
#include "common/sha256.h"
#include "common/jsonw.h"
#include "common/policy.h"

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static const char *const proto_names[] = { NULL, "rest", "websocket", "graphql", "mcp",
	                                   "json-rpc", "sql", "tcp" };

static void rules_json(struct gb_jsonw *w, const char *key, const struct gb_l7_rule *r, size_t n)
{
	gb_jw_key(w, key);
	gb_jw_arr_begin(w);
	for (size_t i = 0; i < n; i++) {
		gb_jw_obj_begin(w);
		gb_jw_kstr(w, "method", r[i].method);
		gb_jw_kstr(w, "path", r[i].path);
		gb_jw_key(w, "query");
		gb_jw_obj_begin(w);
		for (size_t q = 0; q < r[i].n_query; q++) {
			gb_jw_key(w, r[i].query[q].key);
			gb_jw_arr_begin(w);
			for (size_t g = 0; g < r[i].query[q].n_globs; g++)
				gb_jw_str(w, r[i].query[q].globs[g]);
			gb_jw_arr_end(w);
		}
		gb_jw_obj_end(w);
		gb_jw_obj_end(w);
	}
	gb_jw_arr_end(w);
}

static void endpoint_json(struct gb_jsonw *w, const struct gb_endpoint_spec *s)
{
	gb_jw_obj_begin(w);
	if (s->host) {
		char h[300];
		size_t l = strlen(s->host);
		if (l >= sizeof h)
			l = sizeof h - 1;
		for (size_t i = 0; i < l; i++)
			h[i] = (char)((s->host[i] >= 'A' && s->host[i] <= 'Z') ? s->host[i] + 32 : s->host[i]);
		if (l > 1 && h[l - 1] == '.')
			l--;
		h[l] = 0;
		gb_jw_kstr(w, "host", h);
	} else {
		gb_jw_key(w, "host");
		gb_jw_null(w);
	}
	/* sorted unique ports (small lists: on the stack; long ones: heap) */
	uint16_t small[32], *ports = small;
	if (s->n_ports > 32 && !(ports = malloc(s->n_ports * sizeof *ports))) {
		w->b->err = -ENOMEM;
		return;
	}
	if (s->n_ports)
		memcpy(ports, s->ports, s->n_ports * sizeof *ports);
	qsort(ports, s->n_ports, sizeof *ports, cmp_u16);
	gb_jw_key(w, "ports");
	gb_jw_arr_begin(w);
	for (size_t i = 0; i < s->n_ports; i++)
		if (!i || ports[i] != ports[i - 1])
			gb_jw_uint(w, ports[i]);
	if (ports != small)
		free(ports);
	gb_jw_arr_end(w);
	gb_jw_kstr(w, "path", s->path);
	gb_jw_kstr(w, "protocol", proto_names[s->protocol]);
	gb_jw_kstr(w, "tls", s->tls == GB_TLS_SKIP ? "skip" : "auto");
	bool l7 = s->protocol != GB_PROTO_NONE && s->protocol != GB_PROTO_TCP;
	gb_jw_kstr(w, "enforcement",
	           !l7 ? "enforce"
	               : (s->enforcement_given && s->enforcement == GB_MODE_ENFORCE) ? "enforce" : "audit");
	gb_jw_kstr(w, "access", s->access);
	rules_json(w, "rules", s->rules, s->n_rules);
	rules_json(w, "deny_rules", s->deny_rules, s->n_deny_rules);
	gb_jw_key(w, "allowed_ips");
	gb_jw_arr_begin(w);
	for (size_t i = 0; i < s->n_allowed_ips; i++) {
		const struct gb_cidr *c = &s->allowed_ips[i];
		char a[INET6_ADDRSTRLEN + 8];
		if (!inet_ntop(c->family, c->addr, a, INET6_ADDRSTRLEN))
			strcpy(a, "?");
		size_t l = strlen(a);
		snprintf(a + l, sizeof a - l, "/%u", c->prefix);
		gb_jw_str(w, a);
	}
	gb_jw_arr_end(w);
	gb_jw_kbool(w, "allow_encoded_slash", s->allow_encoded_slash);
	if (s->body_credential_rewrite) /* only when set: earlier hashes stay */
		gb_jw_kbool(w, "request_body_credential_rewrite", true);
	gb_jw_obj_end(w);
}

int gb_policy_canonical_network(const struct gb_policy *p, struct gb_buf *out)
{
	struct gb_jsonw w;
	gb_jw_init(&w, out);
	gb_jw_obj_begin(&w);
	gb_jw_kint(&w, "version", 1);
	gb_jw_key(&w, "network_policies");
	gb_jw_obj_begin(&w);
	/* entries are sorted by key by the loader; keys are unique (YAML). */
	for (size_t i = 0; i < p->n_entries; i++) {
		const struct gb_net_entry *e = &p->entries[i];
		gb_jw_key(&w, e->key);
		gb_jw_obj_begin(&w);
		gb_jw_kstr(&w, "name", e->name);
		gb_jw_key(&w, "endpoints");
		gb_jw_arr_begin(&w);
		for (size_t k = 0; k < e->n_endpoints; k++)
			endpoint_json(&w, &e->endpoints[k]);
		gb_jw_arr_end(&w);
		gb_jw_key(&w, "binaries");
		gb_jw_arr_begin(&w);
		for (size_t k = 0; k < e->n_binaries; k++)
			gb_jw_str(&w, e->binaries[k].path);
		gb_jw_arr_end(&w);
		gb_jw_obj_end(&w);
	}
	gb_jw_obj_end(&w);
	gb_jw_obj_end(&w);
	if (w.overflow)
		return -EINVAL;
	return out->err;
}

int gb_policy_hash_network(const struct gb_policy *p, char out[65])
{
	struct gb_buf b = GB_BUF_INIT;
	int rc = gb_policy_canonical_network(p, &b);
	unsigned char md[32];
	if (!rc)
		gb_sha256(b.data ? b.data : "", b.len, md); /* sha256.h: no EVP fetch at start */
	gb_buf_free(&b);
	if (rc)
		return rc;
	gb_hex(md, 32, out);
	return 0;
}
