/* enforcer/proxy/identity.h — who is on the other end of an accepted proxy socket.
 *
 * For a connection accepted by the proxy, the client's socket is found with
 * NETLINK_SOCK_DIAG inside the client's network namespace (matching the
 * 4-tuple), its inode is searched in /proc/PID/fd of every process (or, for
 * a sandbox, of its init's descendants only: root_pid), and for
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

#include <sys/socket.h>
#include <stdbool.h>

#include "common/record.h"

struct gb_identity_ctx;

struct gb_identity_opts {
	const char *proc_root; /* "/proc" unless testing */
	int netns_fd;          /* netns of the clients for sock_diag; -1 = our own */
	int root_pid;          /* > 0: clients are this process and its descendants
	                        * (a sandbox's init): only they are searched for
	                        * the socket, not the whole host.  0 = everyone. */
};
int gb_identity_ctx_new(const struct gb_identity_opts *o, struct gb_identity_ctx **out);
void gb_identity_ctx_free(struct gb_identity_ctx *c);

struct gb_ident_buf {
	struct gb_identity id; /* strings point into store[] */
	char store[8192];
	char prev_sha256[65];  /* on GB_ID_HASH_MISMATCH: the first-use hash */
	bool truncated;        /* store[] was full: some string reads "" (records
	                        * made from this identity carry GB_RECF_TRUNCATED) */
};

/* Identify the process owning the client end of a TCP connection whose
 * client address is `peer` and whose server (proxy) address is `local`.
 * Returns 0 (id filled, flags say how confident), or negative errno with
 * id.flags |= GB_ID_LOOKUP_FAILED. */
int gb_identity_lookup(struct gb_identity_ctx *c, const struct sockaddr *peer,
                       const struct sockaddr *local, struct gb_ident_buf *out);

/* SHA-256 of process pid's executable (read through /proc/PID/exe), with
 * the trust-on-first-use cache: *mismatch set, and the first-use hash in
 * prev_hex, when it changed.  Exposed for tests and for the launcher (PROC
 * launch records). */
int gb_identity_hash_exe(struct gb_identity_ctx *c, int pid, char hex[65], int *mismatch,
                         char prev_hex[65]);

#endif
