/* exporter/ocsf_loss.c — LOSS -> Event Log Activity 1008.
 *
 * Why this class: a loss is something that happened to the event log itself
 * (records dropped before they reached it, or deleted by retention before a
 * sink delivered them), and Event Log Activity is OCSF's class for "actions
 * pertaining to the system's event logging service, such as disabling
 * logging or clearing the log data".  It carries log_name / log_provider /
 * log_type, which tell a SOC which stream has the gap, and `count`.
 *   RETENTION            -> 2 Delete (records were deleted undelivered)
 *   RING_FULL, ABANDONED,
 *   GENERATION,
 *   JOURNAL_DAMAGED      -> 99 Other, activity_name "Drop" (the last one is made by
 *                           a journal reader for bytes that no longer decode)
 * status Failure; severity High (an audit trail has a hole).  The lost
 * sequence range has no OCSF attribute: unmapped.first_seq/last_seq.
 */
#include <errno.h>

#include "exporter/ocsf_int.h"

/* The range is reported only when it is consistent with the count (a
 * producer that does not know it leaves both at 0). */
static bool range_known(const struct gb_loss *l)
{
	return l->count && l->last_seq >= l->first_seq && l->last_seq - l->first_seq + 1 == l->count;
}

static const char *cause_name(int c)
{
	switch (c) {
	case GB_LOSS_RING_FULL: return "ring_full";
	case GB_LOSS_ABANDONED: return "abandoned";
	case GB_LOSS_RETENTION: return "retention";
	case GB_LOSS_GENERATION: return "generation";
	case GB_LOSS_MALFORMED: return "malformed";
	case GB_LOSS_JOURNAL_DAMAGED: return "journal_damaged";
	default: return NULL;
	}
}

int ocsf_loss(struct ocsf_ev *ev)
{
	const struct gb_loss *l = &ev->rec->u.loss;
	const struct gb_ocsf_ctx *ctx = ev->ctx;
	struct gb_jsonw *w = &ev->w;
	const char *cause = cause_name(l->cause);
	const char *sname = ctx->sandbox_name && *ctx->sandbox_name ? ctx->sandbox_name : NULL;

	if (!cause)
		return -EINVAL;
	if (l->cause == GB_LOSS_RETENTION)
		ocsf_envelope(ev, OCSF_EVENT_LOG, 2, GB_SEV_HIGH, OCSF_STATUS_FAILURE);
	else
		ocsf_envelope_other(ev, OCSF_EVENT_LOG, "Drop", GB_SEV_HIGH, OCSF_STATUS_FAILURE);
	ocsf_kstr(w, "status_detail", cause);

	ocsf_sbegin(w, "message");
	ocsf_sadd_u64(w, l->count);
	ocsf_sadd(w, l->count == 1 ? " event lost" : " events lost");
	if (range_known(l)) {
		ocsf_sadd(w, " (seq ");
		ocsf_sadd_u64(w, l->first_seq);
		ocsf_sadd(w, "-");
		ocsf_sadd_u64(w, l->last_seq);
		ocsf_sadd(w, ")");
	}
	ocsf_sadd(w, ": ");
	ocsf_sadd(w, cause);
	ocsf_sadd_opt(w, ", ", l->detail);
	ocsf_send(w);

	ocsf_kuint(w, "count", l->count);
	ev->meta.log_name = sname ? sname : "glassbox";
	ocsf_kstr(w, "log_name", ev->meta.log_name);
	ocsf_kstr(w, "log_provider", "glassbox");
	ocsf_kuint(w, "log_type_id", 2);
	ocsf_kstr(w, "log_type", "Application");
	ocsf_glassbox_actor(ev, 0);

	ocsf_key(w, "unmapped");
	gb_jw_obj_begin(w);
	ocsf_kuint(w, "lost_count", l->count);
	if (range_known(l)) {
		ocsf_kuint(w, "first_seq", l->first_seq);
		ocsf_kuint(w, "last_seq", l->last_seq);
	}
	gb_jw_obj_end(w);
	return ocsf_finish(ev);
}
