/* common/policy_parse.c — the schema walker: YAML tree -> gb_policy model.
 *
 * Structure and types are checked here (unknown keys with the nearest valid
 * key, wrong types, missing required keys, bad enum values); the meaning of
 * values (paths, hosts, CIDRs, identities, field combinations) is checked
 * by policy_validate.c.  Nothing stops at the first problem: every section
 * is walked so the user sees every error in one run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/policy_parse_int.h"

/* ---------------- static sections ---------------- */

static void parse_fs_list(struct gb_schema *c, const struct gb_ynode *n, bool rw,
                          const char ***out, size_t *nout)
{
	if (!gb_schema_seq(c, n, "a list of absolute paths"))
		return;
	const char **v = gb_arena_alloc(c->a, (n->n + 1) * sizeof *v);
	if (!v)
		return;
	size_t k = 0;
	for (size_t i = 0; i < n->n; i++) {
		size_t m = gb_schema_push(c, "[%zu]", i);
		const char *s = gb_schema_str(c, n->vals[i], "an absolute path");
		if (s && gb_validate_fs_path(c, n->vals[i], s, rw))
			v[k++] = s;
		gb_schema_pop(c, m);
	}
	*out = v;
	*nout = k;
}

static void parse_filesystem(struct gb_schema *c, const struct gb_ynode *n, struct gb_policy *p)
{
	static const char *const keys[] = { "read_only", "read_write", "include_workdir" };
	if (gb_ynode_is_null(n) || !gb_schema_map(c, n, "a mapping (read_only, read_write, include_workdir)"))
		return;
	gb_schema_check_keys(c, n, keys, GB_ARRAY_LEN(keys));
	const struct gb_ynode *ro = gb_ymap_get(n, "read_only"), *rw = gb_ymap_get(n, "read_write"),
	                      *iw = gb_ymap_get(n, "include_workdir");
	size_t m;
	if (ro) {
		m = gb_schema_field(c, "read_only");
		parse_fs_list(c, ro, false, &p->read_only, &p->n_read_only);
		gb_schema_pop(c, m);
	}
	if (rw) {
		m = gb_schema_field(c, "read_write");
		parse_fs_list(c, rw, true, &p->read_write, &p->n_read_write);
		gb_schema_pop(c, m);
	}
	if (iw) {
		m = gb_schema_field(c, "include_workdir");
		gb_schema_bool(c, iw, &p->include_workdir);
		gb_schema_pop(c, m);
	}
	size_t total = (ro && ro->kind == GB_Y_SEQ ? ro->n : 0) + (rw && rw->kind == GB_Y_SEQ ? rw->n : 0);
	if (total > GB_POLICY_MAX_FS_ENTRIES)
		gb_schema_err(c, n, NULL, "%zu filesystem entries; read_only + read_write may hold at most %d",
		        total, GB_POLICY_MAX_FS_ENTRIES);
}

static void parse_landlock(struct gb_schema *c, const struct gb_ynode *n, struct gb_policy *p)
{
	static const char *const keys[] = { "compatibility" };
	static const char *const vals[] = { "best_effort", "hard_requirement" };
	if (gb_ynode_is_null(n) || !gb_schema_map(c, n, "a mapping (compatibility)"))
		return;
	gb_schema_check_keys(c, n, keys, GB_ARRAY_LEN(keys));
	const struct gb_ynode *v = gb_ymap_get(n, "compatibility");
	if (!v)
		return;
	size_t m = gb_schema_field(c, "compatibility");
	int e = gb_schema_enum(c, v, vals, GB_ARRAY_LEN(vals));
	if (e >= 0)
		p->landlock = e ? GB_LL_HARD_REQUIREMENT : GB_LL_BEST_EFFORT;
	gb_schema_pop(c, m);
}

static void parse_process(struct gb_schema *c, const struct gb_ynode *n, struct gb_policy *p)
{
	static const char *const keys[] = { "run_as_user", "run_as_group" };
	if (gb_ynode_is_null(n) || !gb_schema_map(c, n, "a mapping (run_as_user, run_as_group)"))
		return;
	gb_schema_check_keys(c, n, keys, GB_ARRAY_LEN(keys));
	const char **dst[2] = { &p->run_as_user, &p->run_as_group };
	for (int i = 0; i < 2; i++) {
		const struct gb_ynode *v = gb_ymap_get(n, keys[i]);
		if (!v)
			continue;
		size_t m = gb_schema_field(c, keys[i]);
		const char *s = gb_schema_str(c, v, "'sandbox' or a numeric id");
		if (s && gb_validate_identity(c, v, s))
			*dst[i] = s;
		gb_schema_pop(c, m);
	}
}

