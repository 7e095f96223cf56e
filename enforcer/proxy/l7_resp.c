/* enforcer/proxy/l7_resp.c — where an upstream response ends.
 *
 * http1.h frames requests only; a response's framing rules differ (no body
 * for HEAD, 1xx, 204, 304; close-delimited bodies), so the library's
 * HTTP_RESPONSE mode frames them.  Nothing is rewritten: the bytes that
 * belong to the response are forwarded as received (the response mask may
 * overwrite a secret's bytes with '*', never the framing; it learns where
 * the payload is from on_payload).  Interim 1xx responses
 * (100 Continue) are forwarded and the parser goes on to the final one.
 * The parser pauses at the end of the final response, so bytes after it
 * (which a server may not send before the next request) are never taken
 * as part of it. */
#include "enforcer/proxy/l7.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

/* Content-Encoding, for refuse_encoded: the parser hands names and values in
 * pieces (a head may span reads); a value is judged when the next name or
 * the end of the head comes.  Anything but empty or "identity" — also a
 * value too long to hold — counts as encoded. */
static void ce_done(struct l7_resp *r)
{
	if (!r->in_ce)
		return;
	r->in_ce = false;
	size_t a = 0, b = r->cl;
	while (a < b && (r->ce[a] == ' ' || r->ce[a] == '\t'))
		a++;
	while (b > a && (r->ce[b - 1] == ' ' || r->ce[b - 1] == '\t'))
		b--;
	if (r->cl >= sizeof r->ce ||
	    (b > a && !(b - a == 8 && !strncasecmp(r->ce + a, "identity", 8))))
		r->ce_bad = true;
}

static int on_field(http_parser *hp, const char *at, size_t n)
{
	struct l7_resp *r = hp->data;
	if (!r->refuse_encoded)
		return 0;
	if (r->in_val) { /* a value came before: a new name starts */
		ce_done(r);
		r->in_val = false;
		r->fl = r->cl = 0;
	}
	size_t k = n < sizeof r->fld - r->fl ? n : sizeof r->fld - r->fl;
	memcpy(r->fld + r->fl, at, k);
	r->fl += k;
	return 0;
}

static int on_value(http_parser *hp, const char *at, size_t n)
{
	struct l7_resp *r = hp->data;
	if (!r->refuse_encoded)
		return 0;
	if (!r->in_val) { /* the name is complete: is it ours? */
		r->in_val = true;
		r->in_ce = r->fl == 16 && !strncasecmp(r->fld, "content-encoding", 16);
	}
	if (!r->in_ce || r->cl >= sizeof r->ce)
		return 0; /* another header, or already over (judged as encoded) */
	size_t room = sizeof r->ce - r->cl, k = n < room ? n : room;
	memcpy(r->ce + r->cl, at, k);
	r->cl = k < n ? sizeof r->ce : r->cl + k;
	return 0;
}

static int on_headers(http_parser *hp)
{
	struct l7_resp *r = hp->data;
	ce_done(r);
	r->in_val = false;
	r->cl = r->fl = 0;
	if (r->refuse_encoded && r->ce_bad && !(hp->status_code / 100 == 1 && hp->status_code != 101)) {
		r->err = "a compressed response (Content-Encoding) from a host a credential is bound "
		         "to: the response mask cannot read it, so it is refused";
		return -1;
	}
	r->ce_bad = false; /* an interim response's headers do not carry over */
	if (!r->first_status)
		r->first_status = hp->status_code;
	if (hp->status_code / 100 == 1 && hp->status_code != 101)
		return 0; /* interim: no body, the final response follows */
	r->status = hp->status_code;
	if (hp->status_code == 101) {
		r->upgrade = true;
		return 1;
	}
	return r->head_req ? 1 : 0; /* 1 = no body (the answer to a HEAD) */
}

static int on_body(http_parser *hp, const char *at, size_t n)
{
	struct l7_resp *r = hp->data;
	if (r->on_payload)
		r->on_payload(r->arg, (size_t)(at - r->base), n);
	return 0;
}

static int on_complete(http_parser *hp)
{
	struct l7_resp *r = hp->data;
	if (hp->status_code / 100 == 1 && hp->status_code != 101)
		return 0;
	r->done = true;
	r->keep_alive = http_should_keep_alive(hp) != 0;
	http_parser_pause(hp, 1);
	return 0;
}

void l7_resp_init(struct l7_resp *r, bool head_request)
{
	memset(r, 0, sizeof *r);
	http_parser_init(&r->hp, HTTP_RESPONSE);
	r->hp.data = r;
	r->cb.on_headers_complete = on_headers;
	r->cb.on_header_field = on_field;
	r->cb.on_header_value = on_value;
	r->cb.on_message_complete = on_complete;
	r->cb.on_body = on_body;
	r->head_req = head_request;
}

int l7_resp_feed(struct l7_resp *r, const char *b, size_t n, size_t *used)
{
	*used = 0;
	if (r->done)
		return 0;
	r->base = b;
	size_t k = http_parser_execute(&r->hp, &r->cb, b, n);
	enum http_errno e = HTTP_PARSER_ERRNO(&r->hp);
	if (e == HPE_PAUSED) {
		*used = k;
		return 0;
	}
	if (r->upgrade && r->done)
		return 0;
	if (e != HPE_OK) {
		if (!r->err) /* a callback's own reason (refuse_encoded) is kept */
			r->err = http_errno_description(e);
		return -EBADMSG;
	}
	*used = k;
	if (r->upgrade) { /* 101: what follows is the upgraded protocol */
		r->done = true;
		*used = k;
	}
	return 0;
}

int l7_resp_eof(struct l7_resp *r)
{
	if (r->done)
		return 0;
	http_parser_execute(&r->hp, &r->cb, NULL, 0);
	if (!r->done) {
		r->err = "upstream closed before the response was complete";
		return -EPIPE;
	}
	return 0;
}
