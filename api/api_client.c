/* api/api_client.c — see api_client.h. */
#include "api/api_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/api_int.h"
#include "common/buf.h"
#include "exporter/curl_lazy.h"

#define MAX_ANSWER (64u << 20)

void gb_apic_socket(const char *root, char *buf, size_t len)
{
	snprintf(buf, len, "%s/run/glassbox/api.sock", root ? root : "");
}

struct sink {
	struct gb_buf b;
	int (*on_line)(void *, const char *, size_t);
	void *arg;
	int stopped;
};

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t len = sz * n;
	if (s->b.len + len > MAX_ANSWER && !s->on_line)
		return 0; /* too large: curl reports a write error */
	gb_buf_append(&s->b, p, len);
	if (!s->on_line)
		return len;
	/* hand over every complete line, keep the rest */
	size_t start = 0;
	for (size_t i = 0; i < s->b.len; i++) {
		if (s->b.data[i] != '\n')
			continue;
		if (s->on_line(s->arg, s->b.data + start, i - start)) {
			s->stopped = 1;
			return 0;
		}
		start = i + 1;
	}
	memmove(s->b.data, s->b.data + start, s->b.len - start);
	s->b.len -= start;
	return len;
}

static int perform(const char *root, const char *method, const char *path, const char *body,
                   size_t body_len, struct sink *s, long *status, char *err, size_t errlen)
{
	char sock[4200], url[8192];
	gb_apic_socket(root, sock, sizeof sock);
	struct stat st;
	if (stat(sock, &st) < 0) {
		snprintf(err, errlen, "the glassbox daemon is not running (no %s)", sock);
		return -ENOENT;
	}
	const struct gb_curl_api *c = gb_curl(err, errlen);
	if (!c)
		return -ENOSYS;
	CURL *h = c->easy_init();
	if (!h) {
		snprintf(err, errlen, "libcurl: cannot create a handle");
		return -ENOMEM;
	}
	snprintf(url, sizeof url, "http://glassbox%s", path);
	struct curl_slist *hd = NULL;
	c->easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, sock);
	c->easy_setopt(h, CURLOPT_URL, url);
	c->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	c->easy_setopt(h, CURLOPT_WRITEDATA, s);
	c->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	c->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	if (!s->on_line)
		c->easy_setopt(h, CURLOPT_TIMEOUT_MS, 60000L);
	if (strcmp(method, "GET"))
		c->easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		c->easy_setopt(h, CURLOPT_POSTFIELDS, body);
		c->easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
		hd = c->slist_append(hd, "Content-Type: application/yaml");
		hd = c->slist_append(hd, "Expect:");
		c->easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	}
	CURLcode rc = c->easy_perform(h);
	*status = 0;
	c->easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	int ret = 0;
	if (rc == CURLE_COULDNT_CONNECT) {
		snprintf(err, errlen, "the glassbox daemon is not running (nothing answers on %s)", sock);
		ret = -ECONNREFUSED;
	} else if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && s->stopped)) {
		snprintf(err, errlen, "API %s: %s", sock, c->easy_strerror(rc));
		ret = -EIO;
	}
	c->slist_free_all(hd);
	c->easy_cleanup(h);
	return ret;
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
