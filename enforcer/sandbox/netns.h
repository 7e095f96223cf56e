/* enforcer/sandbox/netns.h — the sandbox's network: a fresh network namespace with
 * only loopback, and the proxy's listening socket created inside it.
 *
 * The sandbox child (already in its new netns, still root) brings `lo` up
 * and opens the listening socket at 127.0.0.1:3128; it passes the socket to
 * the supervisor over the control socketpair (SCM_RIGHTS) and closes its own
 * copy, so the workload never holds it.  The supervisor, which stays in the
 * host namespace, accepts on it: the proxy is then the only route out, with
 * no veth, bridge, route or NAT to get wrong.
 *
 * gb_fd_send/gb_fd_recv: one message with at most one descriptor; received
 * descriptors are O_CLOEXEC.  Negative errno on failure.
 */
#ifndef GB_ENFORCER_NETNS_H
#define GB_ENFORCER_NETNS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define GB_PROXY_ADDR "127.0.0.1"
#define GB_PROXY_PORT 3128

int gb_netns_lo_up(void);
int gb_netns_listen(const char *ip, uint16_t port); /* listening fd or -errno */

ssize_t gb_fd_send(int sock, int fd, const void *msg, size_t len);
/* *fd = -1 when the message carried none. */
ssize_t gb_fd_recv(int sock, int *fd, void *msg, size_t cap);

#endif
