/* api/api_policy.c — /v1/sandboxes/NAME/policy (GET; PUT = set, PATCH =
 * update, body = the policy file, YAML) and .../policy/revisions, relayed
 * to the supervisor's control socket (enforcer/sandbox/control.h), which
 * validates, swaps and records.  The supervisor's refusal kinds map to
 * statuses: invalid -> 422 (with every line:col diagnostic), static -> 409,
 * not_found -> 404, bad_request -> 400. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "api/control_client.h"

static unsigned status_of(const char *kind)
{
	static const struct { const char *k; unsigned s; } map[] = {
		{ "invalid", 422 }, { "static", 409 }, { "not_found", 404 }, { "bad_request", 400 },
		{ "too_large", 413 }, { "forbidden", 403 },
	};
	for (size_t i = 0; kind && i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(kind, map[i].k))
			return map[i].s;
	return 500;
}

/* Who asked, for the revision's author: the kernel's word on the unix
 * socket (SO_PEERCRED), the address on TCP (where the token vouched). */
void api_caller(struct api_req *r, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(r->c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct ucred cr;
	socklen_t cl = sizeof cr;
	if (ci && getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0 && cr.pid > 0) {
		snprintf(out, len, "api %s by uid %u pid %d", r->method, (unsigned)cr.uid, (int)cr.pid);
		return;
	}
	ci = MHD_get_connection_info(r->c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char host[INET6_ADDRSTRLEN] = "?";
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof host);
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host, sizeof host);
	}
	snprintf(out, len, "api %s from %s with the bearer token", r->method, host);
}

enum MHD_Result api_policy(struct api_req *r)
{
	int revisions = !strcmp(r->sub, "policy/revisions");
	const char *m = r->method;
	json_t *req;
	if (!strcmp(m, "GET") || !strcmp(m, "HEAD")) {
		req = json_pack("{s:s}", "op", revisions ? "history" : "get");
		const char *rv = api_arg(r, "revision");
		if (rv && !revisions) {
			char *end;
			long long v = strtoll(rv, &end, 10);
			if (!*rv || *end || v < 1) {
				json_decref(req);
				return api_error(r, 400, "bad_request", "revision must be a positive integer");
			}
			json_object_set_new(req, "revision", json_integer(v));
		}
	} else if (!revisions && (!strcmp(m, "PUT") || !strcmp(m, "PATCH"))) {
		if (!r->body_len)
			return api_error(r, 400, "bad_request", "the body must be a policy file (YAML)");
		json_t *y = json_stringn(r->body, r->body_len);
		if (!y)
			return api_error(r, 400, "bad_request", "the body is not UTF-8 text");
		char who[160], file[128];
		api_caller(r, who, sizeof who);
		/* the client's name for the file, for the diagnostics */
		const char *fa = api_arg(r, "file");
		snprintf(file, sizeof file, "%s", fa && *fa ? fa : "request body");
		for (char *p = file; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		req = json_pack("{s:s, s:o, s:s, s:s}", "op", m[1] == 'U' ? "set" : "update", "yaml", y,
		                "file", file, "who", who);
	} else {
		return api_error(r, 405, "method_not_allowed",
		                 revisions ? "GET only" : "GET, PUT (set) or PATCH (update)");
	}
	long pid;
	if (!api_sandbox_alive(r->api, r->name, &pid)) {
		json_decref(req);
		return api_error(r, 404, "not_found", "no sandbox named '%s' is running", r->name);
	}
	json_t *resp = NULL;
	char err[512];
	int rc = gb_ctl_call(r->api->has_root ? r->api->root : NULL, r->name, req, &resp, err,
	                     sizeof err);
	json_decref(req);
	if (rc == -ENOENT)
		return api_error(r, 404, "not_found", "%s", err);
	if (rc < 0)
		return api_error(r, 502, "supervisor_unreachable", "%s", err);
	if (!json_is_true(json_object_get(resp, "ok"))) {
		const char *kind = json_string_value(json_object_get(resp, "error"));
		json_t *o = json_pack("{s:s, s:O}", "error", kind ? kind : "internal", "detail",
		                      json_object_get(resp, "detail"));
		json_t *dg = json_object_get(resp, "diagnostics");
		if (dg)
			json_object_set(o, "diagnostics", dg);
		unsigned status = status_of(kind); /* kind lives in resp */
		json_decref(resp);
		return api_json(r, status, o);
	}
	json_object_del(resp, "ok");
	json_object_set_new(resp, "sandbox", json_string(r->name));
	return api_json(r, 200, resp);
}
