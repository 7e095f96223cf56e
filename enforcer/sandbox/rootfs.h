/* enforcer/sandbox/rootfs.h — the sandbox's private filesystem: what the
 * workload sees is exactly its policy.
 *
 * gb_rootfs_setup() runs in the sandbox child, root, in its new mount and pid
 * namespaces, before Landlock is prepared (the rules must bind to the inodes
 * of the new root).  Like bubblewrap it builds a fresh tmpfs on `dir` (a
 * directory of the supervisor's state, so nothing is made in the host's
 * tree) and fills it:
 *
 *   read_only paths   bind (recursive), then mount_setattr(AT_RECURSIVE)
 *                     read-only, nosuid, nodev — every submount too
 *   read_write paths  bind (recursive), nosuid, nodev; so is the workdir
 *                     (with include_workdir), even when it is /tmp, idmapped
 *                     through workdir_userns when given (its owner's files
 *                     appear as the sandbox's; a failure falls back to a
 *                     plain bind with a FINDING)
 *   extra_ro          host files bound read-only at another path (e.g. the
 *                     sandbox CA bundle: the hook for TLS termination)
 *   /proc             a fresh procfs of the sandbox's pid namespace
 *   /dev              tmpfs with null zero full random urandom tty bound from
 *                     the host, a private devpts (+ /dev/ptmx), fd/std* links
 *   /tmp /var/tmp /dev/shm (and /sandbox when the policy names it)
 *                     private size-limited tmpfs (limits.h), never the host's;
 *                     policy paths below them are bound from the host
 *   /etc/passwd, /etc/group  when /etc is visible: the host's files with the
 *                     sandbox's own line (name, uid, gid) added
 *
 * then pivot_root()s into it, detaches the old root and makes the root
 * mount itself read-only.  A symlink in the policy (merged /usr: /bin ->
 * usr/bin) is recreated as the same symlink.  /proc and the minimal /dev
 * entries named by a policy are the sandbox's own, not bound.  The workdir
 * exists as an empty directory when it is not bound (include_workdir off).
 *
 * Failures: a policy path that does not exist is skipped (Landlock reports
 * it); any other bind that fails is a FINDING naming the path (best_effort)
 * or an error (hard); if the root itself cannot be built (tmpfs, pivot_root)
 * best_effort reports a high FINDING and leaves the host's tree with a fresh
 * /proc — the layout before private roots — while hard_requirement fails.
 *
 * Ownership: the spec is the caller's; nothing is allocated that outlives
 * the call.  Returns 1 with the private root in place, 0 when it fell back
 * to the host tree, negative errno with err set when the sandbox must not
 * start.
 */
#ifndef GB_ENFORCER_SANDBOX_ROOTFS_H
#define GB_ENFORCER_SANDBOX_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "enforcer/sandbox/landlock.h" /* gb_landlock_report_fn */

struct gb_bind {
	const char *src; /* host path */
	const char *dst; /* path inside the sandbox */
};

struct gb_rootfs_spec {
	const char *dir; /* where the new root's tmpfs is mounted (private to the child) */
	const char *const *read_only;
	size_t n_read_only;
	const char *const *read_write; /* the policy's, without the workdir */
	size_t n_read_write;
	const struct gb_bind *extra_ro;
	size_t n_extra_ro;
	const char *workdir;
	bool bind_workdir; /* include_workdir: the host's workdir, read-write */
	int workdir_userns; /* >= 0: idmap the workdir through it (uidalloc.h), else -1 */
	uid_t uid;        /* the sandbox user: its /etc/passwd line, /sandbox's owner */
	gid_t gid;
	const char *user; /* its name inside */
	bool hard;        /* landlock.compatibility: hard_requirement */
};

int gb_rootfs_setup(const struct gb_rootfs_spec *s, gb_landlock_report_fn report, void *ctx,
                    char *err, size_t errlen);

/* The old layout, for the fallback and for tests: the host's tree, private
 * propagation, a fresh /proc.  0 or negative errno with err set. */
int gb_rootfs_host_tree(char *err, size_t errlen);

#endif
