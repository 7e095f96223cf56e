/* cli/cmd_policy_explain.c — `glassbox policy explain`: the decision the
 * proxy would make for one request, and why, without any traffic.  It calls
 * the same gb_policy_decide() the proxy calls. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "common/jsonw.h"
#include "common/policy.h"
#include "common/log.h"

#define MAX_ANCESTORS 64

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: glassbox policy explain FILE --binary PATH --host HOST --port PORT\n"
	        "                               [--ancestor PATH]... [--script PATH]\n"
	        "                               [--method METHOD --path PATH[?QUERY]] [--json]\n"
	        "  Print the decision for one connection (or, with --method/--path, one HTTP\n"
	        "  request), the matched entry, endpoint and rule, the enforcement mode and the\n"
	        "  reason.  No traffic is sent.\n"
	        "  --binary    the executable as the kernel resolves it (/proc/PID/exe)\n"
	        "  --ancestor  a parent process's executable, nearest first (repeatable)\n"
	        "  --script    interpreter script; reported, never grants access\n"
	        "  exit status: 0 allowed (including audit-mode violations), 1 denied,\n"
	        "               2 usage error or invalid policy file\n");
}

static int parse_port(const char *s, uint16_t *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 1 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

static const char *verdict_word(const struct gb_decision *d)
{
	if (d->verdict == GB_VERDICT_DENY)
		return "deny";
	return d->audited ? "allow (audit: would be denied in enforce mode)" : "allow";
}

static void print_text(const struct gb_decision *d, const struct gb_decide_in *in,
                       const struct gb_policy_compiled *c)
{
	printf("decision:  %s\n", verdict_word(d));
	if (in->method)
		printf("request:   %s %s%s%s -> %s:%u\n", in->method, in->path, in->query ? "?" : "",
		       in->query ? in->query : "", in->host, in->port);
	else
		printf("request:   connect %s:%u\n", in->host, in->port);
	printf("binary:    %s\n", in->exe);
	printf("entry:     %s\n", d->entry ? d->entry : "-");
	printf("endpoint:  %s\n", d->endpoint[0] ? d->endpoint : "-");
	if (in->method || d->rule[0])
		printf("rule:      %s\n", d->rule[0] ? d->rule : "-");
	if (d->entry)
		printf("mode:      %s%s\n", d->mode == GB_MODE_AUDIT ? "audit" : "enforce",
		       d->l7 ? " (L7 inspection)" : " (L4)");
	if (d->canonical_path[0] && in->path && strcmp(d->canonical_path, in->path) != 0)
		printf("canonical: %s\n", d->canonical_path);
	if (d->verdict == GB_VERDICT_DENY || d->audited)
		printf("reason:    %s: %s\n", gb_reason_name(d->reason), d->reason_text);
	printf("policy:    revision %llu, network sha256 %s\n", (unsigned long long)d->revision,
	       gb_policy_compiled_hash(c));
}

static void print_json(const struct gb_decision *d, const struct gb_decide_in *in,
                       const struct gb_policy_compiled *c, int tier)
{
	struct gb_buf b = GB_BUF_INIT;
	struct gb_jsonw w;
	gb_jw_init(&w, &b);
	gb_jw_obj_begin(&w);
	gb_jw_kstr(&w, "verdict", d->verdict == GB_VERDICT_DENY ? "deny" : "allow");
	gb_jw_kbool(&w, "audited", d->audited);
	gb_jw_kstr(&w, "reason", d->verdict == GB_VERDICT_DENY || d->audited ? gb_reason_name(d->reason) : NULL);
	gb_jw_kstr(&w, "reason_text", d->reason_text[0] ? d->reason_text : NULL);
	gb_jw_kstr(&w, "ssrf_tier", tier > 0 ? gb_ssrf_tier_name(tier) : NULL);
	gb_jw_kstr(&w, "entry", d->entry);
	gb_jw_kstr(&w, "endpoint", d->endpoint[0] ? d->endpoint : NULL);
	gb_jw_kstr(&w, "rule", d->rule[0] ? d->rule : NULL);
	gb_jw_kstr(&w, "mode", d->entry ? (d->mode == GB_MODE_AUDIT ? "audit" : "enforce") : NULL);
	gb_jw_kbool(&w, "l7", d->l7);
	gb_jw_key(&w, "request");
	gb_jw_obj_begin(&w);
	gb_jw_kstr(&w, "host", in->host);
	gb_jw_kuint(&w, "port", in->port);
	gb_jw_kstr(&w, "binary", in->exe);
	gb_jw_key(&w, "ancestors");
	gb_jw_arr_begin(&w);
	for (size_t i = 0; i < in->n_ancestors; i++)
		gb_jw_str(&w, in->ancestors[i]);
	gb_jw_arr_end(&w);
	gb_jw_kstr(&w, "script", in->script);
	gb_jw_kstr(&w, "method", in->method);
	gb_jw_kstr(&w, "path", in->path);
	gb_jw_kstr(&w, "query", in->query);
	gb_jw_kstr(&w, "canonical_path", d->canonical_path[0] ? d->canonical_path : NULL);
	gb_jw_obj_end(&w);
	gb_jw_kuint(&w, "revision", d->revision);
	gb_jw_kstr(&w, "policy_sha256", gb_policy_compiled_hash(c));
	gb_jw_obj_end(&w);
	fwrite(gb_buf_cstr(&b), 1, b.len, stdout);
	fputc('\n', stdout);
	gb_buf_free(&b);
}

int cmd_policy_explain(int argc, char **argv)
{
	const char *file = NULL, *ancestors[MAX_ANCESTORS];
	struct gb_decide_in in = { 0 };
	char *pathbuf = NULL;
	bool json = false, have_port = false;
	size_t na = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = true;
			continue;
		} else if (a[0] != '-' && !file) {
			file = a;
			continue;
		} else if (a[0] != '-') {
			gb_log_error("policy explain", "unexpected argument '%s'", a);
			usage(stderr);
			return 2;
		}
		if (!v) {
			gb_log_error("policy explain", "%s needs a value", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--binary")) {
			in.exe = v;
		} else if (!strcmp(a, "--host")) {
			in.host = v;
		} else if (!strcmp(a, "--port")) {
			if (parse_port(v, &in.port) < 0) {
				gb_log_error("policy explain", "--port: '%s' is not a port 1-65535", v);
				return 2;
			}
			have_port = true;
		} else if (!strcmp(a, "--ancestor")) {
			if (na == MAX_ANCESTORS) {
				gb_log_error("policy explain", "at most %d --ancestor", MAX_ANCESTORS);
				return 2;
			}
			ancestors[na++] = v;
		} else if (!strcmp(a, "--script")) {
			in.script = v;
		} else if (!strcmp(a, "--method")) {
			in.method = v;
		} else if (!strcmp(a, "--path")) {
			in.path = v;
		} else {
			gb_log_error("policy explain", "unknown option '%s'", a);
			usage(stderr);
			return 2;
		}
	}
	if (!file || !in.exe || !in.host || !have_port) {
		gb_log_error("policy explain", "FILE, --binary, --host and --port are required");
		usage(stderr);
		return 2;
	}
	if (!in.method != !in.path) {
		gb_log_error("policy explain", "--method and --path go together");
		return 2;
	}
	if (in.path) { /* split "PATH?QUERY" as the proxy does */
		pathbuf = strdup(in.path);
		if (!pathbuf)
			return 2;
		char *q = strchr(pathbuf, '?');
		if (q) {
			*q = '\0';
			in.query = q + 1;
		}
		in.path = pathbuf;
	}
	in.ancestors = ancestors;
	in.n_ancestors = na;

	struct gb_diags diags = { 0 };
	struct gb_policy *p = NULL;
	int rc = gb_policy_load_file(file, &p, &diags);
	if (rc < 0) {
		if (diags.n)
			gb_diags_print(&diags, stderr);
		else
			gb_log_error("policy explain", "%s: %s", file, strerror(-rc));
		gb_diags_free(&diags);
		free(pathbuf);
		return 2;
	}
	gb_diags_free(&diags);
	struct gb_policy_compiled *c = NULL;
	rc = gb_policy_compile(p, &c);
	gb_policy_free(p);
	if (rc < 0) {
		gb_log_error("policy explain", "%s: cannot compile: %s", file, strerror(-rc));
		free(pathbuf);
		return 2;
	}
	struct gb_decision d;
	gb_policy_decide(c, &in, &d);
	int tier = gb_policy_dest_check_static(&d, in.host, in.port);
	if (tier > 0) {
		/* What needs no DNS answer (an IP literal, a control-plane port)
		 * is applied now, exactly as the proxy does before resolving. */
		d.verdict = GB_VERDICT_DENY;
		d.reason = GB_R_SSRF;
		if (tier == GB_SSRF_CONTROL_PLANE_PORT)
			snprintf(d.reason_text, sizeof d.reason_text,
			         "port %u is a cluster control-plane port (2379, 2380, 6443, 10250, 10255): "
			         "never reachable through the proxy", in.port);
		else
			snprintf(d.reason_text, sizeof d.reason_text,
			         "destination %s is refused: %s addresses are never reachable through this endpoint",
			         in.host, gb_ssrf_tier_name(tier));
	}
	if (json)
		print_json(&d, &in, c, tier);
	else
		print_text(&d, &in, c);
	gb_policy_compiled_unref(c);
	free(pathbuf);
	return d.verdict == GB_VERDICT_ALLOW ? 0 : 1;
}
