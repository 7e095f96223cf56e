/* enforcer/proxy/http1.c — HTTP/1.1 request framing on http-parser, with the
 * strict checks Debian's non-strict build leaves out (http1.h says which). */
#include "enforcer/proxy/http1.h"

#include <ctype.h>
#include <errno.h>
#include <http_parser.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum phase { PH_HEAD, PH_BODY, PH_DONE_NOBODY, PH_NEXT, PH_ERROR };

/* Chunked body, RFC 9112 §7.1, byte by byte. */
enum ck {
	CK_SIZE0,    /* first hex digit of a chunk size */
	CK_SIZE,     /* more hex digits, ';' or CR */
	CK_EXT,      /* chunk extension up to CR */
	CK_SIZE_LF,  /* LF after the size line */
	CK_DATA,     /* chunk payload */
	CK_DATA_CR,  /* CR after the payload */
	CK_DATA_LF,  /* LF after the payload */
	CK_TSTART,   /* start of a trailer line, or CR of the final blank line */
	CK_TLINE,    /* trailer field line up to CR */
	CK_TLINE_LF, /* LF after a trailer line */
	CK_END_LF,   /* LF of the final blank line */
	CK_DONE,
};

struct gb_http1 {
	struct gb_http1_opts o;
	enum phase ph;
	char *buf; /* head copy, o.max_head bytes */
	size_t blen;
	/* strict line scan of the head */
	unsigned line_no;
	size_t line_len;
	bool prev_cr, in_value;
	/* body */
	uint64_t left; /* Content-Length bytes to go */
	enum ck ck;
	unsigned ck_digits;
	uint64_t ck_left;
	size_t trailer_bytes;
	bool lib_done; /* http-parser reached message complete */
	/* http-parser and what its callbacks collect */
	http_parser hp;
	http_parser_settings hs;
	bool cb_overflow;
	struct gb_http1_head head;
	bool have_head;
	int status;
	const char *why;
	unsigned count;
};

static int fail(struct gb_http1 *p, int status, const char *why)
{
	p->ph = PH_ERROR;
	p->status = status;
	p->why = why;
	return -EINVAL;
}

static bool tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* ---- http-parser callbacks (the whole head is fed in one piece, but a
 * span may still come in parts: extend when contiguous) ---- */

static struct gb_http1 *of(http_parser *hp)
{
	return hp->data;
}

static int cb_url(http_parser *hp, const char *at, size_t n)
{
	struct gb_http1_head *h = &of(hp)->head;
	if (!h->target)
		h->target = at;
	h->target_len = (size_t)(at + n - h->target);
	return 0;
}

static int cb_field(http_parser *hp, const char *at, size_t n)
{
	struct gb_http1 *p = of(hp);
	struct gb_http1_head *h = &p->head;
	if (h->n_fields && !h->fields[h->n_fields - 1].value &&
	    h->fields[h->n_fields - 1].name + h->fields[h->n_fields - 1].name_len == at) {
		h->fields[h->n_fields - 1].name_len += n;
		return 0;
	}
	if (h->n_fields == p->o.max_fields) {
		p->cb_overflow = true;
		return 1;
	}
	h->fields[h->n_fields++] = (struct gb_http1_field){ .name = at, .name_len = n };
	return 0;
}

static int cb_value(http_parser *hp, const char *at, size_t n)
{
	struct gb_http1_head *h = &of(hp)->head;
	if (!h->n_fields)
		return 1;
	struct gb_http1_field *f = &h->fields[h->n_fields - 1];
	if (!f->value)
		f->value = at;
	f->value_len = (size_t)(at + n - f->value);
	return 0;
}

static int cb_body(http_parser *hp, const char *at, size_t n)
{
	struct gb_http1 *p = of(hp);
	if (p->o.on_payload)
		p->o.on_payload(p->o.arg, at, n);
	return 0;
}

static int cb_done(http_parser *hp)
{
	of(hp)->lib_done = true;
	http_parser_pause(hp, 1); /* one message per feed: the next is decided on its own */
	return 0;
}