/* ---------------- network ---------------- */

static const char *const protocols[] = { "rest", "websocket", "graphql", "mcp", "json-rpc", "sql", "tcp" };
static const enum gb_l7_protocol proto_ids[] = { GB_PROTO_REST, GB_PROTO_WEBSOCKET, GB_PROTO_GRAPHQL,
	                                         GB_PROTO_MCP, GB_PROTO_JSON_RPC, GB_PROTO_SQL,
	                                         GB_PROTO_TCP };

static bool parse_query(struct gb_schema *c, const struct gb_ynode *n, struct gb_l7_rule *r)
{
	if (!gb_schema_map(c, n, "a mapping of parameter name -> glob"))
		return false;
	r->query = gb_arena_alloc(c->a, (n->n + 1) * sizeof *r->query);
	if (!r->query)
		return false;
	bool ok = true;
	for (size_t i = 0; i < n->n; i++) {
		const struct gb_ynode *k = n->keys[i], *v = n->vals[i];
		size_t m = gb_schema_field_node(c, k);
		struct gb_query_match *q = &r->query[r->n_query];
		*q = (struct gb_query_match){ 0 }; /* the slot of a failed key is reused */
		q->key = gb_schema_str(c, k, "a parameter name");
		if (!q->key) {
			ok = false;
		} else if (v && v->kind == GB_Y_MAP) {
			static const char *const qk[] = { "any", "glob" };
			gb_schema_check_keys(c, v, qk, GB_ARRAY_LEN(qk));
			const struct gb_ynode *any = gb_ymap_get(v, "any"), *g = gb_ymap_get(v, "glob");
			size_t cnt = (any && any->kind == GB_Y_SEQ ? any->n : 0) + (g ? 1 : 0);
			q->globs = gb_arena_alloc(c->a, (cnt + 1) * sizeof *q->globs);
			if (!q->globs)
				return false;
			if (any) {
				size_t m2 = gb_schema_field(c, "any");
				if (gb_schema_seq(c, any, "a list of globs") && any->n) {
					for (size_t j = 0; j < any->n; j++) {
						size_t m3 = gb_schema_push(c, "[%zu]", j);
						const char *s = gb_schema_str(c, any->vals[j], "a glob string");
						if (s)
							q->globs[q->n_globs++] = s;
						else
							ok = false;
						gb_schema_pop(c, m3);
					}
				} else {
					if (any->kind == GB_Y_SEQ || gb_ynode_is_null(any))
						gb_schema_err(c, any, NULL, "expected a non-empty list of globs");
					ok = false;
				}
				gb_schema_pop(c, m2);
			}
			if (g) {
				size_t m2 = gb_schema_field(c, "glob");
				const char *s = gb_schema_str(c, g, "a glob string");
				if (s)
					q->globs[q->n_globs++] = s;
				else
					ok = false;
				gb_schema_pop(c, m2);
			}
			if (!any && !g) {
				gb_schema_err(c, v, NULL, "expected 'any: [globs]' or 'glob: GLOB'");
				ok = false;
			}
		} else {
			const char *s = gb_schema_str(c, v, "a glob string, {any: [globs]} or {glob: GLOB}");
			q->globs = gb_arena_alloc(c->a, 2 * sizeof *q->globs);
			if (s && q->globs)
				q->globs[q->n_globs++] = s;
			else
				ok = false;
		}
		if (q->key && q->n_globs)
			r->n_query++;
		gb_schema_pop(c, m);
	}
	return ok;
}

/* {method, path, query} (the body of an allow, or a deny matcher). */
/* proto: the endpoint's protocol (only REST matchers are enforced). */
static bool parse_matcher(struct gb_schema *c, const struct gb_ynode *n, enum gb_l7_protocol proto,
                          struct gb_l7_rule *r)
{
	/* method/path/query are REST; the others belong to protocols glassbox
	 * does not enforce yet (SQL command, GraphQL operations, MCP tools). */
	static const char *const keys[] = { "method", "path", "query", "command", "operation_type",
		                            "operation_name", "fields", "tool", "params" };
	*r = (struct gb_l7_rule){ 0 }; /* the slot of a failed rule is reused */
	if (!gb_schema_map(c, n, "a mapping (method, path, query)"))
		return false;
	gb_schema_check_keys(c, n, keys, GB_ARRAY_LEN(keys));
	bool ok = true;
	r->line = n->line;
	if (proto != GB_PROTO_REST && proto != GB_PROTO_WEBSOCKET && proto != GB_PROTO_NONE) {
		/* the endpoint is refused for its protocol; do not pile the
		 * protocol's own matchers or REST requirements on top */
		return false;
	}
	for (size_t i = 3; i < GB_ARRAY_LEN(keys); i++) {
		const struct gb_ynode *k = NULL;
		for (size_t j = 0; j < n->n && !k; j++)
			if (n->keys[j]->len == strlen(keys[i]) && !memcmp(n->keys[j]->str, keys[i], n->keys[j]->len))
				k = n->keys[j];
		if (!k)
			continue;
		size_t m = gb_schema_field(c, keys[i]);
		gb_schema_err(c, k, NULL, "'%s' is not enforced by glassbox yet (it selects %s); the endpoint "
		        "is refused rather than weakened", keys[i],
		        i == 3 ? "SQL commands" : i == 7 || i == 8 ? "MCP tool calls" : "GraphQL operations");
		gb_schema_pop(c, m);
		ok = false;
	}

