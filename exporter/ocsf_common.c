/* exporter/ocsf_common.c — the OCSF envelope shared by every class:
 * class/category/activity/type, severity/status/action/disposition with the
 * captions of the OCSF 1.8.0 enums, time, metadata, device and container,
 * plus the entry point gb_ocsf_format().
 *
 * The caption tables below are copied from schema-1.8.0.json; the schemas
 * generated from the same file (schemas/ocsf/) check every emitted caption
 * against its id, so a typo here fails tests/ocsf_validate.py.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "common/array.h"
#include "exporter/ocsf_int.h"

struct ocsf_class {
	int uid;
	const char *name;
	int category_uid;
	const char *category_name;
	const char *const *activities; /* index = activity_id, up to n */
	int n;
};

static const char *const act_net[] = { "Unknown", "Open", "Close", "Reset", "Fail", "Refuse", "Traffic", "Listen" };
static const char *const act_http[] = { "Unknown", "Connect", "Delete", "Get", "Head", "Options", "Post", "Put", "Trace", "Patch" };
static const char *const act_proc[] = { "Unknown", "Launch", "Terminate", "Open", "Inject", "Set User ID" };
static const char *const act_finding[] = { "Unknown", "Create", "Update", "Close" };
static const char *const act_config[] = { "Unknown", "Log", "Collect" };
static const char *const act_lifecycle[] = { "Unknown", "Install", "Remove", "Start", "Stop", "Restart", "Enable", "Disable", "Update" };
static const char *const act_api[] = { "Unknown", "Create", "Read", "Update", "Delete" };
static const char *const act_event_log[] = { "Unknown", "Clear", "Delete", "Export", "Archive", "Rotate", "Start", "Stop", "Restart", "Enable", "Disable" };

static const struct ocsf_class classes[] = {
	{ OCSF_NET, "Network Activity", 4, "Network Activity", act_net, (int)GB_ARRAY_LEN(act_net) },
	{ OCSF_HTTP, "HTTP Activity", 4, "Network Activity", act_http, (int)GB_ARRAY_LEN(act_http) },
	{ OCSF_PROC, "Process Activity", 1, "System Activity", act_proc, (int)GB_ARRAY_LEN(act_proc) },
	{ OCSF_FINDING, "Detection Finding", 2, "Findings", act_finding, (int)GB_ARRAY_LEN(act_finding) },
	{ OCSF_CONFIG, "Device Config State Change", 5, "Discovery", act_config, (int)GB_ARRAY_LEN(act_config) },
	{ OCSF_LIFECYCLE, "Application Lifecycle", 6, "Application Activity", act_lifecycle, (int)GB_ARRAY_LEN(act_lifecycle) },
	{ OCSF_EVENT_LOG, "Event Log Activity", 1, "System Activity", act_event_log, (int)GB_ARRAY_LEN(act_event_log) },
	{ OCSF_API, "API Activity", 6, "Application Activity", act_api, (int)GB_ARRAY_LEN(act_api) },
};

static const char *const severities[] = { "Unknown", "Informational", "Low", "Medium", "High", "Critical", "Fatal" };
static const char *const statuses[] = { "Unknown", "Success", "Failure" };
static const char *const actions[] = { "Unknown", "Allowed", "Denied", "Observed", "Modified" };
static const char *const dispositions[] = {
	"Unknown", "Allowed", "Blocked", "Quarantined", "Isolated", "Deleted", "Dropped",
	"Custom Action", "Approved", "Restored", "Exonerated", "Corrected", "Partially Corrected",
	"Uncorrected", "Delayed", "Detected", "No Action", "Logged", "Tagged", "Alert", "Count",
	"Reset", "Captcha", "Challenge", "Access Revoked", "Rejected", "Unauthorized", "Error",
};

/* id -> caption; 99 is "Other" in every OCSF enum. */
static const char *caption(const char *const *t, int n, int id)
{
	if (id == 99)
		return "Other";
	return (id >= 0 && id < n) ? t[id] : "Unknown";
}

const char *ocsf_severity_caption(int id) { return caption(severities, (int)GB_ARRAY_LEN(severities), id); }

static const struct ocsf_class *find_class(int uid)
{
	for (size_t i = 0; i < GB_ARRAY_LEN(classes); i++)
		if (classes[i].uid == uid)
			return &classes[i];
	return NULL;
}

/* The envelope's first members, `{"class_uid":..,"type_name":".."`: they
 * depend on the class and the activity alone, so each (class, activity)
 * pair's text is written once per thread and copied after (activity 99
 * with a source-specific name is not memoised). */
