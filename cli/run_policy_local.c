/* cli/run_policy_local.c — see run_policy_local.h.  Asked at most once a
 * second per waiting request (policy_local_serve.c), over the daemon's unix
 * socket, from the supervisor's side: the sandbox never reaches it. */
#include "cli/run_policy_local.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/api_client.h"

int gb_run_pl_decision(void *ctx, const char *sandbox, const char *key, const char *yaml,
                       char *status, size_t sn, char *reason, size_t rn, long long *id)
{
	const char *root = ctx;
	char path[300], err[256];
	snprintf(path, sizeof path, "/v1/sandboxes/%s/advisor/suggestions", sandbox);
	long st = 0;
	char *body = NULL;
	int rc = gb_apic_request(root, "GET", path, NULL, 0, &st, &body, err, sizeof err);
	if (rc < 0)
		return rc;
	json_t *j = st == 200 && body ? json_loads(body, 0, NULL) : NULL;
	free(body);
	if (!j)
		return st == 404 ? 0 : -EPROTO;
	json_t *list = json_object_get(j, "suggestions"), *v, *best = NULL;
	size_t i;
	json_array_foreach(list, i, v) {
		const char *a = json_string_value(json_object_get(v, "author"));
		const char *k = json_string_value(json_object_get(v, "rule_name"));
		const char *y = json_string_value(json_object_get(v, "yaml"));
		if (a && k && y && !strcmp(a, "agent") && !strcmp(k, key) && !strcmp(y, yaml) &&
		    (!best || json_integer_value(json_object_get(v, "id")) >
		                  json_integer_value(json_object_get(best, "id"))))
			best = v;
	}
	rc = 0;
	if (best) {
		const char *s = json_string_value(json_object_get(best, "status"));
		const char *r = json_string_value(json_object_get(best, "reason"));
		snprintf(status, sn, "%s", s ? s : "pending");
		snprintf(reason, rn, "%s", r ? r : "");
		*id = (long long)json_integer_value(json_object_get(best, "id"));
		rc = 1;
	}
	json_decref(j);
	return rc;
}
