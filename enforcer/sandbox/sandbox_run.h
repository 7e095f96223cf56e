/* enforcer/sandbox/sandbox_run.h — the inside of a sandbox: what the child of
 * clone(NEWNS|NEWPID|NEWNET|NEWIPC|NEWUTS) does, as pid 1 of its pid
 * namespace, until the workload runs.  Order (docs/sandbox.md says why):
 *
 *   1. namespaces + privileged setup (root): die with the supervisor,
 *      private root (rootfs.h: tmpfs, binds, fresh /proc, minimal /dev,
 *      pivot_root), hostname, `lo` up, proxy
 *      listening socket handed to the supervisor, Landlock ruleset built
 *   2. prelude seccomp
 *   3. privilege drop + verification (fail closed)
 *   4. core hardening: RLIMIT_CORE 0, dumpable 0, no_new_privs; RLIMIT_NOFILE
 *   5. Landlock restrict_self
 *   6. runtime seccomp
 *   7. READY, wait for GO, fork the workload, which execs CMD
 *
 * Everything from 2 to 6 is applied to init itself and inherited by the
 * workload, so init holds no privilege the workload lacks.  Init then reaps
 * every process of the namespace, forwards the signals the supervisor sends
 * it (and only those) to the workload, and reports the workload's exit.  When
 * init exits the kernel kills whatever is left in the namespace.
 *
 * Ownership: the plan is the supervisor's memory, copied into the child by
 * clone (no CLONE_VM); the child never returns.
 */
#ifndef GB_ENFORCER_SANDBOX_RUN_H
#define GB_ENFORCER_SANDBOX_RUN_H

#include "enforcer/sandbox/cgroup.h"
#include "enforcer/sandbox/landlock.h"
#include "enforcer/sandbox/privdrop.h"
#include "enforcer/sandbox/rootfs.h"

/* Exit status of init when setup failed (like `docker run`). */
#define GB_EXIT_SETUP 125

struct gb_sandbox_plan {
	const char *hostname;
	const char *exe;        /* resolved path of argv[0] */
	char *const *argv;
	char *const *envp;
	const char *workdir;
	struct gb_ident ident;
	struct gb_landlock_spec landlock;
	struct gb_rootfs_spec rootfs; /* private root; rootfs.dir NULL = the host's tree */
	const struct gb_cgroup *cgroup; /* v1: init joins it first thing (cgroup.h) */
	int ctl_fd;             /* control socket (sandbox_msg.h) */
	int seccomp_log;        /* log refusals to audit (only while auditing is on) */
	unsigned long nofile;   /* RLIMIT_NOFILE (soft = hard) from step 4 on; 0 = inherited */
};

_Noreturn void gb_sandbox_child(const struct gb_sandbox_plan *p);

#endif
