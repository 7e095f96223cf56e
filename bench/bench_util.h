/* bench/bench_util.h — the set-up every benchmark repeats: a monotonic
 * clock in seconds, the cost of reading the clock (subtracted from sampled
 * latencies), one typical CONNECT decision, and a run of OCSF lines
 * formatted ahead of a timed loop.
 *
 * Ownership: header-only (static inline), no state.  bench_format_all()
 * appends to the caller's buffer and returns a malloc'd array of line ends
 * the caller frees; NULL when out of memory.
 */
#ifndef GB_BENCH_UTIL_H
#define GB_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/record.h"
#include "exporter/ocsf.h"

/* One figure for scripts/bench's table, a line of its own:
 *   GB_FIGURE <TAB> bench <TAB> figure <TAB> value <TAB> unit <TAB>
 *   baseline name <TAB> baseline value <TAB> target
 * target: ">=300000" (on the value), ">=1.0x" (on value/baseline), "<1000",
 * or "-" (none).  A baseline of 0 has no ratio. */
static inline void bench_figure(const char *bench, const char *figure, double value,
                                const char *unit, const char *base_name, double base,
                                const char *target)
{
	printf("GB_FIGURE\t%s\t%s\t%.6g\t%s\t%s\t%.6g\t%s\n", bench, figure, value, unit,
	       base_name, base, target);
}

static inline double bench_now(void)
{
	return (double)gb_now_ns(CLOCK_MONOTONIC) / 1e9;
}

/* CPU seconds of the calling thread (user + system): a rate per CPU
 * second is "on one core" whatever else runs on a shared machine, where
 * wall time also counts the time spent waiting for a core. */
static inline double bench_thread_cpu(void)
{
	return (double)gb_now_ns(CLOCK_THREAD_CPUTIME_ID) / 1e9;
}

/* Mean cost of one clock read over 1000 back-to-back pairs, in ns. */
static inline uint64_t bench_timer_cost(void)
{
	uint64_t t = 0;
	for (int i = 0; i < 1000; i++) {
		uint64_t a = gb_now_ns(CLOCK_MONOTONIC);
		t += gb_now_ns(CLOCK_MONOTONIC) - a;
	}
	return t / 1000;
}

/* An allowed CONNECT open to api.github.com:443 under entry "github",
 * revision 3; the caller sets what its workload varies (src, id, ...). */
static inline void bench_net_open(struct gb_record *r, uint64_t seq)
{
	memset(r, 0, sizeof *r);
	r->type = GB_REC_NET_DECISION;
	r->seq = seq;
	r->ts_ns = 1787313600000000000ull + seq * 1000;
	struct gb_net_decision *n = &r->u.net;
	n->phase = GB_NET_OPEN;
	n->kind = GB_NET_CONNECT;
	n->verdict = GB_VERDICT_ALLOW;
	n->conn_id = seq;
	n->policy_rev = 3;
	n->dst = (struct gb_endpoint){ "api.github.com", "198.18.0.10", 443 };
	n->reason_text = "";
	n->policy_entry = "github";
	n->endpoint = "api.github.com:443";
}

/* Formats records 0..n-1 made by make() into all, untimed. */
static inline size_t *bench_format_all(const struct gb_ocsf_ctx *ctx, void (*make)(struct gb_record *, uint64_t),
                                       long n, struct gb_buf *all)
{
	size_t *ends = malloc((size_t)n * sizeof *ends);
	if (!ends)
		return NULL;
	for (long i = 0; i < n; i++) {
		struct gb_record r;
		make(&r, (uint64_t)i);
		gb_ocsf_format(ctx, &r, all, NULL);
		ends[i] = all->len;
	}
	return ends;
}

#endif
