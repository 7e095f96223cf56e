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
 * do not change while a process and its parent live; uid changes only by
 * a set-id execve (which, of the same binary, the cache does not see —
 * the one staleness it accepts).
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
