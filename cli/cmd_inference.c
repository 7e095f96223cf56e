/* cli/cmd_inference.c — `glassbox inference set|get|clear`: the route the
 * proxy's inference.local uses (api/api_inference.h has the scopes and
 * the guarantees; docs/inference.md the rest).
 *
 *   set --provider NAME --type openai|anthropic --base-url URL
 *       --credential-file FILE --model ID [--timeout 60s] [--sandbox NAME]
 *   get [--sandbox NAME]
 *   clear [--sandbox NAME]
 * Without --sandbox: the host default (every sandbox starting later, and
 * every running one without a route of its own, at once).  --json prints
 * the answer as JSON.  Exit 0 ok, 1 refused or failed, 2 usage.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_inference.h"
#include "cli/commands.h"
#include "common/log.h"
#include "common/units.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: glassbox inference set --provider NAME --type openai|anthropic --base-url URL\n"
	           "                              --credential-file FILE --model ID [--timeout 60s]\n"
	           "                              [--sandbox NAME] [--json]\n"
	           "       glassbox inference get [--sandbox NAME] [--json]\n"
	           "       glassbox inference clear [--sandbox NAME] [--json]\n"
	           "  The route of inference.local inside sandboxes: the proxy calls the provider\n"
	           "  with the credential in FILE (root-owned, mode 0600), which the sandbox never\n"
	           "  sees.  Without --sandbox the host default is changed (it reaches running\n"
	           "  sandboxes without a route of their own at once); with it, one running sandbox.\n");
}

static void print_route(json_t *r, const char *indent)
{
	if (!json_is_object(r)) {
		printf("%sno route (inference.local answers 503)\n", indent);
		return;
	}
	printf("%sprovider %s (%s) %s model %s timeout %lldms credential %s%s%s\n", indent,
	       json_string_value(json_object_get(r, "provider")),
	       json_string_value(json_object_get(r, "type")),
	       json_string_value(json_object_get(r, "base_url")),
	       json_string_value(json_object_get(r, "model")),
	       (long long)json_integer_value(json_object_get(r, "timeout_ms")),
	       json_string_value(json_object_get(r, "credential_file")),
	       json_object_get(r, "origin") ? " origin " : "",
	       json_object_get(r, "origin") ? json_string_value(json_object_get(r, "origin")) : "");
}

int cmd_inference(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *op = argv[1];
	if (strcmp(op, "set") && strcmp(op, "get") && strcmp(op, "clear")) {
		gb_log_error("inference", "unknown subcommand '%s'", op);
		usage(stderr);
		return 2;
	}
	const char *provider = NULL, *type = NULL, *base = NULL, *cred = NULL, *model = NULL;
	const char *timeout = NULL, *sandbox = NULL;
	bool as_json = false;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--json")) {
			as_json = true;
			continue;
		}
		const char **slot = !strcmp(a, "--sandbox")           ? &sandbox
		                    : strcmp(op, "set")               ? NULL
		                    : !strcmp(a, "--provider")        ? &provider
		                    : !strcmp(a, "--type")            ? &type
		                    : !strcmp(a, "--base-url")        ? &base
		                    : !strcmp(a, "--credential-file") ? &cred
		                    : !strcmp(a, "--model")           ? &model
		                    : !strcmp(a, "--timeout")         ? &timeout
		                                                      : NULL;
		if (!slot || !v) {
			gb_log_error("inference", "%s: %s", a, slot ? "needs a value" : "unknown option");
			usage(stderr);
			return 2;
		}
		*slot = v;
		i++;
	}
	json_t *route = NULL;
	if (!strcmp(op, "set")) {
		if (!provider || !type || !base || !cred || !model) {
			gb_log_error("inference", "set needs --provider, --type, --base-url, "
			             "--credential-file and --model");
			return 2;
		}
		char abs[PATH_MAX + 2], cwd[PATH_MAX];
		if (cred[0] != '/' && getcwd(cwd, sizeof cwd))
			snprintf(abs, sizeof abs, "%.*s/%s", PATH_MAX / 2, cwd, cred);
		else
			snprintf(abs, sizeof abs, "%s", cred);
		uint64_t ms = 60000;
		if (timeout && gb_parse_duration_ms(timeout, &ms) < 0) {
			gb_log_error("inference", "--timeout: '%s' is not a duration (60s, 2m, 500ms)", timeout);
			return 2;
		}
		route = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "provider", provider, "type", type,
		                  "base_url", base, "credential_file", abs, "model", model, "timeout_ms",
		                  (json_int_t)ms);
	}
	json_t *resp = NULL;
	unsigned st = gb_inference_apply(gb_globals.root, sandbox, op, route, &resp);
	json_decref(route);
	if (st != 200) {
		gb_log_error("inference", "%s: %s", json_string_value(json_object_get(resp, "error")),
		             json_string_value(json_object_get(resp, "detail")));
		json_decref(resp);
		return 1;
	}
	if (as_json) {
		char *s = json_dumps(resp, JSON_INDENT(2));
		if (s)
			puts(s);
		free(s);
	} else {
		printf("%s%s:\n", sandbox ? "sandbox " : "host default",
		       sandbox ? sandbox : "");
		print_route(json_object_get(resp, "route"), "  ");
		size_t i;
		json_t *s;
		json_array_foreach(json_object_get(resp, "sandboxes"), i, s) {
			const char *e = json_string_value(json_object_get(s, "error"));
			json_t *ap = json_object_get(s, "applied");
			printf("sandbox %s%s:\n", json_string_value(json_object_get(s, "name")),
			       ap && !json_is_true(ap) ? " (keeps its own route)" : "");
			if (e)
				printf("  error: %s\n", e);
			else
				print_route(json_object_get(s, "route"), "  ");
		}
	}
	json_decref(resp);
	return 0;
}