void gb_http1_set_payload(struct gb_http1 *p, void (*on_payload)(void *, const char *, size_t),
                          void *arg)
{
	p->o.on_payload = on_payload;
	p->o.arg = arg;
}

struct gb_http1 *gb_http1_new(const struct gb_http1_opts *opts)
{
	struct gb_http1 *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	if (opts)
		p->o = *opts;
	if (!p->o.max_head)
		p->o.max_head = 16 * 1024;
	if (!p->o.max_fields)
		p->o.max_fields = 100;
	if (p->o.max_fields > GB_HTTP1_MAX_FIELDS)
		p->o.max_fields = GB_HTTP1_MAX_FIELDS;
	p->buf = malloc(p->o.max_head);
	if (!p->buf) {
		free(p);
		return NULL;
	}
	http_parser_settings_init(&p->hs);
	p->hs.on_url = cb_url;
	p->hs.on_header_field = cb_field;
	p->hs.on_header_value = cb_value;
	p->hs.on_body = cb_body;
	p->hs.on_message_complete = cb_done;
	gb_http1_reset(p);
	return p;
}

void gb_http1_free(struct gb_http1 *p)
{
	if (!p)
		return;
	free(p->buf);
	free(p);
}

static void start_message(struct gb_http1 *p)
{
	p->ph = PH_HEAD;
	p->blen = 0;
	p->line_no = 0;
	p->line_len = 0;
	p->prev_cr = p->in_value = false;
	p->left = 0;
	p->ck = CK_SIZE0;
	p->ck_digits = 0;
	p->ck_left = 0;
	p->trailer_bytes = 0;
	p->lib_done = false;
	p->cb_overflow = false;
	memset(&p->head, 0, sizeof p->head);
	p->have_head = false;
	http_parser_init(&p->hp, HTTP_REQUEST);
	p->hp.data = p;
}

void gb_http1_reset(struct gb_http1 *p)
{
	start_message(p);
	p->status = 0;
	p->why = NULL;
	p->count = 0;
}

const struct gb_http1_head *gb_http1_head(const struct gb_http1 *p)
{
	return p->have_head ? &p->head : NULL;
}

uint64_t gb_http1_body_left(const struct gb_http1 *p)
{
	return p->left;
}

int gb_http1_status(const struct gb_http1 *p)
{
	return p->status;
}

const char *gb_http1_error(const struct gb_http1 *p)
{
	return p->why ? p->why : "";
}

unsigned gb_http1_count(const struct gb_http1 *p)
{
	return p->count;
}

const struct gb_http1_field *gb_http1_field(const struct gb_http1_head *h, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < h->n_fields; i++)
		if (h->fields[i].name_len == n && !strncasecmp(h->fields[i].name, name, n))
			return &h->fields[i];
	return NULL;
}

/* ---- the head ---- */

/* One byte of the head's line structure.  Returns 1 at the end of the head
 * (the LF of the blank line), 0 to go on, negative on a refusal. */
static int scan_head_byte(struct gb_http1 *p, unsigned char b)
{
	if (p->prev_cr) {
		if (b != '\n')
			return fail(p, 400, "bare CR in request head");
		p->prev_cr = false;
		if (p->line_len == 0)
			return p->line_no == 0 ? fail(p, 400, "empty request line") : 1;
		p->line_no++;
		p->line_len = 0;
		p->in_value = false;
		if (p->line_no > p->o.max_fields + 1)
			return fail(p, 431, "too many header lines");
		return 0;
	}
	if (b == '\r') {
		p->prev_cr = true;
		return 0;
	}
	if (b == '\n')
		return fail(p, 400, "bare LF in request head (lines must end with CRLF)");
	if (b == 0 || (b < 0x20 && b != '\t') || b == 0x7f)
		return fail(p, 400, "control byte in request head");
	if (p->line_no == 0) {
		if (b == '\t' || (b == ' ' && p->line_len == 0))
			return fail(p, 400, "malformed request line");
	} else if (p->line_len == 0 && (b == ' ' || b == '\t')) {
		return fail(p, 400, "obs-fold (a header line continued on the next line)");
	} else if (!p->in_value) {
		if (b == ':') {
			if (p->line_len == 0)
				return fail(p, 400, "empty header name");
			p->in_value = true;
		} else if (!tchar(b)) {
			return fail(p, 400, "invalid header name");
		}
	}
	p->line_len++;
	return 0;
}

