/* exporter/ocsf_net.c — NET_DECISION -> Network Activity 4001.
 *
 * Activity (OCSF 1.8.0 network_activity.activity_id):
 *   OPEN  + allow                      -> 1 Open    Success  Allowed/Allowed
 *   OPEN  + allow with a reason (learn) -> 1 Open   Success  Allowed/Detected, Low
 *   OPEN  + deny, policy/identity/SSRF -> 5 Refuse  Failure  Denied/Blocked
 *   OPEN  + deny, bad request / limit  -> 5 Refuse  Failure  Denied/Rejected
 *   OPEN  + deny, DNS / upstream fail  -> 4 Fail    Failure  Denied/Error
 *   CLOSE                              -> 2 Close   Success  (traffic, duration)
 * OpenShell logs refusals as "Open"; a SIEM counting opened connections then
 * counts the refused ones too, so we use Refuse (see docs/ocsf.md).
 */
#include <errno.h>

#include "exporter/ocsf_int.h"

int ocsf_deny_severity(int reason)
{
	switch (reason) {
	case GB_R_BINARY_CHANGED:
	case GB_R_AUDIT_FAIL_CLOSED:
		return GB_SEV_HIGH;
	case GB_R_DNS_FAILED:
	case GB_R_UPSTREAM_FAILED:
	case GB_R_BAD_REQUEST:
	case GB_R_LIMIT:
		return GB_SEV_LOW;
	default:
		return GB_SEV_MEDIUM;
	}
}

static bool is_failure(int reason)
{
	return reason == GB_R_DNS_FAILED || reason == GB_R_UPSTREAM_FAILED;
}

int ocsf_deny_disposition(int reason)
{
	if (is_failure(reason))
		return 27; /* Error */
	if (reason == GB_R_BAD_REQUEST || reason == GB_R_LIMIT)
		return 25; /* Rejected */
	return OCSF_DISP_BLOCKED;
}

/* l7_type: what an HTTP event calls a request rule's decision ("l7_rule");
 * NET passes "network_policy". */
const char *ocsf_rule_type(int reason, const char *l7_type)
{
	switch (reason) {
	case GB_R_SSRF: return "ssrf";
	case GB_R_IDENTITY_FAILED:
	case GB_R_BINARY_CHANGED: return "identity";
	case GB_R_AUDIT_FAIL_CLOSED: return "audit";
	case GB_R_LIMIT: return "limit";
	case GB_R_L7_DENY_RULE:
	case GB_R_L7_NOT_PERMITTED:
	case GB_R_L7_BAD_PATH: return l7_type;
	default: return reason == GB_R_NONE ? l7_type : "network_policy";
	}
}

const char *ocsf_rule_name(const char *entry, int reason)
{
	if (entry && *entry)
		return entry;
	if (reason == GB_R_NONE)
		return "unnamed"; /* allowed without a named entry */
	if (reason == GB_R_NO_POLICY || reason == GB_R_NO_ENDPOINT)
		return "default_deny";
	return gb_reason_name(reason);
}

/* firewall_rule: the network_policies entry that decided, or what refused
 * the connection when no entry did (default deny, SSRF, identity...). */
static void firewall_rule(struct ocsf_ev *ev, const char *entry, const char *endpoint, int reason,
                          uint64_t rev)
{
	struct gb_jsonw *w = &ev->w;
	ocsf_key(w, "firewall_rule");
	gb_jw_obj_begin(w);
	ocsf_kstr(w, "name", ocsf_rule_name(entry, reason));
	ocsf_kstr(w, "type", ocsf_rule_type(reason, "network_policy"));
	ocsf_kstr_u64(w, "version", rev);
	ocsf_kstr_opt(w, "condition", endpoint);
	gb_jw_obj_end(w);
	ev->profiles |= OCSF_P_SECURITY_CONTROL;
}

/* A request refused before its destination could be read names none,
 * rather than an invented "?:0". */
static void host_port(struct gb_jsonw *w, const struct gb_endpoint *ep)
{
	const char *h = ep->host && *ep->host ? ep->host : (ep->ip && *ep->ip ? ep->ip : NULL);
	if (!h && !ep->port) {
		ocsf_sadd(w, "(destination unknown)");
		return;
	}
	ocsf_sadd(w, h ? h : "?");
	ocsf_sadd(w, ":");
	ocsf_sadd_u64(w, ep->port);
}

