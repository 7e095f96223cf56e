/* cli/logs_api.c — see logs_api.h.  Pages through
 * /v1/sandboxes/NAME/logs with the API's cursor (nothing twice, nothing
 * skipped), then, with -f, streams follow=1 from the last cursor. */
#include "cli/logs_api.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_client.h"
#include "cli/commands.h"
#include "common/log.h"
#include "common/buf.h"
#include "common/clock.h"
#include "exporter/ocsf.h"

struct out {
	const struct gb_logs_args *a;
	struct gb_buf line;
	char **ring; /* -n: the last N, oldest at ring[head] */
	long n, head;
	unsigned long shown;
	int damaged; /* a LOSS event for journal damage was received */
};

static void urlenc(struct gb_buf *b, const char *key, const char *v)
{
	if (!v)
		return;
	gb_buf_printf(b, "&%s=", key);
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~' || c == ':')
			gb_buf_putc(b, (char)c);
		else
			gb_buf_printf(b, "%%%02X", c);
	}
}

static void emit(struct out *o, const char *text)
{
	fputs(text, stdout);
	fputc('\n', stdout);
	o->shown++;
}

static void show(struct out *o, json_t *ev)
{
	const char *sd = json_string_value(json_object_get(ev, "status_detail"));
	if (sd && !strcmp(sd, "journal_damaged")) {
		/* damage the daemon's reader skipped: shown in place and on stderr */
		gb_log_error("logs", "FINDING: the journal is damaged, skipped: %s (run glassbox "
		             "journal verify)", json_string_value(json_object_get(ev, "message")));
		o->damaged = 1;
	}
	char *s = json_dumps(ev, JSON_COMPACT);
	if (!s)
		return;
	const char *text = s;
	if (!o->a->json) {
		o->line.len = 0;
		if (gb_ocsf_shorthand(s, strlen(s), o->a->colour, &o->line) == 0)
			text = gb_buf_cstr(&o->line);
	}
	if (o->ring) {
		free(o->ring[o->head]);
		o->ring[o->head] = strdup(text);
		o->head = (o->head + 1) % o->n;
	} else {
		emit(o, text);
	}
	free(s);
}

static void flush_ring(struct out *o)
{
	if (!o->ring)
		return;
	for (long i = 0; i < o->n; i++) {
		char **p = &o->ring[(o->head + i) % o->n];
		if (*p)
			emit(o, *p);
		free(*p);
		*p = NULL;
	}
	free(o->ring);
	o->ring = NULL;
	fflush(stdout);
}

static void loss(json_t *l)
{
	gb_log_error("logs", "gap: %s", json_string_value(json_object_get(l, "detail")));
}

static int on_line(void *arg, const char *line, size_t len)
{
	struct out *o = arg;
	if (!len)
		return 0; /* heartbeat */
	json_t *j = json_loadb(line, len, 0, NULL);
	if (!j)
		return 0;
	json_t *ev = json_object_get(j, "event"), *l = json_object_get(j, "loss");
	if (ev)
		show(o, ev);
	else if (l)
		loss(l);
	else if (json_object_get(j, "error"))
		gb_log_error("logs", "%s", json_string_value(json_object_get(j, "detail")));
	json_decref(j);
	fflush(stdout);
	return 0;
}

/* Nothing shown: an unknown sandbox (an error, 1) or a filter that matched
 * none of its events (an answer, 0) — asked again without the filter. */
static int nothing_shown(const struct gb_logs_args *a)
{
	int filtered = a->since || a->until || a->level || a->cls;
	long http = 0;
	char *body = NULL, err[512];
	json_t *j = NULL;
	if (filtered) {
		struct gb_buf path = GB_BUF_INIT;
		gb_buf_printf(&path, "/v1/sandboxes/%s/logs?limit=1", a->name);
		if (gb_apic_request(gb_globals.root, "GET", gb_buf_cstr(&path), NULL, 0, &http, &body,
		                    err, sizeof err) == 0)
			j = json_loads(body ? body : "", 0, NULL);
		gb_buf_free(&path);
		free(body);
	}
	size_t n = j ? json_array_size(json_object_get(j, "events")) : 0;
	json_decref(j);
	if (filtered && http == 200 && n) {
		gb_log_info("logs", "none of the events of sandbox '%s' match the filter", a->name);
		return 0;
	}
	gb_log_error("logs", "no events for sandbox '%s'", a->name);
	return 1;
}

