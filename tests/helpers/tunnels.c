/* tests/helpers/tunnels.c — many concurrent CONNECT tunnels through one
 * proxy, held open at once, for integration.fault_tunnels and
 * bench/bench_tunnels.sh.  One thread, epoll, on both ends.
 *
 *   tunnels echo IP PORT SECONDS
 *       echo server: every byte read is written back; exits after SECONDS.
 *   tunnels open PROXY TARGET N DIR SECONDS
 *       opens N tunnels (CONNECT TARGET through PROXY, at most 128
 *       connecting at a time), then passes one byte through each and reads
 *       it back, then writes DIR/held (the figures) and holds every tunnel
 *       open until DIR/release exists; closes them all and writes
 *       DIR/closed.  PROXY "-": plain connections to TARGET (an IPv4
 *       address), the baseline of bench/bench_tunnels.sh.  Prints "open ok=A refused=R seconds=S rate=X",
 *       "echo ok=E" and "closed".  Exit 0 when all N carried their byte.
 *
 * PROXY and TARGET are IPv4 "a.b.c.d:port" (TARGET may be a name: the proxy
 * resolves it).  RLIMIT_NOFILE's soft limit is raised to the hard one (the
 * sandbox's --files sets that).  Bounded: everything ends after SECONDS. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTING 128

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_addr(const char *s, struct sockaddr_in *a)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof host)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	memset(a, 0, sizeof *a);
	a->sin_family = AF_INET;
	a->sin_port = htons((unsigned short)atoi(colon + 1));
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int do_echo(const char *ip, const char *port, int seconds)
{
	char spec[96];
	snprintf(spec, sizeof spec, "%s:%s", ip, port);
	struct sockaddr_in a;
	if (parse_addr(spec, &a) < 0)
		return 2;
	raise_nofile();
	alarm((unsigned)seconds);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 4096) < 0) {
		perror("tunnels echo: listen");
		return 1;
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = l };
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	struct epoll_event evs[256];
	for (;;) {
		int n = epoll_wait(ep, evs, 256, 1000);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == l) {
				int c;
				while ((c = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					struct epoll_event ce = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = c };
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
				}
				continue;
			}
			char buf[4096];
			ssize_t r = read(fd, buf, sizeof buf);
			if (r > 0) {
				if (write(fd, buf, (size_t)r) != r)
					close(fd);
			} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
				close(fd);
			}
		}
	}
}

enum { S_CONNECTING, S_HEAD, S_OPEN, S_ECHOED, S_FAILED };

struct tun {
	int fd;
	int state;
	size_t got; /* bytes of the answer head so far */
	char head[256];
};

static int start_connect(struct tun *t, const struct sockaddr_in *proxy, int ep, int idx)
{
	t->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0) {
		t->state = S_FAILED;
		return -errno;
	}
	t->state = S_CONNECTING;
	if (connect(t->fd, (const struct sockaddr *)proxy, sizeof *proxy) < 0 && errno != EINPROGRESS) {
		close(t->fd);
		t->fd = -1;
		t->state = S_FAILED;
		return -errno;
	}
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.u32 = (uint32_t)idx };
	epoll_ctl(ep, EPOLL_CTL_ADD, t->fd, &ev);
	return 0;
}

