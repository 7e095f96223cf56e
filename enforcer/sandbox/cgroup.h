/* enforcer/sandbox/cgroup.h — a cgroup per sandbox: pids.max, memory.max
 * with swap off, an optional CPU limit; the kernel's counts of what the
 * limits stopped (OOM kills, refused forks).
 *
 * cgroup v2 when /sys/fs/cgroup is a cgroup2 mount whose controllers include
 * memory and pids: the group is /sys/fs/cgroup/glassbox/NAME-PID (the
 * controllers are enabled in the root's and glassbox/'s subtree_control; a
 * non-root cgroup holding processes cannot hand controllers down).  Else
 * the v1 hierarchies pids, memory and (for --cpus) cpu: the group is
 * created below the supervisor's own cgroup in each, so limits an outer
 * manager set on the supervisor still hold.  The supervisor itself never
 * joins: the sandbox's init is moved (v2) or moves itself (v1) before it
 * forks CMD, and every descendant follows.
 *
 * A supervisor killed with SIGKILL cannot remove its group: the next
 * gb_cgroup_create() removes empty glassbox-*-PID groups whose PID is gone.
 *
 * Ownership: struct gb_cgroup is the caller's; gb_cgroup_destroy() removes
 * the groups (after the sandbox's processes are gone; retried briefly
 * while the kernel finishes tearing them down).  Errors: negative errno
 * with the reason in err.
 */
#ifndef GB_ENFORCER_SANDBOX_CGROUP_H
#define GB_ENFORCER_SANDBOX_CGROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct gb_cgroup_limits {
	uint64_t memory_max; /* bytes, 0 = none */
	uint64_t pids_max;   /* 0 = none */
	double cpus;         /* 0 = none */
};

struct gb_cgroup {
	int version;       /* 0 none, 1 or 2 */
	char v2[512];      /* v2: the group */
	char pids[512];    /* v1: one group per hierarchy ("" when unused) */
	char mem[512];
	char cpu[512];
	struct gb_cgroup_limits lim;
};

int gb_cgroup_create(const char *name, const struct gb_cgroup_limits *lim, struct gb_cgroup *cg,
                     char *err, size_t errlen);
/* v2: the supervisor moves init (cgroup.procs).  v1: init joins itself
 * first thing (gb_cgroup_join_self) by writing "0" to each group's `tasks`:
 * moving the calling thread of a single-threaded process skips the global
 * cgroup_threadgroup_rwsem, whose write side waits for an RCU grace period
 * (3-20 ms per start).  gb_cgroup_add() is a no-op for v1. */
int gb_cgroup_add(const struct gb_cgroup *cg, pid_t pid, char *err, size_t errlen);
int gb_cgroup_join_self(const struct gb_cgroup *cg, char *err, size_t errlen);

/* What the limits stopped so far. */
struct gb_cgroup_events {
	uint64_t oom_kills;  /* processes the OOM killer killed in the group */
	uint64_t pids_max;   /* forks refused at pids.max */
};
void gb_cgroup_read_events(const struct gb_cgroup *cg, struct gb_cgroup_events *ev);

void gb_cgroup_destroy(struct gb_cgroup *cg);

/* "512M", "2g", "1073741824", "max" (0) -> bytes; -EINVAL when not a size. */
int gb_cgroup_parse_size(const char *s, uint64_t *out);

#endif
