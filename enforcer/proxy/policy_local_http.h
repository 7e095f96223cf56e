/* enforcer/proxy/policy_local_http.h — `http://policy.local`, answered by the
 * proxy itself (as inference.local is), when the sandbox runs with
 * `glassbox run --policy-local`.  OpenShell's routes:
 *
 *   GET  /v1/policy/current[?format=json]    the running network policy (YAML, or JSON)
 *   GET  /v1/denials[?last=N]                this sandbox's recent denials (10, at most 100),
 *                                            query values redacted
 *   POST /v1/proposals                       one entry for review (≤ 64 KiB): JSON
 *                                            {intent_summary, operations:[{addRule:{ruleName,
 *                                            rule}}]} or a policy file (YAML) of one entry
 *   GET  /v1/proposals/ID                    its status
 *   GET  /v1/proposals/ID/wait[?timeout=S|?wait=30s]   long-poll (default 60 s, 1..300)
 *                                            until decided and, when approved, in force
 *
 * Plain HTTP through the proxy, or `CONNECT policy.local:443` terminated
 * with the sandbox CA.  Nothing here changes the running policy: a
 * proposal is validated and recorded by the supervisor (hooks.propose: the
 * same validation and CONFIG `validated` record as the policy.local file),
 * reviewed in the daemon, and applied only by an approval.  The sandbox
 * has no other channel to the daemon: the proxy, on the host side, asks it
 * for a decision through hooks.decision.  With no hooks the name is not
 * special: the policy decides about it as about any host.
 *
 * Ownership: the hooks are the supervisor's and outlive the proxy.
 */
#ifndef GB_ENFORCER_PROXY_POLICY_LOCAL_HTTP_H
#define GB_ENFORCER_PROXY_POLICY_LOCAL_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define GB_POLICY_LOCAL_HOST "policy.local"
#define GB_PL_BODY_MAX (64 * 1024)  /* a proposal's body, as OpenShell's */
#define GB_PL_DENIALS 100           /* recent denials kept (and listed at most) */
#define GB_PL_PROPOSALS 64          /* proposals remembered for status and wait */
#define GB_PL_WAIT_MAX_S 300

/* What a 403 (L4 and L7) tells the agent when policy.local is on. */
#define PL_STEP_POLICY "inspect the current policy: GET http://policy.local/v1/policy/current"
#define PL_STEP_DENIALS "inspect recent denials: GET http://policy.local/v1/denials?last=10"
#define PL_STEP_PROPOSE                                                                      \
	"propose the narrowest rule for review: POST http://policy.local/v1/proposals "         \
	"{\"intent_summary\": \"...\", \"operations\": [{\"addRule\": {\"ruleName\": \"...\", " \
	"\"rule\": {\"endpoints\": [...], \"binaries\": [...]}}}]}, then GET "                  \
	"/v1/proposals/ID/wait?timeout=60"
#define PL_GUIDANCE                                                                         \
	"an operator reviews what you propose; wait for the decision, then retry the request"

struct gb_pl_hooks {
	void *ctx;
	/* Validate text (a policy file: network_policies only, exactly one
	 * entry) and record it for review.  0 with the entry's agent_ key, its
	 * one-entry policy file (*yaml, malloc'd) and sha256 (entry hash);
	 * -EINVAL with why in err (400), -EAGAIN when proposals come too fast
	 * (429). */
	int (*propose)(void *ctx, const char *text, size_t len, char *key, size_t keyn, char **yaml,
	               char sha[65], char *err, size_t errlen);
	/* The daemon's word on the agent's proposal (key + the yaml propose
	 * gave): 1 with status ("pending", "approved", "rejected",
	 * "superseded"), reason and the daemon's proposal id; 0 when the daemon
	 * has not seen it yet; negative errno when no daemon answers.  NULL =
	 * no daemon: approved is known only once the entry is in force. */
	int (*decision)(void *ctx, const char *key, const char *yaml, char *status, size_t sn,
	                char *reason, size_t rn, long long *id);
};

/* "policy.local" (any case, one trailing dot). */
bool gb_policy_local_host(const char *host);

/* The pure part, for tests: a POST body into the policy file to validate.
 * ctype: the Content-Type value (NULL or "" = guess: '{' starts JSON).
 * JSON must be OpenShell's shape with exactly one addRule; it becomes
 * {"version":1,"network_policies":{ruleName: rule}} (JSON is YAML).
 * 0 with out, or -EINVAL with why in err. */
struct gb_buf;
int gb_pl_body_policy(const char *body, size_t n, const char *ctype, struct gb_buf *out,
                      char *err, size_t errlen);

/* Recent-denial redaction, for tests: path + query with every value
 * replaced by "***" (keys kept) into out. */
void gb_pl_redact(const char *path, const char *query, char *out, size_t n);

#endif
