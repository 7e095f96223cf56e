/* enforcer/sandbox/statedir.h — a sandbox's runtime directory
 * <root>/run/glassbox/sandboxes/NAME and the claim on its name.
 *
 * The supervisor holds an exclusive flock on NAME/supervisor.pid for its
 * whole life (the descriptor is close-on-exec and closed in the sandbox
 * child), so "is the sandbox alive" is "is the lock held" — no pid reuse
 * guesswork.  A directory whose lock can be taken belongs to a supervisor
 * that died (kill -9, crash): gb_statedir_claim() removes its leftovers,
 * says so in *stale_pid, and takes the name over; its ring is not removed but
 * kept for glassbox serve (gb_statedir_keep_ring), which journals what the
 * dead supervisor's sandbox recorded.
 *
 * Ownership: struct gb_statedir is the caller's; gb_statedir_release()
 * removes the directory and drops the lock.
 */
#ifndef GB_ENFORCER_STATEDIR_H
#define GB_ENFORCER_STATEDIR_H

#include <stddef.h>
#include <sys/types.h>

#include "common/paths.h"

struct gb_statedir {
	char path[GB_PATH_MAX]; /* gb_path_sandbox(root, name) */
	int lock_fd;
};

/* root may be NULL ("/"); the directory is gb_path_sandbox(root, name).  Returns 0, -EBUSY when a live supervisor holds
 * the name (*stale_pid = its pid), other -errno.  *stale_pid > 0 on success
 * means stale state of that dead supervisor was cleaned. */
int gb_statedir_claim(const char *root, const char *name, struct gb_statedir *sd,
                      pid_t *stale_pid);
void gb_statedir_release(struct gb_statedir *sd);

/* Move FILE (a ring) out of the directory to
 * <root>/run/glassbox/leftover/NAME@TAG.ring so that removing the directory
 * or reusing the name cannot delete records nobody has drained yet.
 * Returns 0 (dst holds the new path), -ENOENT when there is no such file,
 * other -errno. */
int gb_statedir_keep_ring(const struct gb_statedir *sd, const char *file, const char *tag,
                          char *dst, size_t len);

/* path of a file in the directory into buf; -ENAMETOOLONG when it does not fit */
int gb_statedir_file(const struct gb_statedir *sd, const char *file, char *buf, size_t len);

#endif