static void trim(const char **v, size_t *n)
{
	while (*n && (**v == ' ' || **v == '\t')) {
		(*v)++;
		(*n)--;
	}
	while (*n && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t'))
		(*n)--;
}

static bool name_is(const struct gb_http1_field *f, const char *name)
{
	size_t n = strlen(name);
	return f->name_len == n && !strncasecmp(f->name, name, n);
}

/* The head is in buf[0..blen): let http-parser read it, then apply the
 * framing rules ourselves. */
static int finish_head(struct gb_http1 *p)
{
	struct gb_http1_head *h = &p->head;
	h->raw = p->buf;
	h->head_len = p->blen;
	size_t n = http_parser_execute(&p->hp, &p->hs, p->buf, p->blen);
	enum http_errno e = HTTP_PARSER_ERRNO(&p->hp);
	if (p->cb_overflow)
		return fail(p, 431, "too many header lines");
	if (e == HPE_PAUSED) {
		http_parser_pause(&p->hp, 0);
	} else if (e != HPE_OK) {
		switch (e) {
		case HPE_INVALID_METHOD: return fail(p, 400, "unknown request method");
		case HPE_INVALID_VERSION: return fail(p, 400, "invalid HTTP version");
		case HPE_INVALID_URL: return fail(p, 400, "invalid request target");
		case HPE_INVALID_CONTENT_LENGTH: return fail(p, 400, "invalid Content-Length");
		case HPE_UNEXPECTED_CONTENT_LENGTH:
			for (size_t i = 0; i < h->n_fields; i++)
				if (name_is(&h->fields[i], "transfer-encoding"))
					return fail(p, 400, "both Transfer-Encoding and Content-Length (RFC 9112 §6.3)");
			return fail(p, 400, "Content-Length given twice (RFC 9112 §6.3)");
		case HPE_INVALID_TRANSFER_ENCODING: return fail(p, 400, "unsupported Transfer-Encoding");
		default: return fail(p, 400, "malformed request head");
		}
	} else if (n != p->blen) {
		return fail(p, 400, "malformed request head");
	}
	if (p->hp.http_major != 1 || p->hp.http_minor > 1)
		return fail(p, 400, "only HTTP/1.0 and HTTP/1.1 are supported");
	h->major = p->hp.http_major;
	h->minor = p->hp.http_minor;
	const char *m = http_method_str((enum http_method)p->hp.method);
	if (strlen(m) >= sizeof h->method)
		return fail(p, 400, "unknown request method");
	strcpy(h->method, m);
	if (!h->target || !h->target_len)
		return fail(p, 400, "malformed request line");

	unsigned n_cl = 0, n_te = 0;
	const struct gb_http1_field *cl = NULL, *te = NULL;
	for (size_t i = 0; i < h->n_fields; i++) {
		struct gb_http1_field *f = &h->fields[i];
		if (!f->value) {
			f->value = f->name + f->name_len;
			f->value_len = 0;
		}
		trim(&f->value, &f->value_len);
		if (name_is(f, "host")) {
			if (++h->n_host > 1)
				return fail(p, 400, "more than one Host header (RFC 9112 §3.2)");
			h->host = f->value;
			h->host_len = f->value_len;
		} else if (name_is(f, "content-length")) {
			n_cl++;
			cl = f;
		} else if (name_is(f, "transfer-encoding")) {
			n_te++;
			te = f;
		}
	}
	if (n_cl > 1)
		return fail(p, 400, "Content-Length given twice (RFC 9112 §6.3)");
	if (n_cl && n_te)
		return fail(p, 400, "both Transfer-Encoding and Content-Length (RFC 9112 §6.3)");
	if (n_te) {
		if (n_te > 1)
			return fail(p, 400, "Transfer-Encoding given twice");
		if (h->minor == 0)
			return fail(p, 400, "Transfer-Encoding in an HTTP/1.0 request");
		if (te->value_len != 7 || strncasecmp(te->value, "chunked", 7))
			return fail(p, 400, "unsupported Transfer-Encoding (only \"chunked\")");
		h->body = GB_HTTP1_BODY_CHUNKED;
	} else if (n_cl) {
		if (!cl->value_len || cl->value_len > 18)
			return fail(p, 400, "invalid Content-Length");
		uint64_t v = 0;
		for (size_t i = 0; i < cl->value_len; i++) {
			if (!isdigit((unsigned char)cl->value[i]))
				return fail(p, 400, "invalid Content-Length");
			v = v * 10 + (uint64_t)(cl->value[i] - '0');
		}
		h->content_length = v;
		h->body = v ? GB_HTTP1_BODY_LENGTH : GB_HTTP1_BODY_NONE;
	}
	h->upgrade = p->hp.upgrade || p->hp.method == HTTP_CONNECT;
	if (h->upgrade)
		h->body = GB_HTTP1_BODY_NONE;
	h->keep_alive = http_should_keep_alive(&p->hp) != 0;
	/* The library and we must agree on whether a body follows. */
	if ((h->body == GB_HTTP1_BODY_NONE) != (p->lib_done || h->upgrade))
		return fail(p, 400, "ambiguous message framing");
	p->left = h->body == GB_HTTP1_BODY_LENGTH ? h->content_length : 0;
	p->have_head = true;
	p->ph = h->body == GB_HTTP1_BODY_NONE ? PH_DONE_NOBODY : PH_BODY;
	return 0;
}

static enum gb_http1_event feed_head(struct gb_http1 *p, const char *data, size_t len, size_t *consumed)
{
	for (size_t i = 0; i < len; i++) {
		if (p->blen == p->o.max_head) {
			fail(p, 431, "request head too large");
			return GB_HTTP1_ERROR;
		}
		p->buf[p->blen++] = data[i];
		int r = scan_head_byte(p, (unsigned char)data[i]);
		if (r < 0)
			return GB_HTTP1_ERROR;
		if (r == 1) {
			if (finish_head(p) < 0)
				return GB_HTTP1_ERROR;
			*consumed = i + 1;
			return GB_HTTP1_HEAD;
		}
	}
	if (p->blen == p->o.max_head) {
		fail(p, 431, "request head too large");
		return GB_HTTP1_ERROR;
	}
	*consumed = len;
	return GB_HTTP1_MORE;
}

/* ---- a chunked body ---- */

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Run the strict state machine over data; returns bytes up to and including
 * the message's last byte (with *done set), all of len, or -1 on refusal. */
static ssize_t scan_chunked(struct gb_http1 *p, const unsigned char *d, size_t len, bool *done)
{
	*done = false;
	for (size_t i = 0; i < len; i++) {
		unsigned char b = d[i];
		switch (p->ck) {
		case CK_SIZE0:
		case CK_SIZE: {
			int v = hexval(b);
			if (v >= 0) {
				if (++p->ck_digits > 15)
					return fail(p, 400, "chunk size too large"), -1;
				p->ck_left = p->ck_left * 16 + (uint64_t)v;
				p->ck = CK_SIZE;
			} else if (p->ck == CK_SIZE && b == ';') {
				p->ck = CK_EXT;
			} else if (p->ck == CK_SIZE && b == '\r') {
				p->ck = CK_SIZE_LF;
			} else {
				return fail(p, 400, "invalid chunk size"), -1;
			}
			break;
		}
		case CK_EXT:
			if (b == '\r')
				p->ck = CK_SIZE_LF;
			else if ((b < 0x20 && b != '\t') || b == 0x7f)
				return fail(p, 400, "invalid chunk extension"), -1;
			break;
		case CK_SIZE_LF:
			if (b != '\n')
				return fail(p, 400, "chunk size line must end with CRLF"), -1;
			p->ck = p->ck_left ? CK_DATA : CK_TSTART;
			break;
		case CK_DATA: {
			size_t take = len - i;
			if (take > p->ck_left)
				take = (size_t)p->ck_left;
			p->ck_left -= take;
			i += take - 1;
			if (!p->ck_left)
				p->ck = CK_DATA_CR;
			break;
		}
		case CK_DATA_CR:
			if (b != '\r')
				return fail(p, 400, "chunk data not followed by CRLF"), -1;
			p->ck = CK_DATA_LF;
			break;
		case CK_DATA_LF:
			if (b != '\n')
				return fail(p, 400, "chunk data not followed by CRLF"), -1;
			p->ck = CK_SIZE0;
			p->ck_digits = 0;
			break;
		case CK_TSTART:
			if (b == '\r') {
				p->ck = CK_END_LF;
				break;
			}
			if (!tchar(b))
				return fail(p, 400, "invalid trailer line"), -1;
			p->ck = CK_TLINE;
			break;
		case CK_TLINE:
			if (b == '\r')
				p->ck = CK_TLINE_LF;
			else if ((b < 0x20 && b != '\t') || b == 0x7f)
				return fail(p, 400, "invalid trailer line"), -1;
			break;
		case CK_TLINE_LF:
			if (b != '\n')
				return fail(p, 400, "trailer line must end with CRLF"), -1;
			p->ck = CK_TSTART;
			break;
		case CK_END_LF:
			if (b != '\n')
				return fail(p, 400, "chunked body must end with CRLF"), -1;
			p->ck = CK_DONE;
			*done = true;
			return (ssize_t)(i + 1);
		case CK_DONE:
			return (ssize_t)i;
		}
		if (p->ck >= CK_TSTART && ++p->trailer_bytes > p->o.max_head)
			return fail(p, 431, "chunked trailers too large"), -1;
	}
	return (ssize_t)len;
}

static enum gb_http1_event feed_body(struct gb_http1 *p, const char *data, size_t len, size_t *consumed)
{
	if (!len) {
		*consumed = 0;
		return GB_HTTP1_MORE;
	}
	if (p->head.body == GB_HTTP1_BODY_LENGTH) {
		size_t take = len < p->left ? len : (size_t)p->left;
		if (p->o.on_payload && take)
			p->o.on_payload(p->o.arg, data, take);
		p->left -= take;
		*consumed = take;
		if (p->left)
			return GB_HTTP1_BODY;
		p->count++;
		p->ph = PH_NEXT;
		return GB_HTTP1_END;
	}
	bool done;
	ssize_t k = scan_chunked(p, (const unsigned char *)data, len, &done);
	if (k < 0)
		return GB_HTTP1_ERROR;
	/* The library reads the same bytes; it must end the message exactly
	 * where we do, or upstream and we could disagree about it. */
	size_t n = http_parser_execute(&p->hp, &p->hs, data, (size_t)k);
	enum http_errno e = HTTP_PARSER_ERRNO(&p->hp);
	if (e == HPE_INVALID_CHUNK_SIZE) {
		fail(p, 400, "invalid chunk size");
		return GB_HTTP1_ERROR;
	}
	if ((e != HPE_OK && e != HPE_PAUSED) || n != (size_t)k || p->lib_done != done) {
		fail(p, 400, "ambiguous chunked framing");
		return GB_HTTP1_ERROR;
	}
	*consumed = (size_t)k;
	if (!done)
		return GB_HTTP1_BODY;
	p->count++;
	p->ph = PH_NEXT;
	return GB_HTTP1_END;
}

enum gb_http1_event gb_http1_feed(struct gb_http1 *p, const char *data, size_t len, size_t *consumed)
{
	*consumed = 0;
	switch (p->ph) {
	case PH_ERROR:
		return GB_HTTP1_ERROR;
	case PH_DONE_NOBODY:
		p->count++;
		p->ph = PH_NEXT;
		return GB_HTTP1_END;
	case PH_NEXT: /* the previous head stays readable until now */
		start_message(p);
		break;
	case PH_BODY:
		return feed_body(p, data, len, consumed);
	case PH_HEAD:
		break;
	}
	if (!len)
		return GB_HTTP1_MORE;
	return feed_head(p, data, len, consumed);
}
