/* common/policy_decide.c — the one decision function (docs/policy-engine.md,
 * "Decision order").
 *
 * Order: (1) no entries at all -> no_policy; (2) collect the endpoints that
 * match host and port from the compiled indexes (exact table, wildcard
 * suffix table, hostless and odd-shape side lists); none -> no_endpoint;
 * (3) keep the (endpoint, entry) pairs whose entry lists the exe or an
 * ancestor; none -> binary_not_allowed; (4) with a method, the request
 * path is canonicalised per endpoint (its allow_encoded_slash) and the L7
 * rules of every matched pair are evaluated: the request is allowed when
 * some pair allows it (an L4 pair allows everything on its connection; an
 * L7 pair needs its path selector, an allow rule and no deny rule).  A
 * denial is softened to an audited allow only when every pair that judged
 * the request is in audit mode; a bad path is never softened.
 *
 * Among several allowing pairs the one of the smallest entry key (then the
 * first endpoint) is reported: candidate ids are in that order by
 * construction.  Nothing here allocates. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/policy_compiled_int.h"
#include "common/policy_match.h"

#define MAX_NOMATCH 8
#define NO_EP UINT32_MAX

struct canon {
	int state; /* 0 not computed, 1 ok, 2 failed */
	enum gb_path_err err;
	char buf[GB_STR_MAX];
};

struct dctx {
	const struct gb_policy_compiled *c;
	const struct gb_decide_in *in;
	const char *path;
	size_t path_len;
	const char *query;
	size_t lens[GB_MAX_ANCESTORS * 2];
	size_t exe_len;
	bool any_ep;
	uint32_t first_ep_nobin;          /* smallest endpoint whose entry lacks the binary */
	uint32_t nomatch[MAX_NOMATCH];     /* entries whose endpoint matched, binary not */
	size_t n_nomatch;
	bool nomatch_more;
	uint32_t best, best_l4, best_l7;  /* connection level */
	bool l7_enforce;
	/* request level */
	uint32_t allow_ep;
	uint32_t allow_l4;                /* an L4 pair's grant: only without any L7 pair */
	const struct gb_l7_rule *allow_rule;
	uint32_t considered_min, unselected_min, badpath_ep;
	size_t n_considered;
	bool deny_hit, considered_enforce, unselected_enforce;
	enum gb_path_err badpath_err;
	struct canon canon[2]; /* [0] strict, [1] allow_encoded_slash */
};

