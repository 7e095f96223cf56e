/* api/advisor.h — the policy advisor inside `glassbox serve`: denied NET
 * and HTTP decisions (fed by exporter/serve_hook.h as serve journals them)
 * are aggregated per (sandbox, host, port[, method]) into proposals — the
 * narrowest rule that would have allowed them — kept with their risk
 * findings, review token, status and history in a SQLite ledger
 * (<root>/var/lib/glassbox/advisor.db) that survives restarts.  Approval
 * applies the proposal through the supervisor's control socket, the path
 * PATCH takes.  docs/advisor.md has the whole story.
 *
 * Threads: gb_advisor_observe only copies into a bounded queue (it runs on
 * serve's drain threads); one advisor thread drains the queue into the
 * ledger in a transaction per batch; the review calls run on API threads.
 * One mutex guards the database handle.
 *
 * Ownership: gb_advisor_open copies its strings; every json_t returned is
 * the caller's.
 */
#ifndef GB_API_ADVISOR_H
#define GB_API_ADVISOR_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct gb_record;
struct gb_advisor;

struct gb_advisor_opts {
	const char *db_path; /* required */
	const char *root;    /* --root for the control sockets, or NULL */
	int auto_approve;    /* approve proposals without risk findings at once */
	int flush_ms;        /* the ledger's batching window: 0 = 100 ms, < 0 = none
	                      * (a transaction per wake-up, as before; bench_advisor's
	                      * baseline) */
};

int gb_advisor_open(const struct gb_advisor_opts *o, struct gb_advisor **out, char *err,
                    size_t errlen);
/* Stops the thread (the queue is drained first) and closes the ledger. */
void gb_advisor_close(struct gb_advisor *a);

/* The serve hook (gb_serve_hook_fn): queue rec when it is a denial. */
void gb_advisor_observe(void *a, const char *sandbox, const struct gb_record *rec);
/* Wait until everything queued so far is in the ledger (tests, export). */
void gb_advisor_sync(struct gb_advisor *a);
/* Denials dropped because the queue was full, since open. */
uint64_t gb_advisor_dropped(struct gb_advisor *a);

/* Review.  Each returns an HTTP status and *out (an object; on errors
 * {"error","detail"} and, for a stale token, the refreshed "proposal"). */
unsigned gb_advisor_list(struct gb_advisor *a, const char *sandbox, const char *status,
                         json_t **out);
unsigned gb_advisor_show(struct gb_advisor *a, const char *sandbox, int64_t id, json_t **out);
unsigned gb_advisor_approve(struct gb_advisor *a, const char *sandbox, int64_t id,
                            const char *token, const char *who, json_t **out);
unsigned gb_advisor_reject(struct gb_advisor *a, const char *sandbox, int64_t id,
                           const char *reason, const char *who, json_t **out);
unsigned gb_advisor_history(struct gb_advisor *a, const char *sandbox, json_t **out);
/* The minimal policy covering every denial seen for sandbox (learn mode's
 * export): the network_policies section as YAML, merged per entry. */
unsigned gb_advisor_export(struct gb_advisor *a, const char *sandbox, json_t **out);

#endif
