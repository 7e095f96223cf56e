/* exporter/ocsf_lifecycle.c — LIFECYCLE -> Application Lifecycle 6002.
 *
 *   CREATED -> 1 Install  (the sandbox's namespaces and files now exist)
 *   STARTED -> 3 Start    (its command runs under the listed layers)
 *   STOPPED -> 4 Stop
 * app (a product object) is the sandbox: name, uid = sandbox id, vendor
 * glassbox.  The enforcement posture (active layers, Landlock ABI and
 * rights, seccomp mode) has no OCSF attribute and goes to unmapped.posture;
 * a missing layer is reported as a FINDING by the launcher, not here.
 */
#include <errno.h>

#include "common/array.h"
#include "exporter/ocsf_int.h"

int ocsf_lifecycle(struct ocsf_ev *ev)
{
	const struct gb_lifecycle *l = &ev->rec->u.lifecycle;
	const struct gb_ocsf_ctx *ctx = ev->ctx;
	struct gb_jsonw *w = &ev->w;
	const char *name = l->sandbox_name && *l->sandbox_name ? l->sandbox_name
	                   : ctx->sandbox_name && *ctx->sandbox_name ? ctx->sandbox_name : "sandbox";
	int act;

	switch (l->activity) {
	case GB_LC_CREATED: act = 1; break;
	case GB_LC_STARTED: act = 3; break;
	case GB_LC_STOPPED: act = 4; break;
	default: return -EINVAL;
	}
	ocsf_envelope(ev, OCSF_LIFECYCLE, act, GB_SEV_INFO, OCSF_STATUS_SUCCESS);

	ocsf_sbegin(w, "message");
	ocsf_sadd(w, "Sandbox ");
	ocsf_sadd(w, name);
	ocsf_sadd(w, act == 1 ? " created" : act == 3 ? " started" : " stopped");
	ocsf_sadd_opt(w, ": ", l->detail);
	ocsf_send(w);

	ocsf_key(w, "app");
	gb_jw_obj_begin(w);
	ocsf_kstr(w, "name", name);
	ocsf_kstr_opt(w, "uid", ctx->sandbox_id);
	ocsf_kstr(w, "vendor_name", "glassbox");
	ocsf_kstr(w, "version", ctx->product_version && *ctx->product_version ? ctx->product_version : GB_VERSION);
	gb_jw_obj_end(w);

	ocsf_key(w, "unmapped");
	gb_jw_obj_begin(w);
	ocsf_key(w, "posture");
	gb_jw_obj_begin(w);
	ocsf_key(w, "layers");
	gb_jw_arr_begin(w);
	static const struct { uint32_t bit; const char *name; } layers[] = {
		{ GB_LAYER_NETNS, "netns" }, { GB_LAYER_LANDLOCK, "landlock" }, { GB_LAYER_SECCOMP, "seccomp" },
		{ GB_LAYER_PRIVDROP, "privdrop" }, { GB_LAYER_PROXY, "proxy" },
		{ GB_LAYER_ROOTFS, "rootfs" }, { GB_LAYER_CGROUP, "cgroup" }, { GB_LAYER_OWN_UID, "own_uid" },
	};
	for (size_t i = 0; i < GB_ARRAY_LEN(layers); i++)
		if (l->layers & layers[i].bit)
			gb_jw_str(w, layers[i].name);
	gb_jw_arr_end(w);
	if (l->layers & GB_LAYER_LANDLOCK) {
		ocsf_kuint(w, "landlock_abi", l->landlock_abi);
		ocsf_kstr_opt(w, "landlock_rights", l->landlock_rights);
	}
	ocsf_kstr_opt(w, "seccomp_mode", l->seccomp_mode);
	if (act != 1) {
		ocsf_kuint(w, "uid", l->uid);
		ocsf_kuint(w, "gid", l->gid);
	}
	if (l->memory_max || l->pids_max || l->nofile || l->cpu_milli) {
		/* what was set; what was hit is a resource_limit FINDING */
		ocsf_key(w, "limits");
		gb_jw_obj_begin(w);
		if (l->memory_max)
			ocsf_kuint(w, "memory_max", l->memory_max);
		if (l->pids_max)
			ocsf_kuint(w, "pids_max", l->pids_max);
		if (l->cpu_milli)
			ocsf_kuint(w, "cpu_milli", l->cpu_milli);
		if (l->nofile)
			ocsf_kuint(w, "files", l->nofile);
		gb_jw_obj_end(w);
	}
	gb_jw_obj_end(w);
	gb_jw_obj_end(w);
	return ocsf_finish(ev);
}
