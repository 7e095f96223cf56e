/* exporter/shorthand.c — one OCSF JSON event -> one human line, OpenShell
 * style:
 *   2026-08-21T12:00:00.000Z OCSF NET:REFUSE [MED] DENIED curl(813) -> pastebin.com:443/tcp [policy:default_deny rev:3] [reason:no_endpoint: ...]
 * The timestamp is the event's own `time` (OpenShell prints the time the
 * line was written).  Input comes from the journal, so it is parsed with
 * jansson (not the hot path).  Every string taken from the event is escaped:
 * control characters, DEL, C1 controls, U+2028/U+2029 and backslashes become
 * \xNN / \u{NNNN} / \\, so no hostile host name, path or title can start a
 * new line, move the cursor or recolour the terminal; inside [..] context
 * brackets whitespace and brackets are escaped too, so fields stay parseable.
 */
#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <time.h>

#include "exporter/ocsf.h"

enum esc_mode { ESC_TEXT, ESC_CTX, ESC_QUOTED };

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		len = 2, v = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3, v = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

static void esc(struct gb_buf *b, const char *str, size_t n, enum esc_mode m)
{
	const unsigned char *s = (const unsigned char *)str;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t l = utf8_len(s + i, n - i, &cp);
		if (l == 0) { /* invalid byte: show it, never pass it through */
			gb_buf_printf(b, "\\x%02x", s[i]);
			i++;
			continue;
		}
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || cp == 0x2028 || cp == 0x2029 ||
		    (m == ESC_CTX && cp == ' ')) {
			if (cp == '\n')
				gb_buf_puts(b, "\\n");
			else if (cp == '\t')
				gb_buf_puts(b, "\\t");
			else if (cp == '\r')
				gb_buf_puts(b, "\\r");
			else if (cp < 0x100)
				gb_buf_printf(b, "\\x%02x", (unsigned)cp);
			else
				gb_buf_printf(b, "\\u{%04x}", (unsigned)cp);
		} else if (cp == '\\' || (m == ESC_CTX && (cp == '[' || cp == ']')) ||
		           (m == ESC_QUOTED && cp == '"')) {
			gb_buf_putc(b, '\\');
			gb_buf_putc(b, (char)cp);
		} else {
			gb_buf_append(b, s + i, l);
		}
		i += l;
	}
}

/* --- JSON access ------------------------------------------------------- */

static json_t *path(json_t *o, const char *p)
{
	char key[64];
	while (o && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof key)
			return NULL;
		memcpy(key, p, n);
		key[n] = 0;
		o = json_is_object(o) ? json_object_get(o, key) : NULL;
		p += n + (dot ? 1 : 0);
	}
	return o;
}

