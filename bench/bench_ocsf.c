/* bench/bench_ocsf.c — OCSF serialisation speed: gb_ocsf_format() (the
 * streaming writer) vs building the same Network Activity event as a
 * jansson tree (json_pack) and dumping it (json_dumps), in one run.
 * Before timing, both outputs are parsed and compared with json_equal, so
 * the baseline produces exactly the same event.
 *
 *   bench_ocsf [EVENTS]     (default 300000; bounded, stops by itself)
 *   bench_ocsf --writer-only [EVENTS]   (for profiling the writer alone)
 *
 * Rates are per CPU second of the benchmark's thread (wall time on a shared
 * machine counts waiting for a core) and per wall second.  The event is the
 * same process connecting again and again, as a busy sandbox's agent does
 * (the mapper's memo copies its actor); "new process each event" gives
 * every event another pid, so the memo misses every time: the cost of a
 * process seen for the first time.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_util.h"
#include "exporter/ocsf.h"

#define SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static const struct gb_ocsf_ctx ctx = { "demo", "sbx-0001", "host1", "0.1.0" };

static void record(struct gb_record *r, uint64_t seq)
{
	bench_net_open(r, seq);
	struct gb_net_decision *n = &r->u.net;
	n->src = (struct gb_endpoint){ "", "10.200.0.2", 40000 };
	n->id = (struct gb_identity){ .pid = 4242, .uid = 1000, .exe = "/usr/bin/python3.11", .sha256 = SHA,
	                              .script = "", .n_ancestors = 2 };
	n->id.ancestor_pids[0] = 4200, n->id.ancestors[0] = "/bin/bash";
	n->id.ancestor_pids[1] = 4100, n->id.ancestors[1] = "/usr/bin/node";
}

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* The same event, the jansson way. */
static char *jansson_event(const struct gb_record *r)
{
	const struct gb_net_decision *n = &r->u.net;
	const struct gb_identity *id = &n->id;
	char uid[64], conn[64], rev[24], user[24], msg[256];
	snprintf(uid, sizeof uid, "%s:%llu", ctx.sandbox_id, (unsigned long long)r->seq);
	snprintf(conn, sizeof conn, "%s:c%llu", ctx.sandbox_id, (unsigned long long)n->conn_id);
	snprintf(rev, sizeof rev, "%llu", (unsigned long long)n->policy_rev);
	snprintf(user, sizeof user, "%u", id->uid);
	snprintf(msg, sizeof msg, "CONNECT allowed %s:%u", n->dst.host, n->dst.port);

	json_t *parent = json_pack(
		"{s:i, s:s, s:s, s:{s:s, s:s, s:i, s:s}, s:{s:i, s:s, s:s, s:{s:s, s:s, s:i, s:s}}}",
		"pid", id->ancestor_pids[0], "name", base(id->ancestors[0]), "path", id->ancestors[0],
		"file", "name", base(id->ancestors[0]), "path", id->ancestors[0], "type_id", 8, "type", "Executable File",
		"parent_process", "pid", id->ancestor_pids[1], "name", base(id->ancestors[1]), "path", id->ancestors[1],
		"file", "name", base(id->ancestors[1]), "path", id->ancestors[1], "type_id", 8, "type", "Executable File");
	json_t *ancestry = json_pack("[{s:i, s:s, s:s}, {s:i, s:s, s:s}]",
		"pid", id->ancestor_pids[0], "name", base(id->ancestors[0]), "path", id->ancestors[0],
		"pid", id->ancestor_pids[1], "name", base(id->ancestors[1]), "path", id->ancestors[1]);
	json_t *process = json_pack(
		"{s:i, s:s, s:s, s:{s:s, s:s, s:i, s:s, s:[{s:i, s:s, s:s}]}, s:{s:s}, s:s, s:o, s:o}",
		"pid", id->pid, "name", base(id->exe), "path", id->exe,
		"file", "name", base(id->exe), "path", id->exe, "type_id", 8, "type", "Executable File",
		"hashes", "algorithm_id", 3, "algorithm", "SHA-256", "value", id->sha256,
		"user", "uid", user, "sandbox", ctx.sandbox_name, "ancestry", ancestry, "parent_process", parent);
	json_t *ev = json_pack(
		"{s:i, s:s, s:i, s:s, s:i, s:s, s:I, s:s, s:I, s:i, s:s, s:i, s:s, s:i, s:s, s:i, s:s, s:s,"
		" s:{s:s, s:i}, s:{s:s, s:s, s:i},"
		" s:{s:s, s:i, s:s, s:s, s:i, s:i, s:s},"
		" s:{s:o}, s:{s:s, s:s, s:s, s:s},"
		" s:{s:s, s:b},"
		" s:{s:s, s:i, s:s, s:{s:s, s:i, s:s}, s:{s:s, s:s, s:s}},"
		" s:{s:s, s:{s:s, s:s, s:s}, s:s, s:I, s:s, s:s, s:[s,s,s]}}",
		"class_uid", 4001, "class_name", "Network Activity", "category_uid", 4, "category_name", "Network Activity",
		"activity_id", 1, "activity_name", "Open", "type_uid", (json_int_t)400101, "type_name", "Network Activity: Open",
		"time", (json_int_t)(r->ts_ns / 1000000), "severity_id", 1, "severity", "Informational",
		"status_id", 1, "status", "Success", "action_id", 1, "action", "Allowed",
		"disposition_id", 1, "disposition", "Allowed", "message", msg,
		"src_endpoint", "ip", n->src.ip, "port", n->src.port,
		"dst_endpoint", "hostname", n->dst.host, "ip", n->dst.ip, "port", n->dst.port,
		"connection_info", "uid", conn, "direction_id", 2, "direction", "Outbound", "protocol_name", "tcp",
		"protocol_num", 6, "protocol_ver_id", 4, "protocol_ver", "Internet Protocol version 4 (IPv4)",
		"actor", "process", process,
		"firewall_rule", "name", n->policy_entry, "type", "network_policy", "version", rev, "condition", n->endpoint,
		"unmapped", "kind", "connect", "l7_inspected", 0,
		"device", "hostname", ctx.hostname, "type_id", 0, "type", "Unknown",
		"os", "name", "Linux", "type_id", 200, "type", "Linux",
		"container", "name", ctx.sandbox_name, "uid", ctx.sandbox_id, "runtime", "glassbox",
		"metadata", "version", "1.8.0", "product", "name", "glassbox", "vendor_name", "glassbox", "version", ctx.product_version,
		"uid", uid, "sequence", (json_int_t)r->seq, "log_name", ctx.sandbox_name, "log_provider", "glassbox",
		"profiles", "container", "host", "security_control");
	if (!ev) {
		fprintf(stderr, "bench_ocsf: json_pack failed\n");
		exit(1);
	}
	char *s = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(ev);
	return s;
}

