/* api/api_int.h — private to api/: the request a route handler sees and
 * the answer helpers.  One handler per route family, each in its own file
 * (api_sandboxes.c, api_logs.c, api_policy.c, api_metrics.c). */
#ifndef GB_API_API_INT_H
#define GB_API_API_INT_H

#include <jansson.h>
#include <microhttpd.h>
#include "api/mhd_lazy.h" /* the MHD_ functions, loaded on first use */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "api/api.h"

/* TLS on the TCP listener (api_tls.c): PEM texts for libmicrohttpd. */
struct api_tls {
	int on;
	char *cert, *key, *client_ca; /* client_ca NULL: no client certificates */
};
/* Load and check the files (the key 0600; the pair and the CA must load in
 * GnuTLS).  All NULL: no TLS (0).  0 or -errno with err. */
int api_tls_load(struct api_tls *t, const char *cert, const char *key, const char *client_ca,
                 char *err, size_t errlen);
void api_tls_free(struct api_tls *t);
/* With a client CA: did this connection present a certificate that
 * verifies against it?  1 yes (or no CA), 0 no (*missing: none sent; why
 * says what is wrong). */
int api_tls_client_ok(const struct api_tls *t, struct MHD_Connection *c, int *missing, char *why,
                      size_t len);

struct gb_api {
	char root[4096];
	int has_root;
	char journal_dir[4096];
	char runtime_dir[4096];
	char unix_path[108];
	unsigned char token_sha[32];
	int has_token;
	struct MHD_Daemon *unix_d;
	/* Started by gb_api_start or later by the dashboard route, read by
	 * handlers of both listeners: only under tcp_mu. */
	struct MHD_Daemon *tcp_d;
	pthread_mutex_t tcp_mu;
	struct api_tls tls;
	int unix_fd;
	struct gb_serve *serve;
	atomic_int stopping;
	/* /metrics */
	atomic_uint_fast64_t requests[6];   /* by status class: 2xx 3xx 4xx 5xx, other */
	atomic_uint_fast64_t latency_us_sum;
	atomic_uint_fast64_t latency_buckets[8];
	atomic_uint_fast64_t follows;
	struct api_metrics *metrics; /* api_metrics.c */
	struct gb_advisor *advisor;  /* advisor.h; NULL when it could not open */
	char dashboard_dir[4096];
	unsigned max_conns;    /* the web dashboard's files (api_static.c) */
};

struct api_req {
	struct gb_api *api;
	struct MHD_Connection *c;
	const char *method;
	const char *name;   /* validated sandbox name, or NULL */
	const char *sub;    /* after /v1/sandboxes/NAME: "", "logs", "policy", "policy/revisions" */
	const char *body;
	size_t body_len;
	int on_tcp;         /* came in on the TCP listener (token checked) */
};

/* Queue BODY (malloc'd, taken: freed on every path) of LEN bytes as a
 * TYPE answer with Cache-Control: no-store, counted in the request metrics. */
enum MHD_Result api_queue(struct api_req *r, unsigned status, char *body, size_t len, const char *type);
/* Queue a JSON answer (takes o) / an error {"error","detail"}. */
enum MHD_Result api_json(struct api_req *r, unsigned status, json_t *o);
enum MHD_Result api_error(struct api_req *r, unsigned status, const char *error, const char *fmt,
                          ...) __attribute__((format(printf, 4, 5)));
const char *api_arg(struct api_req *r, const char *key);
/* Is sandbox NAME running (its supervisor holds its lock)?  1 yes, 0 no;
 * *pid its supervisor's pid when known. */
int api_sandbox_alive(struct gb_api *a, const char *name, long *pid);

enum MHD_Result api_health(struct api_req *r);
enum MHD_Result api_sandboxes(struct api_req *r);
enum MHD_Result api_sandbox(struct api_req *r);
enum MHD_Result api_logs(struct api_req *r);
enum MHD_Result api_policy(struct api_req *r);
enum MHD_Result api_metrics(struct api_req *r);
enum MHD_Result api_advisor(struct api_req *r); /* advisor_routes.c */
enum MHD_Result api_inference(struct api_req *r); /* api_inference.c: /v1/inference */
/* Who is asking, for authors and approvers: uid/pid by SO_PEERCRED on the
 * unix socket, the address on TCP (api_policy.c). */
void api_caller(struct api_req *r, char *out, size_t len);
/* The journal tap behind /metrics' event counters (a thread). */
int api_metrics_start(struct gb_api *a);
void api_metrics_stop(struct gb_api *a);
/* Decisions of sandbox NAME journaled since the daemon started. */
void api_metrics_sandbox(struct gb_api *a, const char *name, uint64_t *allowed, uint64_t *denied);

/* Slow clients (api_slow.c): a connection whose request head is not
 * complete API_HEAD_DEADLINE_S after its accept is cut (slowloris). */
#define API_HEAD_DEADLINE_S 5
void api_slow_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                     enum MHD_ConnectionNotificationCode toe);
void api_slow_head_done(struct MHD_Connection *c);
int api_slow_start(void);
void api_slow_stop(void);
uint64_t api_slow_cut(void);
/* The web dashboard (dashboards/web) at / and every path outside /v1/
 * and /metrics: GET/HEAD of a file below a->dashboard_dir, no token
 * (api_static.c).  api_static_path: is url one of those? */
int api_static_path(const char *url);
enum MHD_Result api_static(struct api_req *r, const char *url);
/* POST /v1/dashboard (unix socket only): start or reuse the TCP listener
 * on loopback and mint a dashboard token (api_dashboard.c). */
enum MHD_Result api_dashboard(struct api_req *r);
/* Is t (NUL-terminated) a live dashboard token?  Constant time per slot. */
int api_dashboard_token_ok(const char *t);
/* Called first by gb_api_stop: no listener starts after it; tokens forgotten. */
void api_dashboard_stop(struct gb_api *a);
/* Start the TCP listener on spec (HOST:PORT) (api_server.c): 0 started,
 * 1 one already runs (spec ignored), or a negative errno with err set. */
int api_tcp_start(struct gb_api *a, const char *spec, char *err, size_t errlen);
/* The TCP listener's port (0 when none runs) and the address to reach it
 * by, for a URL: "127.0.0.1" for a wildcard, "[::1]" style for IPv6. */
unsigned api_tcp_addr(struct gb_api *a, char *host, size_t len);

/* Time arguments: RFC 3339 with or without fractions and offset, a
 * duration ago (30s, 10m, 2h, 1d), or epoch milliseconds. */
int api_parse_time(const char *s, int64_t *ms);

#endif
