/* api/api_inference.c — see api_inference.h; and the route
 * GET|PUT|DELETE /v1/inference[?sandbox=NAME] (PUT body: the route, JSON).
 *
 * The credential is checked here (regular, root-owned, 0600) before the
 * default file is written, and again by every supervisor that reads it:
 * the file could change between the two, and only the reader's check
 * decides.  No answer ever carries the secret, only the file's path. */
#include "api/api_inference.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_int.h"
#include "api/control_client.h"
#include "common/fsutil.h"
#include "common/paths.h"
#include "enforcer/proxy/inference.h"

static unsigned err_json(json_t **resp, unsigned status, const char *error, const char *detail)
{
	*resp = json_pack("{s:s, s:s}", "error", error, "detail", detail);
	return status;
}

static unsigned status_of(const char *kind)
{
	if (!kind)
		return 500;
	if (!strcmp(kind, "invalid") || !strcmp(kind, "credential"))
		return 422;
	if (!strcmp(kind, "bad_request"))
		return 400;
	return 500;
}

/* One sandbox's control socket: 0 and *resp, or -errno with err. */
static int ctl(const char *root, const char *name, const char *op, const char *scope, json_t *route,
               json_t **resp, char *err, size_t errlen)
{
	json_t *req = json_pack("{s:s, s:s}", "op", op, "scope", scope);
	if (route)
		json_object_set(req, "route", route);
	int rc = gb_ctl_call(root, name, req, resp, err, errlen);
	json_decref(req);
	return rc;
}

static const char *ctl_op(const char *op)
{
	return !strcmp(op, "set") ? "inference_set" : !strcmp(op, "clear") ? "inference_clear"
	                                                                   : "inference_get";
}

static unsigned one_sandbox(const char *root, const char *name, const char *op, json_t *route,
                            json_t **resp)
{
	if (!gb_sandbox_name_valid(name))
		return err_json(resp, 400, "invalid_name", "not a sandbox name (1-63 of A-Z a-z 0-9 . _ -)");
	char err[600];
	json_t *a = NULL;
	int rc = ctl(root, name, ctl_op(op), "sandbox", route, &a, err, sizeof err);
	if (rc == -ENOENT)
		return err_json(resp, 404, "not_found", err);
	if (rc < 0)
		return err_json(resp, 502, "supervisor_unreachable", err);
	if (!json_is_true(json_object_get(a, "ok"))) {
		const char *kind = json_string_value(json_object_get(a, "error"));
		const char *det = json_string_value(json_object_get(a, "detail"));
		unsigned st = err_json(resp, status_of(kind), kind ? kind : "internal", det ? det : "");
		json_decref(a);
		return st;
	}
	*resp = json_pack("{s:s, s:s, s:O}", "scope", "sandbox", "sandbox", name, "route",
	                  json_object_get(a, "route"));
	json_decref(a);
	return 200;
}

/* The running sandboxes' names (at most max), for a default change. */
static size_t sandboxes(const char *root, char names[][64], size_t max)
{
	char dir[4096];
	if (gb_path_sandboxes(dir, sizeof dir, root) < 0)
		return 0;
	DIR *d = opendir(dir);
	size_t n = 0;
	for (struct dirent *e; d && n < max && (e = readdir(d));)
		if (gb_sandbox_name_valid(e->d_name) && strlen(e->d_name) < 64)
			snprintf(names[n++], 64, "%.63s", e->d_name);
	if (d)
		closedir(d);
	return n;
}

/* Push a default change (or read every route, for get) to each running
 * sandbox; their answers into an array. */
static json_t *push(const char *root, const char *op, json_t *route)
{
	static char names[256][64];
	size_t n = sandboxes(root, names, 256);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *a = NULL;
		char err[600];
		int rc = ctl(root, names[i], ctl_op(op), "default", route, &a, err, sizeof err);
		if (rc == -ENOENT)
			continue; /* not running */
		json_t *s = json_pack("{s:s}", "name", names[i]);
		if (rc < 0) {
			json_object_set_new(s, "error", json_string(err));
		} else if (!json_is_true(json_object_get(a, "ok"))) {
			json_object_set(s, "error", json_object_get(a, "detail"));
		} else {
			json_object_set(s, "route", json_object_get(a, "route"));
			if (json_object_get(a, "applied"))
				json_object_set(s, "applied", json_object_get(a, "applied"));
		}
		json_decref(a);
		json_array_append_new(arr, s);
	}
	return arr;
}