int main(int argc, char **argv)
{
	int writer_only = argc > 1 && strcmp(argv[1], "--writer-only") == 0;
	if (writer_only)
		argc--, argv++;
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 300000;
	if (n <= 0 || n > 100000000) {
		fprintf(stderr, "usage: bench_ocsf [EVENTS (1..1e8)]\n");
		return 2;
	}
	struct gb_record r;
	struct gb_buf b = GB_BUF_INIT;

	/* Same event both ways? */
	record(&r, 1);
	if (gb_ocsf_format(&ctx, &r, &b, NULL) < 0)
		return 1;
	char *js = jansson_event(&r);
	json_t *x = json_loadb(b.data, b.len, 0, NULL), *y = json_loads(js, 0, NULL);
	if (!x || !y || !json_equal(x, y)) {
		fprintf(stderr, "bench_ocsf: baseline differs\n  writer:  %s\n  jansson: %s\n", gb_buf_cstr(&b), js);
		return 1;
	}
	json_decref(x);
	json_decref(y);
	free(js);

	size_t bytes = 0;
	double t0 = bench_now(), c0 = bench_thread_cpu();
	for (long i = 0; i < n; i++) {
		record(&r, (uint64_t)i + 1);
		gb_buf_reset(&b);
		if (gb_ocsf_format(&ctx, &r, &b, NULL) < 0)
			return 1;
		bytes += b.len;
	}
	double tw = bench_now() - t0, cw = bench_thread_cpu() - c0;
	t0 = bench_now(), c0 = bench_thread_cpu();
	for (long i = 0; i < n; i++) {
		record(&r, (uint64_t)i + 1);
		r.u.net.id.pid = 5000 + (int32_t)(i % 1000000); /* another process each time */
		gb_buf_reset(&b);
		if (gb_ocsf_format(&ctx, &r, &b, NULL) < 0)
			return 1;
	}
	double tc = bench_now() - t0, cc = bench_thread_cpu() - c0;
	if (writer_only) {
		printf("bench_ocsf: writer only: %.0f events/s, %.0f per CPU second (new process each event: %.0f per CPU second)\n",
		       (double)n / tw, (double)n / cw, (double)n / cc);
		gb_buf_free(&b);
		return 0;
	}

	size_t jbytes = 0;
	t0 = bench_now(), c0 = bench_thread_cpu();
	for (long i = 0; i < n; i++) {
		record(&r, (uint64_t)i + 1);
		char *s = jansson_event(&r);
		jbytes += strlen(s);
		free(s);
	}
	double tj = bench_now() - t0, cj = bench_thread_cpu() - c0;

	double ew = (double)n / tw, ej = (double)n / tj, pw = (double)n / cw, pj = (double)n / cj,
	       pc = (double)n / cc;
	printf("bench_ocsf: %ld NET_DECISION events, %zu bytes/event\n", n, bytes / (size_t)n);
	printf("  streaming writer (gb_ocsf_format): %10.0f events/s  %7.1f MB/s  %10.0f per CPU second\n", ew,
	       (double)bytes / tw / 1e6, pw);
	printf("    new process each event:          %10.0f events/s             %10.0f per CPU second\n",
	       (double)n / tc, pc);
	printf("  jansson json_pack + json_dumps:    %10.0f events/s  %7.1f MB/s  %10.0f per CPU second\n", ej,
	       (double)jbytes / tj / 1e6, pj);
	printf("  ratio writer/jansson: %.2fx (per CPU second %.2fx)\n", ew / ej, pw / pj);
	bench_figure("ocsf", "Network Activity serialisation", ew, "events/s", "jansson pack + dump", ej, "-");
	bench_figure("ocsf", "Network Activity serialisation per CPU s", pw, "events/s",
	             "jansson pack + dump per CPU s", pj, "-");
	bench_figure("ocsf", "Network Activity serialisation, new process each event, per CPU s", pc, "events/s",
	             "jansson pack + dump per CPU s", pj, "-");
	gb_buf_free(&b);
	return 0;
}
