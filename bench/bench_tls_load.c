/* bench/bench_tls_load.c — HTTPS load for bench_tls.sh: C threads each
 * making N GET requests over TLS, either through a CONNECT proxy or
 * straight to a TLS endpoint, on one keep-alive connection or on a fresh
 * connection (TCP + CONNECT + handshake) per request.  Prints requests/s
 * and the per-request latency p50/p99 (request written -> response read for
 * keep-alive; connect -> response read for fresh).
 *
 * usage: bench_tls_load ADDR:PORT HOST CAFILE N THREADS ka|fresh [connect [AUTHORITY]]
 *   ADDR:PORT  where TCP goes (the proxy, or the server)
 *   HOST       the HTTPS host (SNI, verification, Host; CONNECT HOST:443)
 *   connect    send "CONNECT HOST:443" (or AUTHORITY) first (a forward proxy)
 * Bounded: at most 1e6 requests, every socket has 10 s timeouts. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static struct sockaddr_in addr;
static const char *host, *authority;
static SSL_CTX *ctx;
static long n_req;
static int fresh, via_connect;

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static SSL *open_conn(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = { 10, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		close(fd);
		return NULL;
	}
	if (via_connect) {
		char b[512];
		char a[300];
		snprintf(a, sizeof a, "%s%s", authority ? authority : host, authority ? "" : ":443");
		int l = snprintf(b, sizeof b, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", a, a);
		if (write(fd, b, (size_t)l) != l) {
			close(fd);
			return NULL;
		}
		size_t got = 0;
		while (got < 4 || memcmp(b + got - 4, "\r\n\r\n", 4)) { /* byte by byte: nothing of TLS taken */
			if (got + 1 >= sizeof b || read(fd, b + got, 1) != 1) {
				close(fd);
				return NULL;
			}
			got++;
		}
		if (memcmp(b, "HTTP/1.1 200", 12) && memcmp(b, "HTTP/1.0 200", 12)) {
			close(fd);
			return NULL;
		}
	}
	SSL *s = SSL_new(ctx);
	SSL_set_fd(s, fd);
	SSL_set_tlsext_host_name(s, host);
	SSL_set1_host(s, host);
	if (SSL_connect(s) != 1) {
		ERR_print_errors_fp(stderr);
		SSL_free(s);
		close(fd);
		return NULL;
	}
	return s;
}

static void close_conn(SSL *s)
{
	int fd = SSL_get_fd(s);
	SSL_free(s);
	close(fd);
}

/* One GET and its whole response (Content-Length framed).  0 or -1. */
static int request(SSL *s)
{
	char b[8192];
	int l = snprintf(b, sizeof b, "GET /bench HTTP/1.1\r\nHost: %s\r\nUser-Agent: bench\r\n\r\n", host);
	if (SSL_write(s, b, l) != l)
		return -1;
	size_t got = 0;
	long need = -1;
	for (;;) {
		int n = SSL_read(s, b + got, (int)(sizeof b - 1 - got));
		if (n <= 0)
			return -1;
		got += (size_t)n;
		b[got] = 0;
		char *e = strstr(b, "\r\n\r\n");
		if (e && need < 0) {
			char *cl = strcasestr(b, "content-length:");
			long len = cl && cl < e ? atol(cl + 15) : 0;
			need = (long)(e + 4 - b) + len;
		}
		if (need >= 0 && (long)got >= need)
			return 0;
		if (got >= sizeof b - 1)
			return -1;
	}
}

struct th {
	pthread_t t;
	uint64_t *lat;
	long n, ok;
};

static void *run(void *arg)
{
	struct th *t = arg;
	SSL *s = fresh ? NULL : open_conn();
	for (long i = 0; i < t->n; i++) {
		uint64_t t0 = now_ns();
		if (fresh)
			s = open_conn();
		if (!s || request(s) < 0) {
			if (s)
				close_conn(s);
			s = fresh ? NULL : open_conn(); /* keep going, count the failure */
			continue;
		}
		t->lat[t->ok++] = now_ns() - t0;
		if (fresh) {
			close_conn(s);
			s = NULL;
		}
	}
	if (s)
		close_conn(s);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 7) {
		fprintf(stderr, "usage: bench_tls_load ADDR:PORT HOST CAFILE N THREADS ka|fresh [connect]\n");
		return 2;
	}
	char ip[64];
	snprintf(ip, sizeof ip, "%s", argv[1]);
	char *colon = strrchr(ip, ':');
	if (!colon)
		return 2;
	*colon = 0;
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)atoi(colon + 1));
	inet_pton(AF_INET, ip, &addr.sin_addr);
	host = argv[2];
	n_req = atol(argv[4]);
	int nt = atoi(argv[5]);
	fresh = !strcmp(argv[6], "fresh");
	via_connect = argc > 7 && !strcmp(argv[7], "connect");
	authority = argc > 8 ? argv[8] : NULL;
	if (n_req < 1 || n_req > 1000000 || nt < 1 || nt > 64)
		return 2;
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_load_verify_locations(ctx, argv[3], NULL);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	static const unsigned char alpn[] = "\x08http/1.1";
	SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF); /* every fresh connection pays a full handshake */
	struct th *ts = calloc((size_t)nt, sizeof *ts);
	for (int i = 0; i < nt; i++) {
		ts[i].n = n_req / nt;
		ts[i].lat = calloc((size_t)ts[i].n, sizeof(uint64_t));
	}
	uint64_t t0 = now_ns();
	for (int i = 0; i < nt; i++)
		pthread_create(&ts[i].t, NULL, run, &ts[i]);
	long ok = 0;
	for (int i = 0; i < nt; i++) {
		pthread_join(ts[i].t, NULL);
		ok += ts[i].ok;
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	uint64_t *all = calloc((size_t)(ok ? ok : 1), sizeof *all);
	long k = 0;
	for (int i = 0; i < nt; i++)
		for (long j = 0; j < ts[i].ok; j++)
			all[k++] = ts[i].lat[j];
	qsort(all, (size_t)ok, sizeof *all, cmp);
	printf("req_s=%.0f p50_us=%.0f p99_us=%.0f ok=%ld failed=%ld\n", ok / secs,
	       ok ? all[ok / 2] / 1e3 : 0.0, ok ? all[(ok * 99) / 100] / 1e3 : 0.0, ok, n_req / nt * nt - ok);
	return ok ? 0 : 1;
}