_Static_assert(GB_ARRAY_LEN(classes) <= OCSF_ENV_CLASSES, "a class without an envelope memo row");

static void env_head(struct gb_jsonw *w, const struct ocsf_class *c, int activity_id, const char *act,
                     const char *type_act)
{
	gb_jw_obj_begin(w);
	ocsf_kuint(w, "class_uid", (uint64_t)c->uid);
	ocsf_kstr(w, "class_name", c->name);
	ocsf_kuint(w, "category_uid", (uint64_t)c->category_uid);
	ocsf_kstr(w, "category_name", c->category_name);
	ocsf_kuint(w, "activity_id", (uint64_t)activity_id);
	ocsf_kstr(w, "activity_name", act);
	ocsf_kuint(w, "type_uid", (uint64_t)c->uid * 100 + (uint64_t)activity_id);
	ocsf_sbegin(w, "type_name");
	ocsf_sadd(w, c->name);
	ocsf_sadd(w, ": ");
	ocsf_sadd(w, type_act);
	ocsf_send(w);
}

static void envelope(struct ocsf_ev *ev, const struct ocsf_class *c, int activity_id, const char *act,
                     const char *type_act, int severity_id, int status_id, bool memo)
{
	struct gb_jsonw *w = &ev->w;

	ev->meta.class_uid = (uint32_t)c->uid;
	ev->meta.activity_id = (uint32_t)activity_id;
	ev->meta.severity_id = (uint8_t)severity_id;
	struct ocsf_env_memo *m = memo && activity_id >= 0 && w->depth == 0 && !w->after_key
	                                  ? ocsf_memo_env((unsigned)(c - classes), (unsigned)activity_id)
	                                  : NULL;
	if (m && m->len) {
		gb_jw_raw_open(w, m->s, m->len);
	} else {
		size_t start = w->b->len;
		env_head(w, c, activity_id, act, type_act);
		size_t n = w->b->len - start;
		if (m && !w->b->err && !w->overflow && w->depth == 1 && n <= OCSF_ENV_MAX) {
			memcpy(m->s, w->b->data + start, n);
			m->len = (uint16_t)n;
		}
	}
	ocsf_kuint(w, "time", ev->rec->ts_ns / 1000000u);
	ocsf_kuint(w, "severity_id", (uint64_t)severity_id);
	ocsf_kcap(w, "severity", caption(severities, (int)GB_ARRAY_LEN(severities), severity_id));
	if (status_id) {
		ocsf_kuint(w, "status_id", (uint64_t)status_id);
		ocsf_kcap(w, "status", caption(statuses, (int)GB_ARRAY_LEN(statuses), status_id));
	}
}

void ocsf_envelope(struct ocsf_ev *ev, int class_uid, int activity_id, int severity_id, int status_id)
{
	const struct ocsf_class *c = find_class(class_uid);
	const char *act = caption(c->activities, c->n, activity_id);
	envelope(ev, c, activity_id, act, act, severity_id, status_id, true);
}

void ocsf_envelope_other(struct ocsf_ev *ev, int class_uid, const char *activity_name, int severity_id,
                         int status_id)
{
	/* type_name stays the official caption of type_uid (".. : Other");
	 * activity_name carries the source-specific word, as OCSF asks. */
	envelope(ev, find_class(class_uid), 99, activity_name, "Other", severity_id, status_id, false);
}

void ocsf_action(struct ocsf_ev *ev, int action_id, int disposition_id)
{
	struct gb_jsonw *w = &ev->w;
	if (action_id) {
		ev->meta.action_id = (uint8_t)action_id;
		ocsf_kuint(w, "action_id", (uint64_t)action_id);
		ocsf_kcap(w, "action", caption(actions, (int)GB_ARRAY_LEN(actions), action_id));
	}
	if (disposition_id) {
		ocsf_kuint(w, "disposition_id", (uint64_t)disposition_id);
		ocsf_kcap(w, "disposition", caption(dispositions, (int)GB_ARRAY_LEN(dispositions), disposition_id));
	}
	ev->profiles |= OCSF_P_SECURITY_CONTROL;
}

static const char *nz(const char *s) { return (s && *s) ? s : NULL; }

/* device and metadata up to the event's sequence number in metadata.uid:
 * `"device":{...},"metadata":{"version":..,"product":{..},"uid":"SID:` —
 * the same for every event of a context (the memo's HEAD). */
