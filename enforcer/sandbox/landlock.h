/* enforcer/sandbox/landlock.h — filesystem confinement with Landlock (raw syscalls).
 *
 * Two phases, both in the sandbox child:
 *   gb_landlock_prepare()  as root, after the fresh /proc is mounted (a rule
 *                          binds to the inode opened here, so /proc must be
 *                          the sandbox's own): probe the ABI, handle every
 *                          filesystem right that ABI knows, open each policy
 *                          path O_PATH and add a rule (read_only: execute,
 *                          read_file, read_dir; read_write: all handled; files
 *                          get only the file rights).  Scopes (ABI >= 6) are
 *                          handled too: abstract unix sockets and signals
 *                          stay inside the sandbox.
 *   gb_landlock_enforce()  after the privilege drop and no_new_privs:
 *                          landlock_restrict_self(), asking (ABI >= 7) that
 *                          denials after exec are logged to the kernel audit
 *                          stream.
 *
 * Compatibility: best_effort reports every missing feature or path through
 * the callback (as a FINDING) and continues — without Landlock at all when
 * the kernel has none; hard_requirement turns each of those into an error.
 * Missing features that never abort: ioctl_dev (5), scopes (6), audit (7).
 * hard_requirement needs ABI >= 3 (truncate is handled; before that a
 * read-only file could still be truncated).
 *
 * Network rights (ABI 4) are deliberately not handled: the sandbox has its
 * own network namespace with only loopback, and Landlock's TCP rules cannot
 * tell loopback from anything else (local servers must keep working).
 *
 * Ownership: the plan owns ruleset_fd until gb_landlock_enforce() or
 * gb_landlock_plan_close().
 */
#ifndef GB_ENFORCER_LANDLOCK_H
#define GB_ENFORCER_LANDLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GB_LANDLOCK_ABI_WANTED 7

struct gb_landlock_spec {
	const char *const *read_only;
	size_t n_read_only;
	const char *const *read_write;
	size_t n_read_write;
	bool hard; /* landlock.compatibility: hard_requirement */
};

/* Severity uses record.h gb_severity values; kind gb_finding_kind. */
typedef void (*gb_landlock_report_fn)(void *ctx, int kind, int severity, const char *subject,
                                      const char *detail);

struct gb_landlock_plan {
	int abi;              /* kernel ABI, 0 when unavailable */
	int ruleset_fd;       /* -1 when Landlock will not be applied */
	uint64_t handled_fs;
	uint64_t scoped;
	unsigned restrict_flags;
	size_t rules, skipped;
};

/* Kernel ABI (>= 1), or negative errno: -ENOSYS not built in, -EOPNOTSUPP
 * disabled at boot, -EPERM blocked (e.g. by a container's seccomp). */
int gb_landlock_abi(void);

int gb_landlock_prepare(const struct gb_landlock_spec *spec, gb_landlock_report_fn report,
                        void *ctx, struct gb_landlock_plan *plan, char *err, size_t errlen);
/* 0 (also when the plan is inactive), or negative errno with err set. */
int gb_landlock_enforce(struct gb_landlock_plan *plan, char *err, size_t errlen);
void gb_landlock_plan_close(struct gb_landlock_plan *plan);

/* "execute,write_file,..." for the handled rights and scopes. */
void gb_landlock_rights_text(uint64_t fs, uint64_t scoped, char *buf, size_t len);

#endif
