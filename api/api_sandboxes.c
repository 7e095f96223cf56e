/* api/api_sandboxes.c — GET /v1/health, /v1/sandboxes, /v1/sandboxes/NAME.
 *
 * A sandbox is a directory under the runtime directory whose supervisor
 * holds its lock (api_sandbox_alive); a directory whose lock is free is a
 * supervisor that died ("stale", cleaned by the next run of that name).
 * The policy revision comes from the supervisor itself (control socket). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/paths.h"
#include "api/api_int.h"
#include "api/control_client.h"

enum MHD_Result api_health(struct api_req *r)
{
	return api_json(r, 200, json_pack("{s:s, s:s}", "status", "ok", "version", GB_VERSION));
}

static json_t *sandbox_json(struct gb_api *a, const char *name)
{
	long pid;
	int alive = api_sandbox_alive(a, name, &pid);
	json_t *o = json_pack("{s:s, s:s}", "name", name, "state", alive ? "running" : "stale");
	if (pid > 0)
		json_object_set_new(o, "supervisor_pid", json_integer(pid));
	uint64_t al, de;
	api_metrics_sandbox(a, name, &al, &de);
	json_object_set_new(o, "decisions", json_pack("{s:I, s:I}", "allowed", (json_int_t)al,
	                                              "denied", (json_int_t)de));
	if (!alive)
		return o;
	json_t *req = json_pack("{s:s}", "op", "get"), *resp = NULL;
	char err[256];
	if (gb_ctl_call(a->has_root ? a->root : NULL, name, req, &resp, err, sizeof err) == 0 &&
	    json_is_true(json_object_get(resp, "ok")))
		json_object_set_new(o, "policy",
		                    json_pack("{s:O, s:O}", "revision", json_object_get(resp, "revision"),
		                              "sha256", json_object_get(resp, "sha256")));
	else
		json_object_set_new(o, "policy", json_null());
	json_decref(req);
	json_decref(resp);
	return o;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

enum MHD_Result api_sandboxes(struct api_req *r)
{
	json_t *arr = json_array();
	DIR *d = opendir(r->api->runtime_dir);
	char *names[1024];
	size_t n = 0;
	for (struct dirent *e; d && n < 1024 && (e = readdir(d));)
		if (gb_sandbox_name_valid(e->d_name) && (names[n] = strdup(e->d_name)))
			n++;
	if (d)
		closedir(d);
	qsort(names, n, sizeof *names, cmp_str);
	size_t live = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *s = sandbox_json(r->api, names[i]);
		if (!strcmp(json_string_value(json_object_get(s, "state")), "running"))
			live++;
		json_array_append_new(arr, s);
		free(names[i]);
	}
	return api_json(r, 200, json_pack("{s:o, s:I}", "sandboxes", arr, "running", (json_int_t)live));
}

enum MHD_Result api_sandbox(struct api_req *r)
{
	long pid;
	if (!api_sandbox_alive(r->api, r->name, &pid))
		return api_error(r, 404, "not_found", "no sandbox named '%s' is running", r->name);
	return api_json(r, 200, sandbox_json(r->api, r->name));
}
