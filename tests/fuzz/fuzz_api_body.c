/* tests/fuzz/fuzz_api_body.c — libFuzzer harness for what API clients send:
 * request bodies and query strings.  The first input byte picks the road:
 *
 *   even: a policy body as PUT (set) / PATCH (update) deliver it to the
 *         supervisor's control socket (enforcer/sandbox/control.c does
 *         exactly this): gb_policy_load_buf, then gb_policy_store_set or
 *         _update on a store holding a base policy, then the revision
 *         written back as a file (gb_policy_yaml, what `policy get` prints).
 *         Property: what the store accepted, emitted, loads again with the
 *         same network hash (a revision can always be read back and re-set).
 *   odd:  the real REST API (gb_api_start, libmicrohttpd, on a unix socket
 *         in a private directory), one request per input to one of the
 *         routes below with the rest of the input as the body (POST/PUT/
 *         PATCH) or, percent-encoded, as the query string (GET).
 *         Property: every answer is an HTTP response, and every error is a
 *         JSON object with an "error" string (api.md: no request can crash
 *         the daemon; errors are JSON).  "follow" in a query is defused
 *         (a stream has no end to wait for).
 * Bounded: inputs up to 64 KiB, each request answered within 8 s (a loaded
 * machine, load 60 here, made 5 s trip without a fault). */
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api.h"
#include "common/buf.h"
#include "common/diag.h"
#include "common/log.h"
#include "common/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char base_yaml[] =
	"version: 1\n"
	"filesystem_policy:\n"
	"  read_only: [/usr, /etc]\n"
	"  read_write: [/tmp]\n"
	"network_policies:\n"
	"  web:\n"
	"    endpoints:\n"
	"      - {host: example.test, port: 443, protocol: rest, enforcement: enforce,\n"
	"         rules: [{allow: {method: GET, path: /v1/**}}]}\n"
	"    binaries: [{path: /usr/bin/curl}]\n";

static struct gb_policy *base;
static char sock_path[128];
static struct gb_api *api;

static char dir[] = "/tmp/gb-fuzz-api.XXXXXX";

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path); /* best effort: what cannot go stays, the walk goes on */
	return 0;
}

/* libFuzzer ends with exit(): stop the server, leave nothing in /tmp */
static void cleanup(void)
{
	gb_api_stop(api);
	api = NULL;
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	gb_log_set_level(GB_LOG_ERROR);
	struct gb_diags d = { 0 };
	if (gb_policy_load_buf("base", base_yaml, sizeof base_yaml - 1, &base, &d) < 0)
		abort();
	gb_diags_free(&d);
	if (!mkdtemp(dir))
		abort();
	char jd[160], rd[160], db[160], sd[200];
	snprintf(jd, sizeof jd, "%s/journal", dir);
	snprintf(rd, sizeof rd, "%s/sandboxes", dir);
	snprintf(db, sizeof db, "%s/advisor.db", dir);
	snprintf(sock_path, sizeof sock_path, "%s/api.sock", dir);
	mkdir(jd, 0700);
	mkdir(rd, 0700);
	snprintf(sd, sizeof sd, "%s/s1", rd); /* a sandbox directory without a supervisor */
	mkdir(sd, 0700);
	struct gb_api_opts o = { .unix_path = sock_path, .journal_dir = jd, .runtime_dir = rd,
		                 .advisor_db = db };
	char err[256];
	if (gb_api_start(&o, &api, err, sizeof err) < 0) {
		fprintf(stderr, "fuzz_api_body: %s\n", err);
		abort();
	}
	atexit(cleanup);
	return 0;
}

/* ---- road 1: policy bodies ---- */

static void policy_body(int update, const char *buf, size_t len)
{
	struct gb_diags d = { 0 };
	struct gb_policy *p = NULL;
	int rc = gb_policy_load_buf("request body", buf, len, &p, &d);
	gb_diags_free(&d);
	if (rc < 0 || !p)
		return;
	struct gb_policy_store *st = NULL;
	if (gb_policy_store_new(base, &st) < 0) {
		gb_policy_free(p);
		return;
	}
	uint64_t rev = 0;
	struct gb_diags d2 = { 0 };
	rc = update ? gb_policy_store_update(st, p, &rev, &d2) : gb_policy_store_set(st, p, &rev, &d2);
	gb_diags_free(&d2);
	if (rc == 0) {
		const struct gb_policy_compiled *pc = gb_policy_store_get(st);
		size_t n = 0;
		const struct gb_net_entry *e = gb_policy_compiled_entries(pc, &n);
		char sha[65], sha2[65];
		struct gb_buf y = GB_BUF_INIT;
		if (gb_policy_hash_entries(e, n, sha) == 0 && gb_policy_yaml(base, e, n, &y) == 0) {
			struct gb_policy *back = NULL;
			struct gb_diags d3 = { 0 };
			if (gb_policy_load_buf("emitted", y.data, y.len, &back, &d3) < 0 || !back) {
				fprintf(stderr, "emitted policy does not load:\n%.*s\n", (int)y.len, y.data);
				gb_diags_print(&d3, stderr);
				__builtin_trap();
			}
			if (gb_policy_hash_network(back, sha2) < 0 || strcmp(sha, sha2)) {
				fprintf(stderr, "hash %s, re-loaded %s:\n%.*s\n", sha, sha2, (int)y.len, y.data);
				__builtin_trap();
			}
			gb_policy_free(back);
			gb_diags_free(&d3);
		}
		gb_buf_free(&y);
		gb_policy_store_put(st, pc);
	}
	gb_policy_store_free(st);
	gb_policy_free(p);
}

