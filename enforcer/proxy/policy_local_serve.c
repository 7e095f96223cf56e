/* enforcer/proxy/policy_local_serve.c — a connection to policy.local,
 * request by request (see policy_local_http.h).
 *
 * The worker hands the connection over right after its head was read, as
 * for inference.local: the proxy itself is the destination, no policy entry
 * is consulted.  Each request is framed by http1.h (strict: a request that
 * could be read two ways is refused), its body read with a 64 KiB bound.
 *
 * Smuggling: a POST ends the connection (Connection: close) and whatever
 * was sent behind it is never read as a request, so one write can carry
 * at most one proposal; GETs may keep the connection, and a request on it
 * for any other host is refused and the connection closed. */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/err.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/policy.h"
#include "common/units.h"
#include "enforcer/proxy/local_http.h"
#include "enforcer/proxy/policy_local_int.h"

#define WAIT_DEFAULT_S 60
#define DENIALS_DEFAULT 10
#define POLL_MS 200          /* the running policy, looked at while waiting */
#define DAEMON_EVERY_MS 1000 /* the daemon, asked while waiting */

struct pl_req {
	struct l7_req q;
	char err[600];
};

/* ---- records ---- */

static void record(struct l7 *l, struct pl_req *r, int reason)
{
	struct gb_record rec;
	char rq[2048], rule[300], why[700];
	lh_rec_fill(l, &r->q, GB_POLICY_LOCAL_HOST, &rec, rq, sizeof rq);
	struct gb_http_decision *h = &rec.u.http;
	bool ok = r->q.status < 400;
	snprintf(rule, sizeof rule, "policy.local %s %.200s", r->q.method, r->q.path);
	if (ok)
		snprintf(why, sizeof why, "policy.local: answered by the proxy");
	else
		snprintf(why, sizeof why, "policy.local: %s", r->err);
	h->verdict = ok ? GB_VERDICT_ALLOW : GB_VERDICT_DENY;
	h->reason = (uint16_t)(ok ? GB_R_NONE : reason);
	h->rule = rule;
	h->reason_text = why;
	h->policy_entry = GB_POLICY_LOCAL_HOST;
	proxy_emit(l->c, &rec);
}

/* ---- answers ---- */

/* Send status with body (ctype), record the request.  Returns what the
 * request loop does next: 0 go on, 1 close. */
static int send_answer(struct l7 *l, struct pl_req *r, int status, const char *ctype,
                       const char *body, size_t n, bool keep, const char *extra, int reason)
{
	struct gb_buf b = GB_BUF_INIT;
	char hdr[256];
	snprintf(hdr, sizeof hdr, "Cache-Control: no-store\r\n%s", extra ? extra : "");
	lh_head(&b, status, ctype, n, hdr, keep);
	gb_buf_append(&b, body, n);
	int w = b.err ? -ENOMEM : l7_write(l, L7_CLIENT, b.data, b.len);
	r->q.bytes_resp = b.len;
	r->q.status = status;
	gb_buf_free(&b);
	record(l, r, reason);
	return w < 0 || !keep ? 1 : 0;
}

/* o is consumed. */
static int send_json(struct l7 *l, struct pl_req *r, int status, json_t *o, bool keep,
                     const char *extra, int reason)
{
	char *s = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
	json_decref(o);
	if (!s)
		return send_answer(l, r, 500, "application/json", "{}\n", 3, false, NULL, GB_R_LIMIT);
	size_t n = strlen(s);
	char *t = realloc(s, n + 2);
	if (t) {
		s = t;
		s[n++] = '\n';
		s[n] = '\0';
	}
	int rc = send_answer(l, r, status, "application/json", s, n, keep, extra, reason);
	free(s);
	return rc;
}

