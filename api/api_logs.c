/* api/api_logs.c — GET /v1/sandboxes/NAME/logs: the sandbox's events from
 * the journal (exporter/journal.h), by its index first (time, sandbox,
 * class, severity rule out whole segments), then per event for verdict,
 * binary, host and policy.
 *
 * Cursor: the journal position just after the last event returned,
 * {segment, uncompressed offset}, as opaque text.  Offsets mean the same
 * before and after a segment is sealed and across daemon restarts, so a
 * cursor resumes exactly: no event twice, none skipped.  When retention
 * deleted segments the cursor pointed into, the answer says so ("loss").
 *
 * follow=1 streams from the journal's tail (or the cursor): NDJSON lines {"cursor","event"} (or, with Accept:
 * text/event-stream, SSE events whose id is the cursor, so an EventSource
 * resumes with Last-Event-ID), woken by inotify when the journal writer
 * appends; a gap is a {"loss":{...}} line / an SSE "loss" event. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api_int.h"
#include "common/buf.h"
#include "common/units.h"
#include "exporter/config.h"
#include "exporter/journal.h"

#define DEFAULT_LIMIT 100
#define MAX_LIMIT 10000
#define MAX_ANSWER (8u << 20)
#define HEARTBEAT_MS 15000
#define WAKE_MS 50

struct query {
	struct gb_jfilter f;
	char sandbox[64];
	char binary[1024];
	char host[300];
	char policy[300];
	size_t limit;
	struct gb_jpos from;
	int has_from;
};

/* ---------------- arguments ---------------- */

