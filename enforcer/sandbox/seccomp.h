/* enforcer/sandbox/seccomp.h — the two seccomp filters (libseccomp), both
 * default-allow deny-lists; a listed call fails with EPERM unless noted.
 *
 * Prelude (gb_seccomp_prelude): installed once privileged setup is done —
 * by the sandbox child right after its mounts, and by the supervisor itself
 * once the sandbox is up (TSYNC: all threads).  Refuses what neither needs
 * any more: the mount family, pivot_root, bpf, perf_event_open,
 * userfaultfd, module loading and kexec.
 *
 * Runtime (gb_seccomp_runtime): the workload's filter, installed last
 * before exec.  Adds ptrace, process_vm_*, pidfd_*, io_uring_*,
 * memfd_create, setns, keyctl family, open_by_handle_at, TIOCSTI/TIOCLINUX
 * ioctls; socket() domains other than AF_UNIX/AF_INET/AF_INET6 and
 * SOCK_RAW/SOCK_PACKET types; clone/unshare with CLONE_NEWUSER; clone3
 * (ENOSYS, so libc falls back to clone whose flags can be seen); execveat
 * with AT_EMPTY_PATH; installing further seccomp filters.
 *
 * Both: a syscall made with a non-native architecture (x32, i386 int 0x80
 * on x86_64) kills the process.
 *
 * log: the runtime filter is installed with SECCOMP_FILTER_FLAG_LOG, so
 * each refusal becomes an AUDIT_SECCOMP record (read by landlock_audit.c).
 * Only ask for it while kernel auditing is on: with auditing off the kernel
 * prints the records to its log instead.  clone3's ENOSYS (glibc probes it
 * on every fork) sits in a separate, silent filter.
 *
 * Both need no_new_privs or CAP_SYS_ADMIN; libseccomp sets no_new_privs.
 * Errors are negative errno with text in err[].
 */
#ifndef GB_ENFORCER_SECCOMP_H
#define GB_ENFORCER_SECCOMP_H

#include <stddef.h>

#define GB_SECCOMP_MODE_TEXT "filter: deny-list runtime v1, non-native arch kill"

int gb_seccomp_prelude(int tsync, char *err, size_t errlen);
int gb_seccomp_runtime(int log, char *err, size_t errlen);

#endif
