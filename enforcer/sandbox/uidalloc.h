/* enforcer/sandbox/uidalloc.h — each live sandbox its own uid and gid, and
 * the user namespace that maps its workdir's owner to it.
 *
 * gb_uid_claim() picks an id from [first, first+count) (default: limits.h,
 * a range no account uses) for the default `sandbox` user: the id starts at
 * a hash of the sandbox name and moves on past ids that another live
 * sandbox holds or that /etc/passwd or /etc/group use (the local files: the
 * range is meant to be one no account of any NSS source uses).  "Held" is an
 * exclusive flock on /run/glassbox/uids/ID for the supervisor's life — a
 * host-wide directory, never under --root, because uids are a host resource
 * shared by every --root.  The same number is the uid and the gid.
 *
 * gb_uid_idmap_userns() makes a user namespace whose mapping, applied to a
 * mount (MOUNT_ATTR_IDMAP), shows files owned by disk_uid/disk_gid as
 * owned by the sandbox's uid/gid and stores the sandbox's writes as
 * disk_uid/disk_gid: the workdir's files stay its owner's.  Returns the
 * namespace fd (O_CLOEXEC) or negative errno.
 *
 * Ownership: the claim holds lock_fd until gb_uid_release(), which removes
 * the lock file.  The userns fd is the caller's to close.
 */
#ifndef GB_ENFORCER_SANDBOX_UIDALLOC_H
#define GB_ENFORCER_SANDBOX_UIDALLOC_H

#include <stddef.h>
#include <sys/types.h>

struct gb_uid_claim {
	uid_t id;
	int lock_fd;
	char path[128];
};

int gb_uid_claim(const char *name, uid_t first, uid_t count, struct gb_uid_claim *out,
                 char *err, size_t errlen);
void gb_uid_release(struct gb_uid_claim *c);

int gb_uid_idmap_userns(uid_t disk_uid, gid_t disk_gid, uid_t uid, gid_t gid);

#endif