	const struct gb_ynode *mn = gb_ymap_get(n, "method"), *pn = gb_ymap_get(n, "path"),
	                      *qn = gb_ymap_get(n, "query");
	size_t m;
	if (!mn) {
		/* OpenShell reads a missing method or path as "" which matches
		 * nothing: almost certainly not what the author meant. */
		gb_schema_missing(c, n, "method", "an HTTP method, or * for any");
		ok = false;
	} else {
		m = gb_schema_field(c, "method");
		char *s = (char *)gb_schema_str(c, mn, "an HTTP method, or * for any");
		if (s && gb_validate_method(c, mn, s)) {
			for (char *q = s; *q; q++)
				if (*q >= 'a' && *q <= 'z')
					*q = (char)(*q - 'a' + 'A');
			r->method = s;
		} else {
			ok = false;
		}
		gb_schema_pop(c, m);
	}
	if (!pn) {
		gb_schema_missing(c, n, "path", "a path glob such as /repos/** or ** for any path");
		ok = false;
	} else {
		m = gb_schema_field(c, "path");
		const char *s = gb_schema_str(c, pn, "a path glob");
		if (s && gb_validate_rule_path(c, pn, s))
			r->path = s;
		else
			ok = false;
		gb_schema_pop(c, m);
	}
	if (qn) {
		m = gb_schema_field(c, "query");
		ok &= parse_query(c, qn, r);
		gb_schema_pop(c, m);
	}
	return ok;
}

static void parse_rules(struct gb_schema *c, const struct gb_ynode *n, bool deny,
                        enum gb_l7_protocol proto,
                        struct gb_l7_rule **out, size_t *nout)
{
	if (!gb_schema_seq(c, n, deny ? "a list of deny matchers" : "a list of {allow: {...}} rules")) {
		if (gb_ynode_is_null(n))
			gb_schema_err(c, n, NULL, "expected a non-empty list of rules");
		return;
	}
	if (!n->n) {
		gb_schema_err(c, n, NULL, "an empty rule list is not allowed (remove the key or add a rule)");
		return;
	}
	struct gb_l7_rule *v = gb_arena_alloc(c->a, n->n * sizeof *v);
	if (!v)
		return;
	size_t k = 0;
	for (size_t i = 0; i < n->n; i++) {
		size_t m = gb_schema_push(c, "[%zu]", i);
		const struct gb_ynode *it = n->vals[i];
		if (deny) {
			if (parse_matcher(c, it, proto, &v[k]))
				k++;
		} else if (gb_schema_map(c, it, "a mapping {allow: {method, path, query}}")) {
			static const char *const keys[] = { "allow" };
			gb_schema_check_keys(c, it, keys, GB_ARRAY_LEN(keys));
			const struct gb_ynode *a = gb_ymap_get(it, "allow");
			if (!a) {
				gb_schema_missing(c, it, "allow", "{method, path, query}");
			} else {
				size_t m2 = gb_schema_field(c, "allow");
				if (parse_matcher(c, a, proto, &v[k]))
					k++;
				gb_schema_pop(c, m2);
			}
		}
		gb_schema_pop(c, m);
	}
	*out = v;
	*nout = k;
}

static bool parse_port(struct gb_schema *c, const struct gb_ynode *n, uint16_t *out)
{
	long long v;
	if (!gb_schema_int(c, n, 1, 65535, "a port number 1-65535", &v))
		return false;
	*out = (uint16_t)v;
	return true;
}

/* Type checks of fields glassbox parses but does not enforce; whether the
 * endpoint is refused for using them is decided by the validator. */
