/* common/policy_parse.c — the schema walker: YAML tree -> gb_policy model.
 *
 * Structure and types are checked here (unknown keys with the nearest valid
 * key, wrong types, missing required keys, bad enum values); the meaning of
 * values (paths, hosts, CIDRs, identities, field combinations) is checked
 * by policy_validate.c.  Nothing stops at the first problem: every section
 * is walked so the user sees every error in one run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/policy_parse.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------- context helpers ---------------- */

size_t gb_pctx_push(struct gb_pctx *c, const char *fmt, ...)
{
	size_t mark = c->plen;
	if (c->plen < sizeof c->path - 1) {
		va_list ap;
		va_start(ap, fmt);
		int w = vsnprintf(c->path + c->plen, sizeof c->path - c->plen, fmt, ap);
		va_end(ap);
		if (w > 0)
			c->plen += (size_t)w;
		if (c->plen > sizeof c->path - 1)
			c->plen = sizeof c->path - 1;
	}
	return mark;
}

void gb_pctx_pop(struct gb_pctx *c, size_t mark)
{
	c->plen = mark;
	c->path[mark] = 0;
}

static void vreport(struct gb_pctx *c, enum gb_diag_level l, const struct gb_ynode *n,
                    const char *hint, const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
static void vreport(struct gb_pctx *c, enum gb_diag_level l, const struct gb_ynode *n,
                    const char *hint, const char *fmt, va_list ap)
{
	gb_diag_vadd(c->d, l, c->file, n ? n->line : 0, n ? n->column : 0, c->path, hint, fmt, ap);
}

void gb_perr(struct gb_pctx *c, const struct gb_ynode *n, const char *hint, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(c, GB_DIAG_ERROR, n, hint, fmt, ap);
	va_end(ap);
}

void gb_pwarn(struct gb_pctx *c, const struct gb_ynode *n, const char *hint, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(c, GB_DIAG_WARNING, n, hint, fmt, ap);
	va_end(ap);
}

/* ---------------- typed accessors ---------------- */

static const char *kind_name(const struct gb_ynode *n)
{
	if (gb_ynode_is_null(n))
		return "nothing (null)";
	switch (n->kind) {
	case GB_Y_MAP: return "a mapping";
	case GB_Y_SEQ: return "a list";
	default: return "a scalar";
	}
}

static bool want_map(struct gb_pctx *c, const struct gb_ynode *n, const char *what)
{
	if (n && n->kind == GB_Y_MAP)
		return true;
	gb_perr(c, n, NULL, "expected %s, got %s", what, kind_name(n));
	return false;
}

/* A list; null counts as empty (returns false without an error). */
static bool want_seq(struct gb_pctx *c, const struct gb_ynode *n, const char *what)
{
	if (n && n->kind == GB_Y_SEQ)
		return true;
	if (gb_ynode_is_null(n))
		return false;
	gb_perr(c, n, NULL, "expected %s, got %s", what, kind_name(n));
	return false;
}

/* Any non-null scalar as a string, copied into the policy arena. */
static const char *get_str(struct gb_pctx *c, const struct gb_ynode *n, const char *what)
{
	if (!n || n->kind != GB_Y_SCALAR || gb_ynode_is_null(n)) {
		gb_perr(c, n, NULL, "expected %s, got %s", what, kind_name(n));
		return NULL;
	}
	if (memchr(n->str, 0, n->len)) {
		gb_perr(c, n, NULL, "expected %s, got a string containing a NUL byte", what);
		return NULL;
	}
	return gb_parena_strndup(c->a, n->str, n->len);
}

static bool get_bool(struct gb_pctx *c, const struct gb_ynode *n, bool *out)
{
	static const char *const t[] = { "true", "True", "TRUE" }, *const f[] = { "false", "False", "FALSE" };
	if (n && n->kind == GB_Y_SCALAR && n->plain)
		for (size_t i = 0; i < 3; i++) {
			if (!strcmp(n->str, t[i]))
				return *out = true, true;
			if (!strcmp(n->str, f[i]))
				return *out = false, true;
		}
	if (n && n->kind == GB_Y_SCALAR && !gb_ynode_is_null(n))
		gb_perr(c, n, NULL, "expected true or false, got '%.100s'", n->str);
	else
		gb_perr(c, n, NULL, "expected true or false, got %s", kind_name(n));
	return false;
}

/* A plain decimal integer in [min, max]. */
static bool get_int(struct gb_pctx *c, const struct gb_ynode *n, long long min, long long max,
                    const char *what, long long *out)
{
	if (!n || n->kind != GB_Y_SCALAR || gb_ynode_is_null(n)) {
		gb_perr(c, n, NULL, "expected %s, got %s", what, kind_name(n));
		return false;
	}
	const char *s = n->str;
	bool ok = n->plain && n->len > 0 && n->len < 20;
	size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
	if (i == n->len)
		ok = false;
	for (size_t k = i; ok && k < n->len; k++)
		if (s[k] < '0' || s[k] > '9')
			ok = false;
	if (!ok) {
		gb_perr(c, n, NULL, "expected %s, got %s'%.100s'", what,
		        n->plain ? "" : "the string ", s);
		return false;
	}
	long long v = strtoll(s, NULL, 10);
	if (v < min || v > max) {
		gb_perr(c, n, NULL, "expected %s, got %lld (out of range %lld..%lld)", what, v, min, max);
		return false;
	}
	*out = v;
	return true;
}

/* One of `vals`; returns its index or -1 (error with a suggestion). */
static int get_enum(struct gb_pctx *c, const struct gb_ynode *n, const char *const *vals, size_t nv)
{
	char list[256] = "";
	for (size_t i = 0, o = 0; i < nv && o < sizeof list; i++) {
		int w = snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", vals[i]);
		if (w > 0)
			o += (size_t)w;
	}
	if (!n || n->kind != GB_Y_SCALAR || gb_ynode_is_null(n)) {
		gb_perr(c, n, NULL, "expected one of: %s, got %s", list, kind_name(n));
		return -1;
	}
	for (size_t i = 0; i < nv; i++)
		if (n->len == strlen(vals[i]) && !memcmp(n->str, vals[i], n->len))
			return (int)i;
	const char *s = gb_suggest(n->str, vals, nv);
	char hint[160];
	if (s)
		snprintf(hint, sizeof hint, "did you mean '%s'?", s);
	gb_perr(c, n, s ? hint : NULL, "unknown value '%.100s' (expected one of: %s)", n->str, list);
	return -1;
}

/* Report every key of map n not in `valid`. */
static void check_keys(struct gb_pctx *c, const struct gb_ynode *n, const char *const *valid,
                       size_t nv)
{
	for (size_t i = 0; i < n->n; i++) {
		const struct gb_ynode *k = n->keys[i];
		bool ok = false;
		for (size_t j = 0; j < nv && !ok; j++)
			ok = k->len == strlen(valid[j]) && !memcmp(k->str, valid[j], k->len);
		if (ok)
			continue;
		size_t m = gb_pctx_push(c, "%s%.*s", c->plen ? "." : "", (int)(k->len > 200 ? 200 : k->len), k->str);
		/* no suggestion work once the list is full: the diag is only counted */
		const char *s = c->d->n < GB_DIAG_MAX ? gb_suggest(k->str, valid, nv) : NULL;
		char hint[160];
		if (s)
			snprintf(hint, sizeof hint, "did you mean '%s'?", s);
		gb_perr(c, k, s ? hint : NULL, "unknown key '%.100s'", k->str);
		gb_pctx_pop(c, m);
	}
}

static void missing(struct gb_pctx *c, const struct gb_ynode *map, const char *key, const char *what)
{
	size_t m = gb_pctx_push(c, "%s%s", c->plen ? "." : "", key);
	gb_perr(c, map, NULL, "missing required key '%s' (%s)", key, what);
	gb_pctx_pop(c, m);
}

#define FIELD(c, key) gb_pctx_push((c), "%s%s", (c)->plen ? "." : "", (key))

/* ---------------- static sections ---------------- */

static void parse_fs_list(struct gb_pctx *c, const struct gb_ynode *n, bool rw,
                          const char ***out, size_t *nout)
{
	if (!want_seq(c, n, "a list of absolute paths"))
		return;
	const char **v = gb_parena_alloc(c->a, (n->n + 1) * sizeof *v);
	if (!v)
		return;
	size_t k = 0;
	for (size_t i = 0; i < n->n; i++) {
		size_t m = gb_pctx_push(c, "[%zu]", i);
		const char *s = get_str(c, n->vals[i], "an absolute path");
		if (s && gb_validate_fs_path(c, n->vals[i], s, rw))
			v[k++] = s;
		gb_pctx_pop(c, m);
	}
	*out = v;
	*nout = k;
}

static void parse_filesystem(struct gb_pctx *c, const struct gb_ynode *n, struct gb_policy *p)
{
	static const char *const keys[] = { "read_only", "read_write", "include_workdir" };
	if (gb_ynode_is_null(n) || !want_map(c, n, "a mapping (read_only, read_write, include_workdir)"))
		return;
	check_keys(c, n, keys, N(keys));
	const struct gb_ynode *ro = gb_ymap_get(n, "read_only"), *rw = gb_ymap_get(n, "read_write"),
	                      *iw = gb_ymap_get(n, "include_workdir");
	size_t m;
	if (ro) {
		m = FIELD(c, "read_only");
		parse_fs_list(c, ro, false, &p->read_only, &p->n_read_only);
		gb_pctx_pop(c, m);
	}
	if (rw) {
		m = FIELD(c, "read_write");
		parse_fs_list(c, rw, true, &p->read_write, &p->n_read_write);
		gb_pctx_pop(c, m);
	}
	if (iw) {
		m = FIELD(c, "include_workdir");
		get_bool(c, iw, &p->include_workdir);
		gb_pctx_pop(c, m);
	}
	size_t total = (ro && ro->kind == GB_Y_SEQ ? ro->n : 0) + (rw && rw->kind == GB_Y_SEQ ? rw->n : 0);
	if (total > GB_POLICY_MAX_FS_ENTRIES)
		gb_perr(c, n, NULL, "%zu filesystem entries; read_only + read_write may hold at most %d",
		        total, GB_POLICY_MAX_FS_ENTRIES);
}

static void parse_landlock(struct gb_pctx *c, const struct gb_ynode *n, struct gb_policy *p)
{
	static const char *const keys[] = { "compatibility" };
	static const char *const vals[] = { "best_effort", "hard_requirement" };
	if (gb_ynode_is_null(n) || !want_map(c, n, "a mapping (compatibility)"))
		return;
	check_keys(c, n, keys, N(keys));
	const struct gb_ynode *v = gb_ymap_get(n, "compatibility");
	if (!v)
		return;
	size_t m = FIELD(c, "compatibility");
	int e = get_enum(c, v, vals, N(vals));
	if (e >= 0)
		p->landlock = e ? GB_LL_HARD_REQUIREMENT : GB_LL_BEST_EFFORT;
	gb_pctx_pop(c, m);
}

static void parse_process(struct gb_pctx *c, const struct gb_ynode *n, struct gb_policy *p)
{
	static const char *const keys[] = { "run_as_user", "run_as_group" };
	if (gb_ynode_is_null(n) || !want_map(c, n, "a mapping (run_as_user, run_as_group)"))
		return;
	check_keys(c, n, keys, N(keys));
	const char **dst[2] = { &p->run_as_user, &p->run_as_group };
	for (int i = 0; i < 2; i++) {
		const struct gb_ynode *v = gb_ymap_get(n, keys[i]);
		if (!v)
			continue;
		size_t m = FIELD(c, keys[i]);
		const char *s = get_str(c, v, "'sandbox' or a numeric id");
		if (s && gb_validate_identity(c, v, s))
			*dst[i] = s;
		gb_pctx_pop(c, m);
	}
}

/* ---------------- network ---------------- */

static const char *const protocols[] = { "rest", "websocket", "graphql", "mcp", "json-rpc", "sql", "tcp" };
static const enum gb_l7_protocol proto_ids[] = { GB_PROTO_REST, GB_PROTO_WEBSOCKET, GB_PROTO_GRAPHQL,
	                                         GB_PROTO_MCP, GB_PROTO_JSON_RPC, GB_PROTO_SQL,
	                                         GB_PROTO_TCP };

static bool parse_query(struct gb_pctx *c, const struct gb_ynode *n, struct gb_l7_rule *r)
{
	if (!want_map(c, n, "a mapping of parameter name -> glob"))
		return false;
	r->query = gb_parena_alloc(c->a, (n->n + 1) * sizeof *r->query);
	if (!r->query)
		return false;
	bool ok = true;
	for (size_t i = 0; i < n->n; i++) {
		const struct gb_ynode *k = n->keys[i], *v = n->vals[i];
		size_t m = gb_pctx_push(c, ".%.*s", (int)(k->len > 200 ? 200 : k->len), k->str);
		struct gb_query_match *q = &r->query[r->n_query];
		*q = (struct gb_query_match){ 0 }; /* the slot of a failed key is reused */
		q->key = get_str(c, k, "a parameter name");
		if (!q->key) {
			ok = false;
		} else if (v && v->kind == GB_Y_MAP) {
			static const char *const qk[] = { "any", "glob" };
			check_keys(c, v, qk, N(qk));
			const struct gb_ynode *any = gb_ymap_get(v, "any"), *g = gb_ymap_get(v, "glob");
			size_t cnt = (any && any->kind == GB_Y_SEQ ? any->n : 0) + (g ? 1 : 0);
			q->globs = gb_parena_alloc(c->a, (cnt + 1) * sizeof *q->globs);
			if (!q->globs)
				return false;
			if (any) {
				size_t m2 = FIELD(c, "any");
				if (want_seq(c, any, "a list of globs") && any->n) {
					for (size_t j = 0; j < any->n; j++) {
						size_t m3 = gb_pctx_push(c, "[%zu]", j);
						const char *s = get_str(c, any->vals[j], "a glob string");
						if (s)
							q->globs[q->n_globs++] = s;
						else
							ok = false;
						gb_pctx_pop(c, m3);
					}
				} else {
					if (any->kind == GB_Y_SEQ || gb_ynode_is_null(any))
						gb_perr(c, any, NULL, "expected a non-empty list of globs");
					ok = false;
				}
				gb_pctx_pop(c, m2);
			}
			if (g) {
				size_t m2 = FIELD(c, "glob");
				const char *s = get_str(c, g, "a glob string");
				if (s)
					q->globs[q->n_globs++] = s;
				else
					ok = false;
				gb_pctx_pop(c, m2);
			}
			if (!any && !g) {
				gb_perr(c, v, NULL, "expected 'any: [globs]' or 'glob: GLOB'");
				ok = false;
			}
		} else {
			const char *s = get_str(c, v, "a glob string, {any: [globs]} or {glob: GLOB}");
			q->globs = gb_parena_alloc(c->a, 2 * sizeof *q->globs);
			if (s && q->globs)
				q->globs[q->n_globs++] = s;
			else
				ok = false;
		}
		if (q->key && q->n_globs)
			r->n_query++;
		gb_pctx_pop(c, m);
	}
	return ok;
}

/* {method, path, query} (the body of an allow, or a deny matcher). */
static bool parse_matcher(struct gb_pctx *c, const struct gb_ynode *n, struct gb_l7_rule *r)
{
	/* method/path/query are REST; the others belong to protocols glassbox
	 * does not enforce yet (SQL command, GraphQL operations, MCP tools). */
	static const char *const keys[] = { "method", "path", "query", "command", "operation_type",
		                            "operation_name", "fields", "tool", "params" };
	*r = (struct gb_l7_rule){ 0 }; /* the slot of a failed rule is reused */
	if (!want_map(c, n, "a mapping (method, path, query)"))
		return false;
	check_keys(c, n, keys, N(keys));
	bool ok = true;
	r->line = n->line;
	if (c->proto != GB_PROTO_REST && c->proto != GB_PROTO_WEBSOCKET && c->proto != GB_PROTO_NONE) {
		/* the endpoint is refused for its protocol; do not pile the
		 * protocol's own matchers or REST requirements on top */
		return false;
	}
	for (size_t i = 3; i < N(keys); i++) {
		const struct gb_ynode *k = NULL;
		for (size_t j = 0; j < n->n && !k; j++)
			if (n->keys[j]->len == strlen(keys[i]) && !memcmp(n->keys[j]->str, keys[i], n->keys[j]->len))
				k = n->keys[j];
		if (!k)
			continue;
		size_t m = FIELD(c, keys[i]);
		gb_perr(c, k, NULL, "'%s' is not enforced by glassbox yet (it selects %s); the endpoint "
		        "is refused rather than weakened", keys[i],
		        i == 3 ? "SQL commands" : i == 7 || i == 8 ? "MCP tool calls" : "GraphQL operations");
		gb_pctx_pop(c, m);
		ok = false;
	}

	const struct gb_ynode *mn = gb_ymap_get(n, "method"), *pn = gb_ymap_get(n, "path"),
	                      *qn = gb_ymap_get(n, "query");
	size_t m;
	if (!mn) {
		/* OpenShell reads a missing method or path as "" which matches
		 * nothing: almost certainly not what the author meant. */
		missing(c, n, "method", "an HTTP method, or * for any");
		ok = false;
	} else {
		m = FIELD(c, "method");
		char *s = (char *)get_str(c, mn, "an HTTP method, or * for any");
		if (s && gb_validate_method(c, mn, s)) {
			for (char *q = s; *q; q++)
				if (*q >= 'a' && *q <= 'z')
					*q = (char)(*q - 'a' + 'A');
			r->method = s;
		} else {
			ok = false;
		}
		gb_pctx_pop(c, m);
	}
	if (!pn) {
		missing(c, n, "path", "a path glob such as /repos/** or ** for any path");
		ok = false;
	} else {
		m = FIELD(c, "path");
		const char *s = get_str(c, pn, "a path glob");
		if (s && gb_validate_rule_path(c, pn, s))
			r->path = s;
		else
			ok = false;
		gb_pctx_pop(c, m);
	}
	if (qn) {
		m = FIELD(c, "query");
		ok &= parse_query(c, qn, r);
		gb_pctx_pop(c, m);
	}
	return ok;
}

static void parse_rules(struct gb_pctx *c, const struct gb_ynode *n, bool deny,
                        struct gb_l7_rule **out, size_t *nout)
{
	if (!want_seq(c, n, deny ? "a list of deny matchers" : "a list of {allow: {...}} rules")) {
		if (gb_ynode_is_null(n))
			gb_perr(c, n, NULL, "expected a non-empty list of rules");
		return;
	}
	if (!n->n) {
		gb_perr(c, n, NULL, "an empty rule list is not allowed (remove the key or add a rule)");
		return;
	}
	struct gb_l7_rule *v = gb_parena_alloc(c->a, n->n * sizeof *v);
	if (!v)
		return;
	size_t k = 0;
	for (size_t i = 0; i < n->n; i++) {
		size_t m = gb_pctx_push(c, "[%zu]", i);
		const struct gb_ynode *it = n->vals[i];
		if (deny) {
			if (parse_matcher(c, it, &v[k]))
				k++;
		} else if (want_map(c, it, "a mapping {allow: {method, path, query}}")) {
			static const char *const keys[] = { "allow" };
			check_keys(c, it, keys, N(keys));
			const struct gb_ynode *a = gb_ymap_get(it, "allow");
			if (!a) {
				missing(c, it, "allow", "{method, path, query}");
			} else {
				size_t m2 = FIELD(c, "allow");
				if (parse_matcher(c, a, &v[k]))
					k++;
				gb_pctx_pop(c, m2);
			}
		}
		gb_pctx_pop(c, m);
	}
	*out = v;
	*nout = k;
}

static bool parse_port(struct gb_pctx *c, const struct gb_ynode *n, uint16_t *out)
{
	long long v;
	if (!get_int(c, n, 1, 65535, "a port number 1-65535", &v))
		return false;
	*out = (uint16_t)v;
	return true;
}

/* Type checks of fields glassbox parses but does not enforce; whether the
 * endpoint is refused for using them is decided by the validator. */
static void parse_unenforced(struct gb_pctx *c, const struct gb_ynode *ep)
{
	static const char *const bools[] = { "websocket_credential_rewrite",
		                             "request_body_credential_rewrite",
		                             "allow_uninspected_credentials" };
	for (size_t i = 0; i < N(bools); i++) {
		const struct gb_ynode *v = gb_ymap_get(ep, bools[i]);
		bool b;
		if (v) {
			size_t m = FIELD(c, bools[i]);
			get_bool(c, v, &b);
			gb_pctx_pop(c, m);
		}
	}
	static const char *const strs[] = { "signing_service", "signing_region" };
	for (size_t i = 0; i < N(strs); i++) {
		const struct gb_ynode *v = gb_ymap_get(ep, strs[i]);
		if (v) {
			size_t m = FIELD(c, strs[i]);
			get_str(c, v, "a string");
			gb_pctx_pop(c, m);
		}
	}
	const struct gb_ynode *v;
	long long ll;
	bool b;
	size_t m;
	if ((v = gb_ymap_get(ep, "credential_signing"))) {
		static const char *const sv[] = { "sigv4", "sigv4:body", "sigv4:no_body" };
		m = FIELD(c, "credential_signing");
		get_enum(c, v, sv, N(sv));
		gb_pctx_pop(c, m);
	}
	if ((v = gb_ymap_get(ep, "credential_binding"))) {
		static const char *const k[] = { "provider" };
		m = FIELD(c, "credential_binding");
		if (want_map(c, v, "a mapping (provider)")) {
			check_keys(c, v, k, N(k));
			const struct gb_ynode *pv = gb_ymap_get(v, "provider");
			if (!pv) {
				missing(c, v, "provider", "the credential provider name");
			} else {
				size_t m2 = FIELD(c, "provider");
				get_str(c, pv, "a provider name");
				gb_pctx_pop(c, m2);
			}
		}
		gb_pctx_pop(c, m);
	}
	if ((v = gb_ymap_get(ep, "persisted_queries"))) {
		static const char *const pv[] = { "deny", "allow_registered" };
		m = FIELD(c, "persisted_queries");
		get_enum(c, v, pv, N(pv));
		gb_pctx_pop(c, m);
	}
	if ((v = gb_ymap_get(ep, "graphql_persisted_queries"))) {
		m = FIELD(c, "graphql_persisted_queries");
		if (!gb_ynode_is_null(v))
			want_map(c, v, "a mapping of query hash -> {operation_type, operation_name, fields}");
		gb_pctx_pop(c, m);
	}
	if ((v = gb_ymap_get(ep, "graphql_max_body_bytes"))) {
		m = FIELD(c, "graphql_max_body_bytes");
		get_int(c, v, 1, 1LL << 40, "a positive byte count", &ll);
		gb_pctx_pop(c, m);
	}
	if ((v = gb_ymap_get(ep, "mcp"))) {
		static const char *const k[] = { "max_body_bytes", "strict_tool_names",
			                         "allow_all_known_mcp_methods" };
		m = FIELD(c, "mcp");
		if (want_map(c, v, "a mapping (max_body_bytes, strict_tool_names, allow_all_known_mcp_methods)")) {
			check_keys(c, v, k, N(k));
			for (size_t i = 0; i < N(k); i++) {
				const struct gb_ynode *x = gb_ymap_get(v, k[i]);
				if (!x)
					continue;
				size_t m2 = FIELD(c, k[i]);
				if (i == 0)
					get_int(c, x, 1, 1LL << 40, "a positive byte count", &ll);
				else
					get_bool(c, x, &b);
				gb_pctx_pop(c, m2);
			}
		}
		gb_pctx_pop(c, m);
	}
	if ((v = gb_ymap_get(ep, "json_rpc"))) {
		static const char *const k[] = { "max_body_bytes" };
		m = FIELD(c, "json_rpc");
		if (want_map(c, v, "a mapping (max_body_bytes)")) {
			check_keys(c, v, k, N(k));
			const struct gb_ynode *x = gb_ymap_get(v, "max_body_bytes");
			if (x) {
				size_t m2 = FIELD(c, "max_body_bytes");
				get_int(c, x, 1, 1LL << 40, "a positive byte count", &ll);
				gb_pctx_pop(c, m2);
			}
		}
		gb_pctx_pop(c, m);
	}
}

static const char *const endpoint_keys[] = {
	"host", "port", "ports", "path", "protocol", "tls", "enforcement", "access", "rules",
	"deny_rules", "allowed_ips", "allow_encoded_slash", "websocket_credential_rewrite",
	"request_body_credential_rewrite", "allow_uninspected_credentials", "credential_signing",
	"signing_service", "signing_region", "credential_binding", "persisted_queries",
	"graphql_persisted_queries", "graphql_max_body_bytes", "mcp", "json_rpc",
};

static void parse_endpoint(struct gb_pctx *c, const struct gb_ynode *n, struct gb_endpoint_spec *s)
{
	s->line = n->line;
	s->column = n->column;
	check_keys(c, n, endpoint_keys, N(endpoint_keys));
	const struct gb_ynode *v;
	size_t m;

	if ((v = gb_ymap_get(n, "protocol"))) {
		m = FIELD(c, "protocol");
		int e = get_enum(c, v, protocols, N(protocols));
		if (e >= 0)
			s->protocol = proto_ids[e];
		gb_pctx_pop(c, m);
	}
	c->proto = s->protocol;
	if ((v = gb_ymap_get(n, "host"))) {
		m = FIELD(c, "host");
		const char *h = get_str(c, v, "a host name or IP address");
		if (h && gb_validate_host(c, v, h, s->protocol == GB_PROTO_TCP))
			s->host = h;
		gb_pctx_pop(c, m);
	}
	/* ports: a non-empty `ports` wins over `port` (OpenShell). */
	uint16_t port = 0;
	const struct gb_ynode *pn = gb_ymap_get(n, "port"), *psn = gb_ymap_get(n, "ports");
	if (pn) {
		m = FIELD(c, "port");
		parse_port(c, pn, &port);
		gb_pctx_pop(c, m);
	}
	if (psn) {
		m = FIELD(c, "ports");
		if (want_seq(c, psn, "a list of port numbers") && psn->n) {
			s->ports = gb_parena_alloc(c->a, psn->n * sizeof *s->ports);
			for (size_t i = 0; s->ports && i < psn->n; i++) {
				size_t m2 = gb_pctx_push(c, "[%zu]", i);
				if (parse_port(c, psn->vals[i], &s->ports[s->n_ports]))
					s->n_ports++;
				gb_pctx_pop(c, m2);
			}
			if (port) {
				bool in = false;
				for (size_t i = 0; i < s->n_ports; i++)
					in |= s->ports[i] == port;
				if (!in) {
					gb_pctx_pop(c, m);
					m = FIELD(c, "port");
					gb_pwarn(c, pn, NULL, "port %u is ignored because 'ports' is given", port);
				}
			}
		}
		gb_pctx_pop(c, m);
	}
	if (!s->n_ports && port) {
		s->ports = gb_parena_alloc(c->a, sizeof *s->ports);
		if (s->ports)
			s->ports[s->n_ports++] = port;
	}
	if (!pn && !(psn && psn->kind == GB_Y_SEQ && psn->n))
		missing(c, n, "port", "a port 1-65535, or 'ports' with a list of them");

	if ((v = gb_ymap_get(n, "path"))) {
		m = FIELD(c, "path");
		const char *p = get_str(c, v, "a request path glob");
		if (p && !strcmp(p, "*"))
			gb_perr(c, v, NULL, "'*' must start with / (or be ** for any path)");
		else if (p && gb_validate_rule_path(c, v, p))
			s->path = p;
		gb_pctx_pop(c, m);
	}
	if ((v = gb_ymap_get(n, "tls"))) {
		/* "terminate"/"passthrough" are older spellings seen in the wild. */
		static const char *const tv[] = { "auto", "skip", "terminate", "passthrough" };
		m = FIELD(c, "tls");
		int e = get_enum(c, v, tv, N(tv));
		if (e >= 0)
			s->tls = (e == 1 || e == 3) ? GB_TLS_SKIP : GB_TLS_AUTO;
		if (e >= 2)
			gb_pwarn(c, v, e == 2 ? "write 'tls: auto' or omit it" : "write 'tls: skip'",
			         "'%s' is a legacy value", v->str);
		gb_pctx_pop(c, m);
	}
	s->enforcement = s->protocol != GB_PROTO_NONE ? GB_MODE_AUDIT : GB_MODE_ENFORCE;
	if ((v = gb_ymap_get(n, "enforcement"))) {
		static const char *const ev[] = { "enforce", "audit" };
		m = FIELD(c, "enforcement");
		int e = get_enum(c, v, ev, N(ev));
		if (e >= 0) {
			s->enforcement = e ? GB_MODE_AUDIT : GB_MODE_ENFORCE;
			s->enforcement_given = true;
		}
		gb_pctx_pop(c, m);
	}
	if ((v = gb_ymap_get(n, "access"))) {
		static const char *const av[] = { "read-only", "read-write", "full" };
		m = FIELD(c, "access");
		int e = get_enum(c, v, av, N(av));
		if (e >= 0)
			s->access = av[e];
		gb_pctx_pop(c, m);
	}
	if ((v = gb_ymap_get(n, "rules"))) {
		m = FIELD(c, "rules");
		parse_rules(c, v, false, &s->rules, &s->n_rules);
		gb_pctx_pop(c, m);
	}
	if ((v = gb_ymap_get(n, "deny_rules"))) {
		m = FIELD(c, "deny_rules");
		parse_rules(c, v, true, &s->deny_rules, &s->n_deny_rules);
		gb_pctx_pop(c, m);
	}
	if ((v = gb_ymap_get(n, "allowed_ips"))) {
		m = FIELD(c, "allowed_ips");
		if (want_seq(c, v, "a list of IP addresses or CIDRs") && v->n) {
			s->allowed_ips = gb_parena_alloc(c->a, v->n * sizeof *s->allowed_ips);
			for (size_t i = 0; s->allowed_ips && i < v->n; i++) {
				size_t m2 = gb_pctx_push(c, "[%zu]", i);
				const char *str = get_str(c, v->vals[i], "an IP address or CIDR");
				if (str && gb_validate_cidr(c, v->vals[i], str, &s->allowed_ips[s->n_allowed_ips]))
					s->n_allowed_ips++;
				gb_pctx_pop(c, m2);
			}
		} else if (v->kind == GB_Y_SEQ || gb_ynode_is_null(v)) {
			gb_perr(c, v, NULL, "expected a non-empty list of IP addresses or CIDRs");
		}
		gb_pctx_pop(c, m);
	}
	if ((v = gb_ymap_get(n, "allow_encoded_slash"))) {
		m = FIELD(c, "allow_encoded_slash");
		get_bool(c, v, &s->allow_encoded_slash);
		gb_pctx_pop(c, m);
	}
	parse_unenforced(c, n);
	gb_validate_endpoint(c, n, s);
}

static void parse_binaries(struct gb_pctx *c, const struct gb_ynode *n, struct gb_net_entry *e)
{
	if (!want_seq(c, n, "a list of {path: ...}") || !n->n) {
		if (n->kind == GB_Y_SEQ || gb_ynode_is_null(n))
			gb_pwarn(c, n, "add {path: /usr/bin/...} items",
			         "no binaries: this entry allows nothing (binary identity is required)");
		return;
	}
	e->binaries = gb_parena_alloc(c->a, n->n * sizeof *e->binaries);
	if (!e->binaries)
		return;
	for (size_t i = 0; i < n->n; i++) {
		size_t m = gb_pctx_push(c, "[%zu]", i);
		const struct gb_ynode *b = n->vals[i];
		if (want_map(c, b, "a mapping {path: /absolute/path/or/glob}")) {
			static const char *const keys[] = { "path", "harness" };
			check_keys(c, b, keys, N(keys));
			const struct gb_ynode *pv = gb_ymap_get(b, "path"), *hv = gb_ymap_get(b, "harness");
			if (hv) {
				size_t m2 = FIELD(c, "harness");
				bool ignored;
				if (get_bool(c, hv, &ignored))
					gb_pwarn(c, hv, "remove it", "'harness' is deprecated and ignored");
				gb_pctx_pop(c, m2);
			}
			if (!pv) {
				missing(c, b, "path", "the executable's absolute path or a glob");
			} else {
				size_t m2 = FIELD(c, "path");
				const char *p = get_str(c, pv, "an absolute path or glob");
				if (p && gb_validate_binary(c, pv, p)) {
					struct gb_binary_spec *bs = &e->binaries[e->n_binaries++];
					bs->path = p;
					bs->line = pv->line;
					bs->column = pv->column;
				}
				gb_pctx_pop(c, m2);
			}
		}
		gb_pctx_pop(c, m);
	}
}

static void parse_entry(struct gb_pctx *c, const struct gb_ynode *key, const struct gb_ynode *n,
                        struct gb_net_entry *e)
{
	static const char *const keys[] = { "name", "endpoints", "binaries" };
	e->key = gb_parena_strndup(c->a, key->str, key->len);
	e->name = e->key;
	e->line = key->line;
	e->column = key->column;
	if (!key->len || memchr(key->str, 0, key->len) || key->len > 255)
		gb_perr(c, key, NULL, "a policy name must be 1-255 characters without NUL bytes");
	if (!want_map(c, n, "a mapping (name, endpoints, binaries)"))
		return;
	check_keys(c, n, keys, N(keys));
	const struct gb_ynode *v;
	size_t m;
	if ((v = gb_ymap_get(n, "name"))) {
		m = FIELD(c, "name");
		const char *s = get_str(c, v, "a display name");
		if (s)
			e->name = s;
		gb_pctx_pop(c, m);
	}
	/* OpenShell accepts an entry without endpoints or binaries (it matches
	 * nothing); glassbox loads it too and says so. */
	if (!(v = gb_ymap_get(n, "endpoints"))) {
		m = FIELD(c, "endpoints");
		gb_pwarn(c, n, "add endpoints", "no endpoints: this entry allows nothing");
		gb_pctx_pop(c, m);
	} else {
		m = FIELD(c, "endpoints");
		if (!want_seq(c, v, "a list of endpoints") || !v->n) {
			if (v->kind == GB_Y_SEQ || gb_ynode_is_null(v))
				gb_pwarn(c, v, "add endpoints", "no endpoints: this entry allows nothing");
		} else {
			e->endpoints = gb_parena_alloc(c->a, v->n * sizeof *e->endpoints);
			for (size_t i = 0; e->endpoints && i < v->n; i++) {
				size_t m2 = gb_pctx_push(c, "[%zu]", i);
				if (want_map(c, v->vals[i], "an endpoint mapping (host, port, ...)"))
					parse_endpoint(c, v->vals[i], &e->endpoints[e->n_endpoints++]);
				gb_pctx_pop(c, m2);
			}
		}
		gb_pctx_pop(c, m);
	}
	if (!(v = gb_ymap_get(n, "binaries"))) {
		m = FIELD(c, "binaries");
		gb_pwarn(c, n, "add {path: /usr/bin/...} items",
		         "no binaries: this entry allows nothing (binary identity is required)");
		gb_pctx_pop(c, m);
	} else {
		m = FIELD(c, "binaries");
		parse_binaries(c, v, e);
		gb_pctx_pop(c, m);
	}
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct gb_net_entry *)a)->key, ((const struct gb_net_entry *)b)->key);
}

