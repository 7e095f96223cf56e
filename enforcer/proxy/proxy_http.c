/* enforcer/proxy/proxy_http.c — what the proxy understands of HTTP: the request
 * head of a CONNECT or an absolute-form forward request, the origin-form
 * head it sends upstream, and the refusals it answers with.
 *
 * Strict on purpose: one space-separated request line, HTTP/1.0 or 1.1,
 * header lines "Name: value" with token names, no obs-fold, no bare CR.
 * Anything else is a 400 — a proxy that guesses is a proxy that can be
 * smuggled past. */
#include "enforcer/proxy/proxy_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/array.h"
#include "common/jsonw.h"
#include "enforcer/proxy/policy_local_http.h"

static bool tchar(int c)
{
	return isalnum(c) || strchr("!#$%&'*+-.^_`|~", c);
}

/* Parse "host:port" or "[v6]:port" (port required when need_port). */
static int parse_authority(const char *s, size_t n, char *host, size_t hsz, uint16_t *port,
                           uint16_t def_port)
{
	const char *end = s + n, *colon = NULL;
	if (n && s[0] == '[') {
		const char *rb = memchr(s, ']', n);
		if (!rb)
			return -EINVAL;
		size_t hl = (size_t)(rb - s - 1);
		if (hl == 0 || hl >= hsz)
			return -EINVAL;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if (rb + 1 < end) {
			if (rb[1] != ':')
				return -EINVAL;
			colon = rb + 1;
		}
	} else {
		for (const char *p = s; p < end; p++)
			if (*p == ':')
				colon = p;
		size_t hl = (size_t)((colon ? colon : end) - s);
		if (hl == 0 || hl >= hsz)
			return -EINVAL;
		for (size_t i = 0; i < hl; i++)
			if (!isalnum((unsigned char)s[i]) && !strchr(".-_", s[i]))
				return -EINVAL;
		memcpy(host, s, hl);
		host[hl] = '\0';
	}
	if (!colon) {
		if (!def_port)
			return -EINVAL;
		*port = def_port;
		return 0;
	}
	long v = 0;
	const char *p = colon + 1;
	if (p == end || end - p > 5)
		return -EINVAL;
	for (; p < end; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	if (v < 1 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int http_parse_host(const char *s, size_t n, char *host, size_t hsz, uint16_t *port)
{
	const char *rb = n && s[0] == '[' ? memchr(s, ']', n) : NULL;
	bool has_port = rb ? (rb + 1 < s + n) : memchr(s, ':', n) != NULL;
	int r = parse_authority(s, n, host, hsz, port, 80);
	if (!has_port)
		*port = 0;
	return r;
}

int http_parse_head(const char *buf, size_t len, struct http_req *r, const char **why)
{
	memset(r, 0, sizeof *r);
	const char *end = buf + len;
	const char *eol = memchr(buf, '\n', len);
	if (!eol || eol == buf || eol[-1] != '\r') {
		*why = "request line must end with CRLF";
		return -EINVAL;
	}
	const char *sp1 = memchr(buf, ' ', (size_t)(eol - buf));
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (!sp1 || !sp2 || sp1 == buf || sp2 == sp1 + 1) {
		*why = "malformed request line";
		return -EINVAL;
	}
	size_t ml = (size_t)(sp1 - buf);
	if (ml >= sizeof r->method) {
		*why = "method too long";
		return -EINVAL;
	}
	for (size_t i = 0; i < ml; i++)
		if (!tchar((unsigned char)buf[i])) {
			*why = "invalid method";
			return -EINVAL;
		}
	memcpy(r->method, buf, ml);
	/* Known from here on, for the record of a request refused below. */
	r->kind = strcmp(r->method, "CONNECT") ? GB_NET_FORWARD : GB_NET_CONNECT;
	const char *ver = sp2 + 1;
	size_t vl = (size_t)(eol - 1 - ver);
	if (vl == 8 && !memcmp(ver, "HTTP/1.1", 8))
		r->minor = 1;
	else if (vl == 8 && !memcmp(ver, "HTTP/1.0", 8))
		r->minor = 0;
	else {
		*why = "only HTTP/1.0 and HTTP/1.1 are supported";
		return -EINVAL;
	}
	const char *tgt = sp1 + 1;
	size_t tl = (size_t)(sp2 - tgt);
	for (size_t i = 0; i < tl; i++)
		if ((unsigned char)tgt[i] <= 0x20 || (unsigned char)tgt[i] >= 0x7f) {
			*why = "invalid byte in request target";
			return -EINVAL;
		}
	if (!strcmp(r->method, "CONNECT")) {
		r->kind = GB_NET_CONNECT;
		if (parse_authority(tgt, tl, r->host, sizeof r->host, &r->port, 0) < 0) {
			*why = "CONNECT needs host:port";
			return -EINVAL;
		}
	} else {
		r->kind = GB_NET_FORWARD;
		if (tl >= 8 && !strncasecmp(tgt, "https://", 8)) {
			*why = "https:// URLs must use CONNECT";
			return -EINVAL;
		}
		if (tl < 7 || strncasecmp(tgt, "http://", 7) != 0) {
			*why = "not a proxy request: absolute-form http:// URL or CONNECT expected";
			return -EINVAL;
		}
		const char *a = tgt + 7, *tend = tgt + tl;
		const char *slash = a;
		while (slash < tend && *slash != '/' && *slash != '?')
			slash++;
		if (memchr(a, '@', (size_t)(slash - a))) {
			*why = "userinfo in URL is not accepted";
			return -EINVAL;
		}
		if (parse_authority(a, (size_t)(slash - a), r->host, sizeof r->host, &r->port, 80) < 0) {
			*why = "invalid host in URL";
			return -EINVAL;
		}
		const char *q = memchr(slash, '?', (size_t)(tend - slash));
		const char *pend = q ? q : tend;
		size_t pl = (size_t)(pend - slash);
		if (pl + 2 > sizeof r->path || (q && (size_t)(tend - q) > sizeof r->query)) {
			/* the refusal's record shows as much of the path as fits,
			 * flagged truncated, never a made-up "/" */
			size_t keep = pl < sizeof r->path - 1 ? pl : sizeof r->path - 1;
			memcpy(r->path, slash, keep);
			r->path[keep] = '\0';
			r->truncated = true;
			*why = "URL too long";
			return -EINVAL;
		}
		if (pl == 0) {
			strcpy(r->path, "/");
		} else {
			memcpy(r->path, slash, pl);
			r->path[pl] = '\0';
		}
		if (q) {
			r->has_query = true;
			memcpy(r->query, q + 1, (size_t)(tend - q - 1));
			r->query[tend - q - 1] = '\0';
		}
	}
	/* Header lines: validate shape only. */
	const char *p = eol + 1;
	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		if (!e || e == p || e[-1] != '\r') {
			*why = "header lines must end with CRLF";
			return -EINVAL;
		}
		if (e == p + 1) { /* blank line */
			r->head_len = (size_t)(e + 1 - buf);
			return 0;
		}
		const char *colon = memchr(p, ':', (size_t)(e - p));
		if (!colon || colon == p) {
			*why = "malformed header line";
			return -EINVAL;
		}
		for (const char *h = p; h < colon; h++)
			if (!tchar((unsigned char)*h)) {
				*why = "invalid header name";
				return -EINVAL;
			}
		for (const char *h = colon; h < e - 1; h++)
			if (*h == '\r' || *h == '\0') {
				*why = "invalid byte in header value";
				return -EINVAL;
			}
		p = e + 1;
	}
	*why = "incomplete request head";
	return -EINVAL;
}

static bool hop_header(const char *name, size_t n)
{
	static const char *const hop[] = { "connection", "proxy-connection", "keep-alive",
		                           "proxy-authorization", "proxy-authenticate", "te",
		                           "trailer", "upgrade" };
	for (size_t i = 0; i < GB_ARRAY_LEN(hop); i++)
		if (strlen(hop[i]) == n && !strncasecmp(name, hop[i], n))
			return true;
	return false;
}

int http_upstream_head(const char *buf, size_t len, const struct http_req *r, const char *canon_path,
                       struct gb_buf *out)
{
	(void)len;
	/* The canonical path is what was decided on, so it is what is sent. */
	gb_buf_printf(out, "%s %s%s%s HTTP/1.%d\r\n", r->method, canon_path, r->has_query ? "?" : "",
	              r->has_query ? r->query : "", r->minor);
	const char *p = memchr(buf, '\n', r->head_len) + 1, *end = buf + r->head_len - 2;
	bool host_seen = false;
	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end + 2 - p));
		const char *colon = memchr(p, ':', (size_t)(e - p));
		size_t nl = (size_t)(colon - p);
		if (nl == 4 && !strncasecmp(p, "host", 4))
			host_seen = true;
		if (!hop_header(p, nl))
			gb_buf_append(out, p, (size_t)(e + 1 - p));
		p = e + 1;
	}
	if (!host_seen) {
		if (strchr(r->host, ':'))
			gb_buf_printf(out, "Host: [%s]:%u\r\n", r->host, r->port);
		else
			gb_buf_printf(out, "Host: %s:%u\r\n", r->host, r->port);
	}
	/* One request per upstream connection: every request is decided on its
	 * own, and nothing can follow a decided request on the same socket. */
	gb_buf_puts(out, "Connection: close\r\n\r\n");
	return out->err ? -ENOMEM : 0;
}