static void parse_unenforced(struct gb_schema *c, const struct gb_ynode *ep)
{
	static const char *const bools[] = { "websocket_credential_rewrite",
		                             "allow_uninspected_credentials" };
	for (size_t i = 0; i < GB_ARRAY_LEN(bools); i++) {
		const struct gb_ynode *v = gb_ymap_get(ep, bools[i]);
		bool b;
		if (v) {
			size_t m = gb_schema_field(c, bools[i]);
			gb_schema_bool(c, v, &b);
			gb_schema_pop(c, m);
		}
	}
	static const char *const strs[] = { "signing_service", "signing_region" };
	for (size_t i = 0; i < GB_ARRAY_LEN(strs); i++) {
		const struct gb_ynode *v = gb_ymap_get(ep, strs[i]);
		if (v) {
			size_t m = gb_schema_field(c, strs[i]);
			gb_schema_str(c, v, "a string");
			gb_schema_pop(c, m);
		}
	}
	const struct gb_ynode *v;
	long long ll;
	bool b;
	size_t m;
	if ((v = gb_ymap_get(ep, "credential_signing"))) {
		static const char *const sv[] = { "sigv4", "sigv4:body", "sigv4:no_body" };
		m = gb_schema_field(c, "credential_signing");
		gb_schema_enum(c, v, sv, GB_ARRAY_LEN(sv));
		gb_schema_pop(c, m);
	}
	if ((v = gb_ymap_get(ep, "credential_binding"))) {
		static const char *const k[] = { "provider" };
		m = gb_schema_field(c, "credential_binding");
		if (gb_schema_map(c, v, "a mapping (provider)")) {
			gb_schema_check_keys(c, v, k, GB_ARRAY_LEN(k));
			const struct gb_ynode *pv = gb_ymap_get(v, "provider");
			if (!pv) {
				gb_schema_missing(c, v, "provider", "the credential provider name");
			} else {
				size_t m2 = gb_schema_field(c, "provider");
				gb_schema_str(c, pv, "a provider name");
				gb_schema_pop(c, m2);
			}
		}
		gb_schema_pop(c, m);
	}
	if ((v = gb_ymap_get(ep, "persisted_queries"))) {
		static const char *const pv[] = { "deny", "allow_registered" };
		m = gb_schema_field(c, "persisted_queries");
		gb_schema_enum(c, v, pv, GB_ARRAY_LEN(pv));
		gb_schema_pop(c, m);
	}
	if ((v = gb_ymap_get(ep, "graphql_persisted_queries"))) {
		m = gb_schema_field(c, "graphql_persisted_queries");
		if (!gb_ynode_is_null(v))
			gb_schema_map(c, v, "a mapping of query hash -> {operation_type, operation_name, fields}");
		gb_schema_pop(c, m);
	}
	if ((v = gb_ymap_get(ep, "graphql_max_body_bytes"))) {
		m = gb_schema_field(c, "graphql_max_body_bytes");
		gb_schema_int(c, v, 1, 1LL << 40, "a positive byte count", &ll);
		gb_schema_pop(c, m);
	}
	if ((v = gb_ymap_get(ep, "mcp"))) {
		static const char *const k[] = { "max_body_bytes", "strict_tool_names",
			                         "allow_all_known_mcp_methods" };
		m = gb_schema_field(c, "mcp");
		if (gb_schema_map(c, v, "a mapping (max_body_bytes, strict_tool_names, allow_all_known_mcp_methods)")) {
			gb_schema_check_keys(c, v, k, GB_ARRAY_LEN(k));
			for (size_t i = 0; i < GB_ARRAY_LEN(k); i++) {
				const struct gb_ynode *x = gb_ymap_get(v, k[i]);
				if (!x)
					continue;
				size_t m2 = gb_schema_field(c, k[i]);
				if (i == 0)
					gb_schema_int(c, x, 1, 1LL << 40, "a positive byte count", &ll);
				else
					gb_schema_bool(c, x, &b);
				gb_schema_pop(c, m2);
			}
		}
		gb_schema_pop(c, m);
	}
	if ((v = gb_ymap_get(ep, "json_rpc"))) {
		static const char *const k[] = { "max_body_bytes" };
		m = gb_schema_field(c, "json_rpc");
		if (gb_schema_map(c, v, "a mapping (max_body_bytes)")) {
			gb_schema_check_keys(c, v, k, GB_ARRAY_LEN(k));
			const struct gb_ynode *x = gb_ymap_get(v, "max_body_bytes");
			if (x) {
				size_t m2 = gb_schema_field(c, "max_body_bytes");
				gb_schema_int(c, x, 1, 1LL << 40, "a positive byte count", &ll);
				gb_schema_pop(c, m2);
			}
		}
		gb_schema_pop(c, m);
	}
}

