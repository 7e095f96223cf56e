/* cli/cmd_dashboard.c — `glassbox dashboard`: asks the running daemon
 * (POST /v1/dashboard on its unix socket, root only) to start or reuse
 * its TCP listener on loopback and mint a token, then prints the URL.
 *
 * The token travels in the URL's fragment (#token=...): a browser never
 * sends a fragment to a server, so no access log, proxy or Referer sees
 * it; the page moves it into sessionStorage, strips it from the address
 * bar (history.replaceState) and sends it as Authorization: Bearer. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_client.h"
#include "cli/commands.h"
#include "common/log.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: glassbox dashboard [--listen 127.0.0.1:PORT] [--json]\n"
	           "  Print the web dashboard's URL with a new one-time token.  The daemon\n"
	           "  (glassbox serve) starts its TCP listener on loopback if none runs\n"
	           "  (--listen, default a free port) or reuses the one it has.  The token\n"
	           "  is in the URL's fragment, which browsers never send or log; it is\n"
	           "  valid until the daemon stops.\n"
	           "  --json  {\"url\",\"port\",\"token\",\"reused\"} as the daemon answered\n");
}

int cmd_dashboard(int argc, char **argv)
{
	const char *listen = NULL;
	int as_json = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--json")) {
			as_json = 1;
		} else if (!strcmp(argv[i], "--listen") && i + 1 < argc) {
			listen = argv[++i];
		} else {
			gb_log_error("dashboard", "unexpected argument '%s'", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	char *body = NULL;
	if (listen) {
		json_t *o = json_pack("{s:s}", "listen", listen);
		body = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
	}
	long status = 0;
	char *resp = NULL, err[512];
	int rc = gb_apic_request(gb_globals.root, "POST", "/v1/dashboard", body,
	                         body ? strlen(body) : 0, &status, &resp, err, sizeof err);
	free(body);
	if (rc < 0) {
		gb_log_error("dashboard", "%s (the dashboard is served by glassbox serve: start it "
		             "first)", err);
		return 1;
	}
	json_t *o = json_loads(resp, 0, NULL);
	free(resp);
	if (status != 200 || !o) {
		gb_log_error("dashboard", "the daemon refused (%ld): %s", status,
		             o ? json_string_value(json_object_get(o, "detail")) : "not JSON");
		json_decref(o);
		return 1;
	}
	const char *url = json_string_value(json_object_get(o, "url"));
	const char *tok = json_string_value(json_object_get(o, "token"));
	if (!url || !tok) {
		gb_log_error("dashboard", "the daemon's answer has no url or token");
		json_decref(o);
		return 1;
	}
	if (as_json) {
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
	} else {
		printf("%s#token=%s\n", url, tok);
		gb_log_info("dashboard", "%s listener; open the URL above in a browser on this host",
		            json_is_true(json_object_get(o, "reused")) ? "reusing the daemon's"
		                                                         : "started a");
	}
	json_decref(o);
	return 0;
}
