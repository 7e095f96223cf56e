/* tests/helpers/proxy_load.c — the load generator and upstream server behind
 * bench/bench_proxy.sh (which sets up the namespaces and runs glassbox,
 * tinyproxy and haproxy).  C on both ends, so the figures measure the
 * proxies and not an interpreter.
 *
 *   proxy_load serve IP PORT
 *       thread per connection; a request line "B <n>\n" is answered with n
 *       zero bytes, "P\n" with "OK\n"; then the server closes.
 *   proxy_load bulk  PROXY TARGET BYTES
 *       one connection: CONNECT through PROXY (or "-" = connect to TARGET
 *       directly), ask for BYTES, read them to EOF.  Prints
 *       "bulk bytes=N seconds=S MBps=X".
 *   proxy_load rate  PROXY TARGET COUNT SECONDS [THREADS]
 *       COUNT connections in all (stops early after SECONDS), opened one
 *       after another by each of THREADS clients (default 1): connect,
 *       CONNECT, "P", read "OK", close.  Prints "rate n=N clients=T
 *       conns_per_s=X p50_us=A p99_us=B failed=F" (per-request latency).
 *
 * PROXY and TARGET are IPv4 "a.b.c.d:port".  Bounded by COUNT, SECONDS and
 * a 10 s socket timeout on every read. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_addr(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof host)
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	long port = strtol(colon + 1, NULL, 10);
	if (port < 1 || port > 65535 || inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return -EINVAL;
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---- server ---- */

static void *serve_one(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char line[64];
	size_t n = 0;
	while (n < sizeof line - 1) {
		ssize_t r = read(fd, line + n, 1);
		if (r <= 0)
			goto out;
		if (line[n++] == '\n')
			break;
	}
	line[n] = '\0';
	if (line[0] == 'P') {
		write_all(fd, "OK\n", 3);
	} else if (line[0] == 'B') {
		static const char zeros[1 << 16];
		unsigned long long left = strtoull(line + 2, NULL, 10);
		while (left) {
			size_t k = left < sizeof zeros ? (size_t)left : sizeof zeros;
			if (write_all(fd, zeros, k) < 0)
				break;
			left -= k;
		}
	}
out:
	close(fd);
	return NULL;
}

static int serve(const char *ip, const char *port)
{
	char a[96];
	snprintf(a, sizeof a, "%s:%s", ip, port);
	struct sockaddr_in sa;
	if (parse_addr(a, &sa) < 0) {
		fprintf(stderr, "proxy_load: bad address %s\n", a);
		return 2;
	}
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s, 1024) < 0) {
		perror("proxy_load: bind/listen");
		return 1;
	}
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 256 * 1024);
	for (;;) {
		int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				usleep(1000);
				continue;
			}
			perror("proxy_load: accept");
			return 1;
		}
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		pthread_t t;
		if (pthread_create(&t, &at, serve_one, (void *)(intptr_t)c) != 0)
			close(c);
	}
}

/* ---- client ---- */

/* Connect to target, through proxy (CONNECT) unless proxy is NULL.
 * Returns the fd ready for the application protocol, or -1. */
