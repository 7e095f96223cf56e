/* api/api_server.c — see api.h: listeners, limits, authentication, the
 * route table and the answer helpers every route uses. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api/api_int.h"
#include "api/advisor.h"
#include "api/control_client.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/paths.h"
#include "exporter/serve_hook.h"

#define MAX_HEADER_MEM (32 * 1024) /* request line + headers + our buffers, per connection */
#define CONN_TIMEOUT_S 60
/* Connections waiting for accept: a burst of clients (200 follow clients
 * started at once) overflowed 64 and saw "connection refused". */
#define LISTEN_BACKLOG 1024
#define MAX_TOKEN 4096
/* Query arguments per request: the most any route reads is about a dozen. */
#define MAX_ARGS 64

struct listener {
	struct gb_api *api;
	int needs_token;
	int tls; /* the TCP listener with TLS on: client certificates are checked */
};
static struct listener L_unix, L_tcp; /* one API per process (glassbox serve) */

struct conn {
	char *body;
	size_t len;
	int too_large;
	int started;      /* the handler has seen the complete head */
	size_t args_seen; /* query arguments, when over MAX_ARGS (then emptied) */
	unsigned status;
	uint64_t t0_us;
};

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---------------- answers ---------------- */

enum MHD_Result api_queue(struct api_req *r, unsigned status, char *body, size_t len, const char *type)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	unsigned k = status / 100;
	atomic_fetch_add(&r->api->requests[k >= 2 && k <= 5 ? k - 2 : 4], 1);
	enum MHD_Result rc = MHD_queue_response(r->c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

enum MHD_Result api_json(struct api_req *r, unsigned status, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!s) {
		/* an answer that could not be built is still an answer: closing
		 * without one leaves the client guessing */
		static const char oom[] = "{\"error\":\"internal\",\"detail\":\"the answer could not be built\"}";
		s = strdup(oom);
		status = 500;
		if (!s)
			return MHD_NO;
	}
	size_t n = strlen(s);
	char *t = realloc(s, n + 2); /* a newline for the curl user */
	if (t) {
		t[n++] = '\n';
		t[n] = 0;
		s = t;
	}
	return api_queue(r, status, s, n, "application/json");
}

/* Each byte that does not start a well-formed UTF-8 sequence (RFC 3629:
 * no overlong form, no surrogate, at most U+10FFFF) becomes '?': a detail
 * quotes what the client sent (a query value, cut to fit), and JSON
 * strings must be UTF-8 — jansson refuses to build one otherwise.
 * (fuzz_api_body found a bad byte in ?since= closing the connection
 * without an answer.) */
