/* cli/cmd_journal.c — `glassbox journal verify [--journal DIR] [--key PUB]
 * [--since WHEN]`: check that no sealed segment was altered, removed or
 * reordered (exporter/journal.h), then what the signed checkpoints prove
 * (cmd_journal_sign.c); `glassbox journal key` prints the public key. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "common/paths.h"
#include "exporter/config.h"
#include "exporter/journal.h"
#include "common/log.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: glassbox journal verify [--journal DIR] [--key PUB.pem] [--since WHEN]\n"
	           "       glassbox journal key [--keys DIR]\n"
	           "  Check every sealed segment against its SHA-256, the chain of previous-segment\n"
	           "  hashes, head.json and its frame index.  Exit 0 intact, 1 problems found\n"
	           "  (each printed), 2 usage error or unreadable journal.\n"
	           "  Then check every signed checkpoint and say which events are proven, which\n"
	           "  unproven (after the last checkpoint) and where any break is.\n"
	           "  --journal  journal directory (default <root>/" GB_REL_JOURNAL ")\n"
	           "  --key      the public key to trust (default <root>/" GB_REL_KEYS "/journal.pub;\n"
	           "             an auditor passes the copy printed by `glassbox journal key`)\n"
	           "  --since    only segments with events since then (10m, 30d, epoch ms, ISO time)\n");
}

static void report(void *arg, const char *text)
{
	(void)arg;
	printf("problem: %s\n", text);
}

int cmd_journal(int argc, char **argv)
{
	const char *journal = NULL, *key = NULL;
	int64_t since = 0;
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "key"))
		return cmd_journal_key(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify")) {
		gb_log_error("journal", "unknown subcommand '%s'", argv[1]);
		usage(stderr);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--journal") && i + 1 < argc)
			journal = argv[++i];
		else if (!strcmp(argv[i], "--key") && i + 1 < argc)
			key = argv[++i];
		else if (!strcmp(argv[i], "--since") && i + 1 < argc) {
			if (gb_cli_parse_when(argv[++i], &since) < 0) {
				gb_log_error("journal verify", "--since: '%s' is not a time", argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			gb_log_error("journal verify", "unexpected '%s'", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	struct gb_daemon_config cfg;
	gb_daemon_config_defaults(&cfg, gb_globals.root);
	if (!journal)
		journal = cfg.journal_dir;
	uint64_t n = 0;
	int rc = gb_journal_verify(journal, report, NULL, &n);
	if (rc < 0) {
		gb_log_error("journal verify", "%s: %s", journal, strerror(-rc));
		return 2;
	}
	if (rc > 0)
		printf("%s: %d problem%s in %llu sealed segment%s\n", journal, rc, rc == 1 ? "" : "s",
		       (unsigned long long)n, n == 1 ? "" : "s");
	else
		printf("%s: intact, %llu sealed segment%s\n", journal, (unsigned long long)n, n == 1 ? "" : "s");
	int src = journal_verify_signed(journal, key, since);
	return src == 2 ? 2 : rc > 0 || src ? 1 : 0;
}