static int send_err(struct l7 *l, struct pl_req *r, int status, const char *error,
                    const char *detail, bool keep, const char *extra, int reason)
{
	snprintf(r->err, sizeof r->err, "%s: %s", error, detail);
	return send_json(l, r, status,
	                 json_pack("{s:s, s:s, s:s}", "error", error, "detail", detail, "layer",
	                           "policy.local"),
	                 keep, extra, reason);
}

/* ---- the request ---- */

/* 1 = a head, 0 = the client is done, -1 = refused. */
static int read_head(struct l7 *l)
{
	int rc = l7_next_head(l);
	if (rc < 0) {
		struct pl_req r;
		memset(&r, 0, sizeof r);
		r.q.t0_ns = gb_now_ns(CLOCK_MONOTONIC);
		snprintf(r.q.method, sizeof r.q.method, "-");
		int st = gb_http1_status(l->h1);
		send_err(l, &r, st, "bad_request", gb_http1_error(l->h1), false, NULL,
		         st == 431 ? GB_R_LIMIT : GB_R_BAD_REQUEST);
	}
	return rc;
}

/* The value of name in the query (undecoded), or NULL. */
static const char *qparam(const struct pl_req *r, const char *name, char *out, size_t n)
{
	if (!r->q.has_query)
		return NULL;
	size_t k = strlen(name);
	for (const char *s = r->q.query; *s;) {
		const char *amp = strchr(s, '&'), *e = amp ? amp : s + strlen(s);
		if ((size_t)(e - s) > k && !strncmp(s, name, k) && s[k] == '=') {
			snprintf(out, n, "%.*s", (int)(e - s - (ptrdiff_t)k - 1), s + k + 1);
			return out;
		}
		if ((size_t)(e - s) == k && !strncmp(s, name, k)) {
			out[0] = '\0';
			return out;
		}
		s = amp ? amp + 1 : e;
	}
	return NULL;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* ---- routes ---- */

static int get_policy(struct l7 *l, struct pl_req *r, const struct gb_http1_head *h, bool keep)
{
	char fmt[16] = "";
	qparam(r, "format", fmt, sizeof fmt);
	const struct gb_http1_field *acc = gb_http1_field(h, "accept");
	bool json = !strcmp(fmt, "json") ||
	            (!fmt[0] && acc && memmem(acc->value, acc->value_len, "application/json", 16));
	if (fmt[0] && strcmp(fmt, "json") && strcmp(fmt, "yaml"))
		return send_err(l, r, 400, "bad_request", "format is yaml or json", keep, NULL,
		                GB_R_BAD_REQUEST);
	const struct gb_policy_compiled *pc = gb_policy_store_get(l->p->o.store);
	size_t n = 0;
	const struct gb_net_entry *e = gb_policy_compiled_entries(pc, &n);
	struct gb_buf y = GB_BUF_INIT;
	int rc = gb_policy_yaml(NULL, e, n, &y);
	uint64_t rev = gb_policy_compiled_revision(pc);
	char sha[65];
	snprintf(sha, sizeof sha, "%s", gb_policy_compiled_hash(pc));
	json_t *names = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(names, json_string(e[i].key));
	gb_policy_store_put(l->p->o.store, pc);
	int ret;
	char extra[160];
	snprintf(extra, sizeof extra, "X-Glassbox-Policy-Revision: %" PRIu64 "\r\n", rev);
	if (rc < 0 || y.err) {
		json_decref(names);
		ret = send_err(l, r, 503, "internal", "the policy could not be written out", keep, NULL,
		               GB_R_LIMIT);
	} else if (json) {
		ret = send_json(l, r, 200,
		                json_pack("{s:I, s:s, s:s, s:o, s:s}", "revision", (json_int_t)rev,
		                          "sha256", sha, "yaml", gb_buf_cstr(&y), "entries", names,
		                          "note", "the network section; filesystem, landlock and "
		                          "process are fixed at sandbox start"),
		                keep, extra, GB_R_NONE);
	} else {
		json_decref(names);
		ret = send_answer(l, r, 200, "application/yaml", gb_buf_cstr(&y), y.len, keep, extra,
		                  GB_R_NONE);
	}
	gb_buf_free(&y);
	return ret;
}

static int get_denials(struct l7 *l, struct pl_req *r, bool keep)
{
	char v[32];
	unsigned last = DENIALS_DEFAULT;
	if (qparam(r, "last", v, sizeof v)) {
		if (!all_digits(v) || strlen(v) > 4 || !atoi(v))
			return send_err(l, r, 400, "bad_request", "last is a count from 1 to 100", keep,
			                NULL, GB_R_BAD_REQUEST);
		last = (unsigned)atoi(v);
		if (last > GB_PL_DENIALS)
			last = GB_PL_DENIALS;
	}
	return send_json(l, r, 200,
	                 json_pack("{s:o, s:i, s:s}", "denials", pl_denials_json(l->p->pl, last),
	                           "limit", (int)last, "note",
	                           "query values are redacted; newest first"),
	                 keep, NULL, GB_R_NONE);
}

/* Is the proposal's entry in the running policy, exactly as proposed? */
static bool in_force(struct l7 *l, const struct pl_prop *p)
{
	const struct gb_policy_compiled *pc = gb_policy_store_get(l->p->o.store);
	size_t n = 0;
	const struct gb_net_entry *e = gb_policy_compiled_entries(pc, &n);
	bool yes = false;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(e[i].key, p->key)) {
			char sha[65];
			yes = gb_policy_hash_entries(&e[i], 1, sha) == 0 && !strcmp(sha, p->sha);
			break;
		}
	gb_policy_store_put(l->p->o.store, pc);
	return yes;
}

