/* enforcer/sandbox/sandbox_proxy.h — the sandbox's proxy: a policy revision
 * store made from the sandbox's policy and the proxy (enforcer/proxy/proxy.h)
 * running on the listening socket that the sandbox opened inside its network
 * namespace.  Both live in struct gb_sbx_out (sandbox_out.h), next to the
 * ring the proxy writes its decisions to.
 *
 * Lazily: prepare makes the store (live policy revisions need it from the
 * start) and keeps the socket; the supervisor polls it and calls start when
 * the first connection waits in its backlog (it is accepted then).  A
 * workload that never connects costs no proxy (resolver, identity context,
 * worker threads: ~1 ms of every start, more under load).
 *
 * Ownership: prepare fills out->store and out->netns_fd and takes
 * listen_fd (closed on failure); start makes out->proxy, which owns the
 * socket from then on; stop joins the proxy's workers and frees all three,
 * or closes a socket never started (safe after a failed prepare or start).
 */
#ifndef GB_ENFORCER_SANDBOX_PROXY_H
#define GB_ENFORCER_SANDBOX_PROXY_H

#include <sys/types.h>

#include "common/policy.h"
#include "enforcer/sandbox/sandbox_out.h"

/* init_pid's network namespace is the clients'; hosts_file (NULL =
 * /etc/hosts) is consulted by its resolver before DNS; internal_strict is
 * proxy.h's internal_needs_allowed_ips.  0 or -errno. */
int gb_sbx_proxy_prepare(struct gb_sbx_out *out, int listen_fd, pid_t init_pid,
                         const struct gb_policy *policy, const char *hosts_file, int internal_strict);
/* The socket to poll for the first connection, or -1 (started, or none). */
int gb_sbx_proxy_pending_fd(const struct gb_sbx_out *out);
/* Start the proxy on the prepared socket.  0 or -errno (the socket is
 * closed then: the sandbox's connections are refused). */
int gb_sbx_proxy_start(struct gb_sbx_out *out);
void gb_sbx_proxy_stop(struct gb_sbx_out *out);

#endif
