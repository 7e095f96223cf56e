/* enforcer/proxy/inference_int.h — between inference_serve.c (the client's
 * side of an inference.local connection) and inference_upstream.c (the
 * provider call), private to the proxy part.
 *
 * Ownership: the connection's struct l7 is the serving thread's (l7.h); the
 * provider connection lives in its L7_UPSTREAM side only for one request
 * (taken from the route's pool or connected by inf_call, and before it
 * returns either given back to the pool or closed).  The pool is the
 * table's (gb_inference_new makes it, gb_inference_free closes what it
 * holds); its functions are thread-safe.
 */
#ifndef GB_ENFORCER_PROXY_INFERENCE_INT_H
#define GB_ENFORCER_PROXY_INFERENCE_INT_H

#include "common/buf.h"
#include "enforcer/proxy/inference.h"
#include "enforcer/proxy/l7.h"

struct inf_req {
	struct l7_req q;                  /* method, path, query, t0, bytes, status */
	const struct gb_inf_route *route; /* a reference, or NULL */
	bool client_keep;                 /* the client asked for keep-alive */
	bool client_11;                   /* HTTP/1.1 client: chunked replies */
	bool stream;                      /* the response is an SSE stream */
	uint64_t ttfb_ns;                 /* request head -> first response byte */
	uint64_t up_bytes_req;            /* what went to the provider */
	struct gb_inf_usage usage;
	char error[300];                  /* why the call failed, "" when it did not */
};

/* The thread body for a connection to inference.local (l7_start_with). */
void inference_conn(struct l7 *l);

/* Call the provider with head + body and relay its response to the client.
 * 0 = done, the client connection may carry another request; 1 = done but
 * the connection must close; -1 = broken.  r->q.status, bytes, ttfb, usage
 * and error are filled. */
int inf_call(struct l7 *l, struct inf_req *r, struct gb_buf *head, const char *body, size_t bn);

/* ---- inference_pool.c: idle provider connections of the current route ----
 * Keyed by the route's generation: reset() (every route change) closes them
 * all and from then on only gen's connections are kept; give() of another
 * generation closes the connection.  take() hands out the newest entry that
 * is idle at most idle_ms and quiet (nothing readable: the provider neither
 * closed it nor sent bytes nobody asked for), closing those that are not. */
#define GB_INF_POOL_MAX 8         /* idle connections per route */
#define GB_INF_POOL_IDLE_MS 4000  /* below the 5 s keep-alive of uvicorn and Node servers */
struct inf_pool;
int inf_pool_new(struct inf_pool **out, size_t max, int idle_ms);
void inf_pool_free(struct inf_pool *p);
void inf_pool_reset(struct inf_pool *p, uint64_t gen);
/* 1 and *fd, *ssl (the caller's now), or 0: none. */
int inf_pool_take(struct inf_pool *p, uint64_t gen, int *fd, SSL **ssl);
/* Takes fd and ssl either way (kept, or closed). */
void inf_pool_give(struct inf_pool *p, uint64_t gen, int fd, SSL *ssl);
size_t inf_pool_idle(struct inf_pool *p);
/* The table's pool (inference_route.c). */
struct inf_pool *gb_inference_pool(struct gb_inference *inf);

/* A JSON answer of the proxy's own ({"error":{"message","type","code"}},
 * OpenAI's error shape, which both SDKs print) into out. */
void inf_reply(struct gb_buf *out, int status, const char *type, const char *message,
               bool keep_alive);

#endif
