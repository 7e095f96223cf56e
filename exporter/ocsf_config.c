/* exporter/ocsf_config.c — CONFIG -> Device Config State Change 5019.
 *
 * Activity 1 Log for every policy change (the only fitting activity); what
 * happened (loaded, validated, updated, approved, rejected, refused) is the
 * status_detail and the message.  The revision is an OCSF policy object:
 * name "network_policy", version = revision number, uid = sha256 of the
 * content, is_applied = whether it is now the running policy, data.source
 * = where it came from.  A refused file is a Failure at Medium severity (a
 * bad file never replaces a good policy, but someone tried); a rejected
 * suggestion is Low.  security_level: Secure once a policy is applied.
 */
#include <errno.h>

#include "exporter/ocsf_int.h"

static const char *action_name(int a)
{
	switch (a) {
	case GB_CFG_LOADED: return "loaded";
	case GB_CFG_VALIDATED: return "validated";
	case GB_CFG_UPDATED: return "updated";
	case GB_CFG_APPROVED: return "approved";
	case GB_CFG_REJECTED: return "rejected";
	case GB_CFG_REFUSED: return "refused";
	default: return NULL;
	}
}

int ocsf_config(struct ocsf_ev *ev)
{
	const struct gb_config *c = &ev->rec->u.config;
	struct gb_jsonw *w = &ev->w;
	const char *name = action_name(c->action);

	if (!name)
		return -EINVAL;
	bool failed = c->action == GB_CFG_REFUSED || c->action == GB_CFG_REJECTED;
	bool applied = c->action == GB_CFG_LOADED || c->action == GB_CFG_UPDATED || c->action == GB_CFG_APPROVED;
	int sev = c->action == GB_CFG_REFUSED ? GB_SEV_MEDIUM : c->action == GB_CFG_REJECTED ? GB_SEV_LOW : GB_SEV_INFO;

	ocsf_envelope(ev, OCSF_CONFIG, 1, sev, failed ? OCSF_STATUS_FAILURE : OCSF_STATUS_SUCCESS);
	ocsf_kstr(w, "status_detail", name);

	/* revision 0 with this text: the inference.local route changed (it has
	 * no revisions; enforcer/proxy/inference.h gb_inference_describe) */
	bool inference = c->revision == 0 && c->detail && !strncmp(c->detail, "inference route", 15);
	ocsf_sbegin(w, "message");
	ocsf_sadd(w, inference ? "Inference route " : "Policy ");
	ocsf_sadd(w, name);
	if (!inference) {
		ocsf_sadd(w, " (revision ");
		ocsf_sadd_u64(w, c->revision);
		ocsf_sadd(w, ")");
	}
	ocsf_sadd_opt(w, " from ", c->source);
	ocsf_sadd_opt(w, ": ", c->detail);
	ocsf_send(w);

	ocsf_glassbox_actor(ev, 0);

	ocsf_key(w, "policy");
	gb_jw_obj_begin(w);
	ocsf_kstr(w, "name", inference ? "inference_route" : "network_policy");
	ocsf_kstr_u64(w, "version", c->revision);
	if (c->sha256 && *c->sha256) {
		ocsf_sbegin(w, "uid");
		ocsf_sadd(w, "sha256:");
		ocsf_sadd(w, c->sha256);
		ocsf_send(w);
	}
	ocsf_kstr_opt(w, "desc", c->detail);
	gb_jw_kbool(w, "is_applied", applied);
	if (c->source && *c->source) {
		ocsf_key(w, "data");
		gb_jw_obj_begin(w);
		ocsf_kstr(w, "source", c->source);
		gb_jw_obj_end(w);
	}
	gb_jw_obj_end(w);
	ev->profiles |= OCSF_P_SECURITY_CONTROL;

	if (applied) {
		ocsf_kuint(w, "security_level_id", 1);
		ocsf_kstr(w, "security_level", "Secure");
	}
	return ocsf_finish(ev);
}