int gb_logs_api(const struct gb_logs_args *a, int *status)
{
	struct gb_buf q = GB_BUF_INIT;
	urlenc(&q, "since", a->since);
	urlenc(&q, "until", a->until);
	urlenc(&q, "severity", a->level);
	urlenc(&q, "class", a->cls);
	struct out o = { .a = a, .line = GB_BUF_INIT, .n = a->last };
	if (a->last > 0 && !(o.ring = calloc((size_t)a->last, sizeof *o.ring))) {
		gb_buf_free(&q);
		return -ENOMEM;
	}
	char *cursor = NULL, err[512];
	/* a follow without a cursor starts at the journal's tail: from this
	 * moment on (less a margin for events recorded before and journaled
	 * after it; none of them was shown, as no cursor means none matched) */
	char since_start[32];
	snprintf(since_start, sizeof since_start, "%lld", (long long)gb_now_ms(CLOCK_REALTIME) - 5000);
	int rc = 0;
	*status = 0;
	for (int pages = 0;; pages++) {
		struct gb_buf path = GB_BUF_INIT;
		gb_buf_printf(&path, "/v1/sandboxes/%s/logs?limit=1000%s", a->name, gb_buf_cstr(&q));
		urlenc(&path, "cursor", cursor);
		long http = 0;
		char *body = NULL;
		rc = gb_apic_request(gb_globals.root, "GET", gb_buf_cstr(&path), NULL, 0, &http, &body,
		                     err, sizeof err);
		gb_buf_free(&path);
		if (rc < 0) {
			if (rc != -ENOENT && rc != -ECONNREFUSED)
				gb_log_error("logs", "%s", err);
			break;
		}
		json_t *j = json_loads(body, 0, NULL);
		free(body);
		if (http == 404 && !pages) {
			gb_log_error("logs", "no events for sandbox '%s'", a->name);
			json_decref(j);
			*status = 1;
			if (!a->follow)
				break;
			/* -f on a sandbox that has not started yet: wait for it */
		} else if (http != 200 || !j) {
			gb_log_error("logs", "%s",
			        j ? json_string_value(json_object_get(j, "detail")) : "unreadable answer");
			json_decref(j);
			*status = http == 400 ? 2 : 1;
			break;
		} else {
			size_t i;
			json_t *ev;
			json_array_foreach(json_object_get(j, "events"), i, ev)
				show(&o, ev);
			if (json_object_get(j, "loss"))
				loss(json_object_get(j, "loss"));
			const char *nc = json_string_value(json_object_get(j, "next_cursor"));
			if (nc) {
				free(cursor);
				cursor = strdup(nc);
			}
			int more = json_is_true(json_object_get(j, "more"));
			json_decref(j);
			if (more)
				continue;
		}
		flush_ring(&o);
		if (!o.shown && !a->follow && !*status)
			*status = nothing_shown(a);
		if (a->follow) {
			fflush(stdout);
			struct gb_buf path2 = GB_BUF_INIT;
			gb_buf_printf(&path2, "/v1/sandboxes/%s/logs?follow=1%s", a->name, gb_buf_cstr(&q));
			urlenc(&path2, "cursor", cursor);
			if (!cursor && !a->since)
				urlenc(&path2, "since", since_start);
			rc = gb_apic_stream(gb_globals.root, gb_buf_cstr(&path2), on_line, &o, &http, err,
			                    sizeof err);
			gb_buf_free(&path2);
			if (rc < 0)
				gb_log_error("logs", "%s", err);
			else
				gb_log_error("logs", "the daemon ended the stream (stopped?)");
			*status = 1;
		}
		break;
	}
	flush_ring(&o);
	fflush(stdout);
	if (o.damaged && !*status)
		*status = 1;
	free(cursor);
	gb_buf_free(&q);
	gb_buf_free(&o.line);
	return rc == -ENOENT || rc == -ECONNREFUSED ? rc : 0;
}
