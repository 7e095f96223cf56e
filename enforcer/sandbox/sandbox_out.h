/* enforcer/sandbox/sandbox_out.h — what leaves the supervisor: records into
 * the sandbox's ring (NAME/events.ring), and the state the proxy shares with
 * it (the ring, the policy revision store, the proxy itself; started and
 * stopped by sandbox_proxy.h).
 *
 * Every function is safe to call when the ring could not be opened (the
 * record is then lost and counted in ev->lost) — the sandbox itself never
 * depends on the audit trail unless the policy asks for fail_closed.
 *
 * Ownership: struct gb_sbx_out is the supervisor's; open/close pair.
 */
#ifndef GB_ENFORCER_SANDBOX_OUT_H
#define GB_ENFORCER_SANDBOX_OUT_H

#include <stdint.h>
#include <sys/types.h>

#include "common/paths.h"
#include "common/policy.h"
#include "enforcer/sandbox/statedir.h"

struct gb_ring;
struct gb_proxy;
struct gb_policy_store;
struct gb_tls;
struct gb_creds;
struct gb_pl_hooks;

struct gb_sbx_out {
	struct gb_ring *ring;
	/* The resource limits set, copied into every LIFECYCLE record (0 = none). */
	struct {
		uint64_t memory_max, pids_max, nofile;
		uint32_t cpu_milli;
	} limits;
	struct gb_proxy *proxy;
	struct gb_policy_store *store;
	int netns_fd;
	/* The proxy waiting for its first connection (sandbox_proxy.h): its
	 * listening socket (-1 once started or when none) and options. */
	struct {
		int listen_fd;
		pid_t init_pid;
		const char *hosts_file;
		int internal_strict;
	} pending;
	struct gb_tls *tls;       /* the sandbox CA (sandbox_tls.h), or NULL: no termination */
	bool learn;               /* learn mode for the proxy (proxy.h gb_proxy_opts.learn) */
	const char *policy_local_path; /* --policy-local's file, for the proxy's 403 bodies */
	const struct gb_pl_hooks *policy_local; /* --policy-local: http://policy.local's hooks */
	struct gb_inference *inference; /* inference.local routes (enforcer/proxy/inference.h) */
	char tls_dir[4096];       /* where its certificates are, "" when none */
	struct gb_creds *creds;   /* provider credentials (enforcer/proxy/cred.h), or NULL */
	const char *name;
	uint64_t lost;
	const struct gb_statedir *sd; /* where the ring lives (open .. close) */
	char id[17];              /* this run's sandbox id (ring header, metadata.uid) */
	char daemon_lock[GB_PATH_MAX]; /* gb_path_serve_lock(root): held while glassbox serve runs */
};

/* root: --root (NULL = "/"), the same one sd was claimed under. */
int gb_sbx_out_open(struct gb_sbx_out *ev, const char *root, const struct gb_statedir *sd,
                    const char *name);
/* Waits (up to 5 s) for a running glassbox serve to drain the ring.  A ring
 * that still holds undrained records (no daemon, or one stuck on a full
 * disk) is never deleted: it moves to <root>/run/glassbox/leftover/ where
 * the next serve journals it (gb_statedir_keep_ring), and a warning says how
 * many records wait there. */
void gb_sbx_out_close(struct gb_sbx_out *ev);

void gb_sbx_ev_finding(struct gb_sbx_out *ev, int kind, int severity, const char *subject,
                       const char *detail);
/* CONFIG loaded: the policy the sandbox started with (revision 1). */
void gb_sbx_ev_config_loaded(struct gb_sbx_out *ev, const char *path, const char *sha256);
/* CONFIG of a live revision (action gb_config_action: UPDATED, REFUSED). */
void gb_sbx_ev_config(struct gb_sbx_out *ev, int action, uint64_t revision, const char *sha256,
                      const char *source, const char *detail);

/* A finding about one process (pid as seen from the host). */
void gb_sbx_ev_finding_proc(struct gb_sbx_out *ev, int kind, int severity, const char *subject,
                            const char *detail, int32_t pid, uint32_t uid, const char *exe);
void gb_sbx_ev_lifecycle(struct gb_sbx_out *ev, int activity, uint32_t layers, uint32_t abi,
                         uint32_t uid, uint32_t gid, const char *rights, const char *seccomp,
                         const char *user, const char *workdir);
/* ppid: the workload's parent (the sandbox's init, host pid); the
 * supervisor (the caller) is recorded as the actor. */
void gb_sbx_ev_proc_launch(struct gb_sbx_out *ev, pid_t pid, pid_t ppid, uint32_t uid, uint32_t gid,
                           const char *exe, const char *sha256, char *const *argv);
/* reason: why it ended when a limit did it ("oom_kill: ..."), else "".
 * argv: the command line, as at launch. */
void gb_sbx_ev_proc_exit(struct gb_sbx_out *ev, pid_t pid, pid_t ppid, uint32_t uid, uint32_t gid,
                         const char *exe, const char *sha256, char *const *argv, int32_t code,
                         int32_t sig, uint64_t duration_ns, const char *reason);

#endif
