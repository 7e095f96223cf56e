/* cli/cmd_advisor.c — `glassbox advisor NAME [list|show ID|approve ID|
 * reject ID --reason R|history] [--status S] [--json]` and
 * `glassbox advisor NAME --export FILE [--base POLICY]`: the policy advisor's proposals for
 * a sandbox, through the daemon's API (api/advisor.h; docs/advisor.md).
 *
 * A proposal is shown like OpenShell's rule view: id, status, rule,
 * binary, endpoint, hits, first/last seen, rationale, risk findings, diff.
 * approve sends the review token of the proposal as shown just before, so
 * a policy that changed in between is refused (and shown again) rather
 * than approved blind.  Exit 0 ok, 1 refused or failed, 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "api/advisor_rule.h"
#include "api/api_client.h"
#include "cli/commands.h"
#include "common/buf.h"
#include "common/fsutil.h"
#include "common/log.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: glassbox advisor NAME [list] [--status pending|approved|rejected|superseded]"
	           " [--json]\n"
	           "       glassbox advisor NAME show ID [--json]\n"
	           "       glassbox advisor NAME approve ID [--json]\n"
	           "       glassbox advisor NAME reject ID --reason R [--json]\n"
	           "       glassbox advisor NAME history [--json]\n"
	           "       glassbox advisor NAME --export FILE [--base POLICY]\n"
	           "  Proposals the advisor derived from the sandbox's denials (needs glassbox\n"
	           "  serve).  approve applies the proposal as shown now (its review token):\n"
	           "  when the running policy changed in between it is refused and shown again.\n"
	           "  --export writes the network policy covering every denial seen (learn mode:\n"
	           "  glassbox run --learn); with --base, POLICY's sections and entries plus the\n"
	           "  learned entries, a file to run the same workload with (--policy).\n");
}

static int request(const char *method, const char *path, const char *body, json_t **out,
                   long *status)
{
	char err[512], *resp = NULL;
	int rc = gb_apic_request(gb_globals.root, method, path, body, body ? strlen(body) : 0, status,
	                         &resp, err, sizeof err);
	if (rc < 0) {
		gb_log_error("advisor", "%s", err);
		return -1;
	}
	*out = json_loads(resp, 0, NULL);
	free(resp);
	if (!*out) {
		gb_log_error("advisor", "the API's answer is not JSON");
		return -1;
	}
	return 0;
}

static void when(json_t *ns, char *out, size_t len)
{
	time_t t = (time_t)(json_integer_value(ns) / 1000000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void show(json_t *p, int full)
{
	char f[32], l[32];
	when(json_object_get(p, "first_seen_ns"), f, sizeof f);
	when(json_object_get(p, "last_seen_ns"), l, sizeof l);
	const char *method = json_string_value(json_object_get(p, "method"));
	printf("%-6lld %-10s %s\n", (long long)json_integer_value(json_object_get(p, "id")),
	       json_string_value(json_object_get(p, "status")),
	       json_string_value(json_object_get(p, "rule_name")));
	size_t i;
	json_t *v;
	if (!strcmp(json_string_value(json_object_get(p, "author")) ?: "", "agent"))
		printf("       author:    the agent (policy.local): a rule it wrote, not one derived "
		       "from denials\n");
	json_array_foreach(json_object_get(p, "binaries"), i, v)
		printf("       binary:    %s\n", json_string_value(v));
	printf("       endpoint:  %s:%lld %s\n", json_string_value(json_object_get(p, "host")),
	       (long long)json_integer_value(json_object_get(p, "port")),
	       json_string_value(json_object_get(p, "layer")));
	json_array_foreach(json_object_get(p, "path_rules"), i, v)
		printf("       rule:      %s %s\n", method, json_string_value(v));
	printf("       hits:      %lld (first %s, last %s)\n",
	       (long long)json_integer_value(json_object_get(p, "hits")), f, l);
	const char *reason = json_string_value(json_object_get(p, "reason"));
	if (reason && *reason)
		printf("       reason:    %s\n", reason);
	if (!full)
		return;
	printf("       rationale: %s\n", json_string_value(json_object_get(p, "rationale")));
	json_t *fs = json_object_get(p, "findings");
	if (!json_array_size(fs))
		printf("       risk:      none found\n");
	json_array_foreach(fs, i, v)
		printf("       risk:      %s: %s\n", json_string_value(json_object_get(v, "kind")),
		       json_string_value(json_object_get(v, "reason")));
	printf("%s", json_string_value(json_object_get(p, "diff")));
}

static int answer(json_t *o, long status, int as_json)
{
	if (as_json) {
		char *s = json_dumps(o, JSON_INDENT(2));
		printf("%s\n", s ? s : "{}");
		free(s);
	}
	if (status != 200) {
		gb_log_error("advisor", "%s: %s", json_string_value(json_object_get(o, "error")) ?: "?",
		             json_string_value(json_object_get(o, "detail")) ?: "");
		json_t *p = json_object_get(o, "proposal");
		if (p && !as_json) {
			printf("the proposal as it stands now:\n");
			show(p, 1);
		}
		return 1;
	}
	return 0;
}

int cmd_advisor(int argc, char **argv)
{
	const char *name = NULL, *verb = "list", *id = NULL, *reason = NULL, *status = NULL,
	           *export = NULL, *base = NULL;
	int as_json = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--json"))
			as_json = 1;
		else if (!strcmp(a, "--reason") && i + 1 < argc)
			reason = argv[++i];
		else if (!strcmp(a, "--status") && i + 1 < argc)
			status = argv[++i];
		else if (!strcmp(a, "--export") && i + 1 < argc)
			export = argv[++i];
		else if (!strcmp(a, "--base") && i + 1 < argc)
			base = argv[++i];
		else if (!name)
			name = a;
		else if (!strcmp(verb, "list") && !id &&
		         (!strcmp(a, "list") || !strcmp(a, "show") || !strcmp(a, "approve") ||
		          !strcmp(a, "reject") || !strcmp(a, "history")))
			verb = a;
		else if (!id && strcmp(verb, "list") && strcmp(verb, "history"))
			id = a;
		else {
			usage(stderr);
			return 2;
		}
	}
	int needs_id = !strcmp(verb, "show") || !strcmp(verb, "approve") || !strcmp(verb, "reject");
	if (!name || needs_id != !!id || (!strcmp(verb, "reject") && !reason) || (base && !export)) {
		usage(stderr);
		return 2;
	}
	char path[512];
	json_t *o = NULL;
	long st = 0;
	size_t i;
	json_t *v;
	if (export) {
		snprintf(path, sizeof path, "/v1/sandboxes/%s/advisor/export", name);
		if (request("GET", path, NULL, &o, &st) < 0)
			return 1;
		int rc = answer(o, st, 0);
		if (!rc) {
			const char *y = json_string_value(json_object_get(o, "yaml"));
			struct gb_buf b = GB_BUF_INIT;
			char err[512];
			int wr = 0;
			if (base && gb_adv_export_with_base(base, y ? y : "", &b, err, sizeof err) < 0) {
				gb_log_error("advisor", "--base %s", err);
				rc = 1;
			} else if (!y || (wr = gb_write_file_atomic(export, base ? b.data : y,
			                                            base ? b.len : strlen(y), 0644,
			                                            0)) < 0) {
				gb_log_error("advisor", "cannot write %s: %s", export,
				             y ? strerror(-wr) : "no policy in the answer");
				rc = 1;
			} else if (!as_json) {
				printf("wrote %s: %lld learned entr%s%s\n", export,
				       (long long)json_integer_value(json_object_get(o, "entries")),
				       json_integer_value(json_object_get(o, "entries")) == 1 ? "y" : "ies",
				       base ? " with the base policy" : "");
			}
			gb_buf_free(&b);
		}
		json_decref(o);
		return rc;
	}
	if (!strcmp(verb, "list") || !strcmp(verb, "history")) {
		snprintf(path, sizeof path, "/v1/sandboxes/%s/advisor/%s%s%s", name,
		         verb[0] == 'l' ? "suggestions" : "history", status ? "?status=" : "",
		         status ? status : "");
		if (request("GET", path, NULL, &o, &st) < 0)
			return 1;
		int rc = answer(o, st, as_json);
		if (!rc && !as_json && verb[0] == 'l') {
			if (!json_array_size(json_object_get(o, "suggestions")))
				printf("no proposals for %s\n", name);
			json_array_foreach(json_object_get(o, "suggestions"), i, v)
				show(v, 0);
		} else if (!rc && !as_json) {
			json_array_foreach(json_object_get(o, "history"), i, v) {
				char t[32];
				when(json_object_get(v, "time_ns"), t, sizeof t);
				printf("%s  proposal %-5lld %-12s %s  %s\n", t,
				       (long long)json_integer_value(json_object_get(v, "proposal")),
				       json_string_value(json_object_get(v, "action")),
				       json_string_value(json_object_get(v, "actor")),
				       json_string_value(json_object_get(v, "detail")));
			}
		}
		json_decref(o);
		return rc;
	}
	snprintf(path, sizeof path, "/v1/sandboxes/%s/advisor/suggestions/%s", name, id);
	if (request("GET", path, NULL, &o, &st) < 0)
		return 1;
	if (!strcmp(verb, "show") || st != 200) {
		int rc = answer(o, st, as_json);
		if (!rc && !as_json)
			show(o, 1);
		json_decref(o);
		return rc;
	}
	char *body = NULL;
	if (!strcmp(verb, "approve")) {
		const char *tok = json_string_value(json_object_get(o, "review_token"));
		json_t *b = json_pack("{s:s?}", "token", tok);
		body = json_dumps(b, JSON_COMPACT);
		json_decref(b);
	} else {
		json_t *b = json_pack("{s:s}", "reason", reason);
		body = json_dumps(b, JSON_COMPACT);
		json_decref(b);
	}
	json_decref(o);
	o = NULL;
	snprintf(path, sizeof path, "/v1/sandboxes/%s/advisor/suggestions/%s/%s", name, id, verb);
	int rc = request("POST", path, body, &o, &st);
	free(body);
	if (rc < 0)
		return 1;
	rc = answer(o, st, as_json);
	if (!rc && !as_json) {
		json_t *p = json_object_get(o, "proposal");
		if (!strcmp(verb, "approve"))
			printf("proposal %s approved: revision %lld is live\n", id,
			       (long long)json_integer_value(json_object_get(o, "revision")));
		else
			printf("proposal %s rejected: %s\n", id,
			       json_string_value(json_object_get(p, "reason")));
	}
	json_decref(o);
	return rc;
}
