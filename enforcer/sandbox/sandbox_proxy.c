/* enforcer/sandbox/sandbox_proxy.c — see sandbox_proxy.h.  The network
 * namespace's fd goes to the proxy for identity lookups (sock_diag in the
 * clients' namespace). */
#include "enforcer/sandbox/sandbox_proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "enforcer/proxy/inference.h"
#include "enforcer/proxy/proxy.h"

int gb_sbx_proxy_prepare(struct gb_sbx_out *ev, int listen_fd, pid_t init_pid,
                         const struct gb_policy *policy, const char *hosts_file, int internal_strict)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/ns/net", (int)init_pid);
	ev->netns_fd = open(p, O_RDONLY | O_CLOEXEC);
	int rc = ev->netns_fd < 0 ? -errno : gb_policy_store_new(policy, &ev->store);
	if (rc < 0) {
		close(listen_fd);
		return rc;
	}
	ev->pending.listen_fd = listen_fd;
	ev->pending.init_pid = init_pid;
	ev->pending.hosts_file = hosts_file;
	ev->pending.internal_strict = internal_strict;
	return 0;
}

int gb_sbx_proxy_pending_fd(const struct gb_sbx_out *ev)
{
	return ev->pending.listen_fd;
}

int gb_sbx_proxy_start(struct gb_sbx_out *ev)
{
	int listen_fd = ev->pending.listen_fd;
	if (listen_fd < 0)
		return ev->proxy ? 0 : -EBADF;
	ev->pending.listen_fd = -1;
	struct gb_proxy_opts o = {
		.listen_fd = listen_fd, /* the proxy owns it once gb_proxy_new succeeds */
		.netns_fd = ev->netns_fd,
		.clients_root_pid = (int)ev->pending.init_pid, /* identity searches the sandbox only */
		.store = ev->store,
		.ring = ev->ring,
		.hosts_file = ev->pending.hosts_file,
		.internal_needs_allowed_ips = ev->pending.internal_strict != 0,
		.tls = ev->tls, /* NULL when the CA could not be made */
		.learn = ev->learn,
		.policy_local_path = ev->policy_local_path,
		.policy_local = ev->policy_local,
		.inference = ev->inference,
		.creds = ev->creds, /* freed by the supervisor after the proxy stopped */
	};
	int rc = gb_proxy_new(&o, &ev->proxy);
	if (rc < 0) {
		close(listen_fd);
		ev->proxy = NULL;
		return rc;
	}
	rc = gb_proxy_start(ev->proxy);
	if (rc < 0) {
		gb_proxy_free(ev->proxy);
		ev->proxy = NULL;
	}
	return rc;
}

void gb_sbx_proxy_stop(struct gb_sbx_out *ev)
{
	if (ev->proxy) {
		gb_proxy_stop(ev->proxy); /* joins the workers */
		gb_proxy_free(ev->proxy);
	}
	ev->proxy = NULL;
	if (ev->pending.listen_fd >= 0)
		close(ev->pending.listen_fd);
	ev->pending.listen_fd = -1;
	if (ev->store)
		gb_policy_store_free(ev->store);
	ev->store = NULL;
	if (ev->netns_fd >= 0)
		close(ev->netns_fd);
	ev->netns_fd = -1;
	gb_inference_free(ev->inference); /* after the proxy: no reader is left */
	ev->inference = NULL;
}
