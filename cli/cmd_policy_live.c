/* cli/cmd_policy_live.c — `glassbox policy get|set|update|history NAME`: the
 * running sandbox's network policy, through its supervisor's control socket
 * (api/control_client.h; enforcer/sandbox/control.h has the protocol and
 * the guarantees).
 *
 *   set NAME FILE      replace the network policy (static sections must
 *                      equal the running ones: start from `policy get`)
 *   update NAME FILE   merge FILE's network_policies entries by key
 *   get NAME [--revision N]   the policy as YAML
 *   history NAME       revisions with time, hash, author and what changed
 * --json prints the supervisor's answer as JSON.  Exit 0 ok, 1 refused or
 * failed (with every line:col error of a bad file), 2 usage.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/paths.h"
#include "api/api_client.h"
#include "api/control_client.h"
#include "cli/commands.h"
#include "common/log.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: glassbox policy get NAME [--revision N] [--json]\n"
	           "       glassbox policy set NAME FILE [--json]\n"
	           "       glassbox policy update NAME FILE [--json]\n"
	           "       glassbox policy history NAME [--json]\n"
	           "  set replaces the running sandbox's network policy (static sections must\n"
	           "  stay as they are; start from `policy get`), update merges FILE's\n"
	           "  network_policies entries by key.  Both validate FILE first: a bad file\n"
	           "  prints every error and changes nothing.  The answer comes after the new\n"
	           "  revision is live for new connections.\n");
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f)
		return NULL;
	size_t cap = 65536, n = 0;
	char *b = malloc(cap);
	while (b) {
		size_t r = fread(b + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
		if (n + 1 == cap) {
			char *nb = cap < (64u << 20) ? realloc(b, cap * 2) : NULL;
			if (!nb) {
				free(b);
				b = NULL;
				errno = EFBIG;
				break;
			}
			b = nb;
			cap *= 2;
		}
	}
	int bad = f != stdin && ferror(f);
	if (f != stdin)
		fclose(f);
	if (b && bad) {
		free(b);
		b = NULL;
	}
	if (b)
		b[n] = 0;
	*len = n;
	return b;
}

static void print_diags(json_t *diags)
{
	size_t i;
	json_t *d;
	json_array_foreach(diags, i, d) {
		const char *lv = json_string_value(json_object_get(d, "severity"));
		if (lv && !strcmp(lv, "warning") && !gb_log_enabled(GB_LOG_WARN))
			continue; /* -q: errors only */
		const char *file = json_string_value(json_object_get(d, "file"));
		long line = (long)json_integer_value(json_object_get(d, "line"));
		long col = (long)json_integer_value(json_object_get(d, "column"));
		const char *field = json_string_value(json_object_get(d, "field"));
		const char *sev = json_string_value(json_object_get(d, "severity"));
		const char *msg = json_string_value(json_object_get(d, "message"));
		const char *hint = json_string_value(json_object_get(d, "hint"));
		if (file && *file)
			fprintf(stderr, "%s:", file);
		if (line > 0)
			fprintf(stderr, "%ld:%ld:", line, col);
		fprintf(stderr, " %s: %s%s%s%s%s%s\n", sev ? sev : "error", field ? field : "",
		        field ? ": " : "", msg ? msg : "", hint ? " (" : "", hint ? hint : "",
		        hint ? ")" : "");
	}
}

static void rfc3339(uint64_t ns, char *out, size_t len)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, len - n, ".%03uZ", (unsigned)(ns / 1000000u % 1000u));
}

/* Through the daemon's API when it runs; else straight to the sandbox's
 * supervisor (the same answer: the API relays to it).  0 and *resp with
 * "ok" set, or -errno with the message printed. */
static int call(const char *op, const char *name, long long revision, json_t *req, json_t **resp,
                int *no_sandbox)
{
	char comp[32];
	snprintf(comp, sizeof comp, "policy %s", op);
	char err[512], path[512];
	const char *method = !strcmp(op, "set") ? "PUT" : !strcmp(op, "update") ? "PATCH" : "GET";
	const char *file = json_string_value(json_object_get(req, "file"));
	const char *yaml = json_string_value(json_object_get(req, "yaml"));
	*no_sandbox = 0;
	if (!gb_sandbox_name_valid(name)) {
		gb_log_error(comp, "invalid sandbox name '%s' (1-63 of A-Z a-z 0-9 . _ -, "
		        "not starting with . or -)", name);
		return -EINVAL;
	}
	snprintf(path, sizeof path, "/v1/sandboxes/%s/policy%s", name,
	         !strcmp(op, "history") ? "/revisions" : "");
	if (revision)
		snprintf(path + strlen(path), sizeof path - strlen(path), "?revision=%lld", revision);
	else if (file) {
		/* the file's name labels the diagnostics */
		size_t n = strlen(path);
		n += (size_t)snprintf(path + n, sizeof path - n, "?file=");
		for (const char *p = file; *p && n + 4 < sizeof path; p++)
			n += (size_t)snprintf(path + n, sizeof path - n,
			                      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			                              (*p >= '0' && *p <= '9') || strchr("/._-", *p)
			                          ? "%c" : "%%%02X", (unsigned char)*p);
	}
	long http = 0;
	char *body = NULL;
	int rc = gb_apic_request(gb_globals.root, method, path, yaml, yaml ? strlen(yaml) : 0, &http,
	                         &body, err, sizeof err);
	if (rc == 0) {
		*resp = json_loads(body, 0, NULL);
		free(body);
		if (!*resp) {
			gb_log_error(comp, "unreadable answer from the daemon");
			return -EPROTO;
		}
		json_object_set_new(*resp, "ok", json_boolean(http == 200));
		*no_sandbox = http == 404 && !revision;
		return 0;
	}
	if (rc != -ENOENT && rc != -ECONNREFUSED) {
		gb_log_error(comp, "%s", err);
		return rc;
	}
	gb_log_debug(NULL, "%s; asking the supervisor of '%s' directly", err, name);
	rc = gb_ctl_call(gb_globals.root, name, req, resp, err, sizeof err);
	if (rc < 0) {
		gb_log_error(comp, "%s", err);
		*no_sandbox = rc == -ENOENT;
	}
	return rc;
}

