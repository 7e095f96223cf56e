/* api/api_client.c — see api_client.h.
 *
 * HTTP/1.1 over the daemon's unix socket: a request written by hand (one
 * method, path and optional body: nothing to negotiate) and the answer
 * parsed by libhttp-parser (status, Content-Length or chunked framing).
 * This was libcurl, loaded on first use; on this path its start-up
 * (dlopen of libcurl and its dependency tree: GnuTLS, Kerberos, LDAP, ...)
 * cost every `glassbox policy set`, `logs` and `ls` more than the whole
 * round trip through the daemon and the supervisor (bench/bench_api.sh,
 * phase 4), and a unix socket to our own daemon needs none of what it
 * offers (TLS, proxies, redirects, authentication). */
#include "api/api_client.h"

#include <errno.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/api_int.h"
#include "common/buf.h"
#include "common/paths.h"

#define MAX_ANSWER (64u << 20)

void gb_apic_socket(const char *root, char *buf, size_t len)
{
	if (gb_path_api_sock(buf, len, root) < 0 && len)
		buf[0] = 0;
}

struct sink {
	struct gb_buf b;
	int (*on_line)(void *, const char *, size_t);
	void *arg;
	int stopped, too_large, done;
};

/* Body bytes: kept whole, or handed over line by line (a stream).
 * 0 = go on, 1 = stop. */
static int on_data(struct sink *s, const char *p, size_t len)
{
	if (s->b.len + len > MAX_ANSWER && !s->on_line) {
		s->too_large = 1;
		return 1;
	}
	gb_buf_append(&s->b, p, len);
	if (!s->on_line)
		return 0;
	/* hand over every complete line, keep the rest */
	size_t start = 0;
	for (size_t i = 0; i < s->b.len; i++) {
		if (s->b.data[i] != '\n')
			continue;
		if (s->on_line(s->arg, s->b.data + start, i - start)) {
			s->stopped = 1;
			return 1;
		}
		start = i + 1;
	}
	memmove(s->b.data, s->b.data + start, s->b.len - start);
	s->b.len -= start;
	return 0;
}

static int cb_body(http_parser *p, const char *at, size_t len)
{
	return on_data(p->data, at, len);
}

static int cb_done(http_parser *p)
{
	((struct sink *)p->data)->done = 1;
	return 0;
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int perform(const char *root, const char *method, const char *path, const char *body,
                   size_t body_len, struct sink *s, long *status, char *err, size_t errlen)
{
	char sock[sizeof ((struct sockaddr_un *)0)->sun_path];
	*status = 0;
	if (gb_path_api_sock(sock, sizeof sock, root) < 0) {
		snprintf(err, errlen, "the API socket path under %s is too long for a unix socket",
		         root ? root : "/");
		return -ENAMETOOLONG;
	}
	struct stat st;
	if (stat(sock, &st) < 0) {
		snprintf(err, errlen, "the glassbox daemon is not running (no %s)", sock);
		return -ENOENT;
	}
	/* the request line carries path as is: the callers encode it */
	if (strpbrk(path, " \r\n") || path[0] != '/') {
		snprintf(err, errlen, "API path '%.100s': not a request path", path);
		return -EINVAL;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	memcpy(a.sun_path, sock, strlen(sock) + 1);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		int e = errno;
		close(fd);
		if (e == ECONNREFUSED || e == ENOENT) {
			snprintf(err, errlen, "the glassbox daemon is not running (nothing answers on %s)",
			         sock);
			return -ECONNREFUSED;
		}
		snprintf(err, errlen, "API %s: %s", sock, strerror(e));
		return -e;
	}
	/* bounded: a request waits at most 60 s for its answer; a stream
	 * waits for as long as it follows (the daemon's heartbeats) */
	struct timeval snd = { 3, 0 }, rcv = { 60, 0 };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof snd);
	if (!s->on_line)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof rcv);
	struct gb_buf rq = GB_BUF_INIT;
	gb_buf_printf(&rq, "%s %s HTTP/1.1\r\nHost: glassbox\r\nConnection: close\r\n", method, path);
	if (body)
		gb_buf_printf(&rq, "Content-Type: application/yaml\r\nContent-Length: %zu\r\n", body_len);
	gb_buf_puts(&rq, "\r\n");
	int rc = rq.err ? -ENOMEM : send_all(fd, rq.data, rq.len);
	if (rc == 0 && body && body_len)
		rc = send_all(fd, body, body_len);
	gb_buf_free(&rq);
	if (rc < 0) {
		snprintf(err, errlen, "API %s: sending the request: %s", sock, strerror(-rc));
		close(fd);
		return rc;
	}
	http_parser p;
	http_parser_init(&p, HTTP_RESPONSE);
	p.data = s;
	http_parser_settings cb;
	http_parser_settings_init(&cb);
	cb.on_body = cb_body;
	cb.on_message_complete = cb_done;
	char buf[65536];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = errno == EAGAIN ? -ETIMEDOUT : -errno;
			snprintf(err, errlen, "API %s: %s", sock,
			         rc == -ETIMEDOUT ? "no answer within 60 s" : strerror(-rc));
			break;
		}
		size_t got = http_parser_execute(&p, &cb, buf, (size_t)n); /* n == 0: the end */
		if (s->stopped || s->done)
			break;
		if (s->too_large) {
			snprintf(err, errlen, "API %s: the answer is larger than %u MiB", sock,
			         MAX_ANSWER >> 20);
			rc = -EFBIG;
			break;
		}
		if (HTTP_PARSER_ERRNO(&p) != HPE_OK || got != (size_t)n) {
			snprintf(err, errlen, "API %s: malformed answer (%s)", sock,
			         http_errno_description(HTTP_PARSER_ERRNO(&p)));
			rc = -EPROTO;
			break;
		}
		if (n == 0) {
			snprintf(err, errlen, "API %s: the daemon closed the connection mid-answer", sock);
			rc = -EIO;
			break;
		}
	}
	close(fd);
	if (rc == 0)
		*status = (long)p.status_code;
	return s->b.err ? -ENOMEM : rc;
}

int gb_apic_request(const char *root, const char *method, const char *path, const char *body,
                    size_t body_len, long *status, char **body_out, char *err, size_t errlen)
{
	struct sink s = { .b = GB_BUF_INIT };
	*body_out = NULL;
	int rc = perform(root, method, path, body, body_len, &s, status, err, errlen);
	if (rc < 0 || s.b.err) {
		gb_buf_free(&s.b);
		return rc < 0 ? rc : -ENOMEM;
	}
	gb_buf_cstr(&s.b);
	*body_out = s.b.data ? s.b.data : strdup("");
	return 0;
}

int gb_apic_stream(const char *root, const char *path,
                   int (*on_line)(void *arg, const char *line, size_t len), void *arg,
                   long *status, char *err, size_t errlen)
{
	struct sink s = { .b = GB_BUF_INIT, .on_line = on_line, .arg = arg };
	int rc = perform(root, "GET", path, NULL, 0, &s, status, err, errlen);
	if (!rc && s.b.len && !s.stopped)
		on_line(arg, s.b.data, s.b.len); /* an answer without a final newline */
	gb_buf_free(&s.b);
	return rc;
}

int gb_apic_parse_time(const char *s, int64_t *ms)
{
	return api_parse_time(s, ms);
}
