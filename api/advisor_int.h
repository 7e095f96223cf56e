/* api/advisor_int.h — private to the advisor's files: the handle, the
 * queued denial, the ledger's statements.  advisor.c: queue, thread,
 * aggregation; advisor_ledger.c: schema, rows as JSON, history;
 * advisor_review.c: list/show/approve/reject/export against the running
 * policy; advisor_rule.c: the pure rule builder. */
#ifndef GB_API_ADVISOR_INT_H
#define GB_API_ADVISOR_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include "api/sqlite_lazy.h" /* the sqlite3_ functions, loaded on first open */
#include <stdatomic.h>
#include <stdbool.h>

#include "api/advisor.h"

#define ADV_QUEUE 8192    /* denials waiting for the thread, at most */
#define ADV_SAMPLES 5     /* event uids kept per proposal */
#define ADV_MAX_PATHS 64  /* distinct denied paths kept per L7 proposal */
#define ADV_AGENT_QUEUE 32 /* agent proposals (policy.local) waiting, at most */
#define ADV_AGENT_GKEY "agent|" /* gkey prefix of agent-authored proposals */

/* A denial as the thread handles it: the strings point into the queue
 * buffer it was taken from (struct adv_qbuf), valid for that batch. */
struct adv_denial {
	const char *sandbox, *binary, *host, *ip;
	const char *method; /* "" for an L4 denial */
	const char *path;
	unsigned port;
	uint64_t ts_ns, seq;
	/* coalesced in the thread's batch (advisor.c): how many identical
	 * denials this one stands for, and the sequences of up to
	 * ADV_SAMPLES - 1 of the others (their sample uids) */
	uint64_t first_ns; /* the earliest of them (ts_ns: the latest) */
	uint32_t count, n_more;
	uint64_t more_seq[ADV_SAMPLES - 1];
};

/* The queue: denials packed one after another (a header, then the six
 * strings with their NULs), so the drain thread's copy touches the few
 * cache lines the text needs, not a fixed 1.5 KiB slot per denial.  The
 * thread swaps the filled buffer with its empty one under q_mu (O(1)) and
 * reads it outside the lock. */
#define ADV_QBYTES (4u << 20) /* bytes per buffer, at most (≥ ADV_QUEUE typical denials) */
struct adv_qbuf {
	unsigned char *data; /* ADV_QBYTES */
	size_t len, n;       /* bytes used, denials held */
};

/* The groups (sandbox, gkey) the ledger holds, as 64-bit hashes: a
 * denial whose group is not in the set is a new group, so the thread
 * skips the SELECT for its predecessor.  Complete since open (loaded from
 * the ledger, added to on every insert); a hash present may be a
 * collision, which only costs the SELECT.  Past ADV_KNOWN_MAX groups the
 * set stops being consulted (every denial SELECTs, as before). */
#define ADV_KNOWN_MAX (1u << 18)
struct adv_known {
	uint64_t *slot; /* 2 * ADV_KNOWN_MAX, 0 = empty */
	size_t n;
	bool full;
};
uint64_t adv_group_hash(const char *sandbox, const char *gkey);
void adv_known_add(struct gb_advisor *a, const char *sandbox, const char *gkey);
/* 0 only when the group is certainly not in the ledger */
int adv_known_maybe(const struct gb_advisor *a, const char *sandbox, const char *gkey);

/* An agent's proposed entry (a CONFIG validated record from policy.local). */
struct adv_agent {
	char sandbox[64];
	char *yaml; /* owned: the one-entry policy file the supervisor validated */
	uint64_t ts_ns, seq;
};

struct gb_advisor {
	char root[4096];
	int has_root, auto_approve;
	int flush_ms; /* the batching window, 0 = none */
	sqlite3 *db;
	pthread_mutex_t db_mu; /* the handle and every statement */
	pthread_mutex_t q_mu;
	pthread_cond_t q_cv, done_cv;
	struct adv_qbuf qb; /* the one the hook fills */
	struct adv_known known; /* advisor thread only (db_mu held) */
	struct adv_agent aq[ADV_AGENT_QUEUE];
	size_t aq_len;
	uint64_t q_in, q_out; /* queued / written, for gb_advisor_sync */
	atomic_uint_fast64_t dropped;
	bool stop;
	bool flush; /* gb_advisor_sync: end the batching window now */
	pthread_t th;
	sqlite3_stmt *stmts[8]; /* adv_stmt's cache, by slot */
};

/* The hot statements, prepared once (db_mu held). */
enum adv_slot { ADV_ST_FIND, ADV_ST_INSERT, ADV_ST_BUMP, ADV_ST_HIST, ADV_ST_SUPERSEDE,
	       ADV_ST_BUMP_REJECTED };
/* The cached statement for slot (reset, bindings cleared), or NULL. */
sqlite3_stmt *adv_stmt(struct gb_advisor *a, enum adv_slot slot, const char *sql);
void adv_stmts_free(struct gb_advisor *a);

/* advisor_ledger.c (db_mu held by the caller) */
int adv_ledger_open(struct gb_advisor *a, const char *path, char *err, size_t errlen);
void adv_history(struct gb_advisor *a, int64_t id, const char *sandbox, const char *action,
                 const char *actor, const char *detail);
/* A proposal row as JSON (without review fields), or NULL when no such id
 * in sandbox. */
json_t *adv_row(struct gb_advisor *a, const char *sandbox, int64_t id);
int64_t adv_now_ns(void);

/* advisor_agent.c (db_mu held): an agent proposal into the ledger; returns
 * the id of a new pending proposal or 0.  Frees nothing. */
int64_t adv_agent_aggregate(struct gb_advisor *a, const struct adv_agent *ag);
/* The findings, rationale, host/port view of an agent proposal's yaml
 * against the running policy (running_yaml may be NULL). */
json_t *adv_agent_findings(const char *yaml, const char *running_yaml);

/* advisor_review.c: apply when a new pending proposal has no finding. */
void adv_auto_review(struct gb_advisor *a, const char *sandbox, int64_t id);

#endif