int api_parse_time(const char *s, int64_t *ms)
{
	uint64_t ago;
	if (!s || !*s)
		return -EINVAL;
	if (gb_parse_duration_ms(s, &ago) == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		*ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - (int64_t)ago;
		return 0;
	}
	char *end;
	long long v = strtoll(s, &end, 10);
	if (!*end && v > 0) {
		*ms = v;
		return 0;
	}
	/* RFC 3339 allows a lower-case t and z */
	char c[64];
	if (strlen(s) >= sizeof c)
		return -EINVAL;
	for (size_t i = 0; (c[i] = s[i]); i++)
		if (c[i] == 't' || c[i] == 'z')
			c[i] = (char)(c[i] - 32);
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	end = strptime(c, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		end = strptime(c, "%Y-%m-%d %H:%M:%S", &tm);
	if (!end)
		return -EINVAL;
	int64_t frac_ms = 0;
	if (*end == '.' || *end == ',') {
		int digits = 0;
		end++;
		while (*end >= '0' && *end <= '9') {
			if (digits < 3)
				frac_ms = frac_ms * 10 + (*end - '0');
			digits++;
			end++;
		}
		if (!digits)
			return -EINVAL;
		for (; digits < 3; digits++)
			frac_ms *= 10;
	}
	int64_t off_s = 0;
	if (*end == 'Z' || *end == 'z') {
		end++;
	} else if (*end == '+' || *end == '-') {
		/* exactly +HH:MM */
		int sign = *end == '-' ? -1 : 1;
		char *o = end + 1;
		for (int i = 0; i < 5; i++)
			if (i == 2 ? o[i] != ':' : (o[i] < '0' || o[i] > '9'))
				return -EINVAL;
		int hh = (o[0] - '0') * 10 + (o[1] - '0'), mm = (o[3] - '0') * 10 + (o[4] - '0');
		if (hh > 23 || mm > 59)
			return -EINVAL;
		off_s = sign * (int64_t)(hh * 3600 + mm * 60);
		end = o + 5;
	} else {
		return -EINVAL; /* RFC 3339 needs the offset */
	}
	if (*end)
		return -EINVAL;
	*ms = ((int64_t)timegm(&tm) - off_s) * 1000 + frac_ms;
	return 0;
}

static int parse_severity(const char *s)
{
	static const struct { const char *n; int v; } lv[] = {
		{ "info", 1 }, { "informational", 1 }, { "low", 2 }, { "medium", 3 }, { "warn", 3 },
		{ "warning", 3 }, { "high", 4 }, { "critical", 5 }, { "fatal", 6 }, { "error", 4 },
	};
	for (size_t i = 0; i < sizeof lv / sizeof lv[0]; i++)
		if (!strcasecmp(s, lv[i].n))
			return lv[i].v;
	char *end;
	long v = strtol(s, &end, 10);
	return *s && !*end && v >= 0 && v <= 6 ? (int)v : -1;
}

static void cursor_text(const struct gb_jpos *p, char out[64])
{
	snprintf(out, 64, "c1.%llx.%llx", (unsigned long long)p->segment,
	         (unsigned long long)p->offset);
}

static int cursor_parse(const char *s, struct gb_jpos *p)
{
	unsigned long long seg, off;
	int n = 0;
	if (sscanf(s, "c1.%llx.%llx%n", &seg, &off, &n) != 2 || s[n])
		return -EINVAL;
	p->segment = seg;
	p->offset = off;
	return 0;
}

static enum MHD_Result bad(struct api_req *r, const char *key, const char *v, const char *want)
{
	return api_error(r, 400, "bad_request", "%s=%.200s: %s", key, v, want);
}

/* Fills q from the query string: 0, or -1 with the error answer queued in *err. */
static int parse_query(struct api_req *r, struct query *q, enum MHD_Result *err)
{
	memset(q, 0, sizeof *q);
	snprintf(q->sandbox, sizeof q->sandbox, "%s", r->name);
	q->f.sandbox = q->sandbox;
	q->limit = DEFAULT_LIMIT;
	const char *v;
	if ((v = api_arg(r, "source")) && strcmp(v, "sandbox")) {
		*err = bad(r, "source", v, "the only source is 'sandbox'");
		return -1;
	}
	if ((v = api_arg(r, "since")) && api_parse_time(v, &q->f.since_ms) < 0) {
		*err = bad(r, "since", v, "RFC 3339 (2026-11-24T10:00:00.250Z), a duration ago "
		                          "(30s, 10m, 2h, 1d) or epoch ms");
		return -1;
	}
	if ((v = api_arg(r, "until")) && api_parse_time(v, &q->f.until_ms) < 0) {
		*err = bad(r, "until", v, "RFC 3339, a duration ago or epoch ms");
		return -1;
	}
	if ((v = api_arg(r, "severity")) || (v = api_arg(r, "level"))) {
		if ((q->f.min_severity = parse_severity(v)) < 0) {
			*err = bad(r, "severity", v, "info, low, medium, high, critical, fatal or 0-6");
			return -1;
		}
	}
	if ((v = api_arg(r, "class"))) {
		char *end;
		unsigned long c = strtoul(v, &end, 10);
		if (!*v || *end || !c || c > 999999) {
			*err = bad(r, "class", v, "an OCSF class_uid (4001 network, 4002 http, ...)");
			return -1;
		}
		q->f.class_uid = (uint32_t)c;
	}
	if ((v = api_arg(r, "verdict"))) {
		if (!strcasecmp(v, "allow") || !strcasecmp(v, "allowed"))
			q->f.action_id = 1;
		else if (!strcasecmp(v, "deny") || !strcasecmp(v, "denied"))
			q->f.action_id = 2;
		else {
			*err = bad(r, "verdict", v, "allow or deny");
			return -1;
		}
	}
	if ((v = api_arg(r, "binary")))
		snprintf(q->binary, sizeof q->binary, "%s", v);
	if ((v = api_arg(r, "host")))
		snprintf(q->host, sizeof q->host, "%s", v);
	if ((v = api_arg(r, "policy")))
		snprintf(q->policy, sizeof q->policy, "%s", v);
	if ((v = api_arg(r, "limit"))) {
		char *end;
		unsigned long l = strtoul(v, &end, 10);
		if (!*v || *end || !l || l > MAX_LIMIT) {
			*err = bad(r, "limit", v, "1-10000");
			return -1;
		}
		q->limit = l;
	}
	v = api_arg(r, "cursor");
	if (!v)
		v = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, "Last-Event-ID");
	if (v) {
		if (cursor_parse(v, &q->from) < 0) {
			*err = bad(r, "cursor", v, "not a cursor this API gave out");
			return -1;
		}
		q->has_from = 1;
	}
	return 0;
}

