/* enforcer/proxy/proxy_int.h — internals shared by the proxy's files (not a public
 * contract: include only from enforcer/proxy*.c).
 *
 *   proxy.c        workers, epoll loop, accept, timers, stop
 *   proxy_conn.c   one connection's state machine: head -> identity ->
 *                  decision -> resolve -> destination check -> connect ->
 *                  relay or refusal; its records
 *   proxy_http.c   request-head parsing, the upstream request, refusals
 *   proxy_relay.c  splice() relay with half-close and backpressure
 *   l7*.c          HTTPS inspection of tunnels to inspected endpoints (l7.h)
 */
#ifndef GB_ENFORCER_PROXY_INT_H
#define GB_ENFORCER_PROXY_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/policy.h"
#include "enforcer/proxy/http1.h"
#include "enforcer/proxy/identity.h"
#include "enforcer/proxy/proxy.h"
#include "enforcer/proxy/resolve.h"

struct proxy_worker;

enum tag_kind { TAG_LISTEN = 1, TAG_STOP, TAG_RESOLVER, TAG_CLIENT, TAG_UPSTREAM };
struct ep_tag {
	enum tag_kind kind;
	int fd;
	struct proxy_conn *c;
	/* the events registered now (armed: fd is in the epoll set), so an
	 * EPOLL_CTL_MOD to the same events is skipped — the relay re-states
	 * its interest after every pump, mostly unchanged */
	unsigned ev;
	bool armed;
};

enum conn_state { C_HEAD, C_HASHING, C_RESOLVING, C_CONNECTING, C_RELAY, C_REFUSING, C_DONE };

struct http_req {
	int kind;            /* GB_NET_CONNECT or GB_NET_FORWARD */
	char method[24];
	char host[256];
	uint16_t port;
	char path[2048];     /* origin-form path, forward only */
	char query[2048];    /* without '?', forward only */
	bool has_query;
	bool truncated;      /* path/query cut to fit (a URL too long): records are flagged */
	size_t head_len;     /* bytes of the request head incl. the blank line */
	int minor;           /* HTTP/1.x */
};

struct relay_dir {
	int pipe_r, pipe_w; /* -1 while the direction holds no bytes (proxy_relay.c) */
	size_t inpipe;
	bool eof, shut;
	bool bulk;    /* a read filled the small buffer: splice from now on (proxy_relay.c) */
	uint64_t bytes;
};

struct proxy_conn {
	struct proxy_worker *w;
	struct proxy_conn *prev, *next; /* worker's list, for timeouts */
	struct ep_tag tc, tu;
	int cfd, ufd;
	enum conn_state st;
	uint64_t id;
	uint64_t t_start_ns;
	int64_t deadline_ms; /* monotonic ms; 0 = none */
	struct sockaddr_storage peer, local, upstream;
	char peer_ip[64], up_ip[64];
	uint16_t peer_port;

	char *head; /* request head buffer (max_header_bytes + 1) */
	size_t hlen;
	/* HTTP/1.1 framing of what the client sends (http1.h): the head, then
	 * for a forward request exactly its declared body, nothing after it. */
	struct gb_http1 *h1;
	size_t head_end;    /* bytes of c->head that are the head */
	size_t body_early;  /* bytes after the head that belong to the body */
	bool body_done;     /* the forward request's body was read whole */
	struct http_req req;

	struct gb_ident_buf ident;   /* at the head (or at accept, when unchanged) */
	struct gb_ident_buf *early;  /* at accept, when the head's differs; or NULL */
	bool ident_ok, ident_tried, ident_final;
	bool holders_gone; /* no process held the socket at head time: decided on the accept view */
	int64_t hash_until_ms; /* C_HASHING: give up waiting for the exe's hash */
	const struct gb_policy_compiled *pol; /* held from decision to dest check */
	struct gb_decision dec;
	char entry[256];
	int ssrf_tier;
	int addr_class;    /* gb_addr_class of the address connected to */
	bool opened;       /* an allow OPEN record was written: write CLOSE too */
	bool inspected;
	bool http_pending; /* an allowed forward request: its HTTP record waits for the response's status */

	struct gb_buf pre;   /* bytes for upstream before relaying (forward head) */
	size_t pre_off;
	struct gb_buf out;   /* bytes for the client before relaying/closing */
	size_t out_off;
	struct relay_dir up, down;
	int64_t last_io_ms;
	bool resolving;      /* a resolver callback is pending for this conn */
};

#define PROXY_SPARE_PIPES 32

