/* bench/bench_policy.c — decisions per second of the compiled matcher
 * against a naive baseline that walks the parsed model entry by entry
 * (lower-cased host compare or glob, port scan, binary globs over exe and
 * ancestors), in the same run on the same queries.
 *
 * Policy: 1000 exact hosts, 200 wildcard hosts, 100 distinct binaries, every
 * fourth entry with L7 rules.  Queries: a mix of allowed, wrong binary and
 * unknown hosts, so both the hit and the miss paths are measured.
 * Usage: bench_policy [N_QUERIES]  (default 200000) */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/policy.h"
#include "common/policy_match.h"

#define N_EXACT 1000
#define N_WILD 200
#define N_BIN 100

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void gen(struct gb_buf *b)
{
	gb_buf_puts(b, "version: 1\nnetwork_policies:\n");
	for (int i = 0; i < N_EXACT + N_WILD; i++) {
		gb_buf_printf(b, "  e%04d:\n    endpoints:\n", i);
		if (i < N_EXACT)
			gb_buf_printf(b, "      - host: api%d.example.com\n        ports: [443, 8443]\n", i);
		else
			gb_buf_printf(b, "      - host: \"*.w%d.example.net\"\n        port: 443\n", i);
		if (i % 4 == 0)
			gb_buf_puts(b, "        protocol: rest\n        enforcement: enforce\n        rules:\n"
			               "          - allow: {method: GET, path: \"/v1/**\"}\n");
		gb_buf_printf(b, "    binaries:\n      - path: /usr/bin/tool%d\n      - path: /opt/t%d/**/run\n",
		              i % N_BIN, i % N_BIN);
	}
}

struct query {
	char host[64], exe[64];
	uint16_t port;
};

/* ---- the baseline: a straightforward walk over the model ---- */

static bool naive_host(const char *pat, const char *host)
{
	if (!pat)
		return true;
	char a[256], h[256];
	size_t n = strlen(pat), m = strlen(host);
	if (n >= sizeof a || m >= sizeof h)
		return false;
	for (size_t i = 0; i <= n; i++)
		a[i] = (char)tolower((unsigned char)pat[i]);
	for (size_t i = 0; i <= m; i++)
		h[i] = (char)tolower((unsigned char)host[i]);
	if (m && h[m - 1] == '.')
		h[--m] = '\0';
	if (!gb_glob_has_meta(a))
		return strcmp(a, h) == 0;
	return gb_glob_match(a, n, h, m, '.');
}

static bool naive_decide(const struct gb_policy *p, const struct query *q)
{
	for (size_t i = 0; i < p->n_entries; i++) {
		const struct gb_net_entry *e = &p->entries[i];
		bool ep = false;
		for (size_t j = 0; j < e->n_endpoints && !ep; j++) {
			const struct gb_endpoint_spec *s = &e->endpoints[j];
			if (!naive_host(s->host, q->host))
				continue;
			for (size_t k = 0; k < s->n_ports; k++)
				if (s->ports[k] == q->port)
					ep = true;
		}
		if (!ep)
			continue;
		for (size_t j = 0; j < e->n_binaries; j++) {
			const char *b = e->binaries[j].path;
			if (gb_glob_has_meta(b) ? gb_glob_match(b, strlen(b), q->exe, strlen(q->exe), '/')
			                        : strcmp(b, q->exe) == 0)
				return true;
		}
	}
	return false;
}

int main(int argc, char **argv)
{
	long nq = argc > 1 ? atol(argv[1]) : 200000;
	if (nq <= 0)
		nq = 200000;
	struct gb_buf y = GB_BUF_INIT;
	gen(&y);
	struct gb_diags d = { 0 };
	struct gb_policy *p = NULL;
	if (gb_policy_load_buf("bench.yaml", gb_buf_cstr(&y), y.len, &p, &d) != 0) {
		gb_diags_print(&d, stderr);
		return 1;
	}
	gb_diags_free(&d);
	struct gb_policy_compiled *c = NULL;
	if (gb_policy_compile(p, &c) != 0)
		return 1;

	enum { NQ = 4096 };
	static struct query qs[NQ];
	srand(42);
	for (int i = 0; i < NQ; i++) {
		int e = rand() % (N_EXACT + N_WILD);
		int kind = rand() % 4; /* 0,1 allowed; 2 wrong binary; 3 unknown host */
		if (e < N_EXACT)
			snprintf(qs[i].host, sizeof qs[i].host, "API%d.example.com", e);
		else
			snprintf(qs[i].host, sizeof qs[i].host, "x%d.w%d.example.net", i, e);
		if (kind == 3)
			snprintf(qs[i].host, sizeof qs[i].host, "nothere%d.example.org", i);
		qs[i].port = 443;
		if (kind == 2)
			snprintf(qs[i].exe, sizeof qs[i].exe, "/usr/bin/other%d", e);
		else if (kind == 1)
			snprintf(qs[i].exe, sizeof qs[i].exe, "/opt/t%d/a/b/run", e % N_BIN);
		else
			snprintf(qs[i].exe, sizeof qs[i].exe, "/usr/bin/tool%d", e % N_BIN);
	}

	/* the two must agree before they are timed */
	for (int i = 0; i < NQ; i++) {
		struct gb_decide_in in = { .host = qs[i].host, .port = qs[i].port, .exe = qs[i].exe };
		struct gb_decision dec;
		gb_policy_decide(c, &in, &dec);
		if ((dec.verdict == GB_VERDICT_ALLOW) != naive_decide(p, &qs[i])) {
			fprintf(stderr, "disagreement on %s:%u %s\n", qs[i].host, qs[i].port, qs[i].exe);
			return 1;
		}
	}

	long allowed = 0;
	double t0 = now();
	for (long i = 0; i < nq; i++) {
		const struct query *q = &qs[i % NQ];
		struct gb_decide_in in = { .host = q->host, .port = q->port, .exe = q->exe };
		struct gb_decision dec;
		gb_policy_decide(c, &in, &dec);
		allowed += dec.verdict == GB_VERDICT_ALLOW;
	}
	double tc = now() - t0;
	long nb = nq / 20 > 0 ? nq / 20 : 1; /* the baseline is slow: fewer rounds */
	long allowed_b = 0;
	t0 = now();
	for (long i = 0; i < nb; i++)
		allowed_b += naive_decide(p, &qs[i % NQ]);
	double tb = now() - t0;
	double rc = (double)nq / tc, rb = (double)nb / tb;
	printf("policy: %d exact + %d wildcard hosts, %d binaries; %ld queries (%ld allowed)\n", N_EXACT,
	       N_WILD, N_BIN, nq, allowed);
	printf("compiled matcher : %10.0f decisions/s  (%.0f ns/decision)\n", rc, 1e9 / rc);
	printf("baseline (linear): %10.0f decisions/s  (%.0f ns/decision, %ld allowed of %ld)\n", rb,
	       1e9 / rb, allowed_b, nb);
	printf("ratio compiled/linear: %.1fx\n", rc / rb);
	gb_policy_compiled_unref(c);
	gb_policy_free(p);
	gb_buf_free(&y);
	return 0;
}