/* ---- road 2: the REST API ---- */

static const struct {
	const char *method, *path;
} routes[] = {
	{ "POST", "/v1/sandboxes/s1/advisor/suggestions/1/approve" },
	{ "POST", "/v1/sandboxes/s1/advisor/suggestions/1/reject" },
	{ "PUT", "/v1/sandboxes/s1/policy" },
	{ "PATCH", "/v1/sandboxes/s1/policy" },
	{ "GET", "/v1/sandboxes/s1/logs" },
	{ "GET", "/v1/sandboxes/s1/advisor/suggestions" },
	{ "GET", "/v1/sandboxes/s1/policy" },
	{ "GET", "/v1/sandboxes" },
	{ "GET", "/metrics" },
};

/* One request on a fresh connection to the daemon's socket; the whole
 * answer (to EOF, first 4 MiB kept) in *resp.  -1 when nothing more came
 * within wait_ms. */
static int exchange(const struct gb_buf *req, int wait_ms, struct gb_buf *resp)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		__builtin_trap(); /* the daemon is gone */
	size_t off = 0;
	while (off < req->len) {
		ssize_t n = send(fd, req->data + off, req->len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break; /* refused mid-body (e.g. too large): the answer tells */
		off += (size_t)n;
	}
	char buf[16384];
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, wait_ms) <= 0) {
			close(fd);
			return -1;
		}
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n <= 0)
			break;
		if (resp->len < (4u << 20))
			gb_buf_append(resp, buf, (size_t)n);
	}
	close(fd);
	return 0;
}

static void api_request(unsigned pick, const uint8_t *data, size_t size)
{
	const char *m = routes[pick % (sizeof routes / sizeof routes[0])].method;
	const char *path = routes[pick % (sizeof routes / sizeof routes[0])].path;
	int get = !strcmp(m, "GET");
	struct gb_buf req = GB_BUF_INIT;
	gb_buf_printf(&req, "%s %s", m, path);
	if (get && size) {
		/* never follow=: a stream does not end, and its end is not what
		 * is tested here (the follow clients are an integration test's) */
		gb_buf_puts(&req, "?");
		for (size_t i = 0; i < size; i++) {
			unsigned char c = data[i];
			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    (c && strchr("=&-_.~%+", c)))
				gb_buf_printf(&req, "%c", c);
			else
				gb_buf_printf(&req, "%%%02X", c);
		}
	}
	for (char *f = req.data; get && (f = strstr(f, "follow")); f++)
		f[1] = '0';
	gb_buf_printf(&req, " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
	if (!get)
		gb_buf_printf(&req, "Content-Length: %zu\r\n\r\n", size);
	else
		gb_buf_puts(&req, "\r\n");
	if (!get)
		gb_buf_append(&req, data, size);

	struct gb_buf resp = GB_BUF_INIT;
	/* A first answer late is tried once more on a fresh connection (a
	 * loaded runner); two in a row is a daemon that does not answer. */
	if (exchange(&req, 4000, &resp) < 0) {
		fprintf(stderr, "no answer within 4 s (retrying once) to\n%s\n", gb_buf_cstr(&req));
		resp.len = 0;
		if (exchange(&req, 4000, &resp) < 0) {
			fprintf(stderr, "no answer within 4 s, twice, to\n%s\n", gb_buf_cstr(&req));
			__builtin_trap();
		}
	}
	const char *r = gb_buf_cstr(&resp);
	unsigned status = 0;
	if (sscanf(r, "HTTP/1.1 %u ", &status) != 1 || status < 100 || status > 599) {
		fprintf(stderr, "not an HTTP answer to\n%s\n---\n%s\n", gb_buf_cstr(&req), r);
		__builtin_trap();
	}
	const char *body = strstr(r, "\r\n\r\n");
	if (status >= 400 && body && strstr(r, "application/json")) {
		json_error_t je;
		json_t *o = json_loads(body + 4, 0, &je);
		if (!json_is_string(json_object_get(o, "error"))) {
			fprintf(stderr, "error answer without a JSON error:\n%s\n", r);
			__builtin_trap();
		}
		json_decref(o);
	}
	gb_buf_free(&resp);
	gb_buf_free(&req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > 65536)
		return 0;
	unsigned sel = data[0];
	data++;
	size--;
	if (!(sel & 1)) {
		policy_body((sel >> 1) & 1, (const char *)data, size);
		return 0;
	}
	api_request(sel >> 1, data, size);
	return 0;
}
