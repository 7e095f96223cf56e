/* enforcer/sandbox/limits.h — the default bounds of one sandbox, in one place:
 * the sizes of its private tmpfs mounts and the limits that apply when
 * neither `glassbox run`'s --memory / --pids / --cpus / --files nor the daemon
 * config's sandbox: section (exporter/config.h) sets them.
 *
 * tmpfs pages are charged to the memory cgroup of the process that writes
 * them, so memory.max bounds the sum of the tmpfs mounts too; the sizes below
 * keep one mount from taking it all.  What no limit here bounds: disk use in
 * the workdir and the read_write paths (host filesystems; use quotas there).
 *
 * Ownership: constants only.
 */
#ifndef GB_ENFORCER_SANDBOX_LIMITS_H
#define GB_ENFORCER_SANDBOX_LIMITS_H

/* Private tmpfs sizes (tmpfs "size=" syntax). */
#define GB_TMPFS_ROOT_SIZE "8m"    /* the root: mount points and /etc/passwd only */
#define GB_TMPFS_TMP_SIZE "512m"   /* /tmp */
#define GB_TMPFS_VARTMP_SIZE "256m" /* /var/tmp */
#define GB_TMPFS_SHM_SIZE "64m"    /* /dev/shm */
#define GB_TMPFS_SANDBOX_SIZE "1g" /* /sandbox, when the policy names it */

/* Sandbox uids/gids (uidalloc.h): above systemd's container range
 * (524288..1879048191), below 2^31; one per live sandbox. */
#define GB_UID_FIRST 1879048192u
#define GB_UID_COUNT 65536u

/* cgroup limits (0 = no limit). */
#define GB_DEFAULT_PIDS_MAX 1024
#define GB_DEFAULT_MEMORY_MAX (4ULL << 30) /* bytes; swap is off for the sandbox */
#define GB_DEFAULT_CPUS 0.0                /* CPUs (e.g. 1.5); 0 = unlimited */

/* RLIMIT_NOFILE of the workload (--files); 0 = inherited from the caller. */
#define GB_DEFAULT_FILES 0ul

#endif
