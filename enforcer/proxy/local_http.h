/* enforcer/proxy/local_http.h — what the proxy's own HTTP services
 * (inference.local: inference_serve.c; policy.local: policy_local_serve.c)
 * share: taking the connection over (CONNECT 200 and TLS terminated with
 * a leaf of the sandbox CA, or the plain head re-read), framing each
 * request with http1.h (strict), its target and the keep-alive isolation
 * check, a body read whole under a bound, a response head, and the common
 * fields of the HTTP_DECISION each request is recorded as.
 *
 * What stays with each service: its routes, its error body (inference
 * speaks the OpenAI error shape, policy.local {"error","detail","layer"}),
 * its record's reason text and rule, and what it does with a body (the
 * inference one held a credential-free prompt and is wiped).
 *
 * Ownership: nothing here keeps a pointer past the call.  struct lh_body's
 * buffer is the caller's (gb_buf_free or wipe it); the record lh_rec_fill
 * fills points into the caller's request, connection and rq buffer, so it
 * is emitted before those go.  Thread: the connection's own.
 */
#ifndef GB_ENFORCER_PROXY_LOCAL_HTTP_H
#define GB_ENFORCER_PROXY_LOCAL_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/record.h"
#include "enforcer/proxy/http1.h"
#include "enforcer/proxy/l7.h"

/* The reason phrase of an HTTP status ("Error" for one not listed). */
const char *lh_status_text(int status);

/* "HTTP/1.1 S R\r\nContent-Type\r\nContent-Length\r\n<extra>Connection\r\n\r\n"
 * into out; extra is whole header lines ("X: y\r\n...") or NULL. */
void lh_head(struct gb_buf *out, int status, const char *ctype, size_t body_len,
             const char *extra, bool keep_alive);

/* A request body accumulated from http1's on_payload, at most max bytes:
 * past it nothing more is kept and over is set (the caller answers 413). */
struct lh_body {
	struct gb_buf b;
	size_t max;
	bool over;
};
void lh_on_payload(void *arg, const char *data, size_t n); /* arg: struct lh_body */

/* Take the connection over for service `name` (also the TLS leaf's name):
 * a new strict parser feeding body; for CONNECT (ports 443 and 80 only:
 * another port is sent bad_port, the caller's whole refusal) the 200, then
 * TLS terminated when the client starts it, or plain HTTP; for a proxy
 * request its head is read again by the parser.  Records the NET open
 * (allowed, or refused when the tunnel could not be set up).  0 = go on to
 * the requests, -1 = the connection is done. */
int lh_begin(struct l7 *l, const char *name, struct lh_body *body, const char *bad_port,
             size_t bad_port_len);


/* The whole body through the parser into the lh_body given at lh_begin
 * (bounded there).  0, or -1 when the client left or broke the framing. */
int lh_read_body(struct l7 *l, const struct gb_http1_head *h);

/* A "100 Continue" when the request asks for it and has a body: clients
 * (curl) wait a second for it otherwise.  0, or -1 when the write failed. */
int lh_continue(struct l7 *l, const struct gb_http1_head *h);

/* The target's path and query into q; the host an absolute-form target
 * names into host ("" for origin-form; the text itself, or "?", when it is
 * not a host on port 80).  0; -1 when the target is neither a path nor an
 * http:// URL; -2 when its path or query is too long for q. */
int lh_target(const struct gb_http1_head *h, struct l7_req *q, char *host, size_t hn);

/* Keep-alive isolation: the host other than this service's that the
 * request names — by its target (target_host, from lh_target) or its Host
 * header — or NULL.  ours(name) says a name is the service's own; the
 * answer may point into scratch. */
const char *lh_other_host(const struct gb_http1_head *h, const char *target_host,
                          bool (*ours)(const char *host), char *scratch, size_t sn);

/* The fields of the request's HTTP_DECISION both services fill alike:
 * connection, peer, destination (host:port), identity, method, scheme,
 * path, redacted query (into rq), byte counts, status, latency, TLS.  The
 * caller sets verdict, reason, rule, reason_text, policy_entry (and its
 * own fields), then proxy_emit. */
void lh_rec_fill(struct l7 *l, const struct l7_req *q, const char *host, struct gb_record *rec,
                 char *rq, size_t rqn);

#endif
