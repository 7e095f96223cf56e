/* enforcer/proxy/l7.h — HTTPS inspection of CONNECT tunnels to inspected
 * endpoints, request by request (private to the proxy part).
 *
 *   l7_conn.c   the tunnel's thread: "200 Connection established", peek at
 *               the first bytes, refuse what cannot be inspected (h2c
 *               preface, other bytes, a malformed ClientHello), terminate
 *               TLS with the sandbox CA's leaf, TLS to upstream verified,
 *               raw relay for `tls: skip` and after a websocket upgrade
 *   l7_http.c   the request loop: http1.h frames each request, the policy
 *               decides it, denials answer 403, allowed (and audited)
 *               requests go upstream with the canonical path and their
 *               response comes back framed by l7_resp.c
 *   l7_resp.c   response framing (libhttp-parser, HTTP_RESPONSE): where a
 *               response ends, its status, keep-alive
 *   l7_reply.c  OpenShell-shaped refusal bodies and the HTTP_DECISION records
 *
 * Why a thread per tunnel and blocking I/O: a terminated tunnel is CPU work
 * (handshakes, record crypto) and a conversation (request, then response),
 * which reads straight as a loop; the epoll workers stay free for accepts,
 * decisions and spliced L4 tunnels.  The count is bounded by max_conns (a
 * handed-off connection still counts), each thread has a small stack, and
 * every blocking call has the idle timeout (SO_RCVTIMEO/SO_SNDTIMEO).
 * gb_proxy_stop() shuts the sockets down and waits for the threads.
 *
 * Ownership: l7_start() takes the connection (fds, identity, buffers) from
 * its worker; the thread frees it.
 */
#ifndef GB_ENFORCER_PROXY_L7_H
#define GB_ENFORCER_PROXY_L7_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>
#include <openssl/ssl.h>

#include "common/buf.h"
#include "common/policy.h"
#include "enforcer/proxy/http1.h"
#include "enforcer/proxy/proxy_int.h"
#include "enforcer/proxy/tls.h"

enum { L7_CLIENT = 0, L7_UPSTREAM = 1 };

struct l7_side {
	int fd;
	SSL *ssl;    /* NULL: plain */
	char *buf;   /* bytes read and not consumed yet: buf[off..len) */
	size_t off, len, cap;
	bool eof;
};

struct l7 {
	struct proxy_conn *c;
	struct gb_proxy *p;
	struct l7 *prev, *next; /* p->l7_list */
	struct l7_side s[2];
	struct gb_http1 *h1;
	struct gb_client_hello ch;
	bool terminated;
	const char *tls_version;
	int timeout_ms;
	void (*run)(struct l7 *l); /* the thread's body; NULL = an inspected tunnel */
};

/* Hand an allowed CONNECT to an inspected endpoint (upstream connected, no
 * byte sent to the client yet) to its own thread.  On failure the caller
 * still owns c and refuses it.  0 or negative errno. */
int l7_start(struct proxy_conn *c);
/* The same thread and bounds for another conversation on the client side
 * (inference.local, inference.h): run(l) instead of the tunnel. */
int l7_start_with(struct proxy_conn *c, void (*run)(struct l7 *l));
/* Shut every L7 tunnel down and wait for the threads (gb_proxy_stop). */
void l7_stop_all(struct gb_proxy *p);

/* ---- l7_conn.c: I/O on a side ---- */
/* Read what is available (blocking up to the idle timeout) into the side's
 * buffer.  >0 bytes added, 0 EOF, negative errno. */
ssize_t l7_fill(struct l7 *l, int side);
/* Read the client's next request head: 1 = a head (gb_http1_head), 0 = the
 * client is done (EOF or idle timeout), -1 = it broke the framing
 * (gb_http1_status/gb_http1_error say how; the caller answers and closes).
 * A previous message's end reported now is passed over. */
int l7_next_head(struct l7 *l);
/* The same once l7_wait() said the side is readable, without blocking:
 * -EAGAIN when what arrived held no data (a TLS 1.3 session ticket: a
 * blocking SSL_read would wait for the response while the request body is
 * not relayed). */
ssize_t l7_fill_ready(struct l7 *l, int side);
int l7_write(struct l7 *l, int side, const void *b, size_t n);
/* Which sides have bytes to read (1 << side), buffered bytes included;
 * 0 on timeout, negative errno. */
int l7_wait(struct l7 *l, unsigned want, int timeout_ms);
/* Relay both directions unchanged until both ends finished (websocket
 * frames after 101, `tls: skip` tunnels). */
void l7_relay_raw(struct l7 *l);

/* ---- l7_http.c ---- */
void l7_serve(struct l7 *l);

