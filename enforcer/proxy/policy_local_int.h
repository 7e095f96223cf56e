/* enforcer/proxy/policy_local_int.h — private to the proxy part: the state
 * behind http://policy.local (policy_local_state.c) and the connection's
 * thread body (policy_local_serve.c).
 *
 * One struct pl_state per proxy, made by gb_proxy_new when
 * gb_proxy_opts.policy_local is set: the recent denials (a ring of
 * GB_PL_DENIALS, fed from proxy_emit) and the proposals the agent made
 * through this proxy (GB_PL_PROPOSALS, the oldest forgotten first), both
 * behind one mutex (short sections: copies in and out).
 *
 * Ownership: the proxy owns its pl_state (pl_state_free in gb_proxy_free).
 */
#ifndef GB_ENFORCER_PROXY_POLICY_LOCAL_INT_H
#define GB_ENFORCER_PROXY_POLICY_LOCAL_INT_H

#include <jansson.h>
#include <stdint.h>

#include "common/record.h"
#include "enforcer/proxy/l7.h"
#include "enforcer/proxy/policy_local_http.h"

struct pl_state;

/* A proposal as remembered here. */
struct pl_prop {
	char id[17];          /* first 16 hex digits of the entry's sha256 */
	char key[300];        /* agent_<ruleName> */
	char sha[65];
	char *yaml;           /* the one-entry file the supervisor recorded (owned) */
	uint64_t created_ns;  /* CLOCK_REALTIME */
};

struct pl_state *pl_state_new(void);
void pl_state_free(struct pl_state *s);

/* A record leaving the proxy: a denial (NET open or HTTP) is kept. */
void pl_note(struct pl_state *s, const struct gb_record *r);
/* The newest `last` denials (newest first) as a JSON array. */
json_t *pl_denials_json(struct pl_state *s, unsigned last);

/* Remember a proposal (yaml is copied); the same id again refreshes it. */
void pl_prop_add(struct pl_state *s, const char *id, const char *key, const char *sha,
                 const char *yaml);
/* Copy proposal id into out (out->yaml malloc'd: pl_prop_clear).  0 or -ENOENT. */
int pl_prop_get(struct pl_state *s, const char *id, struct pl_prop *out);
void pl_prop_clear(struct pl_prop *p);

/* The thread body for a connection to policy.local (l7_start_with). */
void policy_local_conn(struct l7 *l);

#endif