struct proxy_worker {
	struct gb_proxy *p;
	int idx;
	int ep;
	struct gb_resolver *res;
	struct ep_tag tl, ts;
	struct ep_tag tres[16];
	int res_fds[16];
	unsigned res_ev[16];
	size_t n_res;
	int res_timeout_ms;
	struct proxy_conn *conns;
	struct proxy_conn *dead; /* closed, freed after the current epoll batch */
	size_t n_conns;
	int64_t accept_paused_until;
	bool listening;
	/* Empty pipes for the relay, lent to a direction only while it holds
	 * bytes (proxy_relay.c): an idle tunnel costs its two sockets, not six
	 * descriptors. */
	int spare_r[PROXY_SPARE_PIPES], spare_w[PROXY_SPARE_PIPES];
	int n_spare;
	_Alignas(64) char pad_;
};

struct gb_proxy {
	struct gb_proxy_opts o;
	int lfd;
	int stopfd; /* eventfd */
	struct gb_identity_ctx *ident;
	int n_workers;
	struct proxy_worker *workers;
	pthread_t *threads;
	bool started;
	atomic_uint_fast64_t next_id;
	atomic_int n_conns;
	atomic_uint_fast64_t s_accepted, s_allowed, s_denied, s_bytes_up, s_bytes_down, s_rec_dropped;
	/* HTTPS inspection threads (l7.h) */
	pthread_mutex_t l7_mu;
	pthread_cond_t l7_cv;
	struct l7 *l7_list;
	int n_l7;
	atomic_bool l7_stopping;
	struct pl_state *pl; /* policy.local's denials and proposals (policy_local_int.h) */
};

/* proxy.c */
int proxy_ep_set(struct proxy_worker *w, struct ep_tag *t, unsigned events, bool add);
void proxy_ep_del(struct proxy_worker *w, int fd);

/* proxy_conn.c */
struct proxy_conn *conn_new(struct proxy_worker *w, int cfd);
void conn_event(struct proxy_conn *c, enum tag_kind which, unsigned events);
void conn_timeout(struct proxy_conn *c);
void conn_free(struct proxy_conn *c);
/* An allowed forward request's response status, peeked at (proxy_conn.c):
 * 1 when its HTTP record is written, 0 while nothing has arrived. */
int conn_response_status(struct proxy_conn *c);
/* Free the connections closed during the last epoll batch. */
void proxy_reap(struct proxy_worker *w);
/* Records (thread-safe: the L7 threads write through these too). */
void proxy_emit(struct proxy_conn *c, struct gb_record *r);
void conn_rec_open(struct proxy_conn *c, int verdict, int reason);
/* Learn mode (proxy_learn.c): when o->learn, a denial a rule could fix
 * becomes an audited allow, as the rule the advisor would propose would
 * decide; other decisions are left alone. */
void proxy_learn(const struct gb_proxy_opts *o, struct gb_decision *d, const char *host);
/* Take c out of its worker (epoll, list, timers) for an L7 thread; the fds
 * stay open.  conn_finish_detached() is the thread's conn_free(). */
void conn_detach(struct proxy_conn *c);
void conn_finish_detached(struct proxy_conn *c);

/* proxy_http.c */
/* Parse a complete head in buf[0..len) (ends with CRLFCRLF).  Returns 0, or
 * -EINVAL with *why set to a static text. */
int http_parse_head(const char *buf, size_t len, struct http_req *r, const char **why);
/* A Host header value: host, host:port or [v6]:port; *port = 0 when none
 * is given.  Returns 0 or -EINVAL. */
int http_parse_host(const char *s, size_t n, char *host, size_t hsz, uint16_t *port);
/* Origin-form request for upstream: request line rewritten, hop-by-hop and
 * proxy headers dropped, Connection: close added. */
int http_upstream_head(const char *buf, size_t len, const struct http_req *r, const char *canon_path,
                       struct gb_buf *out);
/* A refusal response with its JSON body; policy_local: next_steps name
 * http://policy.local (--policy-local). */
void http_refusal(struct gb_buf *out, int status, const char *error, const char *detail,
                  const char *reason, const char *entry, const char *binary, const char *dest,
                  bool policy_local);

/* proxy_relay.c */
/* Send b[*off..] to fd until it is all sent or the socket is full.
 * Returns 1 when all is sent, 0 when blocked (wait for EPOLLOUT), or
 * negative errno. */
int proxy_send_buf(int fd, const struct gb_buf *b, size_t *off);
int relay_init(struct proxy_conn *c);
/* Move what can move; returns 1 when both directions are finished, 0 to
 * keep going, negative errno on a hard error. */
int relay_pump(struct proxy_conn *c);
void relay_interest(struct proxy_conn *c);
/* Give back c's pipes: an empty one to its worker's spares when `spare`
 * (the caller is that worker's thread), else closed. */
void relay_close(struct proxy_conn *c, bool spare);
/* The worker's spare pipes, closed (at its end). */
void relay_spares_free(struct proxy_worker *w);

#endif
