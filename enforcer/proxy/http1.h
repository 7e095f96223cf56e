/* enforcer/proxy/http1.h — HTTP/1.1 request framing: feed bytes, get request
 * heads and body framing, request after request on one connection.
 *
 * Built on Debian's http-parser (libhttp-parser 2.9.4), which parses the
 * request line and header grammar and the Content-Length / Transfer-Encoding
 * rules.  Debian builds it with HTTP_PARSER_STRICT=0, which accepts bare LF,
 * obs-fold, "Name : value" and any byte where a chunk's CRLF belongs; so this
 * module adds its own strict checks on top (the head's line structure, and a
 * chunked-body state machine that must agree with the library's about where
 * the message ends).  A proxy that accepts what its upstream reads differently
 * is a proxy requests can be smuggled past (RFC 9112 §6.3, §11.2).
 *
 * Refused (GB_HTTP1_ERROR, with an HTTP status and a static text):
 *   - a head over opts.max_head bytes or opts.max_fields header lines (431)
 *   - a bare CR or bare LF, NUL or control bytes, obs-fold, a header name that
 *     is not a token (also "Name : value"), an empty request line, leading
 *     CRLFs (400)
 *   - HTTP versions other than 1.0 and 1.1, unknown methods (400)
 *   - Content-Length twice (even with equal values), not all digits, or with
 *     Transfer-Encoding; Transfer-Encoding that is not exactly "chunked", given
 *     twice, or in HTTP/1.0 (400)
 *   - a second Host header (400; RFC 9112 §3.2)
 *   - in a chunked body: a size that is not hex digits, longer than 15 digits,
 *     whitespace before an extension, a chunk not followed by exactly CRLF, a
 *     bad trailer line (400)
 *
 * Events, one per gb_http1_feed() call (the call consumes a prefix of the
 * input and says what that prefix was):
 *   GB_HTTP1_MORE   all input consumed, the head (or body) is not complete
 *   GB_HTTP1_HEAD   the head is complete: gb_http1_head() describes it; the
 *                   consumed bytes are the end of the head (copied inside)
 *   GB_HTTP1_BODY   the consumed bytes are body bytes as received (chunked
 *                   framing included); the message is not finished
 *   GB_HTTP1_END    the consumed bytes (maybe none) finish the message; the
 *                   next feed starts the next request (pipelining)
 *   GB_HTTP1_ERROR  refused; sticky until gb_http1_reset()
 * After GB_HTTP1_HEAD of a message without a body, the next feed (of any
 * length, also 0) returns GB_HTTP1_END with nothing consumed.  A CONNECT head
 * has no body: what follows it is the tunnel, not HTTP (head->upgrade).
 *
 * Ownership: the parser owns a copy of the head; the pointers in struct
 * gb_http1_head point into it and stay valid until the next request's first
 * byte is fed, gb_http1_reset() or gb_http1_free().  Body events point into
 * the caller's input.  One parser per connection; not thread-safe.
 */
#ifndef GB_ENFORCER_HTTP1_H
#define GB_ENFORCER_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GB_HTTP1_MAX_FIELDS 128

enum gb_http1_event { GB_HTTP1_MORE, GB_HTTP1_HEAD, GB_HTTP1_BODY, GB_HTTP1_END, GB_HTTP1_ERROR };
enum gb_http1_body { GB_HTTP1_BODY_NONE, GB_HTTP1_BODY_LENGTH, GB_HTTP1_BODY_CHUNKED };

struct gb_http1_field {
	const char *name, *value; /* value without surrounding whitespace */
	size_t name_len, value_len;
};

struct gb_http1_head {
	char method[24];
	const char *target; /* as sent: absolute-form, origin-form, authority */
	size_t target_len;
	int major, minor;
	const char *raw; /* the head as received, raw[0..head_len) */
	size_t head_len; /* including the blank line */
	size_t n_fields;
	struct gb_http1_field fields[GB_HTTP1_MAX_FIELDS];
	unsigned n_host;       /* 0 or 1 (a second Host is refused) */
	const char *host;      /* the Host value, NULL when n_host == 0 */
	size_t host_len;
	enum gb_http1_body body;
	uint64_t content_length; /* GB_HTTP1_BODY_LENGTH */
	bool keep_alive;         /* by version and Connection */
	bool upgrade;            /* CONNECT (or Upgrade): what follows is not HTTP */
};

struct gb_http1_opts {
	size_t max_head;   /* bytes of head (and of a chunked body's trailers); 0 = 16 KiB */
	size_t max_fields; /* header lines; 0 = 100, at most GB_HTTP1_MAX_FIELDS */
	/* Optional: called with the decoded payload of the body as it passes
	 * (chunk framing removed), during gb_http1_feed(). */
	void (*on_payload)(void *arg, const char *data, size_t len);
	void *arg;
};

struct gb_http1;

/* NULL opts = defaults.  Returns NULL on allocation failure. */
struct gb_http1 *gb_http1_new(const struct gb_http1_opts *opts);
void gb_http1_free(struct gb_http1 *p);
/* Forget everything: the next byte starts a request head. */
void gb_http1_reset(struct gb_http1 *p);
/* Replace the payload callback (NULL: none) from now on, e.g. for one
 * request's body (cred_l7.c reads and scans bodies with it). */
void gb_http1_set_payload(struct gb_http1 *p, void (*on_payload)(void *, const char *, size_t),
                          void *arg);

/* Consume a prefix of data[0..len) and report what it was; *consumed is set
 * for every event (0 for GB_HTTP1_ERROR). */
enum gb_http1_event gb_http1_feed(struct gb_http1 *p, const char *data, size_t len, size_t *consumed);

/* The current request's head: valid from GB_HTTP1_HEAD on (NULL before). */
const struct gb_http1_head *gb_http1_head(const struct gb_http1 *p);
/* Body bytes still expected for a Content-Length body. */
uint64_t gb_http1_body_left(const struct gb_http1 *p);
/* After GB_HTTP1_ERROR: the status to answer with (400 or 431) and why. */
int gb_http1_status(const struct gb_http1 *p);
const char *gb_http1_error(const struct gb_http1 *p);
/* Requests completed (GB_HTTP1_END) since creation or reset. */
unsigned gb_http1_count(const struct gb_http1 *p);

/* The value of the first field named name (case-insensitive), or NULL. */
const struct gb_http1_field *gb_http1_field(const struct gb_http1_head *h, const char *name);

#endif
