/* enforcer/proxy/proxy.h — the egress proxy: the only way out of a sandbox.
 *
 * accept -> identify the binary (identity.h) -> parse CONNECT or absolute-form
 * HTTP -> decide (policy.h) -> resolve once and check every address against
 * the destination tiers (resolve.h, gb_policy_dest_check) -> connect to an
 * address that passed -> relay (splice for tunnels) -> records into the ring
 * (NET_DECISION open + close, HTTP_DECISION per plain-HTTP request, FINDING
 * for binary changes and SSRF blocks).  Refusals answer 400/403/502/504 with
 * a JSON body an agent can act on.
 *
 * Threads: one epoll worker per core (opts.workers), all accepting on the
 * same listening socket.  The supervisor (`glassbox run`) creates the
 * listening socket inside the sandbox's network namespace and passes it in
 * as listen_fd, plus that namespace's fd for identity lookups; standalone
 * `glassbox proxy` binds opts.listen itself.
 *
 * Ownership: the proxy borrows store, ring and the identity ctx (they must
 * outlive it); it owns listen_fd once gb_proxy_new() succeeds.
 */
#ifndef GB_ENFORCER_PROXY_H
#define GB_ENFORCER_PROXY_H

#include <stdint.h>

#include "common/policy.h"
#include "common/ring.h"

struct gb_proxy;
struct gb_tls;
struct gb_inference;
struct gb_creds;
struct gb_pl_hooks;

struct gb_proxy_opts {
	const char *listen;      /* "127.0.0.1:3128" when listen_fd < 0 */
	int listen_fd;           /* pre-bound listening socket, or -1 */
	int netns_fd;            /* clients' netns for identity, or -1 = ours */
	int clients_root_pid;    /* > 0: clients descend from this pid (a sandbox's
	                          * init), identity searches only them; 0 = host */
	int workers;             /* 0 = number of online CPUs */
	struct gb_policy_store *store;
	struct gb_ring *ring;    /* NULL = no records (tests only) */
	bool fail_closed;        /* audit_mode fail_closed: deny when records can't be written */
	bool learn;              /* learn mode (`glassbox run --learn`): a denial a rule could
	                          * fix is let through and recorded as an audited would-deny
	                          * (proxy_learn.c) */
	const char *policy_local_path; /* --policy-local: the agent's proposals file as the
	                          * sandbox sees it, named in an L7 403's next_steps; NULL = off */
	const struct gb_pl_hooks *policy_local; /* --policy-local: the proxy answers
	                          * http://policy.local (policy_local_http.h); NULL = the
	                          * name is not special */
	bool internal_needs_allowed_ips; /* an internal address is used only when the
	                          * endpoint's allowed_ips covers it, even for an
	                          * exactly named host (default: allowed, recorded) */
	const char *hosts_file;  /* resolver override; NULL = /etc/hosts */
	const char *resolv_conf; /* NULL = system */
	struct gb_tls *tls;      /* HTTPS inspection (tls.h), borrowed; NULL = tunnels to
	                          * inspected endpoints cannot be inspected */
	struct gb_inference *inference; /* inference.local routes (inference.h), borrowed;
	                          * NULL = no route (inference.local answers 503) */
	const struct gb_creds *creds; /* provider credentials (cred.h), borrowed; NULL =
	                          * none, and every placeholder is refused */
	/* limits and timeouts; 0 = defaults */
	int max_conns;           /* default 4096, or (RLIMIT_NOFILE - 160) / 2 up to 16384 */
	int header_timeout_ms;   /* default 10000 */
	int connect_timeout_ms;  /* default 10000 */
	int idle_timeout_ms;     /* default 300000 */
	int max_header_bytes;    /* default 16384 */
};

int gb_proxy_new(const struct gb_proxy_opts *o, struct gb_proxy **out);
/* Start the worker threads; returns once they run. */
int gb_proxy_start(struct gb_proxy *p);
/* Ask the workers to stop and join them (not async-signal-safe: call it
 * from the thread that started the proxy).  gb_proxy_free() releases. */
void gb_proxy_stop(struct gb_proxy *p);
void gb_proxy_free(struct gb_proxy *p);

struct gb_proxy_stats {
	uint64_t accepted, allowed, denied, active, bytes_up, bytes_down, records_dropped;
};
void gb_proxy_stats(const struct gb_proxy *p, struct gb_proxy_stats *s);

#endif