static int open_conn(const struct sockaddr_in *proxy, const char *target,
                     const struct sockaddr_in *tsa)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	struct timeval tv = { .tv_sec = 10 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	const struct sockaddr_in *to = proxy ? proxy : tsa;
	if (connect(fd, (const struct sockaddr *)to, sizeof *to) < 0)
		goto fail;
	if (proxy) {
		char req[256];
		int n = snprintf(req, sizeof req, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target);
		if (write_all(fd, req, (size_t)n) < 0)
			goto fail;
		/* Read exactly the answer head: peek, then consume up to its end,
		 * so nothing of the tunnel is eaten (the upstream speaks only
		 * after our request anyway). */
		char head[1024];
		size_t h = 0;
		double give_up = now_s() + 10;
		for (;;) {
			ssize_t r = recv(fd, head, sizeof head - 1, MSG_PEEK);
			if (r <= 0)
				goto fail;
			head[r] = '\0';
			char *end = strstr(head, "\r\n\r\n");
			if (end) {
				h = (size_t)(end - head) + 4;
				break;
			}
			if ((size_t)r == sizeof head - 1)
				goto fail;
			if (now_s() > give_up)
				goto fail;
			usleep(50); /* a partial head: the rest is on its way */
		}
		if (read(fd, head, h) != (ssize_t)h)
			goto fail;
		head[h] = '\0';
		if (strncmp(head, "HTTP/1.1 200", 12) && strncmp(head, "HTTP/1.0 200", 12)) {
			fprintf(stderr, "proxy_load: CONNECT refused: %.*s\n", (int)strcspn(head, "\r"), head);
			goto fail;
		}
	}
	return fd;
fail:
	close(fd);
	return -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The rate run: THREADS clients, each opening connections one after
 * another until COUNT are done in total or the time is up. */
struct rate_run {
	const struct sockaddr_in *proxy, *tsa;
	const char *target;
	long count, claimed, done, failed;
	double t0, deadline, *lat;
	pthread_mutex_t lock;
};

static void *rate_thread(void *arg)
{
	struct rate_run *r = arg;
	for (;;) {
		pthread_mutex_lock(&r->lock);
		bool go = r->claimed < r->count && r->failed <= 10 && now_s() < r->deadline;
		if (go)
			r->claimed++;
		pthread_mutex_unlock(&r->lock);
		if (!go)
			return NULL;
		double a = now_s();
		int fd = open_conn(r->proxy, r->target, r->tsa);
		char ans[8];
		ssize_t k = -1;
		if (fd >= 0 && write_all(fd, "P\n", 2) == 0)
			k = read(fd, ans, sizeof ans);
		if (fd >= 0)
			close(fd);
		double lat = now_s() - a;
		pthread_mutex_lock(&r->lock);
		if (k != 3 || memcmp(ans, "OK\n", 3)) {
			r->claimed--;
			if (++r->failed > 10)
				fprintf(stderr, "proxy_load: too many failed requests\n");
		} else {
			r->lat[r->done++] = lat;
		}
		pthread_mutex_unlock(&r->lock);
	}
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 4 && !strcmp(argv[1], "serve"))
		return serve(argv[2], argv[3]);
	int bulk = argc == 5 && !strcmp(argv[1], "bulk");
	int rate = (argc == 6 || argc == 7) && !strcmp(argv[1], "rate");
	if (!bulk && !rate) {
		fprintf(stderr, "usage: proxy_load serve IP PORT | bulk PROXY|- TARGET BYTES |\n"
		                "       rate PROXY|- TARGET COUNT SECONDS [THREADS]\n");
		return 2;
	}
	struct sockaddr_in psa, tsa;
	int have_proxy = strcmp(argv[2], "-") != 0;
	if ((have_proxy && parse_addr(argv[2], &psa) < 0) || parse_addr(argv[3], &tsa) < 0) {
		fprintf(stderr, "proxy_load: addresses are a.b.c.d:port\n");
		return 2;
	}
	const struct sockaddr_in *proxy = have_proxy ? &psa : NULL;
	if (bulk) {
		unsigned long long want = strtoull(argv[4], NULL, 10), got = 0;
		double t0 = now_s();
		int fd = open_conn(proxy, argv[3], &tsa);
		if (fd < 0)
			return 1;
		char req[64];
		int n = snprintf(req, sizeof req, "B %llu\n", want);
		write_all(fd, req, (size_t)n);
		static char buf[1 << 20];
		for (;;) {
			ssize_t r = read(fd, buf, sizeof buf);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			got += (unsigned long long)r;
		}
		double dt = now_s() - t0;
		close(fd);
		if (got != want) {
			fprintf(stderr, "proxy_load: got %llu of %llu bytes\n", got, want);
			return 1;
		}
		printf("bulk bytes=%llu seconds=%.3f MBps=%.1f\n", got, dt, (double)got / dt / 1e6);
		return 0;
	}
	long count = strtol(argv[4], NULL, 10);
	double limit = strtod(argv[5], NULL);
	int threads = argc == 7 ? atoi(argv[6]) : 1;
	if (count < 1 || count > 1000000 || limit <= 0 || limit > 600 || threads < 1 || threads > 64) {
		fprintf(stderr, "proxy_load: COUNT 1..1000000, SECONDS 0..600, THREADS 1..64\n");
		return 2;
	}
	struct rate_run run = { .proxy = proxy, .target = argv[3], .tsa = &tsa, .count = count,
		                .lat = calloc((size_t)count, sizeof(double)) };
	if (!run.lat)
		return 1;
	pthread_mutex_init(&run.lock, NULL);
	run.t0 = now_s();
	run.deadline = run.t0 + limit;
	pthread_t tid[64];
	for (int i = 0; i < threads; i++)
		if (pthread_create(&tid[i], NULL, rate_thread, &run) != 0)
			return 1;
	for (int i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	double dt = now_s() - run.t0;
	long done = run.done;
	qsort(run.lat, (size_t)done, sizeof(double), cmp_double);
	printf("rate n=%ld clients=%d conns_per_s=%.0f p50_us=%.0f p99_us=%.0f failed=%ld\n", done,
	       threads, (double)done / dt, done ? run.lat[done / 2] * 1e6 : 0.0,
	       done ? run.lat[(size_t)((double)done * 0.99)] * 1e6 : 0.0, run.failed);
	free(run.lat);
	return done && run.failed <= 10 ? 0 : 1;
}
