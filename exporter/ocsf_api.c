/* exporter/ocsf_api.c — an inference.local request (HTTP_DECISION with
 * ai_provider set) -> API Activity 6003 with the ai_operation profile.
 *
 * The model call is an API call the proxy made on the workload's behalf:
 * actor = the calling process (as in its connection's Network Activity),
 * api.operation = "METHOD PATH", api.service = the route's provider,
 * ai_model = {ai_provider, name = the route's model}, message_context =
 * the token counts the provider reported (absent when it reported none),
 * http_request/http_response with sizes and the latency to the end of the
 * response, and in unmapped.inference what OCSF has no place for: the
 * provider type, time to first byte, whether it streamed.  A request the
 * proxy refused (no route, a path the type does not serve, the provider
 * failing) is Denied/Blocked with the reason, like an HTTP denial.  The
 * credential is never part of the record, so it cannot be here. */
#include <errno.h>
#include <string.h>

#include "exporter/ocsf_int.h"

int ocsf_api_inference(struct ocsf_ev *ev)
{
	const struct gb_http_decision *h = &ev->rec->u.http;
	struct gb_jsonw *w = &ev->w;
	if (h->verdict != GB_VERDICT_ALLOW && h->verdict != GB_VERDICT_DENY)
		return -EINVAL;
	const char *method = h->method && *h->method ? h->method : "-";
	const char *path = h->path && *h->path ? h->path : "/";
	bool allow = h->verdict == GB_VERDICT_ALLOW;
	/* OpenAI/Anthropic calls create a completion, a response or an
	 * embedding (POST); GET lists models */
	int act = !strcmp(method, "POST") ? 1 : !strcmp(method, "GET") ? 2 : 99;
	if (act == 99)
		ocsf_envelope_other(ev, OCSF_API, h->method && *h->method ? method : "Other", allow ? GB_SEV_INFO : GB_SEV_MEDIUM,
		                    allow ? OCSF_STATUS_SUCCESS : OCSF_STATUS_FAILURE);
	else
		ocsf_envelope(ev, OCSF_API, act, allow ? GB_SEV_INFO : GB_SEV_MEDIUM,
		              allow ? OCSF_STATUS_SUCCESS : OCSF_STATUS_FAILURE);
	ocsf_action(ev, allow ? OCSF_ACTION_ALLOWED : OCSF_ACTION_DENIED,
	            allow ? OCSF_DISP_ALLOWED : OCSF_DISP_BLOCKED);

	ocsf_sbegin(w, "message");
	ocsf_sadd(w, allow ? "inference " : "inference refused ");
	ocsf_sadd(w, method);
	ocsf_sadd(w, " ");
	ocsf_sadd(w, path);
	ocsf_sadd_opt(w, " -> ", h->ai_provider);
	ocsf_sadd_opt(w, " model ", h->ai_model);
	ocsf_sadd_opt(w, ": ", h->reason_text);
	ocsf_send(w);
	if (h->status) {
		ocsf_kstr_u64(w, "status_code", h->status);
	}
	if (h->reason != GB_R_NONE)
		ocsf_kstr(w, "status_detail", gb_reason_name(h->reason));

	ocsf_key(w, "api");
	gb_jw_obj_begin(w);
	ocsf_sbegin(w, "operation");
	ocsf_sadd(w, method);
	ocsf_sadd(w, " ");
	ocsf_sadd(w, path);
	ocsf_send(w);
	ocsf_key(w, "service");
	gb_jw_obj_begin(w);
	ocsf_kstr(w, "name", h->ai_provider);
	gb_jw_obj_end(w);
	ocsf_key(w, "request");
	gb_jw_obj_begin(w);
	ocsf_sbegin(w, "uid"); /* the connection and the request's time: unique per sandbox */
	ocsf_sadd_u64(w, h->conn_id);
	ocsf_sadd(w, "-");
	ocsf_sadd_u64(w, ev->rec->seq);
	ocsf_send(w);
	gb_jw_obj_end(w);
	if (h->status) {
		ocsf_key(w, "response");
		gb_jw_obj_begin(w);
		ocsf_kuint(w, "code", h->status);
		if (!allow)
			ocsf_kstr_opt(w, "error", gb_reason_name(h->reason));
		gb_jw_obj_end(w);
	}
	gb_jw_obj_end(w);

	if (h->ai_model && *h->ai_model) {
		ocsf_key(w, "ai_model");
		gb_jw_obj_begin(w);
		ocsf_kstr(w, "ai_provider", h->ai_provider);
		ocsf_kstr(w, "name", h->ai_model);
		gb_jw_obj_end(w);
	}
	if (h->ai_tokens_in >= 0 || h->ai_tokens_out >= 0) {
		ocsf_key(w, "message_context");
		gb_jw_obj_begin(w);
		ocsf_key(w, "service"); /* the provider that counted the tokens */
		gb_jw_obj_begin(w);
		ocsf_kstr(w, "name", h->ai_provider);
		gb_jw_obj_end(w);
		if (h->ai_tokens_in >= 0)
			ocsf_kuint(w, "prompt_tokens", (uint64_t)h->ai_tokens_in);
		if (h->ai_tokens_out >= 0)
			ocsf_kuint(w, "completion_tokens", (uint64_t)h->ai_tokens_out);
		if (h->ai_tokens_in >= 0 && h->ai_tokens_out >= 0)
			/* summed unsigned: the counts are the provider's (hostile) and
			 * two near INT64_MAX overflowed the signed sum (fuzz_record_decode);
			 * ocsf_kuint caps the total at INT64_MAX */
			ocsf_kuint(w, "total_tokens", (uint64_t)h->ai_tokens_in + (uint64_t)h->ai_tokens_out);
		gb_jw_obj_end(w);
	}

	uint64_t latency_ms = h->latency_ns / 1000000u;
	ocsf_key(w, "http_request");
	gb_jw_obj_begin(w);
	if (ocsf_http_method_id(method) != 99)
		ocsf_kstr(w, "http_method", method);
	ocsf_key(w, "url");
	gb_jw_obj_begin(w);
	ocsf_kstr(w, "scheme", h->scheme && *h->scheme ? h->scheme : "http");
	ocsf_kstr(w, "hostname", "inference.local");
	ocsf_kstr(w, "path", path);
	ocsf_kstr_opt(w, "query_string", h->query);
	gb_jw_obj_end(w);
	if (h->bytes_req)
		ocsf_kuint(w, "length", h->bytes_req);
	gb_jw_obj_end(w);
	if (h->status) {
		ocsf_key(w, "http_response");
		gb_jw_obj_begin(w);
		ocsf_kuint(w, "code", h->status);
		if (h->bytes_resp)
			ocsf_kuint(w, "length", h->bytes_resp);
		ocsf_kuint(w, "latency", latency_ms);
		gb_jw_obj_end(w);
	}
	ocsf_kuint(w, "duration", latency_ms);

	ocsf_endpoint(w, "src_endpoint", &h->src, true);
	ocsf_endpoint(w, "dst_endpoint", &h->dst, true);
	ocsf_actor(ev, &h->id, true);

	ocsf_key(w, "unmapped");
	gb_jw_obj_begin(w);
	ocsf_key(w, "inference");
	gb_jw_obj_begin(w);
	ocsf_kstr_opt(w, "type", h->ai_type);
	if (h->ai_ttfb_ns) {
		ocsf_kuint(w, "ttfb_us", h->ai_ttfb_ns / 1000u);
	}
	ocsf_key(w, "stream");
	gb_jw_bool(w, h->ai_stream != 0);
	ocsf_kuint(w, "conn_uid", h->conn_id);
	ocsf_kstr_opt(w, "rule", h->rule);
	gb_jw_obj_end(w);
	if (ocsf_http_method_id(method) == 99)
		ocsf_kstr(w, "http_method", method); /* not in OCSF's method enum */
	gb_jw_obj_end(w);
	ev->profiles |= OCSF_P_AI;
	return ocsf_finish(ev);
}
