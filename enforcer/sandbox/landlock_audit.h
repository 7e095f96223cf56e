/* enforcer/sandbox/landlock_audit.h — Landlock (and seccomp) denials from the
 * kernel audit stream.
 *
 * With Landlock ABI >= 7 the kernel logs each denied access of a sandboxed
 * process (we ask for it with LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON) as an
 * AUDIT_LANDLOCK_ACCESS record (path, blocking rights, domain id), together
 * with the syscall record (pid, uid, exe, comm) of the same audit event; the
 * first denial of a domain also brings an AUDIT_LANDLOCK_DOMAIN "allocated"
 * record naming the pid that created the domain, and the domain's end a
 * "deallocated" one.  The supervisor joins the read-only audit multicast
 * group (NETLINK_AUDIT, AUDIT_NLGRP_READLOG: needs CAP_AUDIT_READ, does not
 * compete with auditd), keeps the events whose domain was created by its
 * sandbox's init, and hands each denial to a callback.
 *
 * seccomp: when the runtime filter was installed with logging (only done
 * while auditing is on), each refused syscall is an AUDIT_SECCOMP record; it
 * is ours when the process (looked up at once) lives in our sandbox's pid
 * namespace — a process already gone by then is not attributed.
 *
 * Records only flow while kernel auditing is enabled (auditd running, or
 * `auditctl -e 1`); gb_ll_audit_open() reports whether it is, and glassbox
 * never turns it on by itself (a host-wide setting).
 *
 * Ownership: the reader is the supervisor's; strings passed to the callback
 * live only during the call.  Single-threaded.
 */
#ifndef GB_ENFORCER_LANDLOCK_AUDIT_H
#define GB_ENFORCER_LANDLOCK_AUDIT_H

#include <stdint.h>
#include <sys/types.h>

struct gb_ll_audit;

struct gb_ll_denial {
	int seccomp;         /* 0 Landlock, 1 seccomp (path/blockers/domain empty) */
	uint64_t domain;
	int32_t pid;        /* host pid of the denied process, 0 unknown */
	uint32_t uid;
	const char *exe;     /* "" unknown */
	const char *comm;
	const char *path;    /* "" for accesses without a path (e.g. scopes) */
	const char *blockers; /* e.g. "fs.read_file" */
	const char *syscall; /* number as text, "" unknown */
	const char *syscall_name; /* seccomp: resolved name, or the number */
};

typedef void (*gb_ll_denial_fn)(void *ctx, const struct gb_ll_denial *d);

/* Join the audit stream.  Returns 0 with *out set (*enabled = whether the
 * kernel audits now), or -errno (e.g. -EPERM without CAP_AUDIT_READ,
 * -EPROTONOSUPPORT without CONFIG_AUDIT).  The kernel multicasts audit
 * records only in the initial network namespace: a supervisor started in
 * another one makes its socket there (setns for the one call), and gets
 * -EXDEV when it cannot enter it. */
int gb_ll_audit_open(struct gb_ll_audit **out, int *enabled);
/* The sandbox to watch: its init's host pid (creator of the Landlock domain,
 * pid 1 of the sandbox's pid namespace).  Records before this are dropped. */
void gb_ll_audit_watch(struct gb_ll_audit *a, pid_t init_pid);
/* A uid only this sandbox runs as (uidalloc.h): seccomp records with it are
 * ours even when their process is gone before the record is read. */
void gb_ll_audit_own_uid(struct gb_ll_audit *a, uint32_t uid);
int gb_ll_audit_fd(const struct gb_ll_audit *a);
/* Read everything available (non-blocking) and report completed denials. */
void gb_ll_audit_read(struct gb_ll_audit *a, gb_ll_denial_fn fn, void *ctx);
/* The end mark: once the sandbox's processes are gone, a USER record of our
 * own (AUDIT_USER, "op=sandbox-end sandbox=NAME mark=..."; it also lands in
 * the host's audit log) goes through the kernel's one audit queue behind
 * every record they caused, so when it comes back on the multicast nothing
 * of theirs is still on the way but a Landlock domain's deallocation
 * (emitted when the kernel frees it).  0 or -errno (no CAP_AUDIT_WRITE, not
 * in the initial pid namespace: then wait as before). */
int gb_ll_audit_mark(struct gb_ll_audit *a, const char *name);
int gb_ll_audit_mark_seen(const struct gb_ll_audit *a);
/* Report events still incomplete (called at the end). */
void gb_ll_audit_flush(struct gb_ll_audit *a, gb_ll_denial_fn fn, void *ctx);
/* 1 when our domain is known and the kernel reported it deallocated, 0
 * when it is known and alive, -1 when no denial ever named it. */
int gb_ll_audit_domain_state(const struct gb_ll_audit *a);
uint64_t gb_ll_audit_denials(const struct gb_ll_audit *a);
void gb_ll_audit_close(struct gb_ll_audit *a);

#endif