struct verdict {
	char status[16];
	char reason[512];
	long long daemon_id;
	int daemon; /* the decision hook's return */
	bool in_force, decided;
};

static void judge(struct l7 *l, const struct pl_prop *p, struct verdict *v, bool ask_daemon)
{
	const struct gb_pl_hooks *hk = l->p->o.policy_local;
	if (ask_daemon) {
		v->daemon = hk->decision ? hk->decision(hk->ctx, p->key, p->yaml, v->status,
		                                        sizeof v->status, v->reason, sizeof v->reason,
		                                        &v->daemon_id)
		                         : -ENOSYS;
		if (v->daemon != 1) {
			snprintf(v->status, sizeof v->status, "pending");
			v->reason[0] = '\0';
		}
	}
	v->in_force = in_force(l, p);
	bool gone = !strcmp(v->status, "rejected") || !strcmp(v->status, "superseded");
	if (v->in_force && !gone)
		snprintf(v->status, sizeof v->status, "approved");
	v->decided = gone || (v->in_force && !strcmp(v->status, "approved"));
}

static json_t *status_json(const struct pl_prop *p, const struct verdict *v)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:I}", "id", p->id, "status", v->status,
	                      "rule_name", p->key, "sha256", p->sha, "policy_reloaded", v->in_force,
	                      "submitted_ns", (json_int_t)p->created_ns);
	if (!o)
		return NULL;
	if (v->reason[0])
		json_object_set_new(o, "reason", json_string(v->reason));
	if (v->daemon_id > 0)
		json_object_set_new(o, "review_id", json_integer(v->daemon_id));
	json_object_set_new(o, "review",
	                    json_string(v->daemon == 1   ? "seen by the advisor"
	                                : v->daemon == 0 ? "not seen by the advisor yet"
	                                                 : "the advisor is not reachable"));
	return o;
}

