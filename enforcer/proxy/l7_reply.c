/* enforcer/proxy/l7_reply.c — what an inspected request's refusal looks like
 * and what its record says.
 *
 * The 403 carries OpenShell's body fields (error, policy, rule, detail,
 * layer, protocol, method, path, host, port, binary, rule_missing,
 * next_steps) and its X-OpenShell-Policy header, so an agent written for
 * OpenShell reads it unchanged; X-Glassbox-Policy and X-Glassbox-Reason say
 * the same for glassbox-aware clients.  The path in the body and in records
 * never carries the query: query values are where tokens travel. */
#include "enforcer/proxy/l7.h"
#include "enforcer/proxy/policy_local_http.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/jsonw.h"
#include "common/record.h"

static const char *proto_name(enum gb_l7_protocol p)
{
	switch (p) {
	case GB_PROTO_WEBSOCKET: return "websocket";
	case GB_PROTO_GRAPHQL: return "graphql";
	case GB_PROTO_MCP: return "mcp";
	case GB_PROTO_JSON_RPC: return "json-rpc";
	case GB_PROTO_SQL: return "sql";
	default: return "rest";
	}
}

static const char *status_text(int s)
{
	switch (s) {
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 431: return "Request Header Fields Too Large";
	case 502: return "Bad Gateway";
	default: return "Error";
	}
}

static void finish(struct gb_buf *out, int status, const char *entry, const char *reason,
                   bool keep_alive, struct gb_buf *body)
{
	gb_buf_putc(body, '\n');
	gb_buf_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n",
	              status, status_text(status), body->len);
	if (entry && *entry)
		gb_buf_printf(out, "X-OpenShell-Policy: %s\r\nX-Glassbox-Policy: %s\r\n", entry, entry);
	gb_buf_printf(out, "X-Glassbox-Reason: %s\r\nConnection: %s\r\n\r\n", reason,
	              keep_alive ? "keep-alive" : "close");
	gb_buf_append(out, body->data, body->len);
	gb_buf_free(body);
}

void l7_refusal(struct l7 *l, const struct l7_req *q, const struct gb_decision *d, const char *entry,
                int status, bool keep_alive, struct gb_buf *out)
{
	struct proxy_conn *c = l->c;
	const char *bin = c->ident.id.exe ? c->ident.id.exe : "";
	const char *path = d->canonical_path[0] ? d->canonical_path : q->path;
	const char *proto = proto_name(d->protocol);
	struct gb_buf body = GB_BUF_INIT;
	struct gb_jsonw w;
	gb_jw_init(&w, &body);
	gb_jw_obj_begin(&w);
	gb_jw_kstr(&w, "error", status == 403 ? "policy_denied" : "bad_request");
	gb_jw_kstr(&w, "policy", entry && *entry ? entry : NULL);
	char rule[GB_STR_MAX + 32];
	snprintf(rule, sizeof rule, "%s %s", q->method, path);
	gb_jw_kstr(&w, "rule", rule);
	gb_jw_kstr(&w, "detail", d->reason_text);
	gb_jw_kstr(&w, "reason", gb_reason_name(d->reason));
	gb_jw_kstr(&w, "layer", "l7");
	gb_jw_kstr(&w, "protocol", proto);
	gb_jw_kstr(&w, "method", q->method);
	gb_jw_kstr(&w, "path", path);
	gb_jw_kstr(&w, "host", c->req.host);
	gb_jw_kuint(&w, "port", c->req.port);
	gb_jw_kstr(&w, "binary", bin);
	gb_jw_key(&w, "rule_missing");
	gb_jw_obj_begin(&w);
	gb_jw_kstr(&w, "type", "rest_allow");
	gb_jw_kstr(&w, "layer", "l7");
	gb_jw_kstr(&w, "method", q->method);
	gb_jw_kstr(&w, "path", path);
	gb_jw_kstr(&w, "host", c->req.host);
	gb_jw_kuint(&w, "port", c->req.port);
	gb_jw_kstr(&w, "binary", bin);
	gb_jw_obj_end(&w);
	/* OpenShell lists advisor actions here when its advisor is on; glassbox
	 * names what an operator can run to see the decision. */
	gb_jw_key(&w, "next_steps");
	gb_jw_arr_begin(&w);
	char step[GB_STR_MAX + 400];
	snprintf(step, sizeof step, "glassbox policy explain POLICY --binary %s --host %s --port %u --method %s --path %s",
	         bin, c->req.host, c->req.port, q->method, path);
	gb_jw_str(&w, step);
	if (l->p->o.policy_local_path) { /* --policy-local: the agent may propose the rule */
		snprintf(step, sizeof step, "propose the rule for review: write a network_policies entry "
		         "allowing %s %s on %s:%u for %s to %s (policy.local)", q->method, path,
		         c->req.host, c->req.port, bin, l->p->o.policy_local_path);
		gb_jw_str(&w, step);
	}
	if (l->p->o.policy_local) { /* http://policy.local (policy_local_http.h) */
		gb_jw_str(&w, PL_STEP_POLICY);
		gb_jw_str(&w, PL_STEP_DENIALS);
		gb_jw_str(&w, PL_STEP_PROPOSE);
	}
	gb_jw_arr_end(&w);
	if (l->p->o.policy_local_path)
		gb_jw_kstr(&w, "agent_guidance", "an operator reviews what you propose there; retry the "
		           "request once it is approved");
	gb_jw_obj_end(&w);
	finish(out, status, entry, gb_reason_name(d->reason), keep_alive, &body);
}

