/* exporter/sink_http.c — the HTTP sink (libcurl): one POST per batch
 * (contract: sink.h).
 *
 * Bodies, one line per event:
 *   ndjson      the OCSF event as stored
 *   splunk_hec  {"time":SECONDS.mmm,"sourcetype":"ocsf","event":EVENT}
 *   es_bulk     {"create":{"_index":INDEX,"_id":METADATA.UID}} then EVENT;
 *               create with the event's uid makes a re-sent batch harmless
 *               (409 per item = already stored = acknowledged).
 * Outcome: 2xx acknowledges the batch (for _bulk, the leading items that
 * succeeded); 429 waits Retry-After seconds; anything else (5xx, other 4xx,
 * connection or TLS errors) is a failure retried with backoff — a batch is
 * never dropped.  TLS peer and host verification stay on; ca_path picks the
 * CA bundle.  The auth file holds one header line ("Authorization: Splunk
 * T") or a bare token (sent as "Authorization: Bearer T"); it is read at
 * start.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "exporter/sink.h"

struct hsink {
	CURL *curl;
	struct curl_slist *hdrs;
	enum gb_http_format fmt;
	char index[256];
	struct gb_buf body, resp;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct gb_buf *b = arg;
	if (b->len < (1u << 20)) /* the _bulk answer; more is not needed */
		gb_buf_append(b, p, sz * n);
	return sz * n;
}

static int read_auth(const char *file, char *out, size_t len, char *err, size_t errlen)
{
	FILE *f = fopen(file, "re");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "auth_file %s: %s", file, strerror(e));
		return -e;
	}
	char line[4096];
	bool ok = fgets(line, sizeof line, f) != NULL;
	fclose(f);
	size_t n = ok ? strcspn(line, "\r\n") : 0;
	line[n] = 0;
	if (!n) {
		snprintf(err, errlen, "auth_file %s: empty", file);
		return -EINVAL;
	}
	if (strchr(line, ':'))
		snprintf(out, len, "%s", line);
	else
		snprintf(out, len, "Authorization: Bearer %s", line);
	return 0;
}

static void hs_close(void *state)
{
	struct hsink *h = state;
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->hdrs);
	gb_buf_free(&h->body);
	gb_buf_free(&h->resp);
	free(h);
}

