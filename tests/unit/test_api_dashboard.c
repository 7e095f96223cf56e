/* tests/unit/test_api_dashboard.c — POST /v1/dashboard and its tokens
 * (api/api_dashboard.c) inside a real gb_api: minted on the unix socket,
 * accepted on the TCP listener it started, refused when wrong or missing,
 * never minted over TCP; threads minting and using tokens at once (the
 * table's lock, under TSan in the Tsan build); the oldest of more than 16
 * forgotten; the dashboard's files served without a token. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/api.h"
#include "unit/tmpdir.h"

struct fix {
	char dir[64];
	char sock[100]; /* a sun_path */
	struct gb_api *api;
};

static int setup(void **state)
{
	static struct fix f;
	memset(&f, 0, sizeof f);
	if (gb_tmpdir_make(f.dir, sizeof f.dir, "apidash") < 0)
		return -1;
	char journal[400], runtime[400], web[400], db[400], idx[450];
	snprintf(journal, sizeof journal, "%s/journal", f.dir);
	snprintf(runtime, sizeof runtime, "%s/sandboxes", f.dir);
	snprintf(web, sizeof web, "%s/web", f.dir);
	snprintf(db, sizeof db, "%s/advisor.db", f.dir);
	if ((size_t)snprintf(f.sock, sizeof f.sock, "%s/api.sock", f.dir) >= sizeof f.sock)
		return -1;
	mkdir(journal, 0700);
	mkdir(runtime, 0700);
	mkdir(web, 0700);
	snprintf(idx, sizeof idx, "%s/index.html", web);
	FILE *fp = fopen(idx, "w");
	if (!fp)
		return -1;
	fputs("<!doctype html><title>t</title>\n", fp);
	fclose(fp);
	struct gb_api_opts o = { .root = f.dir, .unix_path = f.sock, .journal_dir = journal,
		                 .runtime_dir = runtime, .advisor_db = db, .dashboard_dir = web };
	char err[512];
	if (gb_api_start(&o, &f.api, err, sizeof err) < 0) {
		fprintf(stderr, "gb_api_start: %s\n", err);
		return -1;
	}
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	gb_api_stop(f->api);
	gb_tmpdir_remove(f->dir);
	return 0;
}

/* One HTTP/1.0 exchange on fd: the status, the body into body (NUL-ended). */
static int exchange(int fd, const char *req, char *body, size_t len)
{
	size_t n = strlen(req), off = 0;
	while (off < n) {
		ssize_t k = write(fd, req + off, n - off);
		if (k <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)k;
	}
	char buf[16384];
	size_t got = 0;
	for (ssize_t k; got < sizeof buf - 1 && (k = read(fd, buf + got, sizeof buf - 1 - got)) > 0;)
		got += (size_t)k;
	close(fd);
	buf[got] = 0;
	int status = 0;
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	const char *b = strstr(buf, "\r\n\r\n");
	snprintf(body, len, "%s", b ? b + 4 : "");
	return status;
}

static int unix_req(struct fix *f, const char *req, char *body, size_t len)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", f->sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return exchange(fd, req, body, len);
}

static int tcp_req(unsigned port, const char *req, char *body, size_t len)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return exchange(fd, req, body, len);
}

/* POST /v1/dashboard on the unix socket: the token (65 bytes) and port. */
static int mint(struct fix *f, char tok[65], unsigned *port)
{
	char body[4096];
	int st = unix_req(f, "POST /v1/dashboard HTTP/1.0\r\nHost: gb\r\nContent-Length: 0\r\n\r\n",
	                  body, sizeof body);
	if (st != 200)
		return st;
	json_t *o = json_loads(body, 0, NULL);
	const char *t = json_string_value(json_object_get(o, "token"));
	int ok = t && strlen(t) == 64;
	if (ok)
		memcpy(tok, t, 65);
	*port = (unsigned)json_integer_value(json_object_get(o, "port"));
	json_decref(o);
	return ok ? 200 : -1;
}

static int health(unsigned port, const char *tok)
{
	char req[512], body[4096];
	if (tok)
		snprintf(req, sizeof req, "GET /v1/health HTTP/1.0\r\nHost: gb\r\n"
		         "Authorization: Bearer %s\r\n\r\n", tok);
	else
		snprintf(req, sizeof req, "GET /v1/health HTTP/1.0\r\nHost: gb\r\n\r\n");
	return tcp_req(port, req, body, sizeof body);
}

static void test_mint_and_use(void **state)
{
	struct fix *f = *state;
	char tok[65], tok2[65], body[4096];
	unsigned port = 0, port2 = 0;
	assert_int_equal(mint(f, tok, &port), 200);
	assert_true(port > 0);
	assert_int_equal(health(port, tok), 200);
	assert_int_equal(health(port, NULL), 401);
	char wrong[65];
	memcpy(wrong, tok, 65);
	wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
	assert_int_equal(health(port, wrong), 403);
	assert_int_equal(health(port, "short"), 403);
	/* reuse: the same listener, another token, both valid */
	assert_int_equal(mint(f, tok2, &port2), 200);
	assert_int_equal(port2, port);
	assert_string_not_equal(tok, tok2);
	assert_int_equal(health(port, tok), 200);
	assert_int_equal(health(port, tok2), 200);
	/* over TCP, even with a token: no minting */
	char req[512];
	snprintf(req, sizeof req, "POST /v1/dashboard HTTP/1.0\r\nHost: gb\r\nAuthorization: Bearer "
	         "%s\r\nContent-Length: 0\r\n\r\n", tok);
	assert_int_equal(tcp_req(port, req, body, sizeof body), 403);
	/* a listen address that is not loopback */
	assert_int_equal(unix_req(f, "POST /v1/dashboard HTTP/1.0\r\nHost: gb\r\nContent-Length: 24"
	                          "\r\n\r\n{\"listen\":\"0.0.0.0:0\"}  ", body, sizeof body), 400);
	/* the page needs no token; the API behind it does */
	assert_int_equal(tcp_req(port, "GET / HTTP/1.0\r\nHost: gb\r\n\r\n", body, sizeof body), 200);
	assert_non_null(strstr(body, "<title>t</title>"));
	assert_int_equal(tcp_req(port, "GET /metrics HTTP/1.0\r\nHost: gb\r\n\r\n", body, sizeof body),
	                 401);
}

#define THREADS 4
#define PER_THREAD 6

struct worker {
	struct fix *f;
	int ok, bad;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < PER_THREAD; i++) {
		char tok[65];
		unsigned port;
		/* at most THREADS-1 other mints between this one and its use:
		 * far fewer than the 16 slots, so it is never evicted yet */
		if (mint(w->f, tok, &port) == 200 && health(port, tok) == 200)
			w->ok++;
		else
			w->bad++;
	}
	return NULL;
}

static void test_threads_and_eviction(void **state)
{
	struct fix *f = *state;
	char first[65], tok[65];
	unsigned port;
	assert_int_equal(mint(f, first, &port), 200);
	assert_int_equal(health(port, first), 200);
	pthread_t th[THREADS];
	struct worker w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .f = f };
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].ok, PER_THREAD);
		assert_int_equal(w[i].bad, 0);
	}
	/* THREADS*PER_THREAD = 24 > 16 newer tokens: the first is forgotten,
	 * the newest still works */
	assert_int_equal(health(port, first), 403);
	assert_int_equal(mint(f, tok, &port), 200);
	assert_int_equal(health(port, tok), 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mint_and_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads_and_eviction, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