static void parse_network(struct gb_pctx *c, const struct gb_ynode *n, struct gb_policy *p)
{
	if (gb_ynode_is_null(n) ||
	    !want_map(c, n, "a mapping of policy name -> {endpoints, binaries}"))
		return;
	p->entries = gb_parena_alloc(c->a, (n->n + 1) * sizeof *p->entries);
	if (!p->entries)
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct gb_ynode *k = n->keys[i];
		size_t m = gb_pctx_push(c, ".%.*s", (int)(k->len > 200 ? 200 : k->len), k->str);
		parse_entry(c, k, n->vals[i], &p->entries[p->n_entries++]);
		gb_pctx_pop(c, m);
	}
	qsort(p->entries, p->n_entries, sizeof *p->entries, cmp_entry);
}

static void parse_top(struct gb_pctx *c, const struct gb_ynode *root, struct gb_policy *p)
{
	static const char *const keys[] = { "version", "filesystem_policy", "landlock", "process",
		                            "network_policies", "network_middlewares" };
	if (!root || gb_ynode_is_null(root)) {
		gb_perr(c, root, NULL, "empty policy (expected a mapping starting with 'version: 1')");
		return;
	}
	if (!want_map(c, root, "a mapping at the top level (version, filesystem_policy, ...)"))
		return;
	check_keys(c, root, keys, N(keys));
	const struct gb_ynode *v;
	size_t m;
	if (!(v = gb_ymap_get(root, "version"))) {
		missing(c, root, "version", "version: 1");
	} else {
		long long ver;
		m = FIELD(c, "version");
		if (get_int(c, v, 0, 1000000, "the integer 1", &ver)) {
			if (ver != 1)
				gb_perr(c, v, NULL, "unsupported version %lld (expected 1)", ver);
			else
				p->version = 1;
		}
		gb_pctx_pop(c, m);
	}
	if ((v = gb_ymap_get(root, "filesystem_policy"))) {
		m = FIELD(c, "filesystem_policy");
		parse_filesystem(c, v, p);
		gb_pctx_pop(c, m);
	}
	if ((v = gb_ymap_get(root, "landlock"))) {
		m = FIELD(c, "landlock");
		parse_landlock(c, v, p);
		gb_pctx_pop(c, m);
	}
	if ((v = gb_ymap_get(root, "process"))) {
		m = FIELD(c, "process");
		parse_process(c, v, p);
		gb_pctx_pop(c, m);
	}
	if ((v = gb_ymap_get(root, "network_policies"))) {
		m = FIELD(c, "network_policies");
		parse_network(c, v, p);
		gb_pctx_pop(c, m);
	}
	if ((v = gb_ymap_get(root, "network_middlewares"))) {
		m = FIELD(c, "network_middlewares");
		if (!gb_ynode_is_null(v) && want_map(c, v, "a mapping of middleware name -> settings") && v->n)
			gb_perr(c, v, NULL,
			        "network_middlewares is not enforced by glassbox yet; refusing the policy "
			        "rather than running without the middleware");
		gb_pctx_pop(c, m);
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
	struct gb_parena arena = { 0 };
	struct gb_policy *p = gb_parena_alloc(&arena, sizeof *p);
	if (!p) {
		gb_yaml_free(&doc);
		gb_diags_free(&local);
		return -ENOMEM;
	}
	struct gb_pctx c = { .file = name, .d = d, .a = &arena };
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
		gb_parena_free(&arena);
		gb_diags_free(&local);
		return rc;
	}
	/* The policy struct lives in its own arena; keep the arena's head. */
	struct gb_parena *own = malloc(sizeof *own);
	if (!own) {
		gb_parena_free(&arena);
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
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		gb_diag_add(diags, GB_DIAG_ERROR, path, 0, 0, NULL, NULL, "cannot open: %s", strerror(e));
		return -e;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int e = errno ? errno : EINVAL;
		close(fd);
		gb_diag_add(diags, GB_DIAG_ERROR, path, 0, 0, NULL, NULL, "not a regular file");
		return -(S_ISREG(st.st_mode) ? e : EINVAL);
	}
	if ((unsigned long long)st.st_size > GB_POLICY_MAX_BYTES) {
		close(fd);
		gb_diag_add(diags, GB_DIAG_ERROR, path, 0, 0, NULL, NULL,
		            "file too large: %lld bytes (a policy may be at most %u bytes)",
		            (long long)st.st_size, GB_POLICY_MAX_BYTES);
		return -EINVAL;
	}
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	/* Read to EOF (the file may grow between fstat and read); bounded. */
	for (;;) {
		if (len == cap) {
			if (cap > GB_POLICY_MAX_BYTES) {
				free(buf);
				close(fd);
				gb_diag_add(diags, GB_DIAG_ERROR, path, 0, 0, NULL, NULL,
				            "file too large (a policy may be at most %u bytes)",
				            GB_POLICY_MAX_BYTES);
				return -EINVAL;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			close(fd);
			gb_diag_add(diags, GB_DIAG_ERROR, path, 0, 0, NULL, NULL, "read: %s", strerror(e));
			return -e;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	int rc = gb_policy_load_buf(path, buf, len, out, diags);
	free(buf);
	return rc;
}

void gb_policy_free(struct gb_policy *p)
{
	if (!p)
		return;
	struct gb_parena *own = p->arena_;
	if (!own)
		return; /* not made by the loader */
	gb_parena_free(own); /* p itself lives in the arena */
	free(own);
}