static int hs_open(const struct gb_sink_conf *c, void **state, char *err, size_t errlen)
{
	pthread_once(&curl_once, curl_init_once);
	struct hsink *h = calloc(1, sizeof *h);
	if (!h || !(h->curl = curl_easy_init())) {
		free(h);
		return -ENOMEM;
	}
	h->body = (struct gb_buf)GB_BUF_INIT;
	h->resp = (struct gb_buf)GB_BUF_INIT;
	h->fmt = c->http.format;
	snprintf(h->index, sizeof h->index, "%s", c->http.index[0] ? c->http.index : "glassbox");
	if (strncmp(c->http.url, "http://", 7) && strncmp(c->http.url, "https://", 8)) {
		snprintf(err, errlen, "url '%s' is not http:// or https://", c->http.url);
		hs_close(h);
		return -EINVAL;
	}
	char auth[4200];
	if (c->http.auth_file[0]) {
		int rc = read_auth(c->http.auth_file, auth, sizeof auth, err, errlen);
		if (rc < 0) {
			hs_close(h);
			return rc;
		}
		h->hdrs = curl_slist_append(h->hdrs, auth);
	}
	h->hdrs = curl_slist_append(h->hdrs, h->fmt == GB_HTTP_NDJSON ? "Content-Type: application/x-ndjson"
	                                     : h->fmt == GB_HTTP_ES_BULK ? "Content-Type: application/x-ndjson"
	                                                                  : "Content-Type: application/json");
	h->hdrs = curl_slist_append(h->hdrs, "Expect:");
	CURL *u = h->curl;
	curl_easy_setopt(u, CURLOPT_URL, c->http.url);
	curl_easy_setopt(u, CURLOPT_HTTPHEADER, h->hdrs);
	curl_easy_setopt(u, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(u, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(u, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->http.ca_path[0])
		curl_easy_setopt(u, CURLOPT_CAINFO, c->http.ca_path);
	curl_easy_setopt(u, CURLOPT_TIMEOUT_MS, (long)(c->http.timeout_ms ? c->http.timeout_ms : 10000));
	curl_easy_setopt(u, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(u, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(u, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(u, CURLOPT_WRITEDATA, &h->resp);
	curl_easy_setopt(u, CURLOPT_USERAGENT, "glassbox/" GB_VERSION);
	*state = h;
	return 0;
}

/* metadata.uid of one event, for the _bulk _id; 0 when absent. */
static int event_uid(const char *line, size_t len, char *out, size_t outlen)
{
	json_t *j = json_loadb(line, len, 0, NULL);
	const char *uid = json_string_value(json_object_get(json_object_get(j, "metadata"), "uid"));
	int ok = uid && strlen(uid) < outlen;
	if (ok)
		snprintf(out, outlen, "%s", uid);
	json_decref(j);
	return ok;
}

static void json_str(struct gb_buf *b, const char *s)
{
	gb_buf_putc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			gb_buf_putc(b, '\\');
		if (c < 0x20)
			gb_buf_printf(b, "\\u%04x", c);
		else
			gb_buf_putc(b, (char)c);
	}
	gb_buf_putc(b, '"');
}

static void build(struct hsink *h, const struct gb_sink_event *ev, size_t n)
{
	gb_buf_reset(&h->body);
	for (size_t i = 0; i < n; i++) {
		if (h->fmt == GB_HTTP_SPLUNK_HEC) {
			struct gb_jmeta m;
			char sb[64];
			int64_t t = gb_jmeta_parse(ev[i].line, ev[i].len, &m, sb, sizeof sb) == 0 ? m.time_ms : 0;
			gb_buf_printf(&h->body, "{\"time\":%lld.%03lld,\"sourcetype\":\"ocsf\",\"event\":",
			              (long long)(t / 1000), (long long)(t % 1000));
			gb_buf_append(&h->body, ev[i].line, ev[i].len);
			gb_buf_puts(&h->body, "}\n");
			continue;
		}
		if (h->fmt == GB_HTTP_ES_BULK) {
			char uid[256];
			gb_buf_puts(&h->body, "{\"create\":{\"_index\":");
			json_str(&h->body, h->index);
			if (event_uid(ev[i].line, ev[i].len, uid, sizeof uid)) {
				gb_buf_puts(&h->body, ",\"_id\":");
				json_str(&h->body, uid);
			}
			gb_buf_puts(&h->body, "}}\n");
		}
		gb_buf_append(&h->body, ev[i].line, ev[i].len);
		gb_buf_putc(&h->body, '\n');
	}
}

/* _bulk answers 200 with per-item results: the leading items stored (201)
 * or already there (409 on create) are acknowledged. */
static long bulk_acked(struct hsink *h, size_t n, char *err, size_t errlen)
{
	json_t *j = json_loadb(h->resp.data ? h->resp.data : "", h->resp.len, 0, NULL);
	if (!j) {
		snprintf(err, errlen, "_bulk answer is not JSON");
		return -EBADMSG;
	}
	long ok = 0;
	if (!json_is_true(json_object_get(j, "errors")))
		ok = (long)n;
	else {
		json_t *items = json_object_get(j, "items");
		for (size_t i = 0; i < n && i < json_array_size(items); i++) {
			json_t *it = json_object_get(json_array_get(items, i), "create");
			json_int_t st = json_integer_value(json_object_get(it, "status"));
			if (!((st >= 200 && st < 300) || st == 409)) {
				snprintf(err, errlen, "_bulk item %zu: status %lld", i, (long long)st);
				break;
			}
			ok++;
		}
	}
	json_decref(j);
	return ok ? ok : -EIO;
}

static long hs_deliver(void *state, const struct gb_sink_event *ev, size_t n, int *retry_after_ms,
                       char *err, size_t errlen)
{
	struct hsink *h = state;
	build(h, ev, n);
	gb_buf_reset(&h->resp);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, h->body.data);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)h->body.len);
	CURLcode cc = curl_easy_perform(h->curl);
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "%s", curl_easy_strerror(cc));
		return -ECONNREFUSED;
	}
	long code = 0;
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code < 300)
		return h->fmt == GB_HTTP_ES_BULK ? bulk_acked(h, n, err, errlen) : (long)n;
	if (code == 429 || code == 503) {
		curl_off_t ra = -1;
		if (curl_easy_getinfo(h->curl, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
			*retry_after_ms = ra > 3600 ? 3600000 : (int)ra * 1000;
	}
	snprintf(err, errlen, "HTTP %ld", code);
	return -EAGAIN;
}

const struct gb_sink_driver gb_sink_http_driver = { hs_open, hs_deliver, hs_close };