static pthread_mutex_t default_mu = PTHREAD_MUTEX_INITIALIZER;

unsigned gb_inference_apply(const char *root, const char *name, const char *op, json_t *route,
                            json_t **resp)
{
	*resp = NULL;
	if (strcmp(op, "get") && strcmp(op, "set") && strcmp(op, "clear"))
		return err_json(resp, 400, "bad_request", "op is get, set or clear");
	char err[700];
	struct gb_inf_route *r = NULL;
	if (!strcmp(op, "set")) {
		/* the same checks the supervisor makes, before anything changes */
		int rc = gb_inf_route_parse(route, false, &r, err, sizeof err);
		if (rc == 0)
			rc = gb_inf_credential_check(r->credential_file, err, sizeof err);
		if (rc < 0) {
			gb_inf_route_free(r);
			return err_json(resp, 422, rc == -EINVAL ? "invalid" : "credential", err);
		}
	}
	if (name) {
		unsigned st = one_sandbox(root, name, op, route, resp);
		gb_inf_route_free(r);
		return st;
	}
	char path[4096];
	if (gb_inference_default_path(path, sizeof path, root) < 0) {
		gb_inf_route_free(r);
		return err_json(resp, 400, "bad_request", "--root is too long");
	}
	pthread_mutex_lock(&default_mu); /* one default change at a time */
	unsigned status = 200;
	json_t *stored = NULL;
	if (!strcmp(op, "set")) {
		stored = gb_inf_route_json(r); /* normalised: no origin, no secret */
		json_object_del(stored, "origin");
		json_object_del(stored, "generation");
		char *text = json_dumps(stored, JSON_INDENT(2) | JSON_SORT_KEYS);
		char dir[4096];
		snprintf(dir, sizeof dir, "%s", path);
		*strrchr(dir, '/') = '\0';
		int rc = text ? gb_mkdir_p(dir, 0755, 0755) : -ENOMEM;
		if (rc == 0)
			rc = gb_write_file_atomic(path, text, strlen(text), 0600, 0);
		free(text);
		if (rc < 0) {
			snprintf(err, sizeof err, "writing %.500s: %s", path, strerror(-rc));
			status = err_json(resp, 500, "internal", err);
		}
	} else if (!strcmp(op, "clear")) {
		if (unlink(path) < 0 && errno != ENOENT) {
			snprintf(err, sizeof err, "removing %.500s: %s", path, strerror(errno));
			status = err_json(resp, 500, "internal", err);
		}
	} else {
		json_error_t je;
		stored = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	}
	if (status == 200)
		*resp = json_pack("{s:s, s:o, s:o}", "scope", "default", "route",
		                  stored ? json_incref(stored) : json_null(), "sandboxes",
		                  push(root, op, stored));
	json_decref(stored);
	pthread_mutex_unlock(&default_mu);
	gb_inf_route_free(r);
	return status;
}

/* ---- the route ---- */

enum MHD_Result api_inference(struct api_req *r)
{
	const char *m = r->method, *op;
	if (!strcmp(m, "GET") || !strcmp(m, "HEAD"))
		op = "get";
	else if (!strcmp(m, "PUT"))
		op = "set";
	else if (!strcmp(m, "DELETE"))
		op = "clear";
	else
		return api_error(r, 405, "method_not_allowed", "GET, PUT (set) or DELETE (clear)");
	json_t *route = NULL;
	if (!strcmp(op, "set")) {
		json_error_t je;
		route = r->body_len ? json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je) : NULL;
		if (!json_is_object(route)) {
			json_decref(route);
			return api_error(r, 400, "bad_request", "the body must be a route (a JSON object: "
			                 "provider, type, base_url, credential_file, model, timeout_ms)");
		}
	}
	const char *sb = api_arg(r, "sandbox");
	json_t *resp = NULL;
	unsigned st = gb_inference_apply(r->api->has_root ? r->api->root : NULL,
	                                 sb && *sb ? sb : NULL, op, route, &resp);
	json_decref(route);
	return api_json(r, st, resp ? resp : json_pack("{s:s}", "error", "internal"));
}