static const char *str(json_t *o, const char *p)
{
	json_t *v = path(o, p);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static size_t slen(json_t *o, const char *p)
{
	json_t *v = path(o, p);
	return json_is_string(v) ? json_string_length(v) : 0;
}

static int has_int(json_t *o, const char *p, json_int_t *out)
{
	json_t *v = path(o, p);
	if (!json_is_integer(v))
		return 0;
	*out = json_integer_value(v);
	return 1;
}

/* " text" (escaped free text); nothing when absent. */
static void put_text(struct gb_buf *b, json_t *ev, const char *p, const char *prefix)
{
	const char *s = str(ev, p);
	if (!s || !*s)
		return;
	gb_buf_puts(b, prefix);
	esc(b, s, slen(ev, p), ESC_TEXT);
}

/* "key:value" inside a context bracket, space-separated. */
static void ctx_kv(struct gb_buf *b, int *first, const char *k, json_t *ev, const char *p)
{
	json_t *v = path(ev, p);
	if (!v || json_is_null(v) || (json_is_string(v) && !json_string_length(v)))
		return;
	gb_buf_puts(b, *first ? " [" : " ");
	*first = 0;
	gb_buf_puts(b, k);
	gb_buf_putc(b, ':');
	if (json_is_string(v))
		esc(b, json_string_value(v), json_string_length(v), ESC_CTX);
	else if (json_is_integer(v))
		gb_buf_printf(b, "%lld", (long long)json_integer_value(v));
	else if (json_is_true(v))
		gb_buf_puts(b, "true");
	else if (json_is_false(v))
		gb_buf_puts(b, "false");
	else
		gb_buf_puts(b, "?");
}

static void ctx_end(struct gb_buf *b, int first)
{
	if (!first)
		gb_buf_putc(b, ']');
}

static void upper(struct gb_buf *b, const char *s)
{
	size_t start = b->len;
	esc(b, s, strlen(s), ESC_TEXT);
	if (b->err)
		return;
	for (size_t i = start; i < b->len; i++) {
		if (b->data[i] >= 'a' && b->data[i] <= 'z')
			b->data[i] = (char)(b->data[i] - 'a' + 'A');
		else if (b->data[i] == ' ')
			b->data[i] = '_'; /* "Set User ID" -> SET_USER_ID: one token */
	}
}

/* The first of p.KEYS[] that is a string (escaped), else the missing mark,
 * then p.NUM wrapped in open/close when it is an integer: "name(pid)",
 * "host:port". */
static void name_num(struct gb_buf *b, json_t *ev, const char *p, const char *const keys[], char missing,
                     const char *num, const char *open, const char *close)
{
	char k[64];
	const char *s = NULL;
	for (size_t i = 0; keys[i] && !s; i++) {
		snprintf(k, sizeof k, "%s.%s", p, keys[i]);
		s = str(ev, k);
	}
	if (s)
		esc(b, s, slen(ev, k), ESC_CTX);
	else
		gb_buf_putc(b, missing);
	json_int_t v;
	snprintf(k, sizeof k, "%s.%s", p, num);
	if (has_int(ev, k, &v))
		gb_buf_printf(b, "%s%lld%s", open, (long long)v, close);
}

/* "name(pid)" of actor.process. */
static void actor(struct gb_buf *b, json_t *ev, const char *p)
{
	static const char *const keys[] = { "name", NULL };
	name_num(b, ev, p, keys, '-', "pid", "(", ")");
}

static void endpoint(struct gb_buf *b, json_t *ev, const char *p)
{
	static const char *const keys[] = { "hostname", "ip", "name", NULL };
	name_num(b, ev, p, keys, '?', "port", ":", "");
}

static const char *sev_tag(json_int_t s)
{
	switch (s) {
	case 2: return "LOW";
	case 3: return "MED";
	case 4: return "HIGH";
	case 5: return "CRIT";
	case 6: return "FATAL";
	default: return "INFO";
	}
}

static const char *sev_colour(json_int_t s)
{
	switch (s) {
	case 2: return "\x1b[36m";
	case 3: return "\x1b[33m";
	case 4: return "\x1b[31m";
	case 5:
	case 6: return "\x1b[1;31m";
	default: return NULL;
	}
}

static void action_word(struct gb_buf *b, json_t *ev)
{
	json_int_t a = 0, d = 0;
	has_int(ev, "action_id", &a);
	has_int(ev, "disposition_id", &d);
	if (a == 1 && d == 15)
		gb_buf_puts(b, " AUDIT"); /* allowed, but would have been denied */
	else if (a == 1)
		gb_buf_puts(b, " ALLOWED");
	else if (a == 2)
		gb_buf_puts(b, " DENIED");
}

static void reason(struct gb_buf *b, json_t *ev)
{
	json_int_t a = 0, d = 0;
	const char *m = str(ev, "message");
	has_int(ev, "action_id", &a);
	has_int(ev, "disposition_id", &d);
	if (a != 2 && !(a == 1 && d == 15)) /* denied, or audit: would be */
		return;
	gb_buf_puts(b, " [reason:");
	put_text(b, ev, "status_detail", "");
	if (m) {
		const char *colon = strstr(m, ": ");
		if (colon && colon[2]) { /* the reason text after "CONNECT denied h:p: " */
			gb_buf_puts(b, " ");
			esc(b, colon + 2, strlen(colon + 2), ESC_TEXT);
		}
	}
	gb_buf_putc(b, ']');
}

/* " name(pid) -> " when the event names an acting process, else " ". */
static void actor_arrow(struct gb_buf *b, json_t *ev)
{
	if (path(ev, "actor.process")) {
		gb_buf_putc(b, ' ');
		actor(b, ev, "actor.process");
		gb_buf_puts(b, " ->");
	}
	gb_buf_putc(b, ' ');
}

static void net(struct gb_buf *b, json_t *ev, json_int_t act)
{
	int first = 1;
	if (act == 2)
		gb_buf_puts(b, " CLOSED");
	else
		action_word(b, ev);
	actor_arrow(b, ev);
	endpoint(b, ev, "dst_endpoint");
	gb_buf_puts(b, "/tcp");
	ctx_kv(b, &first, "policy", ev, "firewall_rule.name");
	ctx_kv(b, &first, "rev", ev, "firewall_rule.version");
	ctx_kv(b, &first, "conn", ev, "connection_info.uid");
	ctx_end(b, first);
	if (act == 2) {
		first = 1;
		ctx_kv(b, &first, "up", ev, "traffic.bytes_out");
		ctx_kv(b, &first, "down", ev, "traffic.bytes_in");
		ctx_kv(b, &first, "ms", ev, "duration");
		ctx_end(b, first);
	} else {
		reason(b, ev);
	}
}

static void http(struct gb_buf *b, json_t *ev)
{
	int first = 1;
	action_word(b, ev);
	actor_arrow(b, ev);
	const char *m = str(ev, "http_request.http_method");
	if (!m)
		m = str(ev, "unmapped.http_method");
	if (m)
		esc(b, m, strlen(m), ESC_CTX);
	else
		gb_buf_putc(b, '?');
	gb_buf_putc(b, ' ');
	const char *u = str(ev, "http_request.url.url_string");
	if (u)
		esc(b, u, slen(ev, "http_request.url.url_string"), ESC_CTX);
	ctx_kv(b, &first, "policy", ev, "firewall_rule.name");
	ctx_kv(b, &first, "rule", ev, "firewall_rule.condition");
	ctx_kv(b, &first, "rev", ev, "firewall_rule.version");
	ctx_kv(b, &first, "mode", ev, "unmapped.mode");
	ctx_kv(b, &first, "status", ev, "http_response.code");
	ctx_kv(b, &first, "conn", ev, "connection_info.uid");
	ctx_end(b, first);
	reason(b, ev);
}

static void proc(struct gb_buf *b, json_t *ev, json_int_t act)
{
	int first = 1;
	gb_buf_putc(b, ' ');
	actor(b, ev, "process");
	ctx_kv(b, &first, "exit", ev, "exit_code");
	ctx_kv(b, &first, "signal", ev, "unmapped.signal_name");
	ctx_kv(b, &first, "uid", ev, "process.user.uid");
	ctx_kv(b, &first, "cmd", ev, "process.cmd_line");
	ctx_end(b, first);
	if (act == 5)
		put_text(b, ev, "message", " ");
}

static void finding(struct gb_buf *b, json_t *ev)
{
	int first = 1;
	const char *t = str(ev, "finding_info.title");
	gb_buf_puts(b, " \"");
	if (t)
		esc(b, t, slen(ev, "finding_info.title"), ESC_QUOTED);
	gb_buf_putc(b, '"');
	ctx_kv(b, &first, "type", ev, "status_detail");
	json_t *evs = path(ev, "evidences");
	if (json_is_array(evs) && json_array_size(evs)) {
		json_t *e0 = json_array_get(evs, 0);
		ctx_kv(b, &first, "subject", e0, "data.subject");
		if (path(e0, "process")) {
			gb_buf_puts(b, first ? " [proc:" : " proc:");
			first = 0;
			actor(b, e0, "process");
		}
	}
	ctx_end(b, first);
}

static void config(struct gb_buf *b, json_t *ev)
{
	int first = 1;
	put_text(b, ev, "message", " ");
	ctx_kv(b, &first, "rev", ev, "policy.version");
	ctx_kv(b, &first, "hash", ev, "policy.uid");
	ctx_end(b, first);
}

static void lifecycle(struct gb_buf *b, json_t *ev)
{
	int first = 1;
	gb_buf_putc(b, ' ');
	put_text(b, ev, "app.name", "");
	json_t *layers = path(ev, "unmapped.posture.layers");
	if (json_is_array(layers)) {
		size_t i;
		json_t *v;
		gb_buf_puts(b, " [layers:");
		first = 0;
		json_array_foreach(layers, i, v) {
			if (i)
				gb_buf_putc(b, ',');
			if (json_is_string(v))
				esc(b, json_string_value(v), json_string_length(v), ESC_CTX);
		}
	}
	ctx_kv(b, &first, "landlock_abi", ev, "unmapped.posture.landlock_abi");
	ctx_end(b, first);
}

int gb_ocsf_shorthand(const char *jsontext, size_t len, int colour, struct gb_buf *out)
{
	json_error_t err;
	json_t *ev = json_loadb(jsontext, len, JSON_REJECT_DUPLICATES, &err);
	json_int_t cls, act = 0, sev = 0, t = 0;
	struct gb_buf *b = out;
	size_t start = out->len;

	if (!json_is_object(ev) || !has_int(ev, "class_uid", &cls)) {
		json_decref(ev);
		return -EBADMSG;
	}
	has_int(ev, "activity_id", &act);
	has_int(ev, "severity_id", &sev);
	has_int(ev, "time", &t);

	time_t secs = (time_t)(t / 1000);
	struct tm tm;
	char ts[32];
	if (t < 0 || !gmtime_r(&secs, &tm) || !strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(ts, sizeof ts, "1970-01-01T00:00:00");
	gb_buf_printf(b, "%s.%03dZ OCSF ", ts, (int)(t >= 0 ? t % 1000 : 0));

	const char *an = str(ev, "activity_name");
	const char *c = sev_colour(sev);
	switch (cls) {
	case 4001: gb_buf_puts(b, "NET:"); upper(b, an ? an : "UNKNOWN"); break;
	case 4002: {
		const char *m = str(ev, "http_request.http_method");
		gb_buf_puts(b, "HTTP:");
		upper(b, m ? m : an ? an : "UNKNOWN");
		break;
	}
	case 1007: gb_buf_puts(b, "PROC:"); upper(b, an ? an : "UNKNOWN"); break;
	case 2004: {
		const char *d = str(ev, "disposition");
		gb_buf_puts(b, "FINDING:");
		upper(b, d ? d : an ? an : "UNKNOWN");
		break;
	}
	case 5019: {
		const char *d = str(ev, "status_detail");
		gb_buf_puts(b, "CONFIG:");
		upper(b, d ? d : "UNKNOWN");
		break;
	}
	case 6002: gb_buf_puts(b, "LIFECYCLE:"); upper(b, an ? an : "UNKNOWN"); break;
	case 1008: gb_buf_puts(b, "LOSS:"); upper(b, an ? an : "UNKNOWN"); break;
	case 6003: gb_buf_puts(b, "API:"); upper(b, an ? an : "UNKNOWN"); break; /* inference.local */
	default: gb_buf_puts(b, "EVENT"); break;
	}
	gb_buf_printf(b, " %s[%s]%s", colour && c ? c : "", sev_tag(sev), colour && c ? "\x1b[0m" : "");

	switch (cls) {
	case 4001: net(b, ev, act); break;
	case 4002: http(b, ev); break;
	case 1007: proc(b, ev, act); break;
	case 2004: finding(b, ev); break;
	case 5019: config(b, ev); break;
	case 6002: lifecycle(b, ev); break;
	default: put_text(b, ev, "message", " "); break;
	}
	json_decref(ev);
	if (out->err) {
		out->len = start;
		return out->err;
	}
	return 0;
}

/* --- one field without a parse ------------------------------------------ */

/* The Kafka sink keys every message by sandbox, on its per-event path: one
 * string does not need a parse of the whole event.  The scan lives next to
 * the parser above so that one file knows the JSON layout it relies on:
 * metadata is the mapper's last member and log_name is near its end, behind
 * ~1.4 KB of a typical event, so the key is looked for from the end (a
 * forward memmem over the whole line was a fifth of the Kafka sink's
 * thread).  A value cannot spell the key (its quotes are escaped), so the
 * pattern occurs once in what the mapper writes; the last occurrence is
 * metadata's in any case. */
const char *gb_ocsf_log_name(const char *json, size_t len, size_t *n)
{
	static const char pat[] = "\"log_name\":\"";
	const size_t pl = sizeof pat - 1, colon = pl - 2; /* pat[colon] == ':' */
	if (len < pl)
		return NULL;
	const char *p = NULL;
	/* each ':' from the end that could be the pattern's */
	for (const char *c = json + len - 2; c >= json + colon;) {
		const char *q = memrchr(json + colon, ':', (size_t)(c - (json + colon)) + 1);
		if (!q)
			break;
		if (!memcmp(q - colon, pat, pl)) {
			p = q - colon;
			break;
		}
		c = q - 1;
	}
	if (!p)
		return NULL;
	p += pl;
	const char *end = json + len;
	for (const char *q = p; q < end; q++) {
		if (*q == '\\') {
			q++; /* an escaped character, maybe a quote */
			continue;
		}
		if (*q == '"') {
			*n = (size_t)(q - p);
			return p;
		}
	}
	return NULL; /* cut short */
}
