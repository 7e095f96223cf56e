/* enforcer/sandbox/privdrop.h — resolve the sandbox identity and drop to it for good.
 *
 * gb_privdrop_resolve() runs in the supervisor (root, before any namespace
 * is made) and turns the policy's `process` section into numbers: the user
 * (default "sandbox", created with useradd when missing), its group and its
 * supplementary groups.  Numeric ids are used as they are; root (0) is
 * refused.  NSS is called here and never in the cloned child.
 *
 * gb_privdrop_apply() runs in the sandbox child, still root: it locks the
 * securebits, sets groups, gid, clears the capability bounding and ambient
 * sets, sets uid, clears whatever capability set is left, and then VERIFIES
 * the result (real/effective/saved uid and gid, the group list, every
 * capability set, the bounding and ambient sets, and that setuid(0) fails).
 * Any mismatch is an error: the caller must not exec (fail closed).
 *
 * gb_privdrop_harden() is the core hardening that follows: RLIMIT_CORE 0
 * (soft and hard, survives exec), PR_SET_DUMPABLE 0 (reset by the kernel at
 * execve, so it only protects the window before exec) and no_new_privs
 * (survives exec and fork; makes setuid/file capabilities inert).
 *
 * Errors are negative errno with a human message in err[] (caller-owned).
 */
#ifndef GB_ENFORCER_PRIVDROP_H
#define GB_ENFORCER_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

#define GB_PRIVDROP_MAX_GROUPS 64
#define GB_SANDBOX_USER "sandbox"

struct gb_ident {
	uid_t uid;
	gid_t gid;
	size_t n_groups;
	gid_t groups[GB_PRIVDROP_MAX_GROUPS];
	char user[64];     /* name, or the number as text */
	char home[256];    /* passwd home, or "/" */
	int created;       /* 1 when resolve created the user */
};

/* user/group as written in the policy (NULL = "sandbox" / user's group). */
int gb_privdrop_resolve(const char *user, const char *group, struct gb_ident *out,
                        char *err, size_t errlen);
int gb_privdrop_apply(const struct gb_ident *id, char *err, size_t errlen);
int gb_privdrop_harden(char *err, size_t errlen);

/* Verification alone (also used by tests): 0 when the calling process runs
 * as exactly id with no capability in any set. */
int gb_privdrop_verify(const struct gb_ident *id, char *err, size_t errlen);

#endif
