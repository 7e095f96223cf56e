/* exporter/ocsf_finding.c — FINDING -> Detection Finding 2004.
 *
 * Every finding is activity 1 Create, status New, with finding_info.uid
 * unique per event (sandbox:seq), types = [the finding kind], and the
 * process concerned (when known) plus the subject (path, address, syscall)
 * as evidences.  Findings where something was stopped (Landlock / seccomp
 * denial, SSRF, bypass, binary changed) are Denied/Blocked; observations
 * (Landlock unavailable or degraded, policy warnings) are Observed/Detected.
 * is_alert for Medium and above: OpenShell raises no finding at all for a
 * hash mismatch, we raise a High one.
 */
#include <errno.h>

#include "exporter/ocsf_int.h"

static const char *kind_name(int k)
{
	switch (k) {
	case GB_F_LANDLOCK_UNAVAILABLE: return "landlock_unavailable";
	case GB_F_LANDLOCK_DEGRADED: return "landlock_degraded";
	case GB_F_LANDLOCK_DENIED: return "landlock_denied";
	case GB_F_BINARY_CHANGED: return "binary_changed";
	case GB_F_BYPASS_ATTEMPT: return "bypass_attempt";
	case GB_F_SECCOMP_DENIED: return "seccomp_denied";
	case GB_F_SSRF_BLOCKED: return "ssrf_blocked";
	case GB_F_POLICY_WARNING: return "policy_warning";
	case GB_F_CONTAINMENT_DEGRADED: return "containment_degraded";
	case GB_F_RESOURCE_LIMIT: return "resource_limit";
	case GB_F_OTHER: return "other";
	default: return NULL;
	}
}

static bool blocked(int k)
{
	return k == GB_F_LANDLOCK_DENIED || k == GB_F_BINARY_CHANGED || k == GB_F_BYPASS_ATTEMPT ||
	       k == GB_F_SECCOMP_DENIED || k == GB_F_SSRF_BLOCKED;
}

int ocsf_finding(struct ocsf_ev *ev)
{
	const struct gb_finding *f = &ev->rec->u.finding;
	struct gb_jsonw *w = &ev->w;
	const char *kind = kind_name(f->kind);
	const char *subject = f->subject ? f->subject : "";
	const char *sid = ev->ctx->sandbox_id && *ev->ctx->sandbox_id ? ev->ctx->sandbox_id
	                  : ev->ctx->sandbox_name && *ev->ctx->sandbox_name ? ev->ctx->sandbox_name : "-";

	if (!kind || f->severity < GB_SEV_INFO || f->severity > GB_SEV_CRITICAL)
		return -EINVAL;

	ocsf_envelope(ev, OCSF_FINDING, 1, f->severity, 0);
	/* Detection Finding has its own status enum (New, In Progress, ...). */
	ocsf_kuint(w, "status_id", 1);
	ocsf_kstr(w, "status", "New");
	if (blocked(f->kind))
		ocsf_action(ev, OCSF_ACTION_DENIED, OCSF_DISP_BLOCKED);
	else
		ocsf_action(ev, 3 /* Observed */, OCSF_DISP_DETECTED);
	gb_jw_kbool(w, "is_alert", f->severity >= GB_SEV_MEDIUM);

	ocsf_sbegin(w, "message");
	ocsf_sadd(w, f->title && *f->title ? f->title : kind);
	ocsf_sadd_opt(w, ": ", subject);
	ocsf_send(w);
	ocsf_kstr(w, "status_detail", kind);

	ocsf_key(w, "finding_info");
	gb_jw_obj_begin(w);
	ocsf_sbegin(w, "uid");
	ocsf_sadd(w, sid);
	ocsf_sadd(w, ":");
	ocsf_sadd_u64(w, ev->rec->seq);
	ocsf_send(w);
	ocsf_kstr(w, "title", f->title && *f->title ? f->title : kind);
	ocsf_kstr_opt(w, "desc", f->detail);
	ocsf_key(w, "types");
	gb_jw_arr_begin(w);
	gb_jw_str(w, kind);
	gb_jw_arr_end(w);
	ocsf_kuint(w, "created_time", ev->rec->ts_ns / 1000000u);
	ocsf_key(w, "product");
	gb_jw_obj_begin(w);
	ocsf_kstr(w, "name", "glassbox");
	ocsf_kstr(w, "vendor_name", "glassbox");
	gb_jw_obj_end(w);
	gb_jw_obj_end(w);

	bool has_proc = f->has_identity && (f->id.pid > 0 || (f->id.exe && *f->id.exe));
	if (has_proc)
		ocsf_actor(ev, &f->id, false);

	if (has_proc || *subject) {
		ocsf_key(w, "evidences");
		gb_jw_arr_begin(w);
		gb_jw_obj_begin(w);
		if (has_proc)
			ocsf_identity_process(ev, "process", &f->id);
		if (*subject) {
			int fam;
			if (f->kind == GB_F_LANDLOCK_DENIED && subject[0] == '/') {
				ocsf_key(w, "file"); /* any file: type unknown */
				gb_jw_obj_begin(w);
				ocsf_kstr(w, "name", ocsf_basename(subject));
				ocsf_kstr(w, "path", subject);
				ocsf_kuint(w, "type_id", 0);
				ocsf_kstr(w, "type", "Unknown");
				gb_jw_obj_end(w);
			} else if ((f->kind == GB_F_SSRF_BLOCKED || f->kind == GB_F_BYPASS_ATTEMPT) &&
			           gb_ip_literal(subject, &fam)) {
				ocsf_key(w, "dst_endpoint");
				gb_jw_obj_begin(w);
				ocsf_kstr(w, "ip", subject);
				gb_jw_obj_end(w);
			}
			ocsf_key(w, "data");
			gb_jw_obj_begin(w);
			ocsf_kstr(w, "subject", subject);
			gb_jw_obj_end(w);
		}
		gb_jw_obj_end(w);
		gb_jw_arr_end(w);
	}
	return ocsf_finish(ev);
}
