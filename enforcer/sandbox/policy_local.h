/* enforcer/sandbox/policy_local.h — agent-authored proposals (`glassbox run
 * --policy-local`, OpenShell's policy.local as a file): the agent inside the
 * sandbox writes network_policies entries to
 * <workdir>/.glassbox/policy.local.yaml; the supervisor reads the file
 * (never following a link, regular files of at most 64 KiB with one link,
 * at most 16 entries, no static sections), validates it with the policy
 * loader and records each entry as a CONFIG `validated` event with source
 * "policy.local" and the entry, renamed agent_<key> so that approving it can
 * never replace an operator's entry, as its detail.  The advisor (api/
 * advisor.c) turns those into pending proposals flagged agent-authored.  A
 * file refused (link, too big, not regular, bad YAML, static sections, too
 * many entries) is a CONFIG `refused` event saying why.  Nothing the agent
 * writes changes the running policy: only an approval in the daemon does.
 *
 * The file is looked at on a timer (every 250 ms, gb_policy_local_fd in the
 * supervisor's poll loop) and read only when its inode, size or mtime
 * changed; a content seen before is not recorded again.
 *
 * The same validation serves http://policy.local (the proxy answers it,
 * enforcer/proxy/policy_local_http.h): gb_policy_local_hooks() gives the
 * proxy a propose hook (one entry per request, at most 8 at once and 2 a
 * second after that, a name an entry of the running policy already has with
 * other content refused) and a decision hook that asks the daemon through
 * the function the CLI supplies (gb_policy_local_set_decider).
 *
 * Ownership: the handle borrows ev (it must outlive it) and owns its fds;
 * it must outlive the proxy that was given its hooks.
 */
#ifndef GB_ENFORCER_SANDBOX_POLICY_LOCAL_H
#define GB_ENFORCER_SANDBOX_POLICY_LOCAL_H

#include <stddef.h>

#include "common/buf.h"
#include "enforcer/proxy/policy_local_http.h"
#include "enforcer/sandbox/sandbox_out.h"

#define GB_POLICY_LOCAL_DIR ".glassbox"
#define GB_POLICY_LOCAL_FILE "policy.local.yaml"
#define GB_POLICY_LOCAL_MAX (64 * 1024) /* bytes, as OpenShell's proposal body */
#define GB_POLICY_LOCAL_ENTRIES 16
#define GB_POLICY_LOCAL_SOURCE "policy.local" /* CONFIG source of its events */

struct gb_policy_local;

/* Watch workdir (the host path of the sandbox's workdir).  0 or -errno. */
int gb_policy_local_open(struct gb_policy_local **out, struct gb_sbx_out *ev, const char *workdir);
/* The timer fd to poll (POLLIN), or -1 for NULL. */
int gb_policy_local_fd(const struct gb_policy_local *pl);
/* On the timer: look at the file, record what changed. */
void gb_policy_local_check(struct gb_policy_local *pl);
void gb_policy_local_close(struct gb_policy_local *pl);

/* The daemon's word on an agent proposal (the CLI asks the API): as
 * gb_pl_hooks.decision, with the sandbox's name. */
typedef int (*gb_policy_local_decider)(void *ctx, const char *sandbox, const char *key,
                                       const char *yaml, char *status, size_t sn, char *reason,
                                       size_t rn, long long *id);
void gb_policy_local_set_decider(struct gb_policy_local *pl, gb_policy_local_decider fn,
                                 void *ctx, const char *sandbox);
/* The hooks for the proxy (gb_proxy_opts.policy_local); they live as long
 * as pl. */
const struct gb_pl_hooks *gb_policy_local_hooks(struct gb_policy_local *pl);
/* What the propose hook does, for tests: validate text as one entry,
 * refuse a name the running policy (ev->store, when set) holds with other
 * content (-EEXIST), record it (CONFIG validated; a refusal is CONFIG
 * refused), hand back key, yaml (malloc'd) and sha.  -EAGAIN when too fast. */
int gb_policy_local_propose(struct gb_policy_local *pl, const char *text, size_t len, char *key,
                            size_t keyn, char **yaml, char sha[65], char *err, size_t errlen);

/* The pure parts, for tests. */
/* Read <dirfd>/.glassbox/policy.local.yaml safely into buf (cap bytes,
 * NUL-terminated): 0 and *len, -ENOENT when absent, other -errno with why
 * in err (ELOOP: a symlink, EFBIG: too big, EMLINK: hard-linked, EINVAL:
 * not a regular file or directory). */
int gb_policy_local_read(int dirfd, char *buf, size_t cap, size_t *len, char *err, size_t errlen);
/* Validate text and call fn once per entry with its agent_ key and the
 * one-entry policy file (version + network_policies) to propose.  Returns
 * the number of entries, or -EINVAL with why in err. */
int gb_policy_local_entries(const char *text, size_t len,
                            void (*fn)(void *ctx, const char *key, const char *yaml,
                                       const char *sha256),
                            void *ctx, char *err, size_t errlen);

#endif
