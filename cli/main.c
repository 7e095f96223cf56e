/* cli/main.c — `glassbox [--root DIR] COMMAND [ARGS]`: global options and
 * dispatch.  Nothing here a test would need to reach. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "common/array.h"
#include "common/log.h"

struct gb_globals gb_globals;

static int cmd_version(int argc, char **argv);

/* Keep this table sorted; --help prints it in this order. */
static const struct gb_command commands[] = {
	{ "advisor", "review rules proposed from a sandbox's denials", cmd_advisor },
	{ "dashboard", "open the web dashboard: a loopback URL with a one-time token", cmd_dashboard },
	{ "evidence", "export or verify an offline-verifiable evidence bundle", cmd_evidence },
	{ "inference", "the inference.local route: set, get, clear", cmd_inference },
	{ "journal", "verify the journal (chain, signed checkpoints); print its key", cmd_journal },
	{ "logs", "show a sandbox's events (from the daemon, or the journal)", cmd_logs },
	{ "ls", "list the sandboxes, their state and policy revision", cmd_ls },
	{ "policy", "check or explain a policy; get, set, update, history live", cmd_policy },
	{ "proxy", "run the egress proxy alone (tests, host use)", cmd_proxy },
	{ "report", "the audit report (html, md, json) over a period", cmd_report },
	{ "run", "run a command in a new sandbox", cmd_run },
	{ "serve", "the host daemon: rings -> OCSF -> journal -> sinks; the REST API", cmd_serve },
	{ "version", "print the version", cmd_version },
};

static int cmd_version(int argc, char **argv)
{
	printf("glassbox %s\n", GB_VERSION);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
	    "usage: glassbox [--root DIR] COMMAND [ARGS...]\n"
	    "\n"
	    "glassbox runs untrusted programs in a Linux sandbox, decides every outbound\n"
	    "connection against a policy and records every decision as an OCSF event.\n"
	    "\n"
	    "global options:\n"
	    "  --root DIR   prefix every runtime, state and config path with DIR\n"
	    "               (default: $GLASSBOX_ROOT, else /)\n"
	    "  -q, --quiet  only errors on stderr\n"
	    "  -v, --verbose  debug messages on stderr as well\n"
	    "  --version    print the version and exit\n"
	    "  -h, --help   this text; `glassbox COMMAND --help` for a command\n"
	    "\n"
	    "commands:\n");
	for (size_t i = 0; i < GB_ARRAY_LEN(commands); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
	int i = 1;
	gb_globals.root = getenv("GLASSBOX_ROOT");
	if (gb_globals.root && !*gb_globals.root)
		gb_globals.root = NULL;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("glassbox %s\n", GB_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			gb_log_set_level(GB_LOG_ERROR);
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			gb_log_set_level(GB_LOG_DEBUG);
		} else if (!strcmp(argv[i], "--root") && i + 1 < argc) {
			gb_globals.root = argv[++i];
		} else if (!strncmp(argv[i], "--root=", 7)) {
			gb_globals.root = argv[i] + 7;
		} else {
			gb_log_error(NULL, "unknown option '%s'", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t c = 0; c < GB_ARRAY_LEN(commands); c++)
		if (!strcmp(argv[i], commands[c].name))
			return commands[c].run(argc - i, argv + i);
	gb_log_error(NULL, "unknown command '%s' (see glassbox --help)", argv[i]);
	return 2;
}
