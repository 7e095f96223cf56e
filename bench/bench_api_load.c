/* bench/bench_api_load.c — an HTTP/1.1 keep-alive load client over a unix
 * socket, the same for the glassbox API and its baseline (nginx):
 *
 *   bench_api_load SOCKET PATHS_FILE CONNS SECONDS
 *
 * CONNS threads, each with one connection, send GET requests for the paths
 * of PATHS_FILE (one per line, cycled, each thread from its own offset)
 * for SECONDS (at most 60) and read each answer (Content-Length bodies).
 * Prints requests/s and the latency p50/p99/max over all requests.
 * Bounded: at most 64 connections, 4 000 000 requests in all. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_REQ 4000000
#define MAX_PATHS 10000

static const char *sock;
static char *paths[MAX_PATHS];
static size_t n_paths;
static uint64_t deadline;
static uint64_t *lat;
static atomic_size_t n_lat;
static atomic_int errors;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int dial(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%s", sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One answer: headers, then Content-Length bytes.  0 ok, -1 error. */
static int read_answer(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	char *end = NULL;
	while (!end) {
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = 0;
		end = strstr(buf, "\r\n\r\n");
		if (!end && len >= cap - 1)
			return -1;
	}
	const char *cl = strcasestr(buf, "\r\ncontent-length:");
	if (!cl || strncmp(buf, "HTTP/1.1 200", 12))
		return -1;
	size_t body = strtoul(cl + 17, NULL, 10), have = len - (size_t)(end + 4 - buf);
	while (have < body) {
		ssize_t n = read(fd, buf, cap < body - have ? cap : body - have);
		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	return 0;
}

static void *worker(void *arg)
{
	size_t i = (size_t)(uintptr_t)arg * 7919;
	static _Thread_local char buf[1 << 16];
	char req[4096];
	int fd = dial();
	while (fd >= 0 && now_ns() < deadline) {
		const char *p = paths[i++ % n_paths];
		int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: bench\r\n\r\n", p);
		uint64_t t0 = now_ns();
		if (write(fd, req, (size_t)n) != n || read_answer(fd, buf, sizeof buf) < 0) {
			atomic_fetch_add(&errors, 1);
			close(fd);
			fd = dial();
			continue;
		}
		size_t k = atomic_fetch_add(&n_lat, 1);
		if (k >= MAX_REQ)
			break;
		lat[k] = now_ns() - t0;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: bench_api_load SOCKET PATHS_FILE CONNS SECONDS\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN); /* a server closing a keep-alive connection: reconnect */
	sock = argv[1];
	int conns = atoi(argv[3]);
	double secs = atof(argv[4]);
	if (conns < 1 || conns > 64 || secs <= 0 || secs > 60) {
		fprintf(stderr, "bench_api_load: 1-64 connections, 0-60 s\n");
		return 2;
	}
	FILE *f = fopen(argv[2], "r");
	char line[4096];
	while (f && n_paths < MAX_PATHS && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		if (*line)
			paths[n_paths++] = strdup(line);
	}
	if (f)
		fclose(f);
	if (!n_paths) {
		fprintf(stderr, "bench_api_load: no paths in %s\n", argv[2]);
		return 2;
	}
	lat = malloc(MAX_REQ * sizeof *lat);
	pthread_t th[64];
	uint64_t t0 = now_ns();
	deadline = t0 + (uint64_t)(secs * 1e9);
	for (int i = 0; i < conns; i++)
		pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i);
	for (int i = 0; i < conns; i++)
		pthread_join(th[i], NULL);
	double el = (double)(now_ns() - t0) / 1e9;
	size_t n = atomic_load(&n_lat);
	if (n > MAX_REQ)
		n = MAX_REQ;
	qsort(lat, n, sizeof *lat, cmp);
	printf("requests %zu  errors %d  %.0f req/s  p50 %.3f ms  p99 %.3f ms  max %.3f ms\n", n,
	       atomic_load(&errors), (double)n / el, n ? (double)lat[n / 2] / 1e6 : 0,
	       n ? (double)lat[n * 99 / 100] / 1e6 : 0, n ? (double)lat[n - 1] / 1e6 : 0);
	return n ? 0 : 1;
}