static const char *const endpoint_keys[] = {
	"host", "port", "ports", "path", "protocol", "tls", "enforcement", "access", "rules",
	"deny_rules", "allowed_ips", "allow_encoded_slash", "websocket_credential_rewrite",
	"request_body_credential_rewrite", "allow_uninspected_credentials", "credential_signing",
	"signing_service", "signing_region", "credential_binding", "persisted_queries",
	"graphql_persisted_queries", "graphql_max_body_bytes", "mcp", "json_rpc",
};

static void parse_endpoint(struct gb_schema *c, const struct gb_ynode *n, struct gb_endpoint_spec *s)
{
	s->line = n->line;
	s->column = n->column;
	gb_schema_check_keys(c, n, endpoint_keys, GB_ARRAY_LEN(endpoint_keys));
	const struct gb_ynode *v;
	size_t m;

	if ((v = gb_ymap_get(n, "protocol"))) {
		m = gb_schema_field(c, "protocol");
		int e = gb_schema_enum(c, v, protocols, GB_ARRAY_LEN(protocols));
		if (e >= 0)
			s->protocol = proto_ids[e];
		gb_schema_pop(c, m);
	}
	if ((v = gb_ymap_get(n, "host"))) {
		m = gb_schema_field(c, "host");
		const char *h = gb_schema_str(c, v, "a host name or IP address");
		if (h && gb_validate_host(c, v, h, s->protocol == GB_PROTO_TCP))
			s->host = h;
		gb_schema_pop(c, m);
	}
	/* ports: a non-empty `ports` wins over `port` (OpenShell). */
	uint16_t port = 0;
	const struct gb_ynode *pn = gb_ymap_get(n, "port"), *psn = gb_ymap_get(n, "ports");
	if (pn) {
		m = gb_schema_field(c, "port");
		parse_port(c, pn, &port);
		gb_schema_pop(c, m);
	}
	if (psn) {
		m = gb_schema_field(c, "ports");
		if (gb_schema_seq(c, psn, "a list of port numbers") && psn->n) {
			s->ports = gb_arena_alloc(c->a, psn->n * sizeof *s->ports);
			for (size_t i = 0; s->ports && i < psn->n; i++) {
				size_t m2 = gb_schema_push(c, "[%zu]", i);
				if (parse_port(c, psn->vals[i], &s->ports[s->n_ports]))
					s->n_ports++;
				gb_schema_pop(c, m2);
			}
			if (port) {
				bool in = false;
				for (size_t i = 0; i < s->n_ports; i++)
					in |= s->ports[i] == port;
				if (!in) {
					gb_schema_pop(c, m);
					m = gb_schema_field(c, "port");
					gb_schema_warn(c, pn, NULL, "port %u is ignored because 'ports' is given", port);
				}
			}
		}
		gb_schema_pop(c, m);
	}
	if (!s->n_ports && port) {
		s->ports = gb_arena_alloc(c->a, sizeof *s->ports);
		if (s->ports)
			s->ports[s->n_ports++] = port;
	}
	if (!pn && !(psn && psn->kind == GB_Y_SEQ && psn->n))
		gb_schema_missing(c, n, "port", "a port 1-65535, or 'ports' with a list of them");

	if ((v = gb_ymap_get(n, "path"))) {
		m = gb_schema_field(c, "path");
		const char *p = gb_schema_str(c, v, "a request path glob");
		if (p && !strcmp(p, "*"))
			gb_schema_err(c, v, NULL, "'*' must start with / (or be ** for any path)");
		else if (p && gb_validate_rule_path(c, v, p))
			s->path = p;
		gb_schema_pop(c, m);
	}
	if ((v = gb_ymap_get(n, "tls"))) {
		/* "terminate"/"passthrough" are older spellings seen in the wild. */
		static const char *const tv[] = { "auto", "skip", "terminate", "passthrough" };
		m = gb_schema_field(c, "tls");
		int e = gb_schema_enum(c, v, tv, GB_ARRAY_LEN(tv));
		if (e >= 0)
			s->tls = (e == 1 || e == 3) ? GB_TLS_SKIP : GB_TLS_AUTO;
		if (e >= 2)
			gb_schema_warn(c, v, e == 2 ? "write 'tls: auto' or omit it" : "write 'tls: skip'",
			         "'%s' is a legacy value", v->str);
		gb_schema_pop(c, m);
	}
	s->enforcement = s->protocol != GB_PROTO_NONE ? GB_MODE_AUDIT : GB_MODE_ENFORCE;
	if ((v = gb_ymap_get(n, "enforcement"))) {
		static const char *const ev[] = { "enforce", "audit" };
		m = gb_schema_field(c, "enforcement");
		int e = gb_schema_enum(c, v, ev, GB_ARRAY_LEN(ev));
		if (e >= 0) {
			s->enforcement = e ? GB_MODE_AUDIT : GB_MODE_ENFORCE;
			s->enforcement_given = true;
		}
		gb_schema_pop(c, m);
	}
	if ((v = gb_ymap_get(n, "access"))) {
		static const char *const av[] = { "read-only", "read-write", "full" };
		m = gb_schema_field(c, "access");
		int e = gb_schema_enum(c, v, av, GB_ARRAY_LEN(av));
		if (e >= 0)
			s->access = av[e];
		gb_schema_pop(c, m);
	}
	if ((v = gb_ymap_get(n, "rules"))) {
		m = gb_schema_field(c, "rules");
		parse_rules(c, v, false, s->protocol, &s->rules, &s->n_rules);
		gb_schema_pop(c, m);
	}
	if ((v = gb_ymap_get(n, "deny_rules"))) {
		m = gb_schema_field(c, "deny_rules");
		parse_rules(c, v, true, s->protocol, &s->deny_rules, &s->n_deny_rules);
		gb_schema_pop(c, m);
	}
	if ((v = gb_ymap_get(n, "allowed_ips"))) {
		m = gb_schema_field(c, "allowed_ips");
		if (gb_schema_seq(c, v, "a list of IP addresses or CIDRs") && v->n) {
			s->allowed_ips = gb_arena_alloc(c->a, v->n * sizeof *s->allowed_ips);
			for (size_t i = 0; s->allowed_ips && i < v->n; i++) {
				size_t m2 = gb_schema_push(c, "[%zu]", i);
				const char *str = gb_schema_str(c, v->vals[i], "an IP address or CIDR");
				if (str && gb_validate_cidr(c, v->vals[i], str, &s->allowed_ips[s->n_allowed_ips]))
					s->n_allowed_ips++;
				gb_schema_pop(c, m2);
			}
		} else if (v->kind == GB_Y_SEQ || gb_ynode_is_null(v)) {
			gb_schema_err(c, v, NULL, "expected a non-empty list of IP addresses or CIDRs");
		}
		gb_schema_pop(c, m);
	}
	if ((v = gb_ymap_get(n, "allow_encoded_slash"))) {
		m = gb_schema_field(c, "allow_encoded_slash");
		gb_schema_bool(c, v, &s->allow_encoded_slash);
		gb_schema_pop(c, m);
	}
	if ((v = gb_ymap_get(n, "request_body_credential_rewrite"))) {
		m = gb_schema_field(c, "request_body_credential_rewrite");
		gb_schema_bool(c, v, &s->body_credential_rewrite);
		gb_schema_pop(c, m);
	}
	parse_unenforced(c, n);
	gb_validate_endpoint(c, n, s);
}

