/* cli/cmd_logs.c — `glassbox logs NAME`: a sandbox's events from the
 * journal, as shorthand lines (or the OCSF JSON), optionally following new
 * ones.  Reads the journal files directly, so it works with or without a
 * running daemon. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/logs_api.h"
#include "common/array.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/paths.h"
#include "common/units.h"
#include "exporter/config.h"
#include "exporter/journal.h"
#include "exporter/ocsf.h"
#include "common/log.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: glassbox logs NAME [--source sandbox] [-f|--tail] [-n N] [--since WHEN] [--until WHEN]\n"
	        "                     [--level LEVEL] [--class UID] [--json] [--journal DIR]\n"
	        "  Print the events of sandbox NAME, oldest first, from the daemon's API\n"
	        "  (or, when no daemon runs, from the journal files).\n"
	        "  --source   sandbox (the only source today: every event the sandbox caused)\n"
	        "  -f, --tail keep printing new events as they arrive (until interrupted)\n"
	        "  -n N       only the last N events (then follow, with -f)\n"
	        "  --since, --until  a duration ago (30s, 10m, 2h, 1d), epoch milliseconds,\n"
	        "             or an RFC 3339 time (2026-11-24T10:00:00Z, 2026-11-24T10:00:00.250+01:00)\n"
	        "  --level    minimum severity: info, low, medium (or warn), high, critical, fatal\n"
	        "  --class    only this OCSF class_uid (e.g. 4001 network, 4002 http)\n"
	        "  --json     the OCSF JSON lines as stored, instead of shorthand\n"
	        "  --journal  journal directory (default <root>/" GB_REL_JOURNAL ")\n");
}

static int parse_level(const char *s)
{
	static const struct { const char *n; int v; } lv[] = {
		{ "info", 1 }, { "informational", 1 }, { "low", 2 }, { "medium", 3 }, { "warn", 3 },
		{ "warning", 3 }, { "high", 4 }, { "critical", 5 }, { "fatal", 6 },
	};
	for (size_t i = 0; i < GB_ARRAY_LEN(lv); i++)
		if (!strcasecmp(s, lv[i].n))
			return lv[i].v;
	return -1;
}

/* Does the journal hold any event of this sandbox?  (Segments whose index
 * lacks it are skipped unread.) */
static int sandbox_has_events(const char *journal, const char *name)
{
	struct gb_jfilter f = { .sandbox = name };
	struct gb_jreader *r;
	if (gb_jreader_open(journal, &f, NULL, &r) < 0)
		return 0;
	const char *line;
	size_t len;
	int rc;
	while ((rc = gb_jreader_next(r, &line, &len, NULL)) == 2)
		; /* damage is no event of the sandbox */
	gb_jreader_close(r);
	return rc == 1;
}

static volatile sig_atomic_t stop;
static void on_sig(int sig)
{
	(void)sig;
	stop = 1;
}

