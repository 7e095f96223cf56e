/* enforcer/proxy/proc_facts.h — what the identity lookup reads about a process
 * (/proc/PID/status fields and the exe link), with a small cache whose
 * entries are pinned by kept /proc/PID directories.
 *
 * Reading /proc is the identity lookup's whole cost (an open+read of
 * status is ~10 µs on a VM); the same ancestors (the agent, its shells)
 * come back connection after connection.  An entry keeps the /proc/PID
 * directory it was read through open: procfs ties that directory to the
 * process (its struct pid), not to the number, so after the process
 * exits — and for whoever gets its number next — every name under it
 * reads ENOENT.  An entry is used only while its exe link, read through
 * that directory now, reads the same: one readlinkat says the very
 * process it was read from is alive (pid reuse cannot alias it; a zombie
 * has no exe) and has not exec'd another binary.  PPid and the namespace fields
 * do not change while a process and its parent live — but when the parent
 * exits the child is reparented, and the number its cached PPid names may
 * soon be another process's: so a walk up the chain asks
 * gb_proc_parent_is for each step.  uid changes only by a set-id execve
 * (which, of the same binary, the cache does not see — the one staleness
 * it accepts).
 *
 * Ownership: the cache owns its directory descriptors and strings; it is
 * thread-safe. */
#ifndef GB_ENFORCER_PROC_FACTS_H
#define GB_ENFORCER_PROC_FACTS_H

#include <stddef.h>
#include <stdint.h>

struct gb_pstatus {
	int ppid;
	int nspid;     /* pid in the innermost pid namespace: 1 = its init */
	int depth;     /* number of pid namespaces it is visible in */
	uint32_t uid;  /* real uid */
};

/* /proc/PID/status, read now.  0 or negative errno (-ESRCH: gone, or
 * exited and not yet reaped). */
int gb_proc_status(const char *proc, int pid, struct gb_pstatus *st);

struct gb_proc_cache;

/* slots == 0, or a proc root other than "/proc", gives a cache that
 * always reads afresh (only the real /proc's directories pin processes). */
int gb_proc_cache_new(const char *proc, size_t slots, struct gb_proc_cache **out);
void gb_proc_cache_free(struct gb_proc_cache *pc);

/* Status and raw exe link target of pid ("" when it has none: a kernel
 * thread).  *seen_ns (may be NULL): when the cache first read this very
 * process (CLOCK_MONOTONIC; it was alive then), or 0 when uncached.
 * 0 or negative errno (-ESRCH: gone). */
int gb_proc_facts(struct gb_proc_cache *pc, int pid, struct gb_pstatus *st, char *exe, size_t len,
                  uint64_t *seen_ns);

/* Is parent (read by gb_proc_facts just now, parent_seen) the parent of
 * child (child_seen) now?  A child's cached PPid is true while the parent
 * it named lives; once that parent exits the child is reparented and the
 * number can be given to anyone — an ancestor granted by policy, say.
 * 1: yes — the link was confirmed earlier between these very two entries
 * (both still alive, so unchanged: no system call), or the child's status,
 * read now through its pin, still names parent (then the pinned parent,
 * alive when gb_proc_facts checked it after the child was known to exist,
 * is the one holding that number: the link is recorded).  0: the child's
 * parent is now *ppid (the entry is updated; walk on from there).
 * -ESRCH: the child is gone.  -ESTALE: the child's entry was evicted in
 * between, so nothing can vouch for the link (treat the chain as cut).
 * Uncached (either seen 0): 1 — its status was read fresh this walk. */
int gb_proc_parent_is(struct gb_proc_cache *pc, int child, uint64_t child_seen, int parent,
                      uint64_t parent_seen, int *ppid);

/* Socket memo, for the search of a holder's ancestors.  A socket reaches
 * an ancestor's descriptor table together with the holder's only by
 * fork, so it existed before the holder started; an ancestor whose
 * sockets were all listed after the holder was already alive, without
 * this one, does not hold it (short of receiving it over a unix socket
 * later — the case the fork-family search does not cover anyway).
 *
 * gb_proc_sockets_note: pid's socket inodes, listed completely starting
 * at t_ns (n may exceed GB_PROC_MEMO_SOCKETS: then nothing is kept).
 * gb_proc_sockets_lacks: 1 when pid's latest listing began at or after
 * seen_ns and did not contain inode; 0 when unknown (search it).
 * pid_seen_ns: pid's own seen_ns from the gb_proc_facts call just made —
 * the entry of that very process is used without a second liveness
 * check (gb_proc_facts made it); 0 reads its exe link again. */
#define GB_PROC_MEMO_SOCKETS 16 /* a table with more sockets is not memoised */
void gb_proc_sockets_note(struct gb_proc_cache *pc, int pid, const uint32_t *inodes, size_t n,
                          uint64_t t_ns);
int gb_proc_sockets_lacks(struct gb_proc_cache *pc, int pid, uint64_t pid_seen_ns, uint32_t inode,
                          uint64_t seen_ns);

#endif