void l7_error_reply(struct gb_buf *out, int status, const char *error, const char *detail,
                    bool keep_alive)
{
	struct gb_buf body = GB_BUF_INIT;
	struct gb_jsonw w;
	gb_jw_init(&w, &body);
	gb_jw_obj_begin(&w);
	gb_jw_kstr(&w, "error", error);
	gb_jw_kstr(&w, "detail", detail);
	gb_jw_kstr(&w, "layer", "l7");
	gb_jw_obj_end(&w);
	finish(out, status, NULL, error, keep_alive, &body);
}

/* A value is kept only when it cannot be a credential: its key does not
 * name one and it is short or plainly not random (digits, words). */
static bool secret_key(const char *k, size_t n)
{
	static const char *const words[] = { "token", "key", "secret", "pass", "pwd", "auth", "sig",
		                             "credential", "session", "code", "jwt", "bearer" };
	char low[64];
	if (n >= sizeof low)
		return true;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)k[i]);
	low[n] = '\0';
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strstr(low, words[i]))
			return true;
	return false;
}

static bool secret_value(const char *v, size_t n)
{
	if (n < 16)
		return false;
	size_t digits = 0, alpha = 0;
	for (size_t i = 0; i < n; i++) {
		if (isdigit((unsigned char)v[i]))
			digits++;
		else if (isalpha((unsigned char)v[i]))
			alpha++;
	}
	return digits && alpha; /* long and mixed: looks like a token */
}

int l7_req_path_query(struct l7_req *q, const char *t, const char *end)
{
	const char *qm = memchr(t, '?', (size_t)(end - t));
	size_t pl = (size_t)((qm ? qm : end) - t), ql = qm ? (size_t)(end - qm - 1) : 0;
	if (pl >= sizeof q->path || ql >= sizeof q->query)
		return -1;
	if (pl == 0)
		strcpy(q->path, "/");
	else {
		memcpy(q->path, t, pl);
		q->path[pl] = '\0';
	}
	if (qm) {
		q->has_query = true;
		memcpy(q->query, qm + 1, ql);
		q->query[ql] = '\0';
	}
	return 0;
}

void l7_redact_query(const char *q, char *out, size_t n)
{
	size_t o = 0;
	out[0] = '\0';
	for (const char *s = q; *s;) {
		const char *amp = strchr(s, '&'), *end = amp ? amp : s + strlen(s);
		const char *eq = memchr(s, '=', (size_t)(end - s));
		size_t kl = (size_t)((eq ? eq : end) - s);
		size_t vl = eq ? (size_t)(end - eq - 1) : 0;
		bool hide = eq && (secret_key(s, kl) || secret_value(eq + 1, vl));
		size_t need = kl + (eq ? 1 + (hide ? 3 : vl) : 0) + 1;
		if (o + need + 1 >= n)
			break;
		if (o)
			out[o++] = '&';
		memcpy(out + o, s, kl);
		o += kl;
		if (eq) {
			out[o++] = '=';
			if (hide) {
				memcpy(out + o, "***", 3);
				o += 3;
			} else {
				memcpy(out + o, eq + 1, vl);
				o += vl;
			}
		}
		out[o] = '\0';
		s = amp ? amp + 1 : end;
	}
}

void l7_rec_http(struct l7 *l, const struct l7_req *q, const struct gb_decision *d, const char *entry,
                 int verdict, int reason)
{
	struct proxy_conn *c = l->c;
	struct gb_record r = { .type = GB_REC_HTTP_DECISION };
	struct gb_http_decision *h = &r.u.http;
	h->verdict = (uint8_t)verdict;
	h->mode = (uint8_t)d->mode;
	h->reason = (uint16_t)reason;
	h->status = (uint16_t)q->status;
	h->conn_id = c->id;
	h->policy_rev = d->revision;
	h->src = (struct gb_endpoint){ .host = "", .ip = c->peer_ip, .port = c->peer_port };
	h->dst = (struct gb_endpoint){ .host = c->req.host, .ip = c->up_ip, .port = c->req.port };
	h->id = c->ident.id;
	h->method = q->method;
	h->scheme = l->terminated ? "https" : "http";
	h->path = d->canonical_path[0] ? d->canonical_path : q->path;
	char rq[2048];
	rq[0] = '\0';
	if (q->has_query)
		l7_redact_query(q->query, rq, sizeof rq);
	h->query = rq;
	h->rule = d->rule;
	h->reason_text = d->reason_text;
	h->policy_entry = entry;
	h->bytes_req = q->bytes_req;
	h->bytes_resp = q->bytes_resp;
	h->latency_ns = q->status ? gb_now_ns(CLOCK_MONOTONIC) - q->t0_ns : 0;
	h->tls = l->terminated ? GB_HTTP_TLS_TERMINATED : GB_HTTP_TLS_NONE;
	h->sni = l->ch.sni;
	h->tls_version = l->tls_version ? l->tls_version : "";
	h->credentials = q->creds;
	proxy_emit(c, &r);
}
