/* cli/run_policy_local.h — `glassbox run --policy-local`: how the sandbox's
 * proxy learns the daemon's decision on an agent proposal made at
 * http://policy.local.  The supervisor (enforcer/sandbox) cannot link the
 * API client, so the CLI hands it this function
 * (gb_supervisor_opts.policy_local_decision).
 *
 * Ownership: ctx is the --root string (or NULL), borrowed.
 */
#ifndef GB_CLI_RUN_POLICY_LOCAL_H
#define GB_CLI_RUN_POLICY_LOCAL_H

#include <stddef.h>

/* GET /v1/sandboxes/SANDBOX/advisor/suggestions and find the newest
 * agent-authored proposal of entry key with exactly this yaml: 1 with its
 * status, reason and id; 0 when the daemon has none (not journaled yet);
 * negative errno when no daemon answers or the answer does not parse. */
int gb_run_pl_decision(void *ctx, const char *sandbox, const char *key, const char *yaml,
                       char *status, size_t sn, char *reason, size_t rn, long long *id);

#endif
