/* enforcer/sandbox_events.h — what the supervisor tells the world: records
 * into the sandbox's ring (NAME/events.ring) and the proxy it runs on the
 * listening socket from inside the sandbox.
 *
 * Every function is safe to call when the ring could not be opened (the
 * record is then lost and counted in ev->lost) — the sandbox itself never
 * depends on the audit trail unless the policy asks for fail_closed.
 *
 * Ownership: struct gb_sbx_events is the supervisor's; open/close pair.
 */
#ifndef GB_ENFORCER_SANDBOX_EVENTS_H
#define GB_ENFORCER_SANDBOX_EVENTS_H

#include <stdint.h>
#include <sys/types.h>

#include "common/policy.h"
#include "enforcer/statedir.h"

struct gb_ring;
struct gb_proxy;
struct gb_policy_store;

struct gb_sbx_events {
	struct gb_ring *ring;
	struct gb_proxy *proxy;
	struct gb_policy_store *store;
	int netns_fd;
	const char *name;
	uint64_t lost;
	char id[17];              /* this run's sandbox id (ring header, metadata.uid) */
	char daemon_lock[4200];   /* <runtime>/serve.lock: held while glassbox serve runs */
};

int gb_sbx_events_open(struct gb_sbx_events *ev, const struct gb_statedir *sd, const char *name);
void gb_sbx_events_close(struct gb_sbx_events *ev);

void gb_sbx_ev_finding(struct gb_sbx_events *ev, int kind, int severity, const char *subject,
                       const char *detail);
/* CONFIG loaded: the policy the sandbox started with (revision 1). */
void gb_sbx_ev_config_loaded(struct gb_sbx_events *ev, const char *path, const char *sha256);

/* A finding about one process (pid as seen from the host). */
void gb_sbx_ev_finding_proc(struct gb_sbx_events *ev, int kind, int severity, const char *subject,
                            const char *detail, int32_t pid, uint32_t uid, const char *exe);
void gb_sbx_ev_lifecycle(struct gb_sbx_events *ev, int activity, uint32_t layers, uint32_t abi,
                         uint32_t uid, uint32_t gid, const char *rights, const char *seccomp,
                         const char *user, const char *workdir);
void gb_sbx_ev_proc_launch(struct gb_sbx_events *ev, pid_t pid, uint32_t uid, uint32_t gid,
                           const char *exe, const char *sha256, char *const *argv);
void gb_sbx_ev_proc_exit(struct gb_sbx_events *ev, pid_t pid, uint32_t uid, uint32_t gid,
                         const char *exe, const char *sha256, int32_t code, int32_t sig,
                         uint64_t duration_ns);

/* Run the proxy on listen_fd (ownership passes in, also on failure);
 * init_pid's network namespace is the clients'; hosts_file (NULL =
 * /etc/hosts) is consulted by its resolver before DNS.  0 or -errno. */
int gb_sbx_proxy_start(struct gb_sbx_events *ev, int listen_fd, pid_t init_pid,
                       const struct gb_policy *policy, const char *hosts_file);
void gb_sbx_proxy_stop(struct gb_sbx_events *ev);

#endif