static void head(struct gb_jsonw *w, const struct gb_ocsf_ctx *ctx, const char *sname, const char *sid)
{
	/* device: the host glassbox runs on; the sandbox is its container
	 * (container profile: device.container). */
	ocsf_key(w, "device");
	gb_jw_obj_begin(w);
	ocsf_kstr(w, "hostname", nz(ctx->hostname) ? ctx->hostname : "localhost");
	ocsf_klit(w, "type_id", "0");
	ocsf_klit(w, "type", "\"Unknown\"");
	ocsf_key(w, "os");
	gb_jw_obj_begin(w);
	ocsf_klit(w, "name", "\"Linux\"");
	ocsf_klit(w, "type_id", "200");
	ocsf_klit(w, "type", "\"Linux\"");
	gb_jw_obj_end(w);
	if (sname || sid) {
		ocsf_key(w, "container");
		gb_jw_obj_begin(w);
		if (sname)
			ocsf_kstr(w, "name", sname);
		if (sid)
			ocsf_kstr(w, "uid", sid);
		ocsf_klit(w, "runtime", "\"glassbox\"");
		gb_jw_obj_end(w);
	}
	gb_jw_obj_end(w);

	ocsf_key(w, "metadata");
	gb_jw_obj_begin(w);
	ocsf_kstr(w, "version", GB_OCSF_VERSION);
	ocsf_key(w, "product");
	gb_jw_obj_begin(w);
	ocsf_klit(w, "name", "\"glassbox\"");
	ocsf_klit(w, "vendor_name", "\"glassbox\"");
	ocsf_kstr(w, "version", nz(ctx->product_version) ? ctx->product_version : GB_VERSION);
	gb_jw_obj_end(w);
	/* uid = sandbox:seq — unique per event and stable across re-delivery,
	 * so a consumer can drop duplicates (at-least-once sinks). */
	ocsf_sbegin(w, "uid");
	ocsf_sadd(w, sid ? sid : (sname ? sname : "-"));
	ocsf_sadd(w, ":");
}

int ocsf_finish(struct ocsf_ev *ev)
{
	struct gb_jsonw *w = &ev->w;
	const struct gb_ocsf_ctx *ctx = ev->ctx;
	const char *sname = nz(ctx->sandbox_name), *sid = nz(ctx->sandbox_id);

	ev->profiles |= OCSF_P_HOST;
	if (sname || sid)
		ev->profiles |= OCSF_P_CONTAINER;
	/* keyed by every value head() writes from, as it uses them */
	struct ocsf_memo_key k;
	k.len = 0, k.over = false;
	ocsf_memo_key_str(&k, nz(ctx->hostname));
	ocsf_memo_key_str(&k, sname);
	ocsf_memo_key_str(&k, sid);
	ocsf_memo_key_str(&k, nz(ctx->product_version));
	size_t hn;
	const char *h = ocsf_memo_get(OCSF_MEMO_HEAD, &k, &hn);
	if (h && !w->overflow && w->depth == 1) {
		gb_jw_raw_open(w, h, hn); /* leaves metadata open */
	} else {
		size_t start = w->b->len;
		head(w, ctx, sname, sid);
		/* what head() wrote after the comma that separates it */
		if (!w->b->err && !w->overflow && w->depth == 2 && w->b->len > start + 1 &&
		    w->b->data[start] == ',')
			ocsf_memo_put(OCSF_MEMO_HEAD, &k, w->b->data + start + 1, w->b->len - start - 1);
	}
	ocsf_sadd_u64(w, ev->rec->seq);
	ocsf_send(w);
	ocsf_kuint(w, "sequence", ev->rec->seq);
	if (sname) {
		ocsf_kstr(w, "log_name", sname);
		ev->meta.log_name = sname;
	}
	ocsf_klit(w, "log_provider", "\"glassbox\"");
	if (ev->rec->flags & GB_RECF_TRUNCATED)
		gb_jw_kbool(w, "is_truncated", true);
	ocsf_key(w, "profiles");
	gb_jw_arr_begin(w);
	if (ev->profiles & OCSF_P_AI)
		gb_jw_str_plain(w, "ai_operation", sizeof "ai_operation" - 1);
	if (ev->profiles & OCSF_P_CONTAINER)
		gb_jw_str_plain(w, "container", sizeof "container" - 1);
	if (ev->profiles & OCSF_P_HOST)
		gb_jw_str_plain(w, "host", sizeof "host" - 1);
	if (ev->profiles & OCSF_P_SECURITY_CONTROL)
		gb_jw_str_plain(w, "security_control", sizeof "security_control" - 1);
	if (ev->profiles & OCSF_P_LINUX_USERS)
		gb_jw_str_plain(w, "linux/linux_users", sizeof "linux/linux_users" - 1);
	gb_jw_arr_end(w);
	gb_jw_obj_end(w);

	gb_jw_obj_end(w);
	if (w->overflow)
		return -EOVERFLOW; /* nesting bug in a mapper */
	return w->b->err ? w->b->err : 0;
}

