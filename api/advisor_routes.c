/* api/advisor_routes.c — the advisor's routes (api.h lists them), thin
 * over advisor.h.  approve takes {"token": REVIEW_TOKEN} (or ?token=),
 * reject {"reason": TEXT} (or ?reason=); both record the caller as SO_PEERCRED
 * or the TCP address says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/advisor.h"
#include "api/api_int.h"

#define MAX_REASON 512

static int parse_id(const char *s, size_t n, int64_t *id)
{
	if (!n || n > 18)
		return -1;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*id = v;
	return v > 0 ? 0 : -1;
}

/* A body field, or the argument of that name. */
static char *field(struct api_req *r, const char *key)
{
	const char *arg = api_arg(r, key);
	if (arg)
		return strdup(arg);
	if (!r->body_len)
		return NULL;
	json_t *o = json_loadb(r->body, r->body_len, 0, NULL);
	const char *v = json_string_value(json_object_get(o, key));
	char *out = v ? strdup(v) : NULL;
	json_decref(o);
	return out;
}

enum MHD_Result api_advisor(struct api_req *r)
{
	struct gb_advisor *a = r->api->advisor;
	if (!a)
		return api_error(r, 503, "advisor_unavailable", "the advisor's ledger did not open "
		                 "(see glassbox serve's log)");
	const char *sub = r->sub + strlen("advisor/");
	int get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
	int post = !strcmp(r->method, "POST");
	json_t *out = NULL;
	unsigned st;
	if (!strcmp(sub, "history") || !strcmp(sub, "export")) {
		if (!get)
			return api_error(r, 405, "method_not_allowed", "GET only");
		gb_advisor_sync(a);
		st = sub[0] == 'h' ? gb_advisor_history(a, r->name, &out)
		                   : gb_advisor_export(a, r->name, &out);
		return api_json(r, st, out);
	}
	static const char pfx[] = "suggestions";
	if (strncmp(sub, pfx, sizeof pfx - 1))
		return api_error(r, 404, "not_found", "no advisor route %s", sub);
	sub += sizeof pfx - 1;
	if (!*sub || !strcmp(sub, "/")) {
		if (!get)
			return api_error(r, 405, "method_not_allowed", "GET only");
		const char *status = api_arg(r, "status");
		if (status && strcmp(status, "pending") && strcmp(status, "approved") &&
		    strcmp(status, "rejected") && strcmp(status, "superseded"))
			return api_error(r, 400, "bad_request", "status is pending, approved, rejected "
			                 "or superseded");
		st = gb_advisor_list(a, r->name, status, &out);
		return api_json(r, st, out);
	}
	if (*sub != '/')
		return api_error(r, 404, "not_found", "no advisor route %s", r->sub);
	sub++;
	const char *slash = strchr(sub, '/');
	int64_t id;
	if (parse_id(sub, slash ? (size_t)(slash - sub) : strlen(sub), &id) < 0)
		return api_error(r, 400, "bad_request", "a proposal id is a positive integer");
	if (!slash) {
		if (!get)
			return api_error(r, 405, "method_not_allowed", "GET only");
		st = gb_advisor_show(a, r->name, id, &out);
		return api_json(r, st, out);
	}
	const char *verb = slash + 1;
	int approve = !strcmp(verb, "approve"), reject = !strcmp(verb, "reject");
	if (!approve && !reject)
		return api_error(r, 404, "not_found", "no advisor route %s", r->sub);
	if (!post)
		return api_error(r, 405, "method_not_allowed", "POST only");
	char who[160];
	api_caller(r, who, sizeof who);
	if (approve) {
		char *tok = field(r, "token");
		st = gb_advisor_approve(a, r->name, id, tok, who, &out);
		free(tok);
	} else {
		char *reason = field(r, "reason");
		if (!reason || !*reason || strlen(reason) > MAX_REASON) {
			free(reason);
			return api_error(r, 400, "bad_request", "reject needs a reason (1-%d bytes)",
			                 MAX_REASON);
		}
		for (char *p = reason; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = ' ';
		st = gb_advisor_reject(a, r->name, id, reason, who, &out);
		free(reason);
	}
	return api_json(r, st, out);
}
