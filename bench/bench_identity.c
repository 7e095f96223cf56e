/* bench/bench_identity.c — the cost of one proxy identity lookup
 * (enforcer/proxy/identity.h: sock_diag for the 4-tuple, the /proc fd walk for
 * the socket's owner, exe, PPid chain, cached SHA-256) on a real loopback
 * connection owned by this process, against the baseline of the accept()
 * that precedes every lookup in the proxy, and the re-check of the holders
 * the proxy makes when the request head is complete (gb_identity_recheck).
 * Prints microseconds per lookup, the number of processes and fds walked,
 * and the ratio.
 *
 *   bench_identity [ITERATIONS]   (default 500, at most 100000) */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_util.h"
#include "enforcer/proxy/identity.h"

/* How much the /proc walk has to look at. */
static void count_proc(long *procs, long *fds)
{
	*procs = *fds = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		(*procs)++;
		char p[300];
		snprintf(p, sizeof p, "/proc/%s/fd", e->d_name);
		DIR *f = opendir(p);
		while (f && readdir(f))
			(*fds)++;
		if (f)
			closedir(f);
	}
	if (d)
		closedir(d);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 500;
	if (n < 1 || n > 100000) {
		fprintf(stderr, "usage: bench_identity [ITERATIONS 1..100000]\n");
		return 2;
	}
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sa;
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 128) < 0 ||
	    getsockname(ls, (struct sockaddr *)&sa, &sl) < 0) {
		perror("bench_identity: listen");
		return 1;
	}
	/* Two scopes: the whole host (standalone `glassbox proxy`), and a
	 * sandbox's process tree (root_pid = the client's ancestor; here this
	 * process, which owns the client sockets, as a sandbox init would). */
	for (int scoped = 0; scoped < 2; scoped++) {
		struct gb_identity_ctx *ctx = NULL;
		struct gb_identity_opts o = { .proc_root = "/proc", .netns_fd = -1,
			                      .root_pid = scoped ? (int)getpid() : 0 };
		if (gb_identity_ctx_new(&o, &ctx) < 0) {
			fprintf(stderr, "bench_identity: identity context failed\n");
			return 1;
		}
		static struct gb_ident_buf ib;
		double t_accept = 0, t_lookup = 0, t_recheck = 0;
		for (long i = 0; i < n; i++) {
			int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof sa) < 0) {
				perror("bench_identity: connect");
				return 1;
			}
			struct sockaddr_in peer, local;
			socklen_t pl = sizeof peer, ll = sizeof local;
			double a0 = bench_now();
			int s2 = accept4(ls, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
			double b0 = bench_now();
			getsockname(s2, (struct sockaddr *)&local, &ll);
			double b2 = bench_now();
			int rc = gb_identity_lookup(ctx, (struct sockaddr *)&peer, (struct sockaddr *)&local, &ib);
			double e = bench_now();
			if (rc < 0 || ib.id.pid != getpid()) {
				fprintf(stderr, "bench_identity: lookup %ld gave rc=%d pid=%d (want %d)\n", i, rc,
				        ib.id.pid, (int)getpid());
				return 1;
			}
			/* the proxy re-checks the holders when the head is complete
			 * (host scope; a sandbox looks up again) */
			double r0 = bench_now();
			if (gb_identity_recheck(ctx, &ib) != 1) {
				fprintf(stderr, "bench_identity: recheck %ld failed\n", i);
				return 1;
			}
			t_recheck += bench_now() - r0;
			t_accept += b0 - a0;
			t_lookup += e - b2;
			close(s2);
			close(c);
		}
		long procs, fds;
		count_proc(&procs, &fds);
		double us = t_lookup / (double)n * 1e6, acc = t_accept / (double)n * 1e6;
		if (scoped)
			printf("identity lookup, sandbox scope (1 process): %.1f us per lookup\n", us);
		else
			printf("identity lookup, host scope: %.1f us per lookup (%ld lookups; /proc: %ld processes, "
			       "%ld fds; exe %s, %u ancestors)\n", us, n, procs, fds, ib.id.exe, ib.id.n_ancestors);
		printf("  accept() baseline: %.1f us; lookup/accept = %.0fx; head-time re-check of the holders: "
		       "%.1f us\n", acc, acc > 0 ? us / acc : 0.0, t_recheck / (double)n * 1e6);
		bench_figure("identity", scoped ? "lookup, sandbox scope" : "lookup, host scope", us, "us",
		             "accept()", acc, "-");
		gb_identity_ctx_free(ctx);
	}
	close(ls);
	return 0;
}