/* ---------------- matching ---------------- */

static const char *jstr(json_t *o, const char *path)
{
	char key[64];
	while (o && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof key)
			return NULL;
		memcpy(key, path, n);
		key[n] = 0;
		o = json_object_get(o, key);
		path += n + (dot ? 1 : 0);
	}
	return json_string_value(o);
}

/* verdict is the reader's (f.action_id: the index skips frames without a
 * denial of the sandbox); these are decided here, per event */
static int needs_json(const struct query *q)
{
	return q->binary[0] || q->host[0] || q->policy[0];
}

/* A value the mapper writes into the JSON text unchanged (printable ASCII
 * without '"' or '\\'): its absence from the line settles the match. */
static int plain(const char *v)
{
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || (unsigned char)*v > 0x7e || *v == '"' || *v == '\\')
			return 0;
	return 1;
}

static int has_ci(const char *line, size_t len, const char *v)
{
	size_t n = strlen(v);
	for (size_t i = 0; n && i + n <= len; i++)
		if (!strncasecmp(line + i, v, n))
			return 1;
	return 0;
}

static int matches(const struct query *q, const char *line, size_t len)
{
	if (!needs_json(q))
		return 1;
	/* a cheap look first: the parse costs tens of microseconds a line */
	if ((q->binary[0] && plain(q->binary) && !memmem(line, len, q->binary, strlen(q->binary))) ||
	    (q->policy[0] && plain(q->policy) && !memmem(line, len, q->policy, strlen(q->policy))) ||
	    (q->host[0] && plain(q->host) && !has_ci(line, len, q->host)))
		return 0;
	json_t *o = json_loadb(line, len, 0, NULL);
	if (!o)
		return 0;
	int ok = 1;
	if (q->binary[0]) {
		const char *p = jstr(o, "actor.process.path"), *n = jstr(o, "actor.process.name");
		ok = (p && !strcmp(p, q->binary)) || (n && !strcmp(n, q->binary));
	}
	if (ok && q->host[0]) {
		const char *h = jstr(o, "dst_endpoint.hostname"), *ip = jstr(o, "dst_endpoint.ip");
		ok = (h && !strcasecmp(h, q->host)) || (ip && !strcmp(ip, q->host));
	}
	if (ok && q->policy[0]) {
		const char *p = jstr(o, "firewall_rule.name");
		ok = p && !strcmp(p, q->policy);
	}
	json_decref(o);
	return ok;
}

static void loss_json(struct gb_buf *b, uint64_t first, uint64_t n)
{
	gb_buf_printf(b, "{\"reason\":\"retention\",\"detail\":\"journal segments %llu..%llu were "
	              "deleted by retention before they were read: their events are gone\","
	              "\"first_segment\":%llu,\"segments\":%llu}",
	              (unsigned long long)first, (unsigned long long)(first + n - 1),
	              (unsigned long long)first, (unsigned long long)n);
}

/* ---------------- query ---------------- */