/* ---- l7_resp.c ---- */
struct l7_resp {
	http_parser hp;
	http_parser_settings cb;
	bool head_req;
	bool done, upgrade, keep_alive;
	int status;        /* final status (not 1xx) */
	int first_status;  /* first status seen (a 100 Continue is reported too) */
	const char *err;
	/* optional: told where each piece of body payload sits in the bytes
	 * fed (offset from b, length), as the framing decodes it — the
	 * tunnel's response mask reads the payload across chunks (cred.h) */
	void (*on_payload)(void *arg, size_t off, size_t n);
	void *arg;
	const char *base; /* the b of the feed under way */
	/* set by the caller: a final response with a Content-Encoding other than
	 * identity is an error (the mask cannot read a compressed body) */
	bool refuse_encoded;
	bool in_val, in_ce, ce_bad; /* in a value / of Content-Encoding / one said not identity */
	char fld[24], ce[40];
	size_t fl, cl;
};
void l7_resp_init(struct l7_resp *r, bool head_request);
/* Feed upstream bytes; *used is how many belong to this response (forward
 * exactly those).  0, or -EBADMSG with r->err. */
int l7_resp_feed(struct l7_resp *r, const char *b, size_t n, size_t *used);
/* The upstream closed: completes a close-delimited response. */
int l7_resp_eof(struct l7_resp *r);

/* ---- l7_reply.c ---- */
struct l7_req {
	char method[24];
	char path[GB_STR_MAX];   /* as requested (path part of the target) */
	char query[2048];        /* raw, without '?' */
	bool has_query;
	uint64_t t0_ns;
	uint64_t bytes_req, bytes_resp;
	int status;
	bool body_sent;          /* the body went upstream with the head (cred_l7.c) */
	char creds[256];         /* credentials rewritten into it (names), for the record */
	bool refused;            /* refused (and recorded) after its head went upstream */
	struct l7_body_scan {    /* the body's payload as it passes (cred_l7.c) */
		struct gb_buf *keep; /* kept here up to GB_CRED_BODY_MAX, or NULL */
		bool over;           /* more than the bound came */
		bool scan;           /* placeholders are looked for */
		bool hit;            /* one passed: the request must not complete */
		char tail[32];       /* the last bytes seen: a placeholder split across pieces */
		size_t tn;
	} body;
};
/* The OpenShell-shaped 403/400 for an L7 refusal into out. */
void l7_refusal(struct l7 *l, const struct l7_req *q, const struct gb_decision *d, const char *entry,
                int status, bool keep_alive, struct gb_buf *out);
/* A short JSON refusal that is not about a rule (bad request, upstream TLS). */
void l7_error_reply(struct gb_buf *out, int status, const char *error, const char *detail,
                    bool keep_alive);
/* One HTTP_DECISION for a request. */
void l7_rec_http(struct l7 *l, const struct l7_req *q, const struct gb_decision *d, const char *entry,
                 int verdict, int reason);
/* Query with secret-looking values replaced by "***" into out. */
void l7_redact_query(const char *q, char *out, size_t n);
/* The origin-form part [t, end) of a request target into q->path (empty
 * -> "/") and q->query (has_query when a '?' came).  0, or -1 when either
 * is too long for q (nothing is cut short). */
int l7_req_path_query(struct l7_req *q, const char *t, const char *end);

/* ---- cred_l7.c: credential placeholders (cred.h) ---- */
/* For an allowed request whose upstream head (request line, header lines
 * as received) is in head: rewrite the placeholders of the header lines
 * (Basic credentials decoded) toward the tunnel's host and, when the
 * endpoint opts in, of a UTF-8 JSON/form/text body — Content-Length or
 * chunked — up to GB_CRED_BODY_MAX (read whole here, sent with a
 * Content-Length, into body: q->body_sent).  On an opted-in endpoint a
 * body that cannot be rewritten (over the bound, another type) is scanned:
 * what was read goes in body (q->body_sent false: exchange() relays the
 * rest) and q->body.scan makes exchange() cut the request where a
 * placeholder passes (q->body.hit).
 * 0: head, then body, is what goes upstream (wipe both with
 * gb_creds_buf_wipe after the write); -1: refused, *status, *reason and
 * why say how (nothing sent). */
int l7_cred_apply(struct l7 *l, struct l7_req *q, const struct gb_http1_head *h,
                  const struct gb_decision *d, struct gb_buf *head, struct gb_buf *body, int *status,
                  int *reason, char *why, size_t whylen);
/* After the exchange: the body's payload callback is removed. */
void l7_cred_done(struct l7 *l);
/* A body relayed by exchange() under a scan (q->body.scan) carried a
 * placeholder: the text for the refusal. */
#define L7_CRED_BODY_HIT "a credential placeholder in a request body that cannot be rewritten " \
	"(over the 256 KiB bound, or a type that is not rewritten): the request is cut before it"


#endif