static void parse_binaries(struct gb_schema *c, const struct gb_ynode *n, struct gb_net_entry *e)
{
	if (!gb_schema_seq(c, n, "a list of {path: ...}") || !n->n) {
		if (n->kind == GB_Y_SEQ || gb_ynode_is_null(n))
			gb_schema_warn(c, n, "add {path: /usr/bin/...} items",
			         "no binaries: this entry allows nothing (binary identity is required)");
		return;
	}
	e->binaries = gb_arena_alloc(c->a, n->n * sizeof *e->binaries);
	if (!e->binaries)
		return;
	for (size_t i = 0; i < n->n; i++) {
		size_t m = gb_schema_push(c, "[%zu]", i);
		const struct gb_ynode *b = n->vals[i];
		if (gb_schema_map(c, b, "a mapping {path: /absolute/path/or/glob}")) {
			static const char *const keys[] = { "path", "harness" };
			gb_schema_check_keys(c, b, keys, GB_ARRAY_LEN(keys));
			const struct gb_ynode *pv = gb_ymap_get(b, "path"), *hv = gb_ymap_get(b, "harness");
			if (hv) {
				size_t m2 = gb_schema_field(c, "harness");
				bool ignored;
				if (gb_schema_bool(c, hv, &ignored))
					gb_schema_warn(c, hv, "remove it", "'harness' is deprecated and ignored");
				gb_schema_pop(c, m2);
			}
			if (!pv) {
				gb_schema_missing(c, b, "path", "the executable's absolute path or a glob");
			} else {
				size_t m2 = gb_schema_field(c, "path");
				const char *p = gb_schema_str(c, pv, "an absolute path or glob");
				if (p && gb_validate_binary(c, pv, p)) {
					struct gb_binary_spec *bs = &e->binaries[e->n_binaries++];
					bs->path = p;
					bs->line = pv->line;
					bs->column = pv->column;
				}
				gb_schema_pop(c, m2);
			}
		}
		gb_schema_pop(c, m);
	}
}

