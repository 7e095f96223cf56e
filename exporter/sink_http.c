/* exporter/sink_http.c — the HTTP sink (libcurl, loaded on first use:
 * curl_lazy.h): one POST per batch as
 * NDJSON, Splunk HEC events or an Elasticsearch _bulk body.  2xx is the
 * acknowledgement; 429 honours Retry-After (seconds); anything else is a
 * failure the loop retries with backoff.  TLS peers are always verified. */
#include "exporter/sink_int.h"

#include "exporter/curl_lazy.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct http_state {
	CURL *h;
	struct curl_slist *headers;
	struct gb_buf body;
	long retry_after_s;
};

/* libcurl's functions; set by every http_open (gb_curl loads them once and
 * always returns the same table) before any use.  Atomic: each HTTP sink
 * has its own thread, and two of them opening at once both store it. */
static const struct gb_curl_api *_Atomic cu;

static size_t discard(char *p, size_t sz, size_t n, void *u)
{
	(void)p;
	(void)u;
	return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *u)
{
	struct http_state *h = u;
	size_t len = sz * n;
	if (len > 12 && !strncasecmp(p, "Retry-After:", 12))
		h->retry_after_s = strtol(p + 12, NULL, 10);
	return len;
}

/* "Name: value" from the first line of the auth file. */
static int auth_header(struct sink *s, struct http_state *h)
{
	if (!s->c.auth_file[0])
		return 0;
	FILE *f = fopen(s->c.auth_file, "re");
	if (!f) {
		int e = -errno;
		snprintf(s->err, sizeof s->err, "auth file %s: %s", s->c.auth_file, strerror(-e));
		return e;
	}
	char line[4096];
	if (!fgets(line, sizeof line, f)) {
		fclose(f);
		snprintf(s->err, sizeof s->err, "auth file %s is empty", s->c.auth_file);
		return -EINVAL;
	}
	fclose(f);
	line[strcspn(line, "\r\n")] = 0;
	if (!strchr(line, ':')) {
		snprintf(s->err, sizeof s->err, "auth file %s: expected 'Header-Name: value'", s->c.auth_file);
		return -EINVAL;
	}
	h->headers = cu->slist_append(h->headers, line);
	return 0;
}

static int http_open(struct sink *s)
{
	if (s->priv)
		return 0;
	const struct gb_curl_api *api = gb_curl(s->err, sizeof s->err);
	if (!api)
		return -ENOSYS;
	cu = api;
	struct http_state *h = calloc(1, sizeof *h);
	if (!h)
		return -ENOMEM;
	h->h = cu->easy_init();
	int rc = h->h ? auth_header(s, h) : -ENOMEM;
	if (rc < 0) {
		if (h->h)
			cu->easy_cleanup(h->h);
		cu->slist_free_all(h->headers);
		free(h);
		return rc;
	}
	h->headers = cu->slist_append(h->headers, s->c.format == GB_HTTP_NDJSON || s->c.format == GB_HTTP_BULK
	                                               ? "Content-Type: application/x-ndjson"
	                                               : "Content-Type: application/json");
	h->headers = cu->slist_append(h->headers, "Expect:");
	CURL *c = h->h;
	cu->easy_setopt(c, CURLOPT_URL, s->c.url);
	cu->easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
	cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	cu->easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	cu->easy_setopt(c, CURLOPT_HEADERDATA, h);
	cu->easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(s->c.timeout_ms ? s->c.timeout_ms : 10000));
	cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	cu->easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	cu->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	cu->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	if (s->c.ca_file[0])
		cu->easy_setopt(c, CURLOPT_CAINFO, s->c.ca_file);
	s->priv = h;
	return 0;
}

/* The body for the configured format, from the NDJSON batch. */
static void make_body(struct sink *s, struct http_state *h, const struct gb_buf *b)
{
	if (s->c.format == GB_HTTP_NDJSON) {
		h->body.len = 0;
		gb_buf_append(&h->body, b->data, b->len);
		return;
	}
	h->body.len = 0;
	const char *idx = s->c.index[0] ? s->c.index : "glassbox";
	for (size_t off = 0; off < b->len;) {
		const char *nl = memchr(b->data + off, '\n', b->len - off);
		size_t len = nl ? (size_t)(nl - (b->data + off)) : b->len - off;
		if (s->c.format == GB_HTTP_HEC) {
			/* one HEC event object per event, concatenated (HEC accepts that) */
			gb_buf_puts(&h->body, "{\"sourcetype\":\"ocsf\",\"source\":\"glassbox\",\"event\":");
			gb_buf_append(&h->body, b->data + off, len);
			gb_buf_puts(&h->body, "}\n");
		} else {
			gb_buf_printf(&h->body, "{\"create\":{\"_index\":\"%s\"}}\n", idx);
			gb_buf_append(&h->body, b->data + off, len);
			gb_buf_puts(&h->body, "\n");
		}
		off += len + 1;
	}
}

static int http_deliver(struct sink *s, const struct gb_buf *b, size_t n, int *retry_after_ms)
{
	(void)n;
	struct http_state *h = s->priv;
	if (!h) {
		int rc = http_open(s);
		if (rc < 0)
			return rc;
		h = s->priv;
	}
	make_body(s, h, b);
	h->retry_after_s = 0;
	cu->easy_setopt(h->h, CURLOPT_POSTFIELDS, h->body.data);
	cu->easy_setopt(h->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)h->body.len);
	CURLcode cc = cu->easy_perform(h->h);
	if (cc != CURLE_OK) {
		snprintf(s->err, sizeof s->err, "%s: %s", s->c.url, cu->easy_strerror(cc));
		return -EIO;
	}
	long status = 0;
	cu->easy_getinfo(h->h, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300)
		return 0;
	if (status == 429 && h->retry_after_s > 0)
		*retry_after_ms = (int)(h->retry_after_s > 3600 ? 3600000 : h->retry_after_s * 1000);
	snprintf(s->err, sizeof s->err, "%s answered %ld", s->c.url, status);
	return -EAGAIN;
}

static void http_close(struct sink *s)
{
	struct http_state *h = s->priv;
	if (!h)
		return;
	cu->easy_cleanup(h->h);
	cu->slist_free_all(h->headers);
	gb_buf_free(&h->body);
	free(h);
	s->priv = NULL;
}

const struct sink_batch_kind gb_sink_http_kind = { .open = http_open, .deliver = http_deliver, .close = http_close };