static enum MHD_Result query(struct api_req *r, struct query *q)
{
	struct gb_jreader *jr;
	int rc = gb_jreader_open(r->api->journal_dir, &q->f, q->has_from ? &q->from : NULL, &jr);
	if (rc < 0)
		return api_error(r, 500, "journal", "%s: %s", r->api->journal_dir, strerror(-rc));
	struct gb_buf b = GB_BUF_INIT;
	gb_buf_puts(&b, "{\"sandbox\":\"");
	gb_buf_puts(&b, r->name); /* validated: no character needs escaping */
	gb_buf_puts(&b, "\",\"events\":[");
	size_t n = 0;
	struct gb_jpos last = q->from;
	int have_last = q->has_from, more = 0;
	uint64_t gfirst = 0, gn = 0;
	while (n < q->limit) {
		const char *line;
		size_t len;
		rc = gb_jreader_next(jr, &line, &len, NULL);
		uint64_t f1, n1;
		if (gb_jreader_gap(jr, &f1, &n1) && !gn) {
			gfirst = f1;
			gn = n1;
		}
		if (rc <= 0)
			break;
		/* damage the reader skipped (rc 2, a LOSS event) is shown whatever
		 * the filter: it may have held matching events */
		if (rc == 1 && !matches(q, line, len))
			continue;
		if (n)
			gb_buf_putc(&b, ',');
		gb_buf_append(&b, line, len);
		n++;
		last = gb_jreader_tell(jr);
		have_last = 1;
		if (b.len > MAX_ANSWER) {
			more = 1;
			break;
		}
	}
	if (n == q->limit)
		more = 1;
	gb_jreader_close(jr);
	if (rc < 0) {
		gb_buf_free(&b);
		return api_error(r, 500, "journal", "reading the journal: %s",
		                 rc == -EBADMSG ? "a sealed segment is damaged (glassbox journal verify)"
		                                : strerror(-rc));
	}
	long pid;
	if (!n && !q->has_from && !api_sandbox_alive(r->api, r->name, &pid) && !needs_json(q) &&
	    !q->f.since_ms && !q->f.until_ms && !q->f.min_severity && !q->f.class_uid &&
	    !q->f.action_id) {
		gb_buf_free(&b);
		return api_error(r, 404, "not_found", "no sandbox named '%s' is running and the "
		                 "journal has no events of it", r->name);
	}
	gb_buf_printf(&b, "],\"count\":%zu,\"more\":%s,\"next_cursor\":", n, more ? "true" : "false");
	if (have_last) {
		char c[64];
		cursor_text(&last, c);
		gb_buf_printf(&b, "\"%s\"", c);
	} else {
		gb_buf_puts(&b, "null");
	}
	if (gn) {
		gb_buf_puts(&b, ",\"loss\":");
		loss_json(&b, gfirst, gn);
	}
	gb_buf_puts(&b, "}\n");
	if (b.err) {
		gb_buf_free(&b);
		return api_error(r, 500, "internal", "out of memory");
	}
	return api_queue(r, 200, b.data, b.len, "application/json");
}

/* ---------------- follow ---------------- */

struct follow {
	struct gb_api *api;
	struct query q;
	struct gb_jreader *jr;
	int sse;
	struct gb_buf out;
	size_t sent;
	int64_t idle_ms;
};

/* next: the reader's position just after the line (gb_jreader_tell) */
static void follow_event(struct follow *fw, const char *line, size_t len, struct gb_jpos next)
{
	char c[64];
	cursor_text(&next, c);
	if (fw->sse) {
		gb_buf_printf(&fw->out, "id: %s\nevent: event\ndata: ", c);
		gb_buf_append(&fw->out, line, len);
		gb_buf_puts(&fw->out, "\n\n");
	} else {
		gb_buf_printf(&fw->out, "{\"cursor\":\"%s\",\"event\":", c);
		gb_buf_append(&fw->out, line, len);
		gb_buf_puts(&fw->out, "}\n");
	}
}

static void follow_loss(struct follow *fw, uint64_t first, uint64_t n)
{
	gb_buf_puts(&fw->out, fw->sse ? "event: loss\ndata: " : "{\"loss\":");
	loss_json(&fw->out, first, n);
	gb_buf_puts(&fw->out, fw->sse ? "\n\n" : "}\n");
}