static const char *status_text(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 431: return "Request Header Fields Too Large";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Error";
	}
}

void http_refusal(struct gb_buf *out, int status, const char *error, const char *detail,
                  const char *reason, const char *entry, const char *binary, const char *dest,
                  bool policy_local)
{
	struct gb_buf body = GB_BUF_INIT;
	struct gb_jsonw w;
	gb_jw_init(&w, &body);
	gb_jw_obj_begin(&w);
	gb_jw_kstr(&w, "error", error);
	gb_jw_kstr(&w, "detail", detail);
	gb_jw_kstr(&w, "reason", reason);
	gb_jw_kstr(&w, "policy", entry && *entry ? entry : NULL);
	gb_jw_kstr(&w, "binary", binary && *binary ? binary : NULL);
	gb_jw_kstr(&w, "destination", dest && *dest ? dest : NULL);
	if (policy_local) {
		gb_jw_key(&w, "next_steps");
		gb_jw_arr_begin(&w);
		gb_jw_str(&w, PL_STEP_POLICY);
		gb_jw_str(&w, PL_STEP_DENIALS);
		gb_jw_str(&w, PL_STEP_PROPOSE);
		gb_jw_arr_end(&w);
		gb_jw_kstr(&w, "agent_guidance", PL_GUIDANCE);
	}
	gb_jw_obj_end(&w);
	gb_buf_putc(&body, '\n');
	gb_buf_printf(out,
	              "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
	              "Connection: close\r\nX-Glassbox-Reason: %s\r\n\r\n",
	              status, status_text(status), body.len, reason ? reason : error);
	gb_buf_append(out, body.data, body.len);
	gb_buf_free(&body);
}