int cmd_policy_live(int argc, char **argv)
{
	const char *op = argv[0];
	char comp[32];
	snprintf(comp, sizeof comp, "policy %s", op);
	const char *name = NULL, *file = NULL;
	long long revision = 0;
	int json = 0;
	int want_file = !strcmp(op, "set") || !strcmp(op, "update");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = 1;
		} else if (!strcmp(op, "get") && !strcmp(a, "--revision") && i + 1 < argc) {
			char *end;
			revision = strtoll(argv[++i], &end, 10);
			if (*end || revision < 1) {
				gb_log_error("policy get", "--revision wants a positive number");
				return 2;
			}
		} else if (a[0] == '-' && a[1]) {
			gb_log_error(comp, "unknown option '%s'", a);
			usage(stderr);
			return 2;
		} else if (!name) {
			name = a;
		} else if (want_file && !file) {
			file = a;
		} else {
			gb_log_error(comp, "unexpected argument '%s'", a);
			usage(stderr);
			return 2;
		}
	}
	if (!name || (want_file && !file)) {
		usage(stderr);
		return 2;
	}
	json_t *req = json_pack("{s:s}", "op", op);
	if (revision)
		json_object_set_new(req, "revision", json_integer(revision));
	if (want_file) {
		size_t len;
		char *text = read_file(file, &len);
		if (!text) {
			gb_log_error(comp, "%s: %s", file, strerror(errno));
			json_decref(req);
			return 1;
		}
		json_t *y = json_stringn(text, len);
		free(text);
		if (!y) {
			gb_log_error(comp, "%s: not UTF-8 text", file);
			json_decref(req);
			return 1;
		}
		json_object_set_new(req, "yaml", y);
		json_object_set_new(req, "file", json_string(file));
		const char *user = getenv("SUDO_USER");
		char who[160];
		snprintf(who, sizeof who, "glassbox policy %s%s%s", op, user ? ", sudo by " : "",
		         user ? user : "");
		json_object_set_new(req, "who", json_string(who));
	}
	json_t *resp = NULL;
	int no_sandbox = 0;
	int rc = call(op, name, revision, req, &resp, &no_sandbox);
	json_decref(req);
#define HINT "  (start it with: glassbox run --name %s --policy FILE -- CMD; glassbox ls lists " \
             "the running ones)\n"
	if (rc < 0) {
		if (no_sandbox)
			fprintf(stderr, HINT, name);
		return 1;
	}
	int ok = json_is_true(json_object_get(resp, "ok"));
	if (json) {
		char *s = json_dumps(resp, JSON_INDENT(2));
		if (s)
			puts(s);
		free(s);
	} else if (!ok) {
		print_diags(json_object_get(resp, "diagnostics"));
		gb_log_error(comp, "%s", json_string_value(json_object_get(resp, "detail")));
	} else if (!strcmp(op, "get")) {
		fputs(json_string_value(json_object_get(resp, "yaml")), stdout);
	} else if (!strcmp(op, "history")) {
		json_t *r;
		size_t i;
		printf("%-5s %-24s %-12s %-7s %-32s %s\n", "REV", "TIME", "SHA256", "ACTION", "AUTHOR",
		       "CHANGES");
		json_array_foreach(json_object_get(resp, "revisions"), i, r) {
			char t[40];
			rfc3339((uint64_t)json_integer_value(json_object_get(r, "time_ns")), t, sizeof t);
			printf("%-5lld %-24s %-12.12s %-7s %-32s %s\n",
			       (long long)json_integer_value(json_object_get(r, "revision")), t,
			       json_string_value(json_object_get(r, "sha256")),
			       json_string_value(json_object_get(r, "action")),
			       json_string_value(json_object_get(r, "author")),
			       json_string_value(json_object_get(r, "changes")));
		}
	} else {
		print_diags(json_object_get(resp, "warnings"));
		printf("sandbox %s: policy revision %lld (sha256 %.12s, was %.12s): %s\n", name,
		       (long long)json_integer_value(json_object_get(resp, "revision")),
		       json_string_value(json_object_get(resp, "sha256")),
		       json_string_value(json_object_get(resp, "old_sha256")),
		       json_string_value(json_object_get(resp, "changes")));
	}
	if (no_sandbox)
		fprintf(stderr, HINT, name);
	json_decref(resp);
	return ok ? 0 : 1;
}