static void parse_entry(struct gb_schema *c, const struct gb_ynode *key, const struct gb_ynode *n,
                        struct gb_net_entry *e)
{
	static const char *const keys[] = { "name", "endpoints", "binaries" };
	e->key = gb_arena_strndup(c->a, key->str, key->len);
	e->name = e->key;
	e->line = key->line;
	e->column = key->column;
	if (!key->len || memchr(key->str, 0, key->len) || key->len > 255)
		gb_schema_err(c, key, NULL, "a policy name must be 1-255 characters without NUL bytes");
	if (!gb_schema_map(c, n, "a mapping (name, endpoints, binaries)"))
		return;
	gb_schema_check_keys(c, n, keys, GB_ARRAY_LEN(keys));
	const struct gb_ynode *v;
	size_t m;
	if ((v = gb_ymap_get(n, "name"))) {
		m = gb_schema_field(c, "name");
		const char *s = gb_schema_str(c, v, "a display name");
		if (s)
			e->name = s;
		gb_schema_pop(c, m);
	}
	/* OpenShell accepts an entry without endpoints or binaries (it matches
	 * nothing); glassbox loads it too and says so. */
	if (!(v = gb_ymap_get(n, "endpoints"))) {
		m = gb_schema_field(c, "endpoints");
		gb_schema_warn(c, n, "add endpoints", "no endpoints: this entry allows nothing");
		gb_schema_pop(c, m);
	} else {
		m = gb_schema_field(c, "endpoints");
		if (!gb_schema_seq(c, v, "a list of endpoints") || !v->n) {
			if (v->kind == GB_Y_SEQ || gb_ynode_is_null(v))
				gb_schema_warn(c, v, "add endpoints", "no endpoints: this entry allows nothing");
		} else {
			e->endpoints = gb_arena_alloc(c->a, v->n * sizeof *e->endpoints);
			for (size_t i = 0; e->endpoints && i < v->n; i++) {
				size_t m2 = gb_schema_push(c, "[%zu]", i);
				if (gb_schema_map(c, v->vals[i], "an endpoint mapping (host, port, ...)"))
					parse_endpoint(c, v->vals[i], &e->endpoints[e->n_endpoints++]);
				gb_schema_pop(c, m2);
			}
		}
		gb_schema_pop(c, m);
	}
	if (!(v = gb_ymap_get(n, "binaries"))) {
		m = gb_schema_field(c, "binaries");
		gb_schema_warn(c, n, "add {path: /usr/bin/...} items",
		         "no binaries: this entry allows nothing (binary identity is required)");
		gb_schema_pop(c, m);
	} else {
		m = gb_schema_field(c, "binaries");
		parse_binaries(c, v, e);
		gb_schema_pop(c, m);
	}
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct gb_net_entry *)a)->key, ((const struct gb_net_entry *)b)->key);
}

static void parse_network(struct gb_schema *c, const struct gb_ynode *n, struct gb_policy *p)
{
	if (gb_ynode_is_null(n) ||
	    !gb_schema_map(c, n, "a mapping of policy name -> {endpoints, binaries}"))
		return;
	p->entries = gb_arena_alloc(c->a, (n->n + 1) * sizeof *p->entries);
	if (!p->entries)
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct gb_ynode *k = n->keys[i];
		size_t m = gb_schema_field_node(c, k);
		parse_entry(c, k, n->vals[i], &p->entries[p->n_entries++]);
		gb_schema_pop(c, m);
	}
	qsort(p->entries, p->n_entries, sizeof *p->entries, cmp_entry);
}

