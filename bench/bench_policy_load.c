/* bench/bench_policy_load.c — cost of loading a policy (libyaml tree,
 * schema walk, validation, canonical hash) for 10, 1 000 and 10 000 entries
 * of mixed exact/wildcard hosts and L4/L7 endpoints, against the baseline of
 * libyaml merely scanning the same bytes (events only) in the same run.
 * Prints ms per load and the ratio load/baseline. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

#include "bench/bench_util.h"
#include "common/policy.h"

static void gen(struct gb_buf *b, int n)
{
	gb_buf_puts(b, "version: 1\nfilesystem_policy:\n  read_only: [/usr, /etc]\n"
	               "  read_write: [/tmp]\nnetwork_policies:\n");
	for (int i = 0; i < n; i++) {
		gb_buf_printf(b, "  entry_%d:\n    endpoints:\n", i);
		if (i % 3 == 0)
			gb_buf_printf(b, "      - host: \"*.svc%d.example.com\"\n        port: 443\n", i);
		else
			gb_buf_printf(b, "      - host: api%d.example.com\n        ports: [443, 8443]\n", i);
		if (i % 4 == 0)
			gb_buf_puts(b, "        protocol: rest\n        enforcement: enforce\n        rules:\n"
			               "          - allow: {method: GET, path: \"/v1/**\"}\n"
			               "          - allow: {method: POST, path: /v1/items, query: {q: \"a*\"}}\n");
		gb_buf_printf(b, "    binaries:\n      - path: /usr/bin/tool%d\n      - path: /opt/x%d/bin/*\n",
		              i % 50, i % 7);
	}
}

static int scan_only(const char *buf, size_t len)
{
	yaml_parser_t p;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	int n = 0;
	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev))
			break;
		int done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		n++;
		if (done)
			break;
	}
	yaml_parser_delete(&p);
	return n;
}

int main(void)
{
	const int sizes[] = { 10, 1000, 10000 };
	printf("%-8s %10s %12s %12s %8s\n", "entries", "bytes", "scan ms", "load ms", "ratio");
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		struct gb_buf b = GB_BUF_INIT;
		gen(&b, sizes[s]);
		int iters = sizes[s] >= 10000 ? 5 : sizes[s] >= 1000 ? 30 : 2000;
		volatile int sink = 0;
		double t0 = bench_now();
		for (int i = 0; i < iters; i++)
			sink += scan_only(b.data, b.len);
		double scan = (bench_now() - t0) / iters;
		t0 = bench_now();
		for (int i = 0; i < iters; i++) {
			struct gb_diags d = { 0 };
			struct gb_policy *p = NULL;
			int rc = gb_policy_load_buf("bench", b.data, b.len, &p, &d);
			if (rc || d.errors) {
				gb_diags_print(&d, stderr);
				return 1;
			}
			sink += (int)p->n_entries;
			gb_policy_free(p);
			gb_diags_free(&d);
		}
		double load = (bench_now() - t0) / iters;
		printf("%-8d %10zu %12.3f %12.3f %8.2f\n", sizes[s], b.len, scan * 1e3, load * 1e3,
		       load / scan);
		char fig[64];
		snprintf(fig, sizeof fig, "load+validate+compile, %d entries", sizes[s]);
		bench_figure("policy_load", fig, load * 1e3, "ms", "libyaml parse alone", scan * 1e3,
		             sizes[s] == 10000 ? "<50" : "-");
		(void)sink;
		gb_buf_free(&b);
	}
	return 0;
}
