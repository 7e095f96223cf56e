/* bench/bench_policy.c — the compiled matcher against a naive baseline that
 * walks the parsed model entry by entry (lower-cased host compare or glob,
 * port scan, binary globs), in the same run on the same queries, for
 * policies of 10, 1 000 and 10 000 entries (5/6 exact hosts, 1/6 wildcard
 * hosts, every fourth entry with L7 rules, 100 distinct binaries).  Queries
 * mix allowed, wrong-binary and unknown hosts (hit and miss paths).
 *
 * Per size: compile time, decisions/s, p50/p99 latency of one decision
 * (every 8th decision timed alone with CLOCK_MONOTONIC, the clock's own cost
 * subtracted), the baseline's decisions/s and the ratio.  Then revisions:
 * a reader thread decides in a loop while the writer swaps in 200 new
 * revisions of the 1 000-entry policy; for each, the time from the swap
 * call's return (and from its start, compile included) until the reader's
 * first decision on the new revision.
 *
 * Usage: bench_policy [N_QUERIES]  (default 200000 per size; bounded) */
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_util.h"
#include "common/clock.h"
#include "common/policy.h"
#include "common/policy_match.h"

#define N_BIN 100

static int N_EXACT, N_WILD; /* per run */
static uint64_t timer_cost;

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

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

enum { NQ = 4096 };
static struct query qs[NQ];

static void make_queries(void)
{
	srand(42);
	int n = N_EXACT + N_WILD;
	for (int i = 0; i < NQ; i++) {
		int e = rand() % n;
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
}

static struct gb_policy *load_policy(int entries, struct gb_buf *y)
{
	N_EXACT = entries - entries / 6;
	N_WILD = entries / 6;
	y->len = 0;
	gen(y);
	struct gb_diags d = { 0 };
	struct gb_policy *p = NULL;
	if (gb_policy_load_buf("bench.yaml", gb_buf_cstr(y), y->len, &p, &d) != 0) {
		gb_diags_print(&d, stderr);
		exit(1);
	}
	gb_diags_free(&d);
	return p;
}

static int one_size(int entries, long nq)
{
	struct gb_buf y = GB_BUF_INIT;
	struct gb_policy *p = load_policy(entries, &y);
	struct gb_policy_compiled *c = NULL;
	double t0 = bench_now();
	if (gb_policy_compile(p, &c) != 0)
		return 1;
	double t_compile = bench_now() - t0;
	make_queries();
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
	t0 = bench_now();
	for (long i = 0; i < nq; i++) {
		const struct query *q = &qs[i % NQ];
		struct gb_decide_in in = { .host = q->host, .port = q->port, .exe = q->exe };
		struct gb_decision dec;
		gb_policy_decide(c, &in, &dec);
		allowed += dec.verdict == GB_VERDICT_ALLOW;
	}
	double tc = bench_now() - t0;
	/* latency: every 8th decision timed alone, in a separate pass */
	long ns = nq / 8 > 0 ? nq / 8 : 1;
	uint64_t *lat = malloc((size_t)ns * sizeof *lat);
	for (long i = 0; i < ns; i++) {
		const struct query *q = &qs[(i * 8) % NQ];
		struct gb_decide_in in = { .host = q->host, .port = q->port, .exe = q->exe };
		struct gb_decision dec;
		uint64_t a = gb_now_ns(CLOCK_MONOTONIC);
		gb_policy_decide(c, &in, &dec);
		uint64_t d = gb_now_ns(CLOCK_MONOTONIC) - a;
		lat[i] = d > timer_cost ? d - timer_cost : 0;
	}
	qsort(lat, (size_t)ns, sizeof *lat, cmp_u64);
	/* the baseline is slow at 10 000 entries: fewer rounds */
	long nb = entries >= 10000 ? nq / 400 : entries >= 1000 ? nq / 40 : nq;
	if (nb < 50)
		nb = 50;
	t0 = bench_now();
	long allowed_b = 0;
	for (long i = 0; i < nb; i++)
		allowed_b += naive_decide(p, &qs[i % NQ]);
	double tb = bench_now() - t0;
	double rc = (double)nq / tc, rb = (double)nb / tb;
	printf("%6d entries  compile %7.2f ms  compiled %9.0f/s p50 %4llu ns p99 %5llu ns   "
	       "linear %9.0f/s   ratio %7.1fx\n", entries, t_compile * 1e3, rc,
	       (unsigned long long)lat[ns / 2], (unsigned long long)lat[ns * 99 / 100], rb, rc / rb);
	char fig[64];
	snprintf(fig, sizeof fig, "decisions/s, %d entries", entries);
	bench_figure("policy", fig, rc, "decisions/s", "linear walk of the model", rb,
	             entries == 1000 ? ">=5000000" : "-");
	(void)allowed;
	(void)allowed_b;
	free(lat);
	gb_policy_compiled_unref(c);
	gb_policy_free(p);
	gb_buf_free(&y);
	return 0;
}

/* ---- swap visibility ---- */

struct swap_race {
	struct gb_policy_store *s;
	_Atomic uint64_t seen_rev; /* newest revision the reader decided on */
	_Atomic uint64_t seen_ns;  /* when it first did (written before seen_rev) */
	atomic_int stop;
};

static void *swap_reader(void *arg)
{
	struct swap_race *r = arg;
	struct gb_decide_in in = { .host = "api1.example.com", .port = 443, .exe = "/usr/bin/tool1" };
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		const struct gb_policy_compiled *c = gb_policy_store_get(r->s);
		struct gb_decision dec;
		gb_policy_decide(c, &in, &dec);
		uint64_t rev = gb_policy_compiled_revision(c);
		gb_policy_store_put(r->s, c);
		if (rev > atomic_load_explicit(&r->seen_rev, memory_order_relaxed)) {
			atomic_store_explicit(&r->seen_ns, gb_now_ns(CLOCK_MONOTONIC), memory_order_relaxed);
			atomic_store_explicit(&r->seen_rev, rev, memory_order_release);
		}
	}
	return NULL;
}