static void parse_top(struct gb_schema *c, const struct gb_ynode *root, struct gb_policy *p)
{
	static const char *const keys[] = { "version", "filesystem_policy", "landlock", "process",
		                            "network_policies", "network_middlewares" };
	if (!root || gb_ynode_is_null(root)) {
		gb_schema_err(c, root, NULL, "empty policy (expected a mapping starting with 'version: 1')");
		return;
	}
	if (!gb_schema_map(c, root, "a mapping at the top level (version, filesystem_policy, ...)"))
		return;
	gb_schema_check_keys(c, root, keys, GB_ARRAY_LEN(keys));
	const struct gb_ynode *v;
	size_t m;
	if (!(v = gb_ymap_get(root, "version"))) {
		gb_schema_missing(c, root, "version", "version: 1");
	} else {
		long long ver;
		m = gb_schema_field(c, "version");
		if (gb_schema_int(c, v, 0, 1000000, "the integer 1", &ver)) {
			if (ver != 1)
				gb_schema_err(c, v, NULL, "unsupported version %lld (expected 1)", ver);
			else
				p->version = 1;
		}
		gb_schema_pop(c, m);
	}
	if ((v = gb_ymap_get(root, "filesystem_policy"))) {
		m = gb_schema_field(c, "filesystem_policy");
		parse_filesystem(c, v, p);
		gb_schema_pop(c, m);
	}
	if ((v = gb_ymap_get(root, "landlock"))) {
		m = gb_schema_field(c, "landlock");
		parse_landlock(c, v, p);
		gb_schema_pop(c, m);
	}
	if ((v = gb_ymap_get(root, "process"))) {
		m = gb_schema_field(c, "process");
		parse_process(c, v, p);
		gb_schema_pop(c, m);
	}
	if ((v = gb_ymap_get(root, "network_policies"))) {
		m = gb_schema_field(c, "network_policies");
		parse_network(c, v, p);
		gb_schema_pop(c, m);
	}
	if ((v = gb_ymap_get(root, "network_middlewares"))) {
		m = gb_schema_field(c, "network_middlewares");
		if (!gb_ynode_is_null(v) && gb_schema_map(c, v, "a mapping of middleware name -> settings") && v->n)
			gb_schema_err(c, v, NULL,
			        "network_middlewares is not enforced by glassbox yet; refusing the policy "
			        "rather than running without the middleware");
		gb_schema_pop(c, m);
	}
}

/* ---------------- entry points ---------------- */

int gb_policy_load_buf(const char *name, const char *buf, size_t len, struct gb_policy **out,
                       struct gb_diags *diags)
{
	struct gb_diags local = { 0 };
	struct gb_diags *d = diags ? diags : &local;
	size_t errors0 = d->errors, n0 = d->n, counted0 = d->errors + d->warnings;
	*out = NULL;
	if (len > GB_POLICY_MAX_BYTES) {
		gb_diag_add(d, GB_DIAG_ERROR, name, 0, 0, NULL, NULL,
		            "file too large: %zu bytes (a policy may be at most %u bytes)", len,
		            GB_POLICY_MAX_BYTES);
		gb_diags_free(&local);
		return -EINVAL;
	}
	struct gb_ydoc doc;
	int rc = gb_yaml_parse(name, buf, len, &doc, d);
	if (rc) {
		gb_diags_finish(d, n0, counted0, name);
		gb_yaml_free(&doc);
		gb_diags_free(&local);
		return rc;
	}
	struct gb_arena arena = { 0 };
	struct gb_policy *p = gb_arena_alloc(&arena, sizeof *p);
	if (!p) {
		gb_yaml_free(&doc);
		gb_diags_free(&local);
		return -ENOMEM;
	}
	struct gb_schema c = { .file = name, .d = d, .a = &arena };
	parse_top(&c, doc.root, p);
	gb_yaml_free(&doc);
	gb_diags_finish(d, n0, counted0, name);
	if (!arena.err && d->errors == errors0)
		rc = gb_policy_hash_network(p, p->sha256);
	if (arena.err || rc == -ENOMEM) {
		gb_diag_add(d, GB_DIAG_ERROR, name, 0, 0, NULL, NULL, "out of memory while loading");
		rc = -ENOMEM;
	} else if (d->errors != errors0) {
		rc = -EINVAL;
	}
	if (rc) {
		gb_arena_free(&arena);
		gb_diags_free(&local);
		return rc;
	}
	/* The policy struct lives in its own arena; keep the arena's head. */
	struct gb_arena *own = malloc(sizeof *own);
	if (!own) {
		gb_arena_free(&arena);
		gb_diags_free(&local);
		return -ENOMEM;
	}
	*own = arena;
	p->arena_ = own;
	*out = p;
	gb_diags_free(&local);
	return 0;
}

int gb_policy_load_file(const char *path, struct gb_policy **out, struct gb_diags *diags)
{
	*out = NULL;
	char *buf;
	size_t len;
	int rc = gb_yaml_read_file(path, GB_POLICY_MAX_BYTES, "policy", false, &buf, &len, diags);
	if (rc)
		return rc;
	rc = gb_policy_load_buf(path, buf, len, out, diags);
	free(buf);
	return rc;
}

void gb_policy_free(struct gb_policy *p)
{
	if (!p)
		return;
	struct gb_arena *own = p->arena_;
	if (!own)
		return; /* not made by the loader */
	gb_arena_free(own); /* p itself lives in the arena */
	free(own);
}