int ocsf_net(struct ocsf_ev *ev)
{
	const struct gb_net_decision *n = &ev->rec->u.net;
	struct gb_jsonw *w = &ev->w;
	const char *kind;

	if (n->kind == GB_NET_CONNECT)
		kind = "CONNECT";
	else if (n->kind == GB_NET_FORWARD)
		kind = "FORWARD";
	else
		return -EINVAL;
	if ((n->phase != GB_NET_OPEN && n->phase != GB_NET_CLOSE) ||
	    (n->verdict != GB_VERDICT_ALLOW && n->verdict != GB_VERDICT_DENY))
		return -EINVAL;

	bool close = n->phase == GB_NET_CLOSE, allow = n->verdict == GB_VERDICT_ALLOW;
	/* learn mode: allowed although the policy would refuse (the reason) */
	bool audit = !close && allow && n->reason != GB_R_NONE;
	uint64_t t_ms = ev->rec->ts_ns / 1000000u, dur_ms = n->duration_ns / 1000000u;

	if (close) {
		ocsf_envelope(ev, OCSF_NET, 2, GB_SEV_INFO, OCSF_STATUS_SUCCESS);
	} else if (audit) {
		ocsf_envelope(ev, OCSF_NET, 1, GB_SEV_LOW, OCSF_STATUS_SUCCESS);
		ocsf_action(ev, OCSF_ACTION_ALLOWED, OCSF_DISP_DETECTED);
	} else if (allow) {
		ocsf_envelope(ev, OCSF_NET, 1, GB_SEV_INFO, OCSF_STATUS_SUCCESS);
		ocsf_action(ev, OCSF_ACTION_ALLOWED, OCSF_DISP_ALLOWED);
	} else {
		int fail = is_failure(n->reason);
		ocsf_envelope(ev, OCSF_NET, fail ? 4 : 5, ocsf_deny_severity(n->reason), OCSF_STATUS_FAILURE);
		ocsf_action(ev, OCSF_ACTION_DENIED, ocsf_deny_disposition(n->reason));
	}

	ocsf_sbegin(w, "message");
	if (close) {
		ocsf_sadd(w, "Connection closed ");
		host_port(w, &n->dst);
		ocsf_sadd(w, " (");
		ocsf_sadd_u64(w, n->bytes_up);
		ocsf_sadd(w, " bytes up, ");
		ocsf_sadd_u64(w, n->bytes_down);
		ocsf_sadd(w, " bytes down)");
	} else {
		ocsf_sadd(w, kind);
		ocsf_sadd(w, audit ? " audit (would deny) " : allow ? " allowed " : " denied ");
		host_port(w, &n->dst);
		if (n->reason_text && *n->reason_text) {
			ocsf_sadd(w, ": ");
			ocsf_sadd(w, n->reason_text);
		}
	}
	ocsf_send(w);
	if (n->reason != GB_R_NONE)
		ocsf_kstr(w, "status_detail", gb_reason_name(n->reason));

	ocsf_endpoint(w, "src_endpoint", &n->src, false);
	ocsf_endpoint(w, "dst_endpoint", &n->dst, true);
	ocsf_connection_info(ev, n->conn_id, &n->dst);
	if (n->kind == GB_NET_FORWARD)
		ocsf_klit(w, "app_protocol_name", "\"http\"");
	ocsf_actor(ev, &n->id, false);
	firewall_rule(ev, n->policy_entry, n->endpoint, n->reason, n->policy_rev);

	if (close) {
		ocsf_key(w, "traffic");
		gb_jw_obj_begin(w);
		ocsf_kuint(w, "bytes_out", n->bytes_up);
		ocsf_kuint(w, "bytes_in", n->bytes_down);
		ocsf_kuint(w, "bytes", n->bytes_up > UINT64_MAX - n->bytes_down ? UINT64_MAX
		                                                                 : n->bytes_up + n->bytes_down);
		gb_jw_obj_end(w);
		ocsf_kuint(w, "duration", dur_ms);
		ocsf_kuint(w, "start_time", t_ms >= dur_ms ? t_ms - dur_ms : 0);
		ocsf_kuint(w, "end_time", t_ms);
	}

	/* What OCSF has no attribute for. */
	ocsf_key(w, "unmapped");
	gb_jw_obj_begin(w);
	ocsf_kstr(w, "kind", n->kind == GB_NET_CONNECT ? "connect" : "forward");
	if (audit)
		ocsf_klit(w, "mode", "\"audit\""); /* as HTTP's unmapped.mode */
	if (!close)
		gb_jw_kbool(w, "l7_inspected", n->inspected);
	if (n->ssrf_tier != GB_SSRF_NONE)
		ocsf_kstr(w, "ssrf_tier", gb_ssrf_tier_name(n->ssrf_tier));
	uint32_t f = ocsf_identity_unmapped_flags(&n->id);
	if (f) {
		ocsf_key(w, "identity_flags");
		ocsf_identity_flags(w, f);
	}
	ocsf_kstr_opt(w, "script", n->id.script);
	gb_jw_obj_end(w);

	return ocsf_finish(ev);
}
