/* enforcer/proxy/identity.h — who is on the other end of an accepted proxy socket.
 *
 * For a connection accepted by the proxy, the client's socket is found with
 * NETLINK_SOCK_DIAG inside the client's network namespace (matching the
 * 4-tuple), its inode is searched in /proc/PID/fd of every process (or, for
 * a sandbox, of its init's descendants only: root_pid — there *every*
 * process is searched, so a socket handed to a sibling over SCM_RIGHTS is
 * seen; on the whole host, the first holder's fork family), and for
 * the owner(s) we read /proc/PID/exe (never argv), the PPid chain, and — for
 * interpreters — the script path.  The executable is SHA-256 hashed through
 * /proc/PID/exe on first use and cached by (dev, inode, size, mtime, ctime);
 * a later different hash for the same path is a TOFU mismatch.
 *
 * Ownership: a gb_identity_ctx is created once per proxy and is thread-safe.
 * gb_identity_lookup() fills a caller-owned gb_ident_buf; the gb_identity in
 * it (record.h) points into that buffer.
 */
#ifndef GB_ENFORCER_IDENTITY_H
#define GB_ENFORCER_IDENTITY_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "common/record.h"

struct gb_identity_ctx;

struct gb_identity_opts {
	const char *proc_root; /* "/proc" unless testing */
	int netns_fd;          /* netns of the clients for sock_diag; -1 = our own */
	bool async_hash;       /* an unknown executable over 8 MiB is hashed by a
	                        * background thread: lookups return with
	                        * hash_pending set instead of blocking */
	int root_pid;          /* > 0: clients are this process and its descendants
	                        * (a sandbox's init): only they are searched for
	                        * the socket, not the whole host.  0 = everyone. */
};
int gb_identity_ctx_new(const struct gb_identity_opts *o, struct gb_identity_ctx **out);
void gb_identity_ctx_free(struct gb_identity_ctx *c);

/* Another process holding the same socket (passed over a unix socket,
 * inherited, kept across an execve): decided on its own, like the primary
 * identity.  Its ancestors are its own chain (same boundary rules). */
#define GB_ID_MAX_OTHERS 8
struct gb_holder {
	int32_t pid;
	uint32_t uid;
	int fdno;              /* the descriptor it held the socket at, or -1 */
	const char *exe;
	uint32_t n_ancestors;
	const char *ancestors[GB_MAX_ANCESTORS];
};

struct gb_ident_buf {
	struct gb_identity id; /* strings point into store[] */
	char store[8192];
	char prev_sha256[65];  /* on GB_ID_HASH_MISMATCH: the first-use hash */
	bool truncated;        /* store[] was full: some string reads "" (records
	                        * made from this identity carry GB_RECF_TRUNCATED) */
	bool hash_pending;     /* async_hash: id.sha256 not known yet (poll) */
	struct stat hash_key;  /* the file being hashed */
	char hash_hex[65];
	uint32_t inode;        /* the client socket's inode */
	int fdno;              /* the descriptor id.pid held it at, or -1 */
	unsigned n_holders;    /* every process found holding it (>= 1 on success) */
	unsigned n_others;     /* those of them kept in others[] (not id) */
	struct gb_holder others[GB_ID_MAX_OTHERS];
};

/* Identify the process owning the client end of a TCP connection whose
 * client address is `peer` and whose server (proxy) address is `local`.
 * Returns 0 (id filled, flags say how confident), or negative errno with
 * id.flags |= GB_ID_LOOKUP_FAILED. */
int gb_identity_lookup(struct gb_identity_ctx *c, const struct sockaddr *peer,
                       const struct sockaddr *local, struct gb_ident_buf *out);

/* gb_identity_lookup with a bounded search: at most 64 descriptors read
 * per process (newest first), and on the host only the latest holders
 * (no walk of every process).  For the accept-time view: a client that
 * opens sockets faster than the proxy accepts them (a thousand half-open
 * heads) must not make every accept cost a walk of its whole table or of
 * the host.  A miss is -ESRCH like any failed lookup. */
int gb_identity_lookup_quick(struct gb_identity_ctx *c, const struct sockaddr *peer,
                             const struct sockaddr *local, struct gb_ident_buf *out);

/* Is the identity found earlier still the whole story?  1 when every holder
 * in prev still holds the socket and runs the same exe, 0 when one exec'd,
 * closed or exited (look again, and decide on both), negative errno.  Costs
 * two readlinks per holder (the descriptor it was found at, its exe; the
 * whole descriptor table only when that descriptor moved): the proxy identifies
 * at accept and re-checks when the request head is complete, so a program
 * that connects and then execs an allowed binary (or hands the socket over
 * and closes its copy) is still seen. */
int gb_identity_recheck(struct gb_identity_ctx *c, const struct gb_ident_buf *prev);

/* With hash_pending: 1 when the hash is known now (id.sha256 set, TOFU
 * applied: GB_ID_HASH_MISMATCH may be set), 0 while it is being computed,
 * -EIO when it failed.  1 at once without hash_pending. */
int gb_identity_hash_poll(struct gb_identity_ctx *c, struct gb_ident_buf *b);

/* Copy an identity buffer (its pointers rebased into the copy's store). */
void gb_ident_copy(struct gb_ident_buf *dst, const struct gb_ident_buf *src);

/* SHA-256 of process pid's executable (read through /proc/PID/exe), with
 * the trust-on-first-use cache: *mismatch set, and the first-use hash in
 * prev_hex, when it changed.  Exposed for tests and for the launcher (PROC
 * launch records). */
int gb_identity_hash_exe(struct gb_identity_ctx *c, int pid, char hex[65], int *mismatch,
                         char prev_hex[65]);

#endif