static void utf8_clean(char *s)
{
	unsigned char *p = (unsigned char *)s;
	while (*p) {
		unsigned c = *p;
		size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
		           : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		bool ok = n > 0;
		for (size_t i = 1; ok && i < n; i++)
			ok = (p[i] & 0xc0) == 0x80;
		if (ok && n == 3)
			ok = !(c == 0xe0 && p[1] < 0xa0) && !(c == 0xed && p[1] >= 0xa0);
		if (ok && n == 4)
			ok = !(c == 0xf0 && p[1] < 0x90) && !(c == 0xf4 && p[1] >= 0x90);
		if (!ok) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

enum MHD_Result api_error(struct api_req *r, unsigned status, const char *error, const char *fmt,
                          ...)
{
	char d[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d, sizeof d, fmt, ap);
	va_end(ap);
	utf8_clean(d);
	return api_json(r, status, json_pack("{s:s, s:s}", "error", error, "detail", d));
}

const char *api_arg(struct api_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, key);
}

int api_sandbox_alive(struct gb_api *a, const char *name, long *pid)
{
	char p[4200];
	*pid = 0;
	if (snprintf(p, sizeof p, "%s/%s/supervisor.pid", a->runtime_dir, name) >= (int)sizeof p)
		return 0;
	int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	int alive = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	char b[32];
	ssize_t n = pread(fd, b, sizeof b - 1, 0);
	if (n > 0) {
		b[n] = 0;
		*pid = strtol(b, NULL, 10);
	}
	close(fd);
	return alive;
}

/* ---------------- routing ---------------- */

static int method_is(const char *m, const char *want)
{
	return !strcmp(m, want);
}

static enum MHD_Result route(struct api_req *r, const char *url)
{
	const char *m = r->method;
	int get = method_is(m, "GET") || method_is(m, "HEAD");
	if (api_static_path(url))
		return api_static(r, url);
	if (!strcmp(url, "/v1/dashboard"))
		return api_dashboard(r);
	if (!strcmp(url, "/v1/health"))
		return get ? api_health(r) : api_error(r, 405, "method_not_allowed", "GET only");
	if (!strcmp(url, "/metrics"))
		return get ? api_metrics(r) : api_error(r, 405, "method_not_allowed", "GET only");
	if (!strcmp(url, "/v1/sandboxes") || !strcmp(url, "/v1/sandboxes/"))
		return get ? api_sandboxes(r) : api_error(r, 405, "method_not_allowed", "GET only");
	if (!strcmp(url, "/v1/inference"))
		return api_inference(r);
	static const char pfx[] = "/v1/sandboxes/";
	if (strncmp(url, pfx, sizeof pfx - 1))
		return api_error(r, 404, "not_found", "no route %s (see /v1/health, /v1/sandboxes, "
		                 "/metrics)", url);
	const char *name = url + sizeof pfx - 1;
	const char *slash = strchr(name, '/');
	char nbuf[80];
	size_t nl = slash ? (size_t)(slash - name) : strlen(name);
	if (nl >= sizeof nbuf) {
		return api_error(r, 400, "invalid_name", "a sandbox name is 1-63 of A-Z a-z 0-9 . _ -");
	}
	memcpy(nbuf, name, nl);
	nbuf[nl] = 0;
	if (!gb_sandbox_name_valid(nbuf))
		return api_error(r, 400, "invalid_name", "'%s' is not a sandbox name (1-63 of A-Z a-z "
		                 "0-9 . _ -, not starting with . or -)", nbuf);
	r->name = nbuf;
	r->sub = slash ? slash + 1 : "";
	if (!*r->sub)
		return get ? api_sandbox(r) : api_error(r, 405, "method_not_allowed", "GET only");
	if (!strcmp(r->sub, "logs"))
		return get ? api_logs(r) : api_error(r, 405, "method_not_allowed", "GET only");
	if (!strcmp(r->sub, "policy") || !strcmp(r->sub, "policy/revisions"))
		return api_policy(r);
	if (!strncmp(r->sub, "advisor/", 8))
		return api_advisor(r);
	return api_error(r, 404, "not_found", "no route %s", url);
}

static int token_ok(struct gb_api *a, struct MHD_Connection *c, int *missing)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	*missing = !h || strncasecmp(h, "Bearer ", 7);
	if (*missing)
		return 0;
	const char *t = h + 7;
	unsigned char md[32];
	unsigned mdlen = 0;
	/* Hashes of equal length compared in constant time: neither the
	 * token's bytes nor its length leak through timing. */
	if (!EVP_Digest(t, strlen(t), md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return 0;
	if (a->has_token && CRYPTO_memcmp(md, a->token_sha, 32) == 0)
		return 1;
	return api_dashboard_token_ok(t);
}

static struct conn *conn_new(void)
{
	struct conn *st = calloc(1, sizeof *st);
	if (st)
		st->t0_us = now_us();
	return st;
}

/* libmicrohttpd calls this with the raw request target just before it splits
 * the query into arguments.  Each argument takes a record (~56 bytes) from the
 * connection's MAX_HEADER_MEM pool, so a query of a few hundred '&' fills it;
 * libmicrohttpd 0.9.75 then closes the connection without an answer (its own
 * 431 needs the same pool) — found by fuzz_api_body.  A query with more than
 * MAX_ARGS arguments is therefore emptied here (the target lies in the
 * connection's own writable read buffer, parsed right after this returns) and
 * the handler answers 414 in JSON.  The returned state becomes *con_cls. */
static void *uri_seen(void *cls, const char *uri, struct MHD_Connection *c)
{
	(void)cls;
	(void)c;
	struct conn *st = conn_new();
	char *q = uri ? strchr(uri, '?') : NULL;
	if (!st || !q)
		return st;
	size_t n = 1;
	for (const char *p = q + 1; *p; p++)
		n += *p == '&';
	if (n > MAX_ARGS) {
		st->args_seen = n;
		q[1] = '\0'; /* an empty query: no argument records */
	}
	return st;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
	struct listener *L = cls;
	struct conn *st = *con_cls;
	struct api_req r = { .api = L->api, .c = c, .method = method, .on_tcp = L->needs_token };
	if (!st || !st->started) {
		api_slow_head_done(c); /* the head is complete: no longer a slow client */
		if (!st && !(st = conn_new()))
			return MHD_NO;
		st->started = 1;
		*con_cls = st;
		if (st->args_seen) {
			st->status = 414;
			return api_error(&r, 414, "too_many_arguments",
			                 "%zu query arguments, at most %u", st->args_seen, MAX_ARGS);
		}
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > GB_API_MAX_BODY) {
			st->status = 413;
			return api_error(&r, 413, "too_large", "request body over %u bytes",
			                 GB_API_MAX_BODY);
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (!st->too_large && st->len + *upload_size <= GB_API_MAX_BODY) {
			char *nb = realloc(st->body, st->len + *upload_size + 1);
			if (!nb)
				return MHD_NO;
			memcpy(nb + st->len, upload, *upload_size);
			st->body = nb;
			st->len += *upload_size;
			st->body[st->len] = 0;
		} else {
			st->too_large = 1;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	r.body = st->body;
	r.body_len = st->len;
	if (atomic_load(&L->api->stopping)) {
		st->status = 503;
		return api_error(&r, 503, "stopping", "the daemon is shutting down");
	}
	if (L->tls && L->api->tls.client_ca) {
		int missing;
		char why[512];
		if (!api_tls_client_ok(&L->api->tls, c, &missing, why, sizeof why)) {
			st->status = missing ? 401 : 403;
			return api_error(&r, st->status, missing ? "unauthorized" : "forbidden", "%s", why);
		}
	}
	if (L->needs_token && !api_static_path(url)) { /* the page's files carry no secret */
		int missing;
		if (!token_ok(L->api, c, &missing)) {
			st->status = missing ? 401 : 403;
			return api_error(&r, st->status, missing ? "unauthorized" : "forbidden",
			                 missing ? "this listener needs Authorization: Bearer TOKEN"
			                         : "wrong token");
		}
	}
	if (st->too_large) {
		st->status = 413;
		return api_error(&r, 413, "too_large", "request body over %u bytes", GB_API_MAX_BODY);
	}
	return route(&r, url);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
	struct listener *L = cls;
	struct conn *st = *con_cls;
	if (!st)
		return;
	uint64_t us = now_us() - st->t0_us;
	atomic_fetch_add(&L->api->latency_us_sum, us);
	static const uint64_t bounds[7] = { 1000, 5000, 10000, 50000, 100000, 500000, 1000000 };
	unsigned b = 0;
	while (b < 7 && us > bounds[b])
		b++;
	atomic_fetch_add(&L->api->latency_buckets[b], 1);
	free(st->body);
	free(st);
	*con_cls = NULL;
}

/* Percent-decoding of the path and the arguments.  libmicrohttpd's own
 * decodes %00 to a NUL, which silently cuts the C string ("a%00b" would
 * address sandbox "a"); here a NUL becomes 0x7f, which no name or argument
 * accepts, so the request fails validation instead. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char *w = s;
	for (const char *r = s; *r; r++) {
		int hi, lo;
		if (*r == '%' && (hi = gb_hex_digit(r[1])) >= 0 && (lo = gb_hex_digit(r[2])) >= 0) {
			char ch = (char)(hi * 16 + lo);
			*w++ = ch ? ch : 0x7f;
			r += 2;
		} else if (*r == '+') {
			*w++ = ' '; /* form encoding, as in query strings */
		} else {
			*w++ = *r;
		}
	}
	*w = 0;
	return (size_t)(w - s);
}

/* ---------------- listeners ---------------- */

static int listen_unix(struct gb_api *a, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(a->unix_path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "%s: path too long for a unix socket", a->unix_path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, a->unix_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A stale socket of a daemon that died: the serve lock says we are the
	 * only daemon of this root, so it is ours to replace. */
	unlink(a->unix_path);
	mode_t old = umask(077);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ? -errno : 0;
	umask(old);
	if (!rc && chmod(a->unix_path, 0600) < 0)
		rc = -errno;
	if (!rc && listen(fd, LISTEN_BACKLOG) < 0)
		rc = -errno;
	if (rc) {
		snprintf(err, errlen, "API socket %s: %s", a->unix_path, strerror(-rc));
		close(fd);
		return rc;
	}
	return fd;
}

static int listen_tcp(const char *spec, char *err, size_t errlen)
{
	char host[256];
	const char *colon = strrchr(spec, ':');
	if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof host) {
		snprintf(err, errlen, "API listen '%s': expected HOST:PORT", spec);
		return -EINVAL;
	}
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = 0;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = 0;
	}
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	int g = getaddrinfo(host, colon + 1, &hints, &ai);
	if (g) {
		snprintf(err, errlen, "API listen '%s': %s (a numeric address and port)", spec,
		         gai_strerror(g));
		return -EINVAL;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1, rc = 0;
	if (fd < 0)
		rc = -errno;
	if (!rc)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (!rc && bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		rc = -errno;
	if (!rc && listen(fd, LISTEN_BACKLOG) < 0)
		rc = -errno;
	freeaddrinfo(ai);
	if (rc) {
		snprintf(err, errlen, "API listen %s: %s", spec, strerror(-rc));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	return fd;
}

static int load_token(struct gb_api *a, const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0) {
		snprintf(err, errlen, "API token %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	if ((sb.st_mode & 077) || sb.st_uid != geteuid()) {
		snprintf(err, errlen, "API token %s: must be mode 0600 and owned by the daemon's user "
		         "(it is %04o, uid %u)", path, (unsigned)(sb.st_mode & 07777), (unsigned)sb.st_uid);
		close(fd);
		return -EPERM;
	}
	char t[MAX_TOKEN + 1];
	ssize_t n = read(fd, t, MAX_TOKEN);
	close(fd);
	while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' '))
		n--;
	if (n < 16) {
		snprintf(err, errlen, "API token %s: shorter than 16 characters", path);
		return -EINVAL;
	}
	unsigned mdlen = 0;
	if (!EVP_Digest(t, (size_t)n, a->token_sha, &mdlen, EVP_sha256(), NULL))
		return -ENOMEM;
	OPENSSL_cleanse(t, sizeof t);
	a->has_token = 1;
	return 0;
}

/* A TCP peer may hold at most this many connections (the unix socket's
 * peers are root, and all "one address"): one client cannot take every
 * slot, before or after its token is checked. */
#define PER_IP_LIMIT 16

static struct MHD_Daemon *start_mhd(struct gb_api *a, struct listener *L, int fd, unsigned max)
{
	/* TLS options only on the listener that has them (an array, so the
	 * variadic call stays one) */
	struct MHD_OptionItem tls[5];
	size_t n = 0;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
	if (L->tls) {
		flags |= MHD_USE_TLS;
		tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, a->tls.cert };
		tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, a->tls.key };
		/* TLS 1.2 and 1.3 only */
		tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0,
			                            (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" };
		if (a->tls.client_ca) /* MHD then asks clients for a certificate */
			tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST, 0,
				                            a->tls.client_ca };
	}
	tls[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	return MHD_start_daemon(flags, 0, NULL, NULL, handler, L, MHD_OPTION_LISTEN_SOCKET, fd,
	                        MHD_OPTION_CONNECTION_LIMIT, max, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	                        (size_t)MAX_HEADER_MEM, MHD_OPTION_CONNECTION_TIMEOUT,
	                        (unsigned)CONN_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, completed, L,
	                        MHD_OPTION_NOTIFY_CONNECTION, api_slow_notify, NULL,
	                        MHD_OPTION_PER_IP_CONNECTION_LIMIT, L->needs_token ? PER_IP_LIMIT : 0u,
	                        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
	                        MHD_OPTION_URI_LOG_CALLBACK, uri_seen, NULL, MHD_OPTION_ARRAY, tls,
	                        MHD_OPTION_END);
}