/* --- small writers ---------------------------------------------------- */

static size_t u64_dec(char *tmp24, uint64_t v)
{
	char *e = tmp24 + 24, *p = e;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	size_t n = (size_t)(e - p);
	memmove(tmp24, p, n);
	return n;
}

void ocsf_kstr_u64(struct gb_jsonw *w, const char *key, uint64_t v)
{
	char tmp[24];
	size_t n = u64_dec(tmp, v);
	ocsf_key(w, key);
	gb_jw_strn(w, tmp, n);
}

void ocsf_sbegin(struct gb_jsonw *w, const char *key)
{
	ocsf_key(w, key);
	gb_jw_raw(w, "\"", 1);
}

void ocsf_saddn(struct gb_jsonw *w, const char *s, size_t n)
{
	if (!w->overflow && s)
		gb_json_escape(w->b, s, n);
}

void ocsf_sadd(struct gb_jsonw *w, const char *s)
{
	if (s)
		ocsf_saddn(w, s, strlen(s));
}

void ocsf_sadd_u64(struct gb_jsonw *w, uint64_t v)
{
	char tmp[24];
	size_t n = u64_dec(tmp, v);
	if (!w->overflow)
		gb_buf_append(w->b, tmp, n);
}

void ocsf_send(struct gb_jsonw *w)
{
	if (!w->overflow)
		gb_buf_putc(w->b, '"');
}

void ocsf_kstr_opt(struct gb_jsonw *w, const char *key, const char *s)
{
	if (s && *s)
		ocsf_kstr(w, key, s);
}

void ocsf_sadd_opt(struct gb_jsonw *w, const char *sep, const char *s)
{
	if (s && *s) {
		ocsf_sadd(w, sep);
		ocsf_sadd(w, s);
	}
}

void ocsf_kobj_str_u64(struct gb_jsonw *w, const char *key, const char *field, uint64_t v)
{
	ocsf_key(w, key);
	gb_jw_obj_begin(w);
	ocsf_kstr_u64(w, field, v);
	gb_jw_obj_end(w);
}

void ocsf_kpid(struct gb_jsonw *w, const char *key, uint64_t pid)
{
	ocsf_key(w, key);
	gb_jw_obj_begin(w);
	ocsf_kuint(w, "pid", pid);
	gb_jw_obj_end(w);
}

void ocsf_glassbox_actor(struct ocsf_ev *ev, int32_t pid)
{
	struct gb_jsonw *w = &ev->w;
	ocsf_key(w, "actor");
	gb_jw_obj_begin(w);
	ocsf_klit(w, "app_name", "\"glassbox\"");
	if (pid > 0)
		ocsf_kpid(w, "process", (uint64_t)pid);
	gb_jw_obj_end(w);
	ev->profiles |= OCSF_P_HOST;
}

const char *ocsf_basename(const char *path)
{
	const char *s = strrchr(path, '/');
	return (s && s[1]) ? s + 1 : path;
}

/* --- entry point ---------------------------------------------------------- */

int gb_ocsf_format(const struct gb_ocsf_ctx *ctx, const struct gb_record *rec, struct gb_buf *out,
                   struct gb_ocsf_meta *meta)
{
	struct ocsf_ev ev;
	size_t start = out->len;
	int rc;

	if (!ctx || !rec || !out)
		return -EINVAL;
	memset(&ev, 0, sizeof ev);
	ev.ctx = ctx;
	ev.rec = rec;
	gb_jw_init(&ev.w, out);

	switch (rec->type) {
	case GB_REC_NET_DECISION: rc = ocsf_net(&ev); break;
	case GB_REC_HTTP_DECISION: rc = ocsf_http(&ev); break;
	case GB_REC_PROC: rc = ocsf_proc(&ev); break;
	case GB_REC_FINDING: rc = ocsf_finding(&ev); break;
	case GB_REC_CONFIG: rc = ocsf_config(&ev); break;
	case GB_REC_LIFECYCLE: rc = ocsf_lifecycle(&ev); break;
	case GB_REC_LOSS: rc = ocsf_loss(&ev); break;
	default: return -EINVAL;
	}
	if (rc < 0 && !out->err)
		out->len = start; /* never leave half an event behind */
	if (rc == 0 && meta)
		*meta = ev.meta;
	return rc;
}