static ssize_t follow_read(void *cls, uint64_t at, char *buf, size_t max)
{
	struct follow *fw = cls;
	while (fw->sent == fw->out.len) {
		fw->out.len = 0;
		fw->sent = 0;
		if (atomic_load(&fw->api->stopping))
			return MHD_CONTENT_READER_END_OF_STREAM;
		/* A batch of what is there, then sleep on the journal. */
		for (int i = 0; i < 256 && fw->out.len < 65536; i++) {
			const char *line;
			size_t len;
			int rc = gb_jreader_next(fw->jr, &line, &len, NULL);
			uint64_t f1, n1;
			if (gb_jreader_gap(fw->jr, &f1, &n1))
				follow_loss(fw, f1, n1);
			if (rc < 0)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			if (rc == 0)
				break;
			if (rc == 2 || matches(&fw->q, line, len)) /* damage whatever the filter */
				follow_event(fw, line, len, gb_jreader_tell(fw->jr));
		}
		if (fw->out.len) {
			fw->idle_ms = 0;
			break;
		}
		if (fw->idle_ms >= HEARTBEAT_MS) {
			/* keeps the connection from idling out, and finds a gone client */
			gb_buf_puts(&fw->out, fw->sse ? ": keepalive\n\n" : "\n");
			fw->idle_ms = 0;
			break;
		}
		/* inotify wakes us when the writer appends; the timeout only
		 * bounds a missed wake-up (IN_MODIFY of a segment created in a day
		 * directory before its watch existed) */
		if (gb_jreader_wait(fw->jr, WAKE_MS) == 0)
			fw->idle_ms += WAKE_MS;
	}
	size_t n = fw->out.len - fw->sent;
	if (n > max)
		n = max;
	memcpy(buf, fw->out.data + fw->sent, n);
	fw->sent += n;
	return (ssize_t)n;
}

static void follow_free(void *cls)
{
	struct follow *fw = cls;
	atomic_fetch_sub(&fw->api->follows, 1);
	gb_jreader_close(fw->jr);
	gb_buf_free(&fw->out);
	free(fw);
}

static enum MHD_Result follow(struct api_req *r, struct query *q)
{
	struct follow *fw = calloc(1, sizeof *fw);
	if (!fw)
		return api_error(r, 500, "internal", "out of memory");
	fw->api = r->api;
	fw->q = *q;
	fw->q.f.sandbox = fw->q.sandbox;
	const char *acc = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	fw->sse = acc && strstr(acc, "text/event-stream") != NULL;
	/* Without a cursor (or since=) a follower wants what is journaled from
	 * now on: it starts at the journal's tail, never reading the history
	 * first (an empty journal has no tail: its start is the same).  With
	 * since= it reads from there, the index seeking by time. */
	if (!q->has_from && !q->f.since_ms && gb_journal_tail(r->api->journal_dir, &fw->q.from) == 0)
		fw->q.has_from = 1;
	int rc = gb_jreader_open(r->api->journal_dir, &fw->q.f, fw->q.has_from ? &fw->q.from : NULL,
	                         &fw->jr);
	if (rc < 0) {
		free(fw);
		return api_error(r, 500, "journal", "%s: %s", r->api->journal_dir, strerror(-rc));
	}
	atomic_fetch_add(&r->api->follows, 1);
	struct MHD_Response *resp =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, follow_read, fw, follow_free);
	if (!resp) {
		follow_free(fw);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        fw->sse ? "text/event-stream" : "application/x-ndjson");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	atomic_fetch_add(&r->api->requests[0], 1);
	enum MHD_Result mr = MHD_queue_response(r->c, 200, resp);
	MHD_destroy_response(resp);
	return mr;
}

enum MHD_Result api_logs(struct api_req *r)
{
	struct query q;
	enum MHD_Result err;
	if (parse_query(r, &q, &err) < 0)
		return err;
	const char *fv = api_arg(r, "follow");
	if (fv && (!strcmp(fv, "1") || !strcmp(fv, "true")))
		return follow(r, &q);
	if (fv && strcmp(fv, "0") && strcmp(fv, "false"))
		return bad(r, "follow", fv, "1 or 0");
	return query(r, &q);
}
