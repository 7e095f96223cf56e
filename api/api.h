/* api/api.h — the REST API of `glassbox serve` (libmicrohttpd, JSON by
 * jansson).  Routes (DESIGN.md, docs/api.md):
 *
 *   GET  /v1/health                         GET /metrics (Prometheus text)
 *   GET  /v1/sandboxes                      GET /v1/sandboxes/NAME
 *   GET  /v1/sandboxes/NAME/logs?since=&until=&severity=&class=&verdict=&binary=
 *                                 &host=&policy=&limit=&cursor=&follow=
 *   GET  /v1/sandboxes/NAME/policy          PUT (set)  PATCH (update)
 *   GET  /v1/sandboxes/NAME/policy/revisions
 *   GET  /v1/sandboxes/NAME/advisor/suggestions[?status=]   .../suggestions/ID
 *   POST /v1/sandboxes/NAME/advisor/suggestions/ID/approve|reject
 *   GET  /v1/sandboxes/NAME/advisor/history    .../advisor/export
 *   POST /v1/dashboard (unix socket only)   GET / and other non-API paths:
 *                                           the web dashboard's files
 *
 * Listeners: a unix socket (default <root>/run/glassbox/api.sock, 0600:
 * root only) needing no token, and optionally TCP, which always requires
 * `Authorization: Bearer TOKEN` (the token file must be 0600; compared in
 * constant time), optionally over TLS (libmicrohttpd's GnuTLS) and, given a
 * client CA, with a client certificate that verifies against it (api_tls.c).
 * Every error is {"error","detail"} with its status.
 * Bounded: request body (GB_API_MAX_BODY), header memory, connections,
 * per-connection time; names are validated before any path is built.
 *
 * Threads: one per connection (libmicrohttpd), so a following client
 * blocks only its own thread, on the journal's inotify wake-up.
 *
 * Ownership: gb_api_start copies the options' strings; gb_api_stop ends
 * every connection and frees the handle.
 */
#ifndef GB_API_API_H
#define GB_API_API_H

#include <stddef.h>

#define GB_API_MAX_BODY (1u << 20)

struct gb_serve;

struct gb_api_opts {
	const char *root;        /* --root (for sandbox directories), or NULL */
	const char *unix_path;   /* NULL = <root>/run/glassbox/api.sock; "" = none */
	const char *journal_dir; /* required */
	const char *runtime_dir; /* required: where sandbox directories live */
	const char *tcp_listen;  /* "127.0.0.1:8787" or NULL */
	const char *token_file;  /* required with tcp_listen */
	const char *tls_cert_file, *tls_key_file; /* TLS on tcp_listen (PEM; key 0600) */
	const char *client_ca_file; /* with TLS: a client certificate from this CA is required */
	unsigned max_connections;/* 0 = 256 */
	struct gb_serve *serve;  /* the daemon's counters for /metrics (may be NULL) */
	const char *advisor_db;  /* NULL = <root>/var/lib/glassbox/advisor.db (advisor.h) */
	int advisor_auto;        /* approve proposals without risk findings at once */
	const char *dashboard_dir; /* NULL = gb_path_dashboard() (installed files) */
};

struct gb_api;

int gb_api_start(const struct gb_api_opts *o, struct gb_api **out, char *err, size_t errlen);
void gb_api_stop(struct gb_api *a);

#endif