int cmd_logs(int argc, char **argv)
{
	const char *name = NULL, *journal = NULL;
	int follow = 0, json = 0;
	struct gb_logs_args la = { 0 };
	char since_ms[24], until_ms[24];
	struct gb_jfilter f = { 0 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "-f") || !strcmp(a, "--tail") || !strcmp(a, "--follow")) {
			follow = 1;
			continue;
		} else if (!strcmp(a, "--json")) {
			json = 1;
			continue;
		} else if (a[0] != '-') {
			if (name) {
				gb_log_error("logs", "one sandbox name, got '%s' and '%s'", name, a);
				return 2;
			}
			name = a;
			continue;
		}
		if (!v) {
			gb_log_error("logs", "%s needs a value", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--source")) {
			if (strcmp(v, "sandbox")) {
				gb_log_error("logs", "--source: '%s' is not a source (sandbox)", v);
				return 2;
			}
		} else if (!strcmp(a, "-n") || !strcmp(a, "--lines")) {
			char *end;
			la.last = strtol(v, &end, 10);
			if (*end || la.last < 1 || la.last > 1000000) {
				gb_log_error("logs", "-n: '%s' is not a count (1-1000000)", v);
				return 2;
			}
		} else if (!strcmp(a, "--since") || !strcmp(a, "--until")) {
			int64_t *t = a[2] == 's' ? &f.since_ms : &f.until_ms;
			if (gb_cli_parse_when(v, t) < 0) {
				gb_log_error("logs", "%s: '%s' is not a time (10m, 2h, epoch ms, 2026-11-24T10:00:00.5Z)",
				             a, v);
				return 2;
			}
			/* the API gets the time as parsed here (epoch ms): one parser
			 * decides what the CLI accepts, daemon or not */
			char *ms = a[2] == 's' ? since_ms : until_ms;
			snprintf(ms, 24, "%lld", (long long)*t);
			*(a[2] == 's' ? &la.since : &la.until) = ms;
		} else if (!strcmp(a, "--level")) {
			la.level = v;
			if ((f.min_severity = parse_level(v)) < 0) {
				gb_log_error("logs", "--level: '%s' is not a level (info, low, medium, high, critical, fatal)",
				             v);
				return 2;
			}
		} else if (!strcmp(a, "--class")) {
			char *end;
			unsigned long c = strtoul(v, &end, 10);
			if (*end || !c || c > 999999) {
				gb_log_error("logs", "--class: '%s' is not an OCSF class_uid", v);
				return 2;
			}
			f.class_uid = (uint32_t)c;
			la.cls = v;
		} else if (!strcmp(a, "--journal"))
			journal = v;
		else {
			gb_log_error("logs", "unknown option '%s'", a);
			usage(stderr);
			return 2;
		}
	}
	if (!name) {
		gb_log_error("logs", "which sandbox? (glassbox logs NAME)");
		usage(stderr);
		return 2;
	}
	f.sandbox = name;
	/* The daemon's API first; the journal files when no daemon runs (an
	 * explicit --journal means those files). */
	if (!journal) {
		int st = 0;
		la.name = name;
		la.follow = follow;
		la.json = json;
		la.colour = !json && isatty(STDOUT_FILENO);
		int arc = gb_logs_api(&la, &st);
		if (arc == 0)
			return st;
		gb_log_warn("logs", "the daemon is not running (start it with `glassbox serve`, or "
		            "`glassbox run --serve`); reading the journal files directly");
	}
	struct gb_daemon_config cfg;
	gb_daemon_config_defaults(&cfg, gb_globals.root);
	if (!journal)
		journal = cfg.journal_dir;

	struct gb_jreader *r;
	int rc = gb_jreader_open(journal, &f, NULL, &r);
	if (rc < 0) {
		gb_log_error("logs", "%s: %s", journal, strerror(-rc));
		return 1;
	}
	if (follow) {
		struct sigaction sa = { .sa_handler = on_sig };
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	int colour = !json && isatty(STDOUT_FILENO);
	struct gb_buf b = GB_BUF_INIT;
	uint64_t shown = 0, skip = 0;
	int status = 0;
	if (la.last) { /* -n N: count first, then skip all but the last N */
		const char *line;
		size_t len;
		uint64_t total = 0;
		while ((rc = gb_jreader_next(r, &line, &len, NULL)) >= 1)
			total += rc == 1; /* damage (2) is reported in the pass below */
		skip = total > (uint64_t)la.last ? total - (uint64_t)la.last : 0;
		gb_jreader_close(r);
		if ((rc = gb_jreader_open(journal, &f, NULL, &r)) < 0) {
			gb_log_error("logs", "%s: %s", journal, strerror(-rc));
			gb_buf_free(&b);
			return 1;
		}
	}
	while (!stop) {
		const char *line;
		size_t len;
		rc = gb_jreader_next(r, &line, &len, NULL);
		if (rc < 0) {
			gb_log_error("logs", "reading %s: %s", journal,
			             rc == -EBADMSG ? "a sealed segment is damaged (run glassbox journal verify)"
			                            : strerror(-rc));
			status = 1;
			break;
		}
		if (rc == 2) {
			/* damage skipped: shown in place (a LOSS event) and on stderr */
			char msg[600] = "";
			const char *m = memmem(line, len, "\"message\":\"", 11);
			if (m) {
				m += 11;
				const char *q = memchr(m, '"', len - (size_t)(m - line));
				snprintf(msg, sizeof msg, "%.*s", q ? (int)(q - m) : 0, m);
			}
			gb_log_error("logs", "FINDING: the journal is damaged, skipped: %s (run glassbox "
			             "journal verify)", msg);
			status = 1;
			if (skip) /* before the last N: reported, not shown */
				continue;
			rc = 1;
		} else if (rc == 1 && skip) {
			skip--;
			continue;
		}
		if (rc == 1) {
			shown++;
			if (json) {
				fwrite(line, 1, len, stdout);
				fputc('\n', stdout);
				continue;
			}
			b.len = 0;
			if (gb_ocsf_shorthand(line, len, colour, &b) == 0) {
				fwrite(b.data, 1, b.len, stdout);
				fputc('\n', stdout);
			} else
				gb_log_warn("logs", "skipping a line that is not an OCSF event");
			continue;
		}
		if (!follow)
			break;
		fflush(stdout);
		gb_jreader_wait(r, 1000);
	}
	fflush(stdout);
	if (!shown && !follow && status == 0) {
		/* Nothing shown: an unknown sandbox (an error) or a filter that
		 * matched none of its events (an answer). */
		if (sandbox_has_events(journal, name)) {
			gb_log_info("logs", "none of the events of sandbox '%s' match the filter", name);
		} else {
			gb_log_error("logs", "no events for sandbox '%s' in %s", name, journal);
			status = 1;
		}
	}
	gb_buf_free(&b);
	gb_jreader_close(r);
	return status;
}
