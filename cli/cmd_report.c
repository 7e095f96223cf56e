/* cli/cmd_report.c — `glassbox report [--since WHEN] [--until WHEN]
 * [--sandbox NAME] [--format html|md|json] [--out FILE]`: the audit report
 * (exporter/report.h, docs/compliance.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/paths.h"
#include "exporter/checkpoint.h"
#include "exporter/config.h"
#include "exporter/report.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: glassbox report [--since WHEN] [--until WHEN] [--sandbox NAME]\n"
	           "                       [--format html|md|json] [--out FILE] [--journal DIR] [--key PUB]\n"
	           "  Sandboxes and their posture, every policy revision, destinations per binary,\n"
	           "  findings, loss accounting and the journal's integrity (chain and signed\n"
	           "  checkpoints) over the period.  Default format md, to stdout.\n");
}

int cmd_report(int argc, char **argv)
{
	struct gb_daemon_config cfg;
	gb_daemon_config_defaults(&cfg, gb_globals.root);
	char pub[GB_PATH_MAX], keys[GB_PATH_MAX], host[256] = "";
	gb_path_keys(keys, sizeof keys, gb_globals.root);
	gb_path_join(pub, sizeof pub, keys, GB_CKPT_PUB_FILE);
	gethostname(host, sizeof host - 1);
	struct gb_report_opts o = { .journal_dir = cfg.journal_dir, .pub_path = pub, .hostname = host };
	enum gb_report_format fmt = GB_REPORT_MD;
	const char *out = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!v) {
			gb_log_error("report", "'%s' needs a value", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--since") || !strcmp(a, "--until")) {
			if (gb_cli_parse_when(v, a[2] == 's' ? &o.since_ms : &o.until_ms) < 0) {
				gb_log_error("report", "%s: '%s' is not a time (30d, epoch ms, ISO time)", a, v);
				return 2;
			}
		} else if (!strcmp(a, "--sandbox"))
			o.sandbox = v;
		else if (!strcmp(a, "--journal"))
			o.journal_dir = v;
		else if (!strcmp(a, "--key"))
			o.pub_path = v;
		else if (!strcmp(a, "--out"))
			out = v;
		else if (!strcmp(a, "--format")) {
			if (!strcmp(v, "html"))
				fmt = GB_REPORT_HTML;
			else if (!strcmp(v, "md"))
				fmt = GB_REPORT_MD;
			else if (!strcmp(v, "json"))
				fmt = GB_REPORT_JSON;
			else {
				gb_log_error("report", "--format: '%s' is not html, md or json", v);
				return 2;
			}
		} else {
			gb_log_error("report", "unexpected '%s'", a);
			usage(stderr);
			return 2;
		}
	}
	json_t *m;
	char err[512];
	if (gb_report_collect(&o, &m, err, sizeof err) < 0) {
		gb_log_error("report", "%s", err);
		return 1;
	}
	struct gb_buf b = GB_BUF_INIT;
	int rc = gb_report_render(m, fmt, &b);
	json_decref(m);
	if (rc == 0 && out)
		rc = gb_write_file_atomic(out, b.data, b.len, 0644, 0);
	else if (rc == 0 && fwrite(b.data, 1, b.len, stdout) != b.len)
		rc = -EIO;
	gb_buf_free(&b);
	if (rc < 0) {
		gb_log_error("report", "%s: %s", out ? out : "stdout", strerror(-rc));
		return 1;
	}
	return 0;
}