static int post_proposal(struct l7 *l, struct pl_req *r, const struct gb_http1_head *h,
                         struct lh_body *acc)
{
	const struct gb_pl_hooks *hk = l->p->o.policy_local;
	const struct gb_http1_field *ct = gb_http1_field(h, "content-type");
	char ctype[128] = "";
	if (ct)
		snprintf(ctype, sizeof ctype, "%.*s", (int)ct->value_len, ct->value);
	struct gb_buf text = GB_BUF_INIT;
	char err[600] = "";
	int rc = gb_pl_body_policy(acc->b.data ? acc->b.data : "", acc->b.len, ctype, &text, err,
	                           sizeof err);
	if (rc < 0) {
		gb_buf_free(&text);
		return send_err(l, r, 400, "invalid_proposal", err, false, NULL, GB_R_BAD_REQUEST);
	}
	char key[300] = "", sha[65] = "";
	char *yaml = NULL;
	rc = hk->propose(hk->ctx, gb_buf_cstr(&text), text.len, key, sizeof key, &yaml, sha, err,
	                 sizeof err);
	gb_buf_free(&text);
	if (rc == -EAGAIN)
		return send_err(l, r, 429, "too_many_proposals", err, false, "Retry-After: 1\r\n",
		                GB_R_LIMIT);
	if (rc == -EEXIST)
		return send_err(l, r, 409, "name_taken", err, false, NULL, GB_R_BAD_REQUEST);
	if (rc < 0)
		return send_err(l, r, 400, "invalid_proposal", err, false, NULL, GB_R_BAD_REQUEST);
	struct pl_prop p = { 0 };
	snprintf(p.id, sizeof p.id, "%.16s", sha);
	snprintf(p.key, sizeof p.key, "%s", key);
	snprintf(p.sha, sizeof p.sha, "%s", sha);
	p.yaml = yaml;
	p.created_ns = gb_now_ns(CLOCK_REALTIME);
	pl_prop_add(l->p->pl, p.id, key, sha, yaml);
	struct verdict v = { .daemon = 0 };
	snprintf(v.status, sizeof v.status, "pending");
	judge(l, &p, &v, false);
	json_t *o = status_json(&p, &v);
	if (o) {
		char u[96];
		json_object_set_new(o, "yaml", json_string(yaml));
		snprintf(u, sizeof u, "/v1/proposals/%s", p.id);
		json_object_set_new(o, "status_url", json_string(u));
		snprintf(u, sizeof u, "/v1/proposals/%s/wait?timeout=60", p.id);
		json_object_set_new(o, "wait_url", json_string(u));
		json_object_set_new(o, "note", json_string(
		        "recorded for an operator's review; nothing changes until it is approved"));
	}
	free(yaml);
	char extra[96];
	snprintf(extra, sizeof extra, "Location: /v1/proposals/%s\r\n", p.id);
	return send_json(l, r, 202, o, false, extra, GB_R_NONE);
}