static void swap_visibility(void)
{
	enum { SWAPS = 200 };
	struct gb_buf y = GB_BUF_INIT;
	struct gb_policy *p = load_policy(1000, &y);
	struct swap_race r = { 0 };
	if (gb_policy_store_new(p, &r.s) != 0)
		exit(1);
	pthread_t t;
	pthread_create(&t, NULL, swap_reader, &r);
	uint64_t after[SWAPS], total[SWAPS];
	uint64_t rev = 1;
	for (int i = 0; i < SWAPS; i++) {
		struct gb_diags d = { 0 };
		uint64_t t0 = gb_now_ns(CLOCK_MONOTONIC);
		if (gb_policy_store_set(r.s, p, &rev, &d) != 0)
			exit(1);
		uint64_t t1 = gb_now_ns(CLOCK_MONOTONIC);
		gb_diags_free(&d);
		while (atomic_load_explicit(&r.seen_rev, memory_order_acquire) < rev)
			;
		uint64_t seen = atomic_load_explicit(&r.seen_ns, memory_order_relaxed);
		after[i] = seen > t1 ? seen - t1 : 0;
		total[i] = seen - t0;
	}
	atomic_store(&r.stop, 1);
	pthread_join(t, NULL);
	qsort(after, SWAPS, sizeof after[0], cmp_u64);
	qsort(total, SWAPS, sizeof total[0], cmp_u64);
	printf("swap (1 000 entries, %d swaps): first decision on the new revision %.1f us (p50) / "
	       "%.1f us (max) after set returned; %.2f ms (p50) / %.2f ms (max) from the set call, "
	       "compile included\n", SWAPS, after[SWAPS / 2] / 1e3, after[SWAPS - 1] / 1e3,
	       total[SWAPS / 2] / 1e6, total[SWAPS - 1] / 1e6);
	gb_policy_store_free(r.s);
	gb_policy_free(p);
	gb_buf_free(&y);
}

int main(int argc, char **argv)
{
	long nq = argc > 1 ? atol(argv[1]) : 200000;
	if (nq <= 0 || nq > 100000000)
		nq = 200000;
	timer_cost = bench_timer_cost();
	printf("compiled matcher vs linear walk of the model, same queries (clock cost %llu ns "
	       "subtracted from latencies)\n", (unsigned long long)timer_cost);
	static const int sizes[] = { 10, 1000, 10000 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		if (one_size(sizes[i], nq))
			return 1;
	swap_visibility();
	printf("targets: >= 5 M decisions/s at 1 000 entries, p99 < 2 us, compile < 50 ms (10 000), "
	       "swap visible < 1 ms\n");
	return 0;
}
