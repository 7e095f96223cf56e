/* enforcer/sandbox_proxy.c — the proxy half of sandbox_events.h.
 *
 * Until the proxy (enforcer/proxy.c) is in the tree: no proxy.  The socket
 * from inside the sandbox is closed, so a connection to 127.0.0.1:3128 is
 * refused at once (fail closed) instead of hanging in the backlog.  The
 * proxy-backed version is staged in enforcer/ring_pending/sandbox_proxy.c. */
#include "enforcer/sandbox_events.h"

#include <unistd.h>

int gb_sbx_proxy_start(struct gb_sbx_events *ev, int listen_fd, pid_t init_pid,
                       const struct gb_policy *policy)
{
	/* No proxy yet: close the socket so connections are refused (fail
	 * closed) rather than left hanging in the backlog. */
	if (listen_fd >= 0)
		close(listen_fd);
	return 0;
}

void gb_sbx_proxy_stop(struct gb_sbx_events *ev)
{
	(void)ev;
}