static void touch(const char *dir, const char *name, const char *text)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static int do_open(const char *proxy_s, const char *target, int n, const char *dir, int seconds)
{
	struct sockaddr_in proxy;
	bool direct = !strcmp(proxy_s, "-");
	if (parse_addr(direct ? target : proxy_s, &proxy) < 0 || n < 1 || n > 100000)
		return 2;
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	double deadline = now_s() + seconds;
	struct tun *t = calloc((size_t)n, sizeof *t);
	if (!t)
		return 1;
	char req[512];
	int reqlen = snprintf(req, sizeof req, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int next = 0, connecting = 0, ok = 0, refused = 0, first_err = 0;
	struct epoll_event evs[256];
	double t0 = now_s();
	while ((next < n || connecting > 0) && now_s() < deadline) {
		while (next < n && connecting < MAX_CONNECTING) {
			int e = start_connect(&t[next], &proxy, ep, next);
			next++;
			if (e < 0) {
				refused++;
				if (!first_err)
					first_err = -e;
			} else {
				connecting++;
			}
		}
		int k = epoll_wait(ep, evs, 256, 200);
		for (int i = 0; i < k; i++) {
			struct tun *c = &t[evs[i].data.u32];
			if (c->state == S_CONNECTING) {
				int err = 0;
				socklen_t el = sizeof err;
				getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
				if (!err && direct) {
					c->state = S_OPEN;
					ok++, connecting--;
					epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
					continue;
				}
				if (err || write(c->fd, req, (size_t)reqlen) != reqlen) {
					c->state = S_FAILED;
					refused++, connecting--;
					if (!first_err)
						first_err = err ? err : errno;
					continue;
				}
				c->state = S_HEAD;
				struct epoll_event ev = { .events = EPOLLIN, .data.u32 = evs[i].data.u32 };
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
			} else if (c->state == S_HEAD) {
				/* byte by byte: nothing after the head may be eaten */
				ssize_t r = read(c->fd, c->head + c->got, 1);
				if (r == 1 && ++c->got < sizeof c->head - 1) {
					c->head[c->got] = 0;
					if (c->got < 4 || strcmp(c->head + c->got - 4, "\r\n\r\n"))
						continue;
				} else if (r < 0 && errno == EAGAIN) {
					continue;
				}
				connecting--;
				if (c->got >= 12 && (!strncmp(c->head, "HTTP/1.1 200", 12) || !strncmp(c->head, "HTTP/1.0 200", 12))) {
					c->state = S_OPEN;
					ok++;
					epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				} else {
					c->state = S_FAILED;
					refused++;
					if (!first_err)
						fprintf(stderr, "tunnels: refused: %.60s\n", c->head), first_err = EPROTO;
				}
			}
		}
	}
	double secs = now_s() - t0;
	printf("open ok=%d refused=%d seconds=%.3f rate=%.0f\n", ok, refused, secs, secs > 0 ? ok / secs : 0);
	if (first_err)
		printf("first error: %s\n", strerror(first_err));
	fflush(stdout);
	/* one byte through each, and back */
	int echoed = 0, waiting = 0;
	for (int i = 0; i < n; i++) {
		if (t[i].state != S_OPEN)
			continue;
		if (write(t[i].fd, "x", 1) != 1)
			continue;
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
		epoll_ctl(ep, EPOLL_CTL_ADD, t[i].fd, &ev);
		waiting++;
	}
	while (waiting > 0 && now_s() < deadline) {
		int k = epoll_wait(ep, evs, 256, 200);
		for (int i = 0; i < k; i++) {
			struct tun *c = &t[evs[i].data.u32];
			char b;
			ssize_t r = read(c->fd, &b, 1);
			if (r < 0 && errno == EAGAIN)
				continue;
			waiting--;
			epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			if (r == 1 && b == 'x')
				c->state = S_ECHOED, echoed++;
			else
				c->state = S_FAILED;
		}
	}
	printf("echo ok=%d\n", echoed);
	fflush(stdout);
	char fig[256];
	snprintf(fig, sizeof fig, "ok=%d refused=%d seconds=%.3f rate=%.0f echoed=%d\n", ok, refused, secs,
	         secs > 0 ? ok / secs : 0, echoed);
	touch(dir, "held", fig);
	char rel[4096];
	snprintf(rel, sizeof rel, "%s/release", dir);
	struct stat st;
	while (stat(rel, &st) < 0 && now_s() < deadline)
		usleep(50000);
	for (int i = 0; i < n; i++)
		if (t[i].fd > 0)
			close(t[i].fd);
	free(t);
	close(ep);
	printf("closed\n");
	fflush(stdout);
	touch(dir, "closed", "");
	return echoed == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "echo"))
		return do_echo(argv[2], argv[3], atoi(argv[4]));
	if (argc == 7 && !strcmp(argv[1], "open"))
		return do_open(argv[2], argv[3], atoi(argv[4]), argv[5], atoi(argv[6]));
	fprintf(stderr, "usage: tunnels echo IP PORT SECONDS | open PROXY TARGET N DIR SECONDS\n");
	return 2;
}
