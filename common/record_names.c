/* common/record_names.c — stable names of the record enums (record.h), the
 * spelling used in records' text forms, refusal bodies and OCSF events. */
#include "common/array.h"
#include "common/record.h"

const char *gb_rec_type_name(int type)
{
	static const char *const names[] = { NULL, "NET_DECISION", "HTTP_DECISION", "PROC",
		                             "FINDING", "CONFIG", "LIFECYCLE", "LOSS" };
	return type > 0 && (size_t)type < GB_ARRAY_LEN(names) ? names[type] : NULL;
}

const char *gb_reason_name(int reason)
{
	static const char *const names[] = {
		"none", "no_policy", "no_endpoint", "binary_not_allowed", "l7_deny_rule",
		"l7_not_permitted", "l7_bad_path", "l7_needs_inspection", "ssrf", "dns_failed",
		"upstream_failed", "identity_failed", "binary_changed", "bad_request",
		"audit_fail_closed", "limit", "l7_unsupported_protocol", "upstream_tls",
		"credential_unresolved", "credential_unbound_host", "credential_uninspected",
	};
	return reason >= 0 && (size_t)reason < GB_ARRAY_LEN(names) ? names[reason] : "unknown";
}

const char *gb_ssrf_tier_name(int tier)
{
	static const char *const names[] = {
		"none", "loopback", "link_local", "unspecified", "multicast",
		"control_plane_port", "internal", "not_in_allowed_ips",
	};
	return tier >= 0 && (size_t)tier < GB_ARRAY_LEN(names) ? names[tier] : "unknown";
}