/* Has the client gone (EOF) or is the proxy stopping? */
static bool client_gone(struct l7 *l)
{
	if (atomic_load(&l->p->l7_stopping))
		return true;
	char b;
	ssize_t n = recv(l->c->cfd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static int get_proposal(struct l7 *l, struct pl_req *r, const char *id, bool wait, bool keep)
{
	uint64_t wait_ms = WAIT_DEFAULT_S * 1000u;
	char v[32];
	if (wait && qparam(r, "timeout", v, sizeof v)) {
		if (!all_digits(v) || strlen(v) > 3 || atoi(v) < 1 || atoi(v) > GB_PL_WAIT_MAX_S)
			return send_err(l, r, 400, "bad_request", "timeout is seconds, 1 to 300", keep,
			                NULL, GB_R_BAD_REQUEST);
		wait_ms = (uint64_t)atoi(v) * 1000u;
	} else if (wait && qparam(r, "wait", v, sizeof v)) {
		if (gb_parse_duration_ms(v, &wait_ms) < 0 || wait_ms < 1000 ||
		    wait_ms > GB_PL_WAIT_MAX_S * 1000u)
			return send_err(l, r, 400, "bad_request", "wait is a duration from 1s to 300s "
			                "(30s, 2m)", keep, NULL, GB_R_BAD_REQUEST);
	}
	struct pl_prop p;
	if (strlen(id) != 16 || pl_prop_get(l->p->pl, id, &p) < 0) {
		char m[200];
		snprintf(m, sizeof m, "no proposal %.40s was made through this sandbox's policy.local",
		         id);
		return send_err(l, r, 404, "not_found", m, keep, NULL, GB_R_BAD_REQUEST);
	}
	struct verdict vd = { .daemon = 0 };
	judge(l, &p, &vd, true);
	bool timed_out = false;
	if (wait) {
		uint64_t t0 = gb_now_ms(CLOCK_MONOTONIC), asked = t0;
		while (!vd.decided) {
			uint64_t now = gb_now_ms(CLOCK_MONOTONIC);
			if (now - t0 >= wait_ms) {
				timed_out = true;
				break;
			}
			if (client_gone(l)) {
				pl_prop_clear(&p);
				r->q.status = 499;
				snprintf(r->err, sizeof r->err, "the client left while waiting");
				record(l, r, GB_R_NONE);
				return 1;
			}
			struct timespec ts = { 0, POLL_MS * 1000000L };
			nanosleep(&ts, NULL);
			bool ask = gb_now_ms(CLOCK_MONOTONIC) - asked >= DAEMON_EVERY_MS;
			if (ask)
				asked = gb_now_ms(CLOCK_MONOTONIC);
			judge(l, &p, &vd, ask);
		}
	}
	json_t *o = status_json(&p, &vd);
	if (o && wait)
		json_object_set_new(o, "timed_out", json_boolean(timed_out));
	pl_prop_clear(&p);
	return send_json(l, r, 200, o, keep, NULL, GB_R_NONE);
}

static int index_page(struct l7 *l, struct pl_req *r, bool keep)
{
	return send_json(l, r, 200,
	                 json_pack("{s:s, s:[s,s,s,s,s]}", "service",
	                           "glassbox policy.local: propose network rules for an operator's "
	                           "review",
	                           "routes", "GET /v1/policy/current[?format=json]",
	                           "GET /v1/denials[?last=N]",
	                           "POST /v1/proposals {\"intent_summary\",\"operations\":[{\"addRule\":"
	                           "{\"ruleName\",\"rule\":{\"endpoints\",\"binaries\"}}}]}",
	                           "GET /v1/proposals/ID",
	                           "GET /v1/proposals/ID/wait[?timeout=60]"),
	                 keep, NULL, GB_R_NONE);
}

static int method_not_allowed(struct l7 *l, struct pl_req *r, const char *allow, bool keep)
{
	char extra[64], m[128];
	snprintf(extra, sizeof extra, "Allow: %s\r\n", allow);
	snprintf(m, sizeof m, "%s is not served here (allowed: %s)", r->q.method, allow);
	return send_err(l, r, 405, "method_not_allowed", m, keep, extra, GB_R_BAD_REQUEST);
}

/* One request.  0 = the connection goes on, 1 = it closes. */
static int one(struct l7 *l, struct lh_body *acc)
{
	const struct gb_http1_head *h = gb_http1_head(l->h1);
	struct pl_req r;
	memset(&r, 0, sizeof r);
	r.q.t0_ns = gb_now_ns(CLOCK_MONOTONIC);
	r.q.bytes_req = h->head_len;
	snprintf(r.q.method, sizeof r.q.method, "%s", h->method);
	char host[256];
	if (lh_target(h, &r.q, host, sizeof host) < 0)
		return send_err(l, &r, 400, "bad_request", "the request target must be a path (/v1/...) "
		                "or an http://policy.local URL (at most 4 KiB)", false, NULL,
		                GB_R_BAD_REQUEST);
	char hh[256];
	const char *other = lh_other_host(h, host, gb_policy_local_host, hh, sizeof hh);
	if (other) {
		char m[400];
		snprintf(m, sizeof m, "this connection carried policy.local requests and cannot carry "
		         "a request for %.200s", other);
		return send_err(l, &r, 403, "connection_not_allowed", m, false, NULL, GB_R_NO_ENDPOINT);
	}
	if (!h->n_host && h->minor >= 1 && !host[0])
		return send_err(l, &r, 400, "bad_request", "HTTP/1.1 request without Host", false, NULL,
		                GB_R_BAD_REQUEST);
	if (h->upgrade)
		return send_err(l, &r, 400, "bad_request", "upgrades are not served by policy.local",
		                false, NULL, GB_R_L7_UNSUPPORTED);
	bool post = !strcmp(h->method, "POST");
	bool keep = h->keep_alive && !post;
	gb_buf_reset(&acc->b);
	acc->over = false;
	if (h->body == GB_HTTP1_BODY_LENGTH && h->content_length > GB_PL_BODY_MAX) {
		char m[128];
		snprintf(m, sizeof m, "a proposal is at most %d bytes", GB_PL_BODY_MAX);
		return send_err(l, &r, 413, "payload_too_large", m, false, NULL, GB_R_LIMIT);
	}
	if (lh_continue(l, h) < 0 || lh_read_body(l, h) < 0)
		return 1;
	r.q.bytes_req += acc->b.len;
	if (acc->over) {
		char m[128];
		snprintf(m, sizeof m, "a proposal is at most %d bytes", GB_PL_BODY_MAX);
		return send_err(l, &r, 413, "payload_too_large", m, false, NULL, GB_R_LIMIT);
	}
	if (!post && acc->b.len)
		keep = false; /* a GET with a body is answered, and the connection ends */
	const char *path = r.q.path;
	bool get = !strcmp(h->method, "GET"); /* no HEAD: every answer has a body */
	if (!strcmp(path, "/") || !strcmp(path, "/v1") || !strcmp(path, "/v1/"))
		return get ? index_page(l, &r, keep) : method_not_allowed(l, &r, "GET", keep);
	if (!strcmp(path, "/v1/policy/current"))
		return get ? get_policy(l, &r, h, keep) : method_not_allowed(l, &r, "GET", keep);
	if (!strcmp(path, "/v1/denials"))
		return get ? get_denials(l, &r, keep) : method_not_allowed(l, &r, "GET", keep);
	if (!strcmp(path, "/v1/proposals"))
		return post ? post_proposal(l, &r, h, acc) : method_not_allowed(l, &r, "POST", keep);
	static const char pfx[] = "/v1/proposals/";
	if (!strncmp(path, pfx, sizeof pfx - 1)) {
		char id[64];
		const char *rest = path + sizeof pfx - 1, *sl = strchr(rest, '/');
		size_t idn = sl ? (size_t)(sl - rest) : strlen(rest);
		bool wait = sl && !strcmp(sl, "/wait");
		if (idn && idn < sizeof id && (!sl || wait)) {
			memcpy(id, rest, idn);
			id[idn] = '\0';
			return get ? get_proposal(l, &r, id, wait, keep)
			           : method_not_allowed(l, &r, "GET", keep);
		}
	}
	char m[300];
	snprintf(m, sizeof m, "no route %.200s (GET / lists them)", path);
	return send_err(l, &r, 404, "not_found", m, keep, NULL, GB_R_BAD_REQUEST);
}

void policy_local_conn(struct l7 *l)
{
	static const char body[] = "{\"error\":\"bad_port\",\"detail\":\"policy.local is "
	                           "served on ports 443 and 80 only\"}\n";
	char no[256];
	int n = snprintf(no, sizeof no, "HTTP/1.1 403 Forbidden\r\nContent-Type: "
	                 "application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
	                 sizeof body - 1, body);
	struct lh_body acc = { GB_BUF_INIT, GB_PL_BODY_MAX, false };
	if (lh_begin(l, GB_POLICY_LOCAL_HOST, &acc, no, (size_t)n) == 0)
		while (read_head(l) > 0 && one(l, &acc) == 0)
			;
	gb_buf_free(&acc.b);
}
