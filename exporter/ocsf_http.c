/* exporter/ocsf_http.c — HTTP_DECISION -> HTTP Activity 4002.
 *
 * The activity is the request method (Get 3, Post 6, ...; 99 Other for a
 * method OCSF does not list) — OpenShell writes 99 for every request.  The
 * event carries the same actor and connection_info.uid as the Network
 * Activity events of its connection, so a SIEM can join request, process
 * and connection.  Audit mode (the request would have been denied but was
 * let through) is Allowed/Detected at Low severity, never a plain "Allowed".
 *
 * Requests inside an inspected tunnel also carry their sizes (http_request
 * / http_response length, traffic), the latency from request head to the
 * end of the response (http_response.latency and duration, ms) and the TLS
 * facts of the client side (tls.sni, tls.version; unmapped.tls_terminated).
 */
#include <errno.h>
#include <string.h>

#include "common/array.h"
#include "exporter/ocsf_int.h"

/* OCSF http_activity activity ids; index = id. */
static const char *const methods[] = { NULL, "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "TRACE", "PATCH" };

static int method_activity(const char *m)
{
	for (int i = 1; i < (int)GB_ARRAY_LEN(methods); i++)
		if (strcmp(m, methods[i]) == 0)
			return i;
	return 99;
}

static void url_string(struct gb_jsonw *w, const struct gb_http_decision *h, const char *host)
{
	const char *scheme = h->scheme && *h->scheme ? h->scheme : "http";
	ocsf_sadd(w, scheme);
	ocsf_sadd(w, "://");
	if (strchr(host, ':')) { /* IPv6 literal */
		ocsf_sadd(w, "[");
		ocsf_sadd(w, host);
		ocsf_sadd(w, "]");
	} else {
		ocsf_sadd(w, host);
	}
	bool default_port = (h->dst.port == 443 && strcmp(scheme, "https") == 0) ||
	                    (h->dst.port == 80 && strcmp(scheme, "http") == 0) || h->dst.port == 0;
	if (!default_port) {
		ocsf_sadd(w, ":");
		ocsf_sadd_u64(w, h->dst.port);
	}
	ocsf_sadd(w, h->path && *h->path ? h->path : "/");
	if (h->query && *h->query) {
		ocsf_sadd(w, "?");
		ocsf_sadd(w, h->query);
	}
}

int ocsf_http(struct ocsf_ev *ev)
{
	const struct gb_http_decision *h = &ev->rec->u.http;
	struct gb_jsonw *w = &ev->w;
	if (h->ai_provider && *h->ai_provider)
		return ocsf_api_inference(ev); /* inference.local: API Activity (ocsf_api.c) */

	if ((h->verdict != GB_VERDICT_ALLOW && h->verdict != GB_VERDICT_DENY) ||
	    (h->mode != GB_MODE_ENFORCE && h->mode != GB_MODE_AUDIT))
		return -EINVAL;

	const char *method = h->method && *h->method ? h->method : "";
	const char *host = h->dst.host && *h->dst.host ? h->dst.host : (h->dst.ip && *h->dst.ip ? h->dst.ip : "unknown");
	int act = method_activity(method);
	bool allow = h->verdict == GB_VERDICT_ALLOW;
	bool audit = allow && h->mode == GB_MODE_AUDIT && h->reason != GB_R_NONE;

	if (!allow) {
		ocsf_envelope(ev, OCSF_HTTP, act, ocsf_deny_severity(h->reason), OCSF_STATUS_FAILURE);
		ocsf_action(ev, OCSF_ACTION_DENIED, ocsf_deny_disposition(h->reason));
	} else if (audit) {
		ocsf_envelope(ev, OCSF_HTTP, act, GB_SEV_LOW, OCSF_STATUS_SUCCESS);
		ocsf_action(ev, OCSF_ACTION_ALLOWED, OCSF_DISP_DETECTED);
	} else {
		ocsf_envelope(ev, OCSF_HTTP, act, GB_SEV_INFO, OCSF_STATUS_SUCCESS);
		ocsf_action(ev, OCSF_ACTION_ALLOWED, OCSF_DISP_ALLOWED);
	}

	ocsf_sbegin(w, "message");
	ocsf_sadd(w, !allow ? "HTTP denied " : audit ? "HTTP audit (would deny) " : "HTTP allowed ");
	ocsf_sadd(w, *method ? method : "?");
	ocsf_sadd(w, " ");
	url_string(w, h, host);
	if (h->reason_text && *h->reason_text) {
		ocsf_sadd(w, ": ");
		ocsf_sadd(w, h->reason_text);
	}
	ocsf_send(w);
	if (h->reason != GB_R_NONE)
		ocsf_kstr(w, "status_detail", gb_reason_name(h->reason));

	ocsf_key(w, "http_request");
	gb_jw_obj_begin(w);
	if (act != 99)
		ocsf_kstr(w, "http_method", method);
	ocsf_key(w, "url");
	gb_jw_obj_begin(w);
	ocsf_kstr(w, "scheme", h->scheme && *h->scheme ? h->scheme : "http");
	ocsf_kstr(w, "hostname", host);
	if (h->dst.port)
		ocsf_kuint(w, "port", h->dst.port);
	ocsf_kstr(w, "path", h->path && *h->path ? h->path : "/");
	ocsf_kstr_opt(w, "query_string", h->query);
	ocsf_sbegin(w, "url_string");
	url_string(w, h, host);
	ocsf_send(w);
	gb_jw_obj_end(w);
	if (h->bytes_req)
		ocsf_kuint(w, "length", h->bytes_req);
	gb_jw_obj_end(w);
	uint64_t latency_ms = h->latency_ns / 1000000u;
	if (h->status) {
		ocsf_key(w, "http_response");
		gb_jw_obj_begin(w);
		ocsf_kuint(w, "code", h->status);
		if (h->bytes_resp)
			ocsf_kuint(w, "length", h->bytes_resp);
		if (h->latency_ns)
			ocsf_kuint(w, "latency", latency_ms);
		gb_jw_obj_end(w);
	}
	if (h->bytes_req || h->bytes_resp) {
		ocsf_key(w, "traffic");
		gb_jw_obj_begin(w);
		ocsf_kuint(w, "bytes_out", h->bytes_req);
		ocsf_kuint(w, "bytes_in", h->bytes_resp);
		ocsf_kuint(w, "bytes", h->bytes_req + h->bytes_resp);
		gb_jw_obj_end(w);
	}
	if (h->latency_ns)
		ocsf_kuint(w, "duration", latency_ms);
	if (h->tls == GB_HTTP_TLS_TERMINATED) {
		ocsf_key(w, "tls");
		gb_jw_obj_begin(w);
		ocsf_kstr_opt(w, "sni", h->sni);
		ocsf_kstr(w, "version", h->tls_version && *h->tls_version ? h->tls_version : "unknown");
		gb_jw_obj_end(w);
	}

	ocsf_endpoint(w, "src_endpoint", &h->src, false);
	ocsf_endpoint(w, "dst_endpoint", &h->dst, true);
	ocsf_connection_info(ev, h->conn_id, &h->dst);
	ocsf_klit(w, "app_protocol_name", "\"http\"");
	ocsf_actor(ev, &h->id, false);

	ocsf_key(w, "firewall_rule");
	gb_jw_obj_begin(w);
	ocsf_kstr(w, "name", ocsf_rule_name(h->policy_entry, h->reason));
	ocsf_kstr(w, "type", ocsf_rule_type(h->reason, "l7_rule"));
	ocsf_kstr_u64(w, "version", h->policy_rev);
	ocsf_kstr_opt(w, "condition", h->rule);
	gb_jw_obj_end(w);

	ocsf_key(w, "unmapped");
	gb_jw_obj_begin(w);
	ocsf_kstr(w, "mode", h->mode == GB_MODE_AUDIT ? "audit" : "enforce");
	if (h->tls == GB_HTTP_TLS_TERMINATED)
		gb_jw_kbool(w, "tls_terminated", true);
	if (act == 99 && *method)
		ocsf_kstr(w, "http_method", method); /* not in OCSF's method enum */
	uint32_t f = ocsf_identity_unmapped_flags(&h->id);
	if (f) {
		ocsf_key(w, "identity_flags");
		ocsf_identity_flags(w, f);
	}
	ocsf_kstr_opt(w, "script", h->id.script);
	if (h->credentials && *h->credentials) {
		/* which credentials the proxy wrote into the request, toward which
		 * host: names only, the value never leaves the supervisor */
		ocsf_key(w, "credentials");
		gb_jw_arr_begin(w);
		for (const char *s = h->credentials; *s;) {
			const char *e = strchr(s, ',');
			size_t l = e ? (size_t)(e - s) : strlen(s);
			gb_jw_obj_begin(w);
			ocsf_key(w, "name");
			gb_jw_strn(w, s, l);
			ocsf_kstr(w, "host", h->dst.host);
			gb_jw_obj_end(w);
			s += l + (e ? 1 : 0);
		}
		gb_jw_arr_end(w);
	}
	gb_jw_obj_end(w);

	return ocsf_finish(ev);
}
