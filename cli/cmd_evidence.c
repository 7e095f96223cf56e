/* cli/cmd_evidence.c — `glassbox evidence export|verify`: the bundle an
 * auditor checks on another machine (exporter/evidence.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "common/log.h"
#include "common/paths.h"
#include "exporter/config.h"
#include "exporter/evidence.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: glassbox evidence export --out FILE.tar [--since WHEN] [--sandbox NAME] [--journal DIR]\n"
	           "       glassbox evidence verify FILE.tar [--key PUB.pem]\n"
	           "  export: the segments and indexes covering the range, their signed checkpoints,\n"
	           "  the public key, the policy revisions (CONFIG events) and a manifest of SHA-256s.\n"
	           "  verify: needs nothing but the bundle (--key: the host key to trust instead of\n"
	           "  the bundled copy); says what is proven and names the events of any member that\n"
	           "  differs.  Exit 0 ok, 1 problems, 2 usage or unreadable bundle.\n");
}

static void report(void *arg, const char *text)
{
	(void)arg;
	printf("problem: %s\n", text);
}

static int do_export(int argc, char **argv)
{
	struct gb_daemon_config cfg;
	gb_daemon_config_defaults(&cfg, gb_globals.root);
	struct gb_evidence_opts o = { .journal_dir = cfg.journal_dir };
	char pub[GB_PATH_MAX], keys[GB_PATH_MAX], host[256] = "";
	gb_path_keys(keys, sizeof keys, gb_globals.root);
	gb_path_join(pub, sizeof pub, keys, GB_CKPT_PUB_FILE);
	o.pub_path = pub;
	gethostname(host, sizeof host - 1);
	o.hostname = host;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			gb_log_error("evidence export", "'%s' needs a value", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--out"))
			o.out = v;
		else if (!strcmp(a, "--sandbox"))
			o.sandbox = v;
		else if (!strcmp(a, "--journal"))
			o.journal_dir = v;
		else if (!strcmp(a, "--since")) {
			if (gb_cli_parse_when(v, &o.since_ms) < 0) {
				gb_log_error("evidence export", "--since: '%s' is not a time", v);
				return 2;
			}
		} else {
			gb_log_error("evidence export", "unexpected '%s'", a);
			usage(stderr);
			return 2;
		}
	}
	if (!o.out) {
		gb_log_error("evidence export", "--out FILE.tar is required");
		return 2;
	}
	struct gb_evidence_stats st;
	char err[512] = "";
	int rc = gb_evidence_export(&o, &st, err, sizeof err);
	if (rc < 0) {
		gb_log_error("evidence export", "%s", err);
		return 1;
	}
	printf("%s: %" PRIu64 " segments, %" PRIu64 " events, %" PRIu64 " checkpoints, %" PRIu64
	       " policy events\n", o.out, st.segments, st.events, st.checkpoints, st.config_events);
	return 0;
}

static int do_verify(int argc, char **argv)
{
	const char *file = NULL, *key = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--key") && i + 1 < argc)
			key = argv[++i];
		else if (!file && argv[i][0] != '-')
			file = argv[i];
		else {
			gb_log_error("evidence verify", "unexpected '%s'", argv[i]);
			return 2;
		}
	}
	if (!file) {
		usage(stderr);
		return 2;
	}
	struct gb_ckpt_result res;
	char err[512], id[17] = "";
	int rc = gb_evidence_verify(file, key, report, NULL, &res, id, err, sizeof err);
	if (rc < 0) {
		gb_log_error("evidence verify", "%s", err);
		return 2;
	}
	if (!key)
		printf("key: %s, the copy inside the bundle (pass --key with the host's published key "
		       "to trust it)\n", id);
	journal_print_proof(&res, rc);
	gb_ckpt_result_free(&res);
	printf("%s: %s\n", file, rc ? "PROBLEMS" : "ok");
	return rc ? 1 : 0;
}

int cmd_evidence(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "export"))
		return do_export(argc - 1, argv + 1);
	if (!strcmp(argv[1], "verify"))
		return do_verify(argc - 1, argv + 1);
	gb_log_error("evidence", "unknown subcommand '%s'", argv[1]);
	usage(stderr);
	return 2;
}