int api_tcp_start(struct gb_api *a, const char *spec, char *err, size_t errlen)
{
	pthread_mutex_lock(&a->tcp_mu);
	int rc = 1;
	if (!a->tcp_d && (rc = listen_tcp(spec, err, errlen)) >= 0) {
		int fd = rc;
		rc = 0;
		if (!(a->tcp_d = start_mhd(a, &L_tcp, fd, a->max_conns))) {
			close(fd);
			snprintf(err, errlen, "API: libmicrohttpd did not start on %s", spec);
			rc = -EIO;
		}
	}
	pthread_mutex_unlock(&a->tcp_mu);
	return rc;
}

unsigned api_tcp_addr(struct gb_api *a, char *host, size_t len)
{
	snprintf(host, len, "127.0.0.1");
	pthread_mutex_lock(&a->tcp_mu);
	const union MHD_DaemonInfo *i =
		a->tcp_d ? MHD_get_daemon_info(a->tcp_d, MHD_DAEMON_INFO_LISTEN_FD) : NULL;
	pthread_mutex_unlock(&a->tcp_mu);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (!i || getsockname(i->listen_fd, (struct sockaddr *)&ss, &sl) < 0)
		return 0;
	char ip[INET6_ADDRSTRLEN] = "";
	unsigned port = 0;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
		port = ntohs(v4->sin_port);
		if (v4->sin_addr.s_addr != htonl(INADDR_ANY))
			inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof ip);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
		port = ntohs(v6->sin6_port);
		if (!IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr))
			inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof ip);
	}
	/* a wildcard address is reached on this host as 127.0.0.1 */
	if (*ip)
		snprintf(host, len, strchr(ip, ':') ? "[%s]" : "%s", ip);
	return port;
}