static inline uint32_t umin(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static bool port_in(const struct gbc_ep *ep, uint16_t port)
{
	const uint16_t *p = ep->ports;
	uint32_t lo = 0, hi = ep->n_ports;
	if (hi <= 8) {
		for (uint32_t i = 0; i < hi; i++)
			if (p[i] == port)
				return true;
		return false;
	}
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (p[mid] < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ep->n_ports && p[lo] == port;
}

static bool bin_one(const struct gbc_bin *b, const char *s, size_t n)
{
	if (!b->glob)
		return n == b->len && !memcmp(s, b->pat, n);
	if (n < b->lit || memcmp(s, b->pat, b->lit))
		return false;
	return gb_glob_match(b->pat + b->lit, b->len - b->lit, s + b->lit, n - b->lit, '/');
}

static bool entry_has_binary(struct dctx *x, const struct gbc_entry *e)
{
	const struct gb_decide_in *in = x->in;
	for (uint32_t b = 0; b < e->n_bins; b++) {
		const struct gbc_bin *bin = &e->bins[b];
		if (in->exe && bin_one(bin, in->exe, x->exe_len))
			return true;
		for (size_t a = 0; a < in->n_ancestors; a++) {
			const char *anc = in->ancestors[a];
			if (!anc)
				continue;
			size_t l = a < GB_MAX_ANCESTORS * 2 ? x->lens[a] : strlen(anc);
			if (bin_one(bin, anc, l))
				return true;
		}
	}
	return false;
}

static const char *canonical(struct dctx *x, bool lenient)
{
	struct canon *cn = &x->canon[lenient];
	if (!cn->state) {
		cn->err = gb_path_canonicalize(x->path, x->path_len, lenient, cn->buf, sizeof cn->buf);
		cn->state = cn->err == GB_PATH_OK ? 1 : 2;
	}
	return cn->state == 1 ? cn->buf : NULL;
}

static bool method_ok(const char *rule, const char *m)
{
	if (!rule || (rule[0] == '*' && !rule[1]))
		return true;
	if (!strcasecmp(rule, m))
		return true;
	return !strcasecmp(rule, "GET") && !strcasecmp(m, "HEAD");
}

static bool rule_ok(struct dctx *x, const struct gb_l7_rule *r, const char *cpath, bool deny)
{
	if (!method_ok(r->method, x->in->method))
		return false;
	const char *rp = r->path ? r->path : "**";
	if (!gb_glob_match(rp, strlen(rp), cpath, strlen(cpath), '/'))
		return false;
	return gb_query_match(x->query, r->query, r->n_query, deny);
}

static void eval_request(struct dctx *x, uint32_t id, const struct gbc_ep *ep)
{
	const char *cp = canonical(x, ep->spec->allow_encoded_slash);
	if (!cp) {
		if (x->badpath_ep == NO_EP || id < x->badpath_ep) {
			x->badpath_ep = id;
			x->badpath_err = x->canon[ep->spec->allow_encoded_slash].err;
		}
		return;
	}
	if (!ep->l7) { /* L4 passthrough: grants the request unless an L7 pair judges it */
		x->allow_l4 = umin(x->allow_l4, id);
		return;
	}
	const char *sel = ep->spec->path;
	if (sel && *sel && !gb_glob_match(sel, strlen(sel), cp, strlen(cp), '/')) {
		x->unselected_min = umin(x->unselected_min, id);
		x->unselected_enforce |= ep->mode == GB_MODE_ENFORCE;
		return;
	}
	x->n_considered++;
	x->considered_min = umin(x->considered_min, id);
	x->considered_enforce |= ep->mode == GB_MODE_ENFORCE;
	for (size_t i = 0; i < ep->spec->n_deny_rules; i++)
		if (rule_ok(x, &ep->spec->deny_rules[i], cp, true)) {
			x->deny_hit = true;
			return;
		}
	for (size_t i = 0; i < ep->n_rules; i++)
		if (rule_ok(x, &ep->rules[i], cp, false)) {
			if (id < x->allow_ep) {
				x->allow_ep = id;
				x->allow_rule = &ep->rules[i];
			}
			return;
		}
}

static void candidate(struct dctx *x, uint32_t id)
{
	const struct gb_policy_compiled *c = x->c;
	const struct gbc_ep *ep = &c->eps[id];
	if (!port_in(ep, x->in->port))
		return;
	x->any_ep = true;
	if (!entry_has_binary(x, &c->entries[ep->entry])) {
		x->first_ep_nobin = umin(x->first_ep_nobin, id);
		for (size_t i = 0; i < x->n_nomatch; i++)
			if (x->nomatch[i] == ep->entry)
				return;
		if (x->n_nomatch < MAX_NOMATCH)
			x->nomatch[x->n_nomatch++] = ep->entry;
		else
			x->nomatch_more = true;
		return;
	}
	x->best = umin(x->best, id);
	if (!ep->l7) {
		x->best_l4 = umin(x->best_l4, id);
	} else {
		x->best_l7 = umin(x->best_l7, id);
		x->l7_enforce |= ep->mode == GB_MODE_ENFORCE;
	}
	if (x->in->method)
		eval_request(x, id, ep);
}

static void bucket(struct dctx *x, const struct gbc_bucket *b, const uint32_t *idx)
{
	for (uint32_t i = 0; i < b->n; i++)
		candidate(x, idx[b->first + i]);
}

static void collect(struct dctx *x, const char *host, size_t hl, bool is_ip)
{
	const struct gb_policy_compiled *c = x->c;
	if (c->exact.n_keys) {
		const struct gbc_bucket *b = gbc_lookup(&c->exact, host, hl, gbc_hash(host, hl));
		if (b)
			bucket(x, b, c->exact.idx);
	}
	if (c->wild.n_keys && !is_ip) {
		for (size_t i = 0; i < hl; i++) {
			if (host[i] != '.')
				continue;
			const char *suf = host + i + 1;
			size_t sl = hl - i - 1;
			const struct gbc_bucket *b = gbc_lookup(&c->wild, suf, sl, gbc_hash(suf, sl));
			if (!b)
				continue;
			for (uint32_t k = 0; k < b->n; k++) {
				uint32_t id = c->wild.idx[b->first + k];
				const struct gbc_ep *ep = &c->eps[id];
				bool ok;
				if (ep->label_any)
					ok = i > 0 && host[0] != '.';
				else
					ok = !memchr(host, '.', i) &&
					     gb_glob_match(ep->label, ep->label_len, host, i, '.');
				if (ok)
					candidate(x, id);
			}
		}
	}
	for (size_t i = 0; i < c->n_generic; i++) {
		uint32_t id = c->generic[i];
		const char *h = c->eps[id].host;
		if (!is_ip && gb_glob_match(h, strlen(h), host, hl, '.'))
			candidate(x, id);
	}
	for (size_t i = 0; i < c->n_hostless; i++)
		candidate(x, c->hostless[i]);
}

/* Append to a fixed buffer, cutting with "..." when full. */
struct sbuf {
	char *p;
	size_t n, cap;
};

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	if (b->n + 1 >= b->cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	if ((size_t)r >= b->cap - b->n) {
		b->n = b->cap - 1;
		if (b->cap >= 4)
			memcpy(b->p + b->cap - 4, "...", 4);
	} else {
		b->n += (size_t)r;
	}
}

static void set_endpoint(struct gb_decision *out, const struct gbc_ep *ep, uint16_t port)
{
	const char *h = ep->spec->host;
	if (h && strchr(h, ':'))
		snprintf(out->endpoint, sizeof out->endpoint, "[%s]:%u", h, (unsigned)port);
	else
		snprintf(out->endpoint, sizeof out->endpoint, "%s:%u", h ? h : "*", (unsigned)port);
	out->host_kind = ep->kind;
	out->allowed_ips = ep->spec->n_allowed_ips ? ep->spec->allowed_ips : NULL;
	out->n_allowed_ips = ep->spec->n_allowed_ips;
	out->mode = ep->mode;
	out->l7 = ep->l7;
	out->tls_skip = ep->spec->tls == GB_TLS_SKIP;
	out->body_credential_rewrite = ep->spec->body_credential_rewrite;
	out->protocol = ep->spec->protocol;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void binary_reason(struct dctx *x, struct gb_decision *out)
{
	const struct gb_decide_in *in = x->in;
	struct sbuf b = { out->reason_text, 0, sizeof out->reason_text };
	qsort(x->nomatch, x->n_nomatch, sizeof x->nomatch[0], cmp_u32);
	for (size_t i = 0; i < x->n_nomatch; i++) {
		const struct gb_net_entry *e = x->c->entries[x->nomatch[i]].m;
		sb_add(&b, "%sbinary '%s' not allowed in policy '%s' (ancestors: [", i ? "; " : "",
		       in->exe ? in->exe : "", e->name);
		for (size_t a = 0; a < in->n_ancestors; a++)
			sb_add(&b, "%s%s", a ? ", " : "", in->ancestors[a] ? in->ancestors[a] : "");
		sb_add(&b, "], cmdline: [%s])", in->script && *in->script ? in->script : "");
	}
	if (x->nomatch_more)
		sb_add(&b, "; and more policies");
	sb_add(&b, "; note: binaries are matched by resolved path (/proc/PID/exe), not symlinks");
}

void gb_policy_decide(const struct gb_policy_compiled *c, const struct gb_decide_in *in,
                      struct gb_decision *out)
{
	out->verdict = GB_VERDICT_DENY;
	out->reason = GB_R_NO_ENDPOINT;
	out->reason_text[0] = '\0';
	out->entry = NULL;
	out->endpoint[0] = '\0';
	out->rule[0] = '\0';
	out->mode = GB_MODE_ENFORCE;
	out->l7 = false;
	out->audited = false;
	out->tls_skip = false;
	out->body_credential_rewrite = false;
	out->protocol = GB_PROTO_NONE;
	out->canonical_path[0] = '\0';
	out->host_kind = GB_HOST_NONE;
	out->allowed_ips = NULL;
	out->n_allowed_ips = 0;
	out->revision = c ? c->revision : 0;

	const char *host_in = in->host ? in->host : "";
	if (!c || !c->n_entries) {
		out->reason = GB_R_NO_POLICY;
		snprintf(out->reason_text, sizeof out->reason_text,
		         "network connections not allowed by policy");
		return;
	}

	struct dctx x;
	x.c = c;
	x.in = in;
	x.any_ep = false;
	x.n_nomatch = 0;
	x.nomatch_more = false;
	x.first_ep_nobin = x.best = x.best_l4 = x.best_l7 = x.allow_ep = x.allow_l4 = NO_EP;
	x.considered_min = x.unselected_min = x.badpath_ep = NO_EP;
	x.allow_rule = NULL;
	x.n_considered = 0;
	x.deny_hit = x.considered_enforce = x.unselected_enforce = x.l7_enforce = false;
	x.badpath_err = GB_PATH_OK;
	x.canon[0].state = x.canon[1].state = 0;
	x.exe_len = in->exe ? strlen(in->exe) : 0;
	for (size_t a = 0; a < in->n_ancestors && a < GB_MAX_ANCESTORS * 2; a++)
		x.lens[a] = in->ancestors[a] ? strlen(in->ancestors[a]) : 0;
	x.query = in->query;
	x.path = in->path ? in->path : "";
	x.path_len = strlen(x.path);
	const char *qm = memchr(x.path, '?', x.path_len);
	if (qm) { /* a target passed whole: split off its query */
		if (!x.query)
			x.query = qm + 1;
		x.path_len = (size_t)(qm - x.path);
	}

	char host[256];
	bool is_ip = false;
	long hl = gbc_norm_host(host_in, host, sizeof host, &is_ip);
	if (hl >= 0)
		collect(&x, host, (size_t)hl, is_ip);
	else /* longer than any DNS name: only hostless endpoints can match */
		for (size_t i = 0; i < c->n_hostless; i++)
			candidate(&x, c->hostless[i]);

	if (!x.any_ep) {
		out->reason = GB_R_NO_ENDPOINT;
		snprintf(out->reason_text, sizeof out->reason_text,
		         "endpoint %s:%u is not allowed by any policy", host_in, (unsigned)in->port);
		return;
	}
	if (x.best == NO_EP) {
		out->reason = GB_R_BINARY_NOT_ALLOWED;
		set_endpoint(out, &c->eps[x.first_ep_nobin], in->port);
		binary_reason(&x, out);
		return;
	}

	if (!in->method) { /* connection level */
		/* An L4 grant for the same host, port and binary never turns an
		 * inspected endpoint into a blind tunnel: any L7 pair means the
		 * connection is inspected and its requests judged. */
		uint32_t rep = x.best_l7 != NO_EP ? x.best_l7 : x.best_l4;
		const struct gbc_ep *ep = &c->eps[rep];
		out->verdict = GB_VERDICT_ALLOW;
		out->reason = GB_R_NONE;
		out->entry = c->entries[ep->entry].m->key;
		set_endpoint(out, ep, in->port);
		if (x.best_l7 != NO_EP) /* only inspection can apply the rules */
			out->mode = x.l7_enforce ? GB_MODE_ENFORCE : GB_MODE_AUDIT;
		return;
	}

	const char *m = in->method;
	if (x.allow_ep == NO_EP && x.allow_l4 != NO_EP && x.best_l7 == NO_EP)
		x.allow_ep = x.allow_l4; /* L4 only: the whole connection is granted */
	if (x.allow_ep != NO_EP) {
		const struct gbc_ep *ep = &c->eps[x.allow_ep];
		out->verdict = GB_VERDICT_ALLOW;
		out->reason = GB_R_NONE;
		out->entry = c->entries[ep->entry].m->key;
		set_endpoint(out, ep, in->port);
		if (x.allow_rule)
			snprintf(out->rule, sizeof out->rule, "%s %s", x.allow_rule->method,
			         x.allow_rule->path);
		snprintf(out->canonical_path, sizeof out->canonical_path, "%s",
		         x.canon[ep->spec->allow_encoded_slash].buf);
		return;
	}
	if (!x.n_considered && x.badpath_ep != NO_EP) {
		const struct gbc_ep *ep = &c->eps[x.badpath_ep];
		out->reason = GB_R_L7_BAD_PATH;
		out->entry = c->entries[ep->entry].m->key;
		set_endpoint(out, ep, in->port);
		snprintf(out->reason_text, sizeof out->reason_text, "%s request path rejected: %s", m,
		         gb_path_err_text(x.badpath_err));
		return; /* refused even in audit mode */
	}
	uint32_t rep = x.n_considered ? x.considered_min : x.unselected_min;
	bool enforce = x.n_considered ? x.considered_enforce : x.unselected_enforce;
	const struct gbc_ep *ep = &c->eps[rep];
	out->entry = c->entries[ep->entry].m->key;
	set_endpoint(out, ep, in->port);
	out->mode = enforce ? GB_MODE_ENFORCE : GB_MODE_AUDIT;
	const char *cp = x.canon[ep->spec->allow_encoded_slash].buf;
	snprintf(out->canonical_path, sizeof out->canonical_path, "%s", cp);
	out->reason = x.deny_hit ? GB_R_L7_DENY_RULE : GB_R_L7_NOT_PERMITTED;
	snprintf(out->reason_text, sizeof out->reason_text, "%s %s %s", m, cp,
	         x.deny_hit ? "blocked by deny rule" : "not permitted by policy");
	if (!enforce) {
		out->verdict = GB_VERDICT_ALLOW;
		out->audited = true;
	}
}
