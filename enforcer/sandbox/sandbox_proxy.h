/* enforcer/sandbox/sandbox_proxy.h — the sandbox's proxy: a policy revision
 * store made from the sandbox's policy and the proxy (enforcer/proxy/proxy.h)
 * running on the listening socket that the sandbox opened inside its network
 * namespace.  Both live in struct gb_sbx_out (sandbox_out.h), next to the
 * ring the proxy writes its decisions to.
 *
 * Ownership: start fills out->store, out->proxy and out->netns_fd; stop
 * joins the proxy's workers and frees all three (safe after a failed start).
 */
#ifndef GB_ENFORCER_SANDBOX_PROXY_H
#define GB_ENFORCER_SANDBOX_PROXY_H

#include <sys/types.h>

#include "common/policy.h"
#include "enforcer/sandbox/sandbox_out.h"

/* Run the proxy on listen_fd (ownership passes in, also on failure);
 * init_pid's network namespace is the clients'; hosts_file (NULL =
 * /etc/hosts) is consulted by its resolver before DNS; internal_strict is
 * proxy.h's internal_needs_allowed_ips.  0 or -errno. */
int gb_sbx_proxy_start(struct gb_sbx_out *out, int listen_fd, pid_t init_pid,
                       const struct gb_policy *policy, const char *hosts_file, int internal_strict);
void gb_sbx_proxy_stop(struct gb_sbx_out *out);

#endif