/* The advisor is a part of the API, not a condition for it: a ledger that
 * cannot open is said once and the advisor's routes answer 503. */
static void start_advisor(struct gb_api *a, const struct gb_api_opts *o)
{
	char path[GB_PATH_MAX], dir[GB_PATH_MAX], err[512];
	if (o->advisor_db)
		snprintf(path, sizeof path, "%s", o->advisor_db);
	else if (gb_path_advisor_db(path, sizeof path, o->root) < 0)
		return;
	snprintf(dir, sizeof dir, "%s", path);
	char *sl = strrchr(dir, '/');
	if (sl && sl != dir) {
		*sl = 0;
		gb_mkdir_p(dir, 0755, 0755);
	}
	struct gb_advisor_opts ao = { .db_path = path, .root = o->root,
		                      .auto_approve = o->advisor_auto };
	if (gb_advisor_open(&ao, &a->advisor, err, sizeof err) < 0) {
		gb_log_warn("api", "policy advisor off: %s", err);
		a->advisor = NULL;
		return;
	}
	gb_serve_hook_set(gb_advisor_observe, a->advisor);
}

int gb_api_start(const struct gb_api_opts *o, struct gb_api **out, char *err, size_t errlen)
{
	*out = NULL;
	struct gb_api *a = calloc(1, sizeof *a);
	if (!a)
		return -ENOMEM;
	a->unix_fd = -1;
	pthread_mutex_init(&a->tcp_mu, NULL);
	a->serve = o->serve;
	if (o->root) {
		snprintf(a->root, sizeof a->root, "%s", o->root);
		a->has_root = 1;
	}
	snprintf(a->journal_dir, sizeof a->journal_dir, "%s", o->journal_dir);
	snprintf(a->runtime_dir, sizeof a->runtime_dir, "%s", o->runtime_dir);
	if (!o->unix_path) {
		if (gb_path_api_sock(a->unix_path, sizeof a->unix_path, o->root) < 0) {
			snprintf(err, errlen, "the API socket path under %s is too long",
			         o->root ? o->root : "/");
			free(a);
			return -ENAMETOOLONG;
		}
	} else
		snprintf(a->unix_path, sizeof a->unix_path, "%s", o->unix_path);
	unsigned max = o->max_connections ? o->max_connections : 256;
	/* Within the descriptor budget: past it accept() fails with EMFILE and
	 * libmicrohttpd's listen thread spins on the readable socket (and the
	 * daemon's own files fail); at the limit it stops polling instead.
	 * 64 descriptors stay for the journal, rings, sinks and metrics. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		rlim_t room = rl.rlim_cur > 128 ? rl.rlim_cur - 64 : rl.rlim_cur / 3;
		if (room < 1)
			room = 1;
		if (max > room)
			max = (unsigned)room;
	}
	a->max_conns = max;
	if (o->dashboard_dir)
		snprintf(a->dashboard_dir, sizeof a->dashboard_dir, "%s", o->dashboard_dir);
	else
		gb_path_dashboard(a->dashboard_dir, sizeof a->dashboard_dir);
	int rc = api_slow_start();
	if (rc < 0) {
		snprintf(err, errlen, "API: no thread for the request-head deadline: %s", strerror(-rc));
		free(a);
		return rc;
	}
	/* Everything a handler reads is in place before the first listener
	 * starts: an early request must not see a half-built api (TSan found
	 * api_advisor reading a->advisor while this thread still wrote it). */
	api_metrics_start(a);
	start_advisor(a, o);
	L_unix = (struct listener){ a, 0, 0 };
	L_tcp = (struct listener){ a, 1, 0 };
	if (a->unix_path[0]) {
		if ((rc = listen_unix(a, err, errlen)) < 0)
			goto fail;
		a->unix_fd = rc;
		if (!(a->unix_d = start_mhd(a, &L_unix, rc, max))) {
			snprintf(err, errlen, "API: libmicrohttpd did not start on %s", a->unix_path);
			rc = -EIO;
			goto fail;
		}
		a->unix_fd = -1; /* libmicrohttpd's now: closed by MHD_stop_daemon */
	}
	if (!o->tcp_listen && (o->tls_cert_file || o->tls_key_file || o->client_ca_file)) {
		snprintf(err, errlen, "API TLS is for the TCP listener: give --api-listen too");
		rc = -EINVAL;
		goto fail;
	}
	if (o->tcp_listen) {
		if (!o->token_file) {
			snprintf(err, errlen, "API listen %s: a TCP listener needs a token file "
			         "(api.token_file)", o->tcp_listen);
			rc = -EINVAL;
			goto fail;
		}
		if ((rc = load_token(a, o->token_file, err, errlen)) < 0)
			goto fail;
		if ((rc = api_tls_load(&a->tls, o->tls_cert_file, o->tls_key_file, o->client_ca_file,
		                       err, errlen)) < 0)
			goto fail;
		L_tcp.tls = a->tls.on;
		if ((rc = api_tcp_start(a, o->tcp_listen, err, errlen)) < 0)
			goto fail;
	}
	*out = a;
	return 0;
fail:
	gb_api_stop(a);
	return rc;
}

void gb_api_stop(struct gb_api *a)
{
	if (!a)
		return;
	atomic_store(&a->stopping, 1);
	api_dashboard_stop(a);
	pthread_mutex_lock(&a->tcp_mu); /* no start after api_dashboard_stop */
	struct MHD_Daemon *tcp = a->tcp_d;
	a->tcp_d = NULL;
	pthread_mutex_unlock(&a->tcp_mu);
	if (tcp)
		MHD_stop_daemon(tcp);
	if (a->unix_d)
		MHD_stop_daemon(a->unix_d);
	api_slow_stop();
	api_metrics_stop(a);
	if (a->advisor) {
		gb_serve_hook_set(NULL, NULL); /* waits for drain threads inside the hook */
		gb_advisor_close(a->advisor);
	}
	if (a->unix_fd >= 0)
		close(a->unix_fd);
	if (a->unix_d || a->unix_fd >= 0)
		unlink(a->unix_path);
	api_tls_free(&a->tls);
	pthread_mutex_destroy(&a->tcp_mu);
	free(a);
}
