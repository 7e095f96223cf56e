/* api/advisor.c — see advisor.h: the denial queue, the advisor thread and
 * the aggregation of denials into proposals. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/advisor_int.h"
#include "api/advisor_rule.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/record.h"

#define BATCH ADV_QUEUE /* denials per transaction, at most: one swapped buffer */
#define FLUSH_MS 100 /* by default, the ledger is written at most this often: one transaction
                      * for what arrived meanwhile (each commit writes every
                      * B-tree page it touched to the WAL, so a commit per few
                      * denials cost more than the rows themselves) */

/* Which denials a rule can fix.  An SSRF refusal, a failed lookup or
 * upstream, a changed binary, a deny rule (which wins over any allow) are
 * not missing grants. */
static int fixable(int reason)
{
	return reason == GB_R_NO_POLICY || reason == GB_R_NO_ENDPOINT ||
	       reason == GB_R_BINARY_NOT_ALLOWED || reason == GB_R_L7_NOT_PERMITTED;
}

static void cpy(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s ? s : "");
}

/* A queued denial's header in struct adv_qbuf; its strings follow, each
 * with its NUL, in the order of QF_*; the next header starts 8-aligned. */
struct adv_qrec {
	uint64_t ts_ns, seq;
	uint32_t port;
	uint16_t len[6];
};
enum { QF_SANDBOX, QF_BINARY, QF_HOST, QF_IP, QF_METHOD, QF_PATH, QF_N };
/* each string's bound (the bytes kept, as the fixed slots kept before) */
static const uint16_t qf_max[QF_N] = { 63, 511, 255, 63, 15, 511 };

/* An entry the agent proposed through policy.local, validated by the
 * supervisor (enforcer/sandbox/policy_local.h): queued for the thread. */
static void observe_agent(struct gb_advisor *a, const char *sandbox, const struct gb_record *rec)
{
	const struct gb_config *c = &rec->u.config;
	if (c->action != GB_CFG_VALIDATED || !c->source || strcmp(c->source, "policy.local") ||
	    !c->detail || !*c->detail)
		return;
	char *y = strdup(c->detail);
	pthread_mutex_lock(&a->q_mu);
	if (!y || a->aq_len == ADV_AGENT_QUEUE) {
		pthread_mutex_unlock(&a->q_mu);
		free(y);
		atomic_fetch_add(&a->dropped, 1);
		return;
	}
	struct adv_agent *ag = &a->aq[a->aq_len++];
	cpy(ag->sandbox, sizeof ag->sandbox, sandbox);
	ag->yaml = y;
	ag->ts_ns = rec->ts_ns;
	ag->seq = rec->seq;
	a->q_in++;
	pthread_cond_signal(&a->q_cv);
	pthread_mutex_unlock(&a->q_mu);
}

void gb_advisor_observe(void *ctx, const char *sandbox, const struct gb_record *rec)
{
	struct gb_advisor *a = ctx;
	const struct gb_identity *id;
	const struct gb_endpoint *dst;
	const char *method = "", *path = "";
	int reason;
	if (rec->type == GB_REC_NET_DECISION) {
		const struct gb_net_decision *n = &rec->u.net;
		if (n->phase != GB_NET_OPEN)
			return;
		id = &n->id, dst = &n->dst, reason = n->reason;
	} else if (rec->type == GB_REC_HTTP_DECISION) {
		const struct gb_http_decision *h = &rec->u.http;
		/* A plain-HTTP request refused before any L7 rule (no endpoint,
		 * binary) also has its NET record: that one is the L4 denial. */
		if (h->reason != GB_R_L7_NOT_PERMITTED)
			return;
		id = &h->id, dst = &h->dst, reason = h->reason;
		method = h->method, path = h->path;
	} else if (rec->type == GB_REC_CONFIG) {
		observe_agent(a, sandbox, rec);
		return;
	} else {
		return;
	}
	/* A denial, or in audit mode an allow that would have been one.  The
	 * destinations never proposed (gb_adv_never_propose: two inet_pton and
	 * the metadata names) are sorted out by the advisor thread, not here on
	 * the drain thread's path. */
	if (!fixable(reason) || !id->exe || !*id->exe || !dst->port || !dst->host || !*dst->host)
		return;
	const char *f[QF_N] = { sandbox, id->exe, dst->host, dst->ip, method, path };
	struct adv_qrec h = { .ts_ns = rec->ts_ns, .seq = rec->seq, .port = dst->port };
	size_t need = sizeof h;
	for (int k = 0; k < QF_N; k++) {
		h.len[k] = (uint16_t)(f[k] ? strnlen(f[k], qf_max[k]) : 0);
		need += h.len[k] + 1u;
	}
	need = (need + 7u) & ~(size_t)7u;
	pthread_mutex_lock(&a->q_mu);
	struct adv_qbuf *qb = &a->qb;
	if (qb->n == ADV_QUEUE || qb->len + need > ADV_QBYTES) {
		pthread_mutex_unlock(&a->q_mu);
		atomic_fetch_add(&a->dropped, 1);
		return;
	}
	unsigned char *p = qb->data + qb->len;
	memcpy(p, &h, sizeof h);
	p += sizeof h;
	for (int k = 0; k < QF_N; k++) {
		if (h.len[k])
			memcpy(p, f[k], h.len[k]);
		p[h.len[k]] = 0;
		p += h.len[k] + 1u;
	}
	qb->len += need;
	/* The thread takes everything queued once woken and looks again
	 * before it waits, so only the push into an empty queue wakes it (and
	 * the one that fills half of it, which ends the thread's batching
	 * window early): no futex call per denial on the drain thread. */
	bool wake = (qb->n++ == 0 && a->aq_len == 0) || qb->n == ADV_QUEUE / 2;
	a->q_in++;
	if (wake)
		pthread_cond_signal(&a->q_cv);
	pthread_mutex_unlock(&a->q_mu);
}

static int in_array(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
		if (!strcmp(json_string_value(v), s))
			return 1;
	return 0;
}

static char *dump(json_t *v)
{
	return json_dumps(v, JSON_COMPACT);
}

/* Insert a new pending proposal; returns its id or 0. */
static int64_t insert(struct gb_advisor *a, const struct adv_denial *d, const char *gkey,
                      json_t *bins, json_t *paths, int64_t hits, int64_t first_ns, json_t *samples)
{
	char name[300];
	gb_adv_rule_name(d->host, d->port, d->method, name, sizeof name);
	json_t *rules = gb_adv_path_rules(paths);
	struct gb_buf y = GB_BUF_INIT;
	gb_adv_rule_yaml(&y, name, d->host, d->port, bins, d->method, rules);
	json_decref(rules);
	char *bs = dump(bins), *ps = dump(paths), *ss = dump(samples);
	int64_t now = adv_now_ns(), id = 0;
	sqlite3_stmt *st = NULL;
	if (bs && ps && ss && !y.err &&
	    (st = adv_stmt(a, ADV_ST_INSERT, "INSERT INTO proposals(sandbox, gkey, status, rule_name,"
	                   " host, ip, port, method, binaries, paths, yaml, hits, first_ns, last_ns,"
	                   " samples, created_ns, updated_ns) VALUES(?,?,'pending',?,?,?,?,?,?,?,"
	                   "?,?,?,?,?,?,?)"))) {
		sqlite3_bind_text(st, 1, d->sandbox, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, gkey, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, d->host, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 5, d->ip, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 6, (int)d->port);
		sqlite3_bind_text(st, 7, d->method, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 8, bs, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 9, ps, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 10, gb_buf_cstr(&y), -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 11, hits);
		sqlite3_bind_int64(st, 12, first_ns);
		sqlite3_bind_int64(st, 13, (int64_t)d->ts_ns);
		sqlite3_bind_text(st, 14, ss, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 15, now);
		sqlite3_bind_int64(st, 16, now);
		if (sqlite3_step(st) == SQLITE_DONE) {
			id = sqlite3_last_insert_rowid(a->db);
			adv_known_add(a, d->sandbox, gkey);
		}
		sqlite3_reset(st);
	}
	free(bs), free(ps), free(ss);
	gb_buf_free(&y);
	return id;
}

/* The newest rejected proposal of the group that already covers d (its
 * binary and, for L7, its path), or 0.  Asked only when the group's newest
 * proposal does not cover d: a rejection stays remembered after a later
 * proposal of the same group (another binary) became the newest. */
static int64_t rejected_covering(struct gb_advisor *a, const struct adv_denial *d,
                                 const char *gkey)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(a->db, "SELECT id, binaries, paths FROM proposals WHERE sandbox = ?"
	                       " AND gkey = ? AND status = 'rejected' ORDER BY id DESC", -1, &st,
	                       NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, d->sandbox, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, gkey, -1, SQLITE_TRANSIENT);
	int64_t hit = 0;
	while (!hit && sqlite3_step(st) == SQLITE_ROW) {
		json_t *b = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
		json_t *p = json_loads((const char *)sqlite3_column_text(st, 2), 0, NULL);
		if (json_is_array(b) && in_array(b, d->binary) &&
		    (!*d->method || (json_is_array(p) && in_array(p, d->path))))
			hit = sqlite3_column_int64(st, 0);
		json_decref(b);
		json_decref(p);
	}
	sqlite3_finalize(st);
	return hit;
}

/* The group's newest approved proposal's binaries and paths into bins and
 * paths (its hits and first seen too), when the newest proposal is a
 * rejected one: a new proposal replaces the entry by name when approved,
 * so it must keep what an earlier approval granted. */
static void carry_approved(struct gb_advisor *a, const struct adv_denial *d, const char *gkey,
                           json_t *bins, json_t *paths, int64_t *hits, int64_t *first)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(a->db, "SELECT binaries, paths, hits, first_ns FROM proposals WHERE"
	                       " sandbox = ? AND gkey = ? AND status = 'approved' ORDER BY id DESC"
	                       " LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, d->sandbox, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, gkey, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		json_t *b = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
		json_t *p = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
		if (json_is_array(b))
			json_array_extend(bins, b);
		if (json_is_array(p))
			json_array_extend(paths, p);
		json_decref(b);
		json_decref(p);
		*hits = sqlite3_column_int64(st, 2);
		int64_t f = sqlite3_column_int64(st, 3);
		if (f < *first)
			*first = f;
	}
	sqlite3_finalize(st);
}

/* One denial into the ledger; returns the id of a new pending proposal
 * (for auto review) or 0. */
static int64_t aggregate(struct gb_advisor *a, const struct adv_denial *d)
{
	char gkey[400], uid[96];
	snprintf(gkey, sizeof gkey, "%s|%u|%s", d->host, d->port, d->method);
	snprintf(uid, sizeof uid, "%s:%llu", d->sandbox, (unsigned long long)d->seq);
	/* a group the ledger has never held has no predecessor to read */
	int maybe = adv_known_maybe(a, d->sandbox, gkey);
	sqlite3_stmt *st = !maybe ? NULL : adv_stmt(a, ADV_ST_FIND, "SELECT id, status, binaries, paths, hits,"
	                            " first_ns, samples FROM proposals WHERE sandbox = ? AND gkey = ?"
	                            " AND status IN ('pending','rejected','approved')"
	                            " ORDER BY id DESC LIMIT 1");
	if (maybe && !st)
		return 0;
	int64_t old = 0, hits = 0, first = (int64_t)d->first_ns, fresh = 0;
	char status[16] = "";
	json_t *bins = NULL, *paths = NULL, *samples = NULL;
	if (st) {
		sqlite3_bind_text(st, 1, d->sandbox, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, gkey, -1, SQLITE_TRANSIENT);
	}
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		old = sqlite3_column_int64(st, 0);
		cpy(status, sizeof status, (const char *)sqlite3_column_text(st, 1));
		bins = json_loads((const char *)sqlite3_column_text(st, 2), 0, NULL);
		paths = json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL);
		hits = sqlite3_column_int64(st, 4);
		first = sqlite3_column_int64(st, 5);
		samples = json_loads((const char *)sqlite3_column_text(st, 6), 0, NULL);
	}
	if (st)
		sqlite3_reset(st);
	if (!bins)
		bins = json_array();
	if (!paths)
		paths = json_array();
	if (!samples)
		samples = json_array();
	if (json_array_size(samples) < ADV_SAMPLES)
		json_array_append_new(samples, json_string(uid));
	for (uint32_t k = 0; k < d->n_more && json_array_size(samples) < ADV_SAMPLES; k++) {
		char u2[96];
		snprintf(u2, sizeof u2, "%s:%llu", d->sandbox, (unsigned long long)d->more_seq[k]);
		json_array_append_new(samples, json_string(u2));
	}
	int covered = old && in_array(bins, d->binary) && (!*d->method || in_array(paths, d->path));
	int64_t rejected = 0;
	if (covered || (old && *d->method && json_array_size(paths) >= ADV_MAX_PATHS)) {
		/* the same denial again (a rejected one stays rejected): count it */
		char *ss = dump(samples);
		if (ss && (st = adv_stmt(a, ADV_ST_BUMP, "UPDATE proposals SET hits = hits + ?5,"
		                         " last_ns = ?1, samples = ?2, updated_ns = ?3 WHERE id = ?4"))) {
			sqlite3_bind_int64(st, 1, (int64_t)d->ts_ns);
			sqlite3_bind_text(st, 2, ss, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 3, adv_now_ns());
			sqlite3_bind_int64(st, 4, old);
			sqlite3_bind_int64(st, 5, (int64_t)d->count);
			sqlite3_step(st);
			sqlite3_reset(st);
		}
		free(ss);
	} else if (old && (rejected = rejected_covering(a, d, gkey)) != 0) {
		/* rejected before, under an older proposal of the group: the
		 * rejection holds (a hit on it), the denial does not come back */
		if ((st = adv_stmt(a, ADV_ST_BUMP_REJECTED, "UPDATE proposals SET hits = hits + ?1,"
		                   " last_ns = max(last_ns, ?2), updated_ns = ?3 WHERE id = ?4"))) {
			sqlite3_bind_int64(st, 1, (int64_t)d->count);
			sqlite3_bind_int64(st, 2, (int64_t)d->ts_ns);
			sqlite3_bind_int64(st, 3, adv_now_ns());
			sqlite3_bind_int64(st, 4, rejected);
			sqlite3_step(st);
			sqlite3_reset(st);
		}
	} else {
		/* A new binary or path for this endpoint: a new proposal covering
		 * what the endpoint's pending (or approved: PATCH replaces the
		 * entry) proposal covered plus this, superseding a pending one.  A
		 * rejected one is not carried over. */
		int carry = old && strcmp(status, "rejected");
		if (!carry) {
			json_array_clear(bins);
			json_array_clear(paths);
			json_array_clear(samples);
			json_array_append_new(samples, json_string(uid));
			for (uint32_t k = 0; k < d->n_more && json_array_size(samples) < ADV_SAMPLES; k++) {
				char u2[96];
				snprintf(u2, sizeof u2, "%s:%llu", d->sandbox,
				         (unsigned long long)d->more_seq[k]);
				json_array_append_new(samples, json_string(u2));
			}
			hits = 0;
			first = (int64_t)d->first_ns;
			if (old) /* the newest is rejected: keep an approval before it */
				carry_approved(a, d, gkey, bins, paths, &hits, &first);
		}
		if (!in_array(bins, d->binary))
			json_array_append_new(bins, json_string(d->binary));
		if (*d->method && !in_array(paths, d->path))
			json_array_append_new(paths, json_string(d->path));
		fresh = insert(a, d, gkey, bins, paths, hits + d->count, first, samples);
		char detail[160];
		if (fresh && old && !strcmp(status, "pending")) {
			snprintf(detail, sizeof detail, "superseded by proposal %lld", (long long)fresh);
			if ((st = adv_stmt(a, ADV_ST_SUPERSEDE, "UPDATE proposals SET status ="
			                   " 'superseded', superseded_by = ?, updated_ns = ? WHERE id = ?"))) {
				sqlite3_bind_int64(st, 1, fresh);
				sqlite3_bind_int64(st, 2, adv_now_ns());
				sqlite3_bind_int64(st, 3, old);
				sqlite3_step(st);
				sqlite3_reset(st);
			}
			adv_history(a, old, d->sandbox, "superseded", "advisor", detail);
		}
		if (fresh) {
			snprintf(detail, sizeof detail, "%s %s:%u%s%s", d->binary, d->host, d->port,
			         *d->method ? " " : "", d->method);
			adv_history(a, fresh, d->sandbox, "detected", "advisor", detail);
		}
	}
	json_decref(bins);
	json_decref(paths);
	json_decref(samples);
	return fresh;
}

/* In-memory aggregation of one batch: identical denials (sandbox, host,
 * port, method, binary, path) become one with a count, so a denial
 * repeated a thousand times within the window costs one row update, not a
 * thousand.  Order is kept (each group at its first occurrence), which
 * gives the ledger the same end state as one by one.  Returns the new n. */
#define COALESCE_SLOTS (2 * BATCH) /* twice the entries: open addressing stays short */
static size_t coalesce(struct adv_denial *b, size_t n, uint32_t *slot)
{
	size_t ns = 64; /* a power of two ≥ 2n: a small batch clears a small table */
	while (ns < 2 * n && ns < COALESCE_SLOTS)
		ns <<= 1;
	memset(slot, 0xff, ns * sizeof *slot);
	size_t out = 0;
	for (size_t i = 0; i < n; i++) {
		struct adv_denial *d = &b[i];
		uint64_t h = 1469598103934665603ull; /* FNV-1a over the key fields */
		const char *f[] = { d->sandbox, d->host, d->method, d->binary, d->path };
		for (size_t k = 0; k < 5; k++) {
			for (const unsigned char *s = (const unsigned char *)f[k]; *s; s++)
				h = (h ^ *s) * 1099511628211ull;
			h = (h ^ 0xff) * 1099511628211ull;
		}
		h = (h ^ d->port) * 1099511628211ull;
		size_t j = (size_t)(h & (ns - 1));
		for (;; j = (j + 1) & (ns - 1)) {
			if (slot[j] == UINT32_MAX) {
				slot[j] = (uint32_t)out;
				if (out != i)
					b[out] = *d;
				out++;
				break;
			}
			struct adv_denial *g = &b[slot[j]];
			if (g->port == d->port && !strcmp(g->host, d->host) &&
			    !strcmp(g->sandbox, d->sandbox) && !strcmp(g->method, d->method) &&
			    !strcmp(g->binary, d->binary) && !strcmp(g->path, d->path)) {
				g->count += d->count;
				if (g->n_more < ADV_SAMPLES - 1)
					g->more_seq[g->n_more++] = d->seq;
				if (d->ts_ns > g->ts_ns)
					g->ts_ns = d->ts_ns; /* last seen */
				if (d->first_ns < g->first_ns)
					g->first_ns = d->first_ns;
				break;
			}
		}
	}
	return out;
}

static void *advisor_main(void *arg)
{
	struct gb_advisor *a = arg;
	struct adv_denial *batch = calloc(BATCH, sizeof *batch);
	int64_t *fresh = calloc(BATCH, sizeof *fresh);
	size_t *fresh_of = calloc(BATCH, sizeof *fresh_of); /* the batch entry of fresh[i] */
	uint32_t *slots = calloc(COALESCE_SLOTS, sizeof *slots);
	struct adv_qbuf mine = { .data = malloc(ADV_QBYTES) }; /* swapped with a->qb */
	struct adv_agent agents[ADV_AGENT_QUEUE];
	if (!batch || !fresh || !fresh_of || !slots || !mine.data) {
		gb_log_error("advisor", "out of memory: the advisor stops");
		free(batch), free(fresh), free(fresh_of), free(slots), free(mine.data);
		return NULL;
	}
	for (;;) {
		pthread_mutex_lock(&a->q_mu);
		while (!a->qb.n && !a->aq_len && !a->stop)
			pthread_cond_wait(&a->q_cv, &a->q_mu);
		if (!a->qb.n && !a->aq_len && a->stop) {
			pthread_mutex_unlock(&a->q_mu);
			break;
		}
		/* The batching window: denials that arrive within FLUSH_MS of the
		 * first share its transaction.  Ended early by a half-full queue,
		 * an agent's proposal, gb_advisor_sync and stop. */
		struct timespec until = gb_deadline_ms(a->flush_ms);
		while (a->flush_ms && !a->stop && !a->flush && !a->aq_len && a->qb.n < ADV_QUEUE / 2 &&
		       pthread_cond_timedwait(&a->q_cv, &a->q_mu, &until) == 0)
			;
		a->flush = false;
		struct adv_qbuf full = a->qb; /* swap: the hook fills the empty one */
		a->qb = mine;
		mine = full;
		size_t na = a->aq_len;
		memcpy(agents, a->aq, na * sizeof agents[0]);
		a->aq_len = 0;
		pthread_mutex_unlock(&a->q_mu);
		size_t n = 0;
		for (size_t off = 0; off < mine.len && n < BATCH;) {
			struct adv_qrec h;
			memcpy(&h, mine.data + off, sizeof h);
			const char *p = (const char *)mine.data + off + sizeof h;
			const char **dst[QF_N] = { &batch[n].sandbox, &batch[n].binary, &batch[n].host,
				                   &batch[n].ip, &batch[n].method, &batch[n].path };
			size_t sz = sizeof h;
			for (int k = 0; k < QF_N; k++) {
				*dst[k] = p;
				p += h.len[k] + 1u;
				sz += h.len[k] + 1u;
			}
			off += (sz + 7u) & ~(size_t)7u;
			batch[n].port = h.port;
			batch[n].ts_ns = batch[n].first_ns = h.ts_ns;
			batch[n].seq = h.seq;
			batch[n].count = 1;
			batch[n].n_more = 0;
			if (!gb_adv_never_propose(batch[n].host, batch[n].ip))
				n++;
		}
		size_t taken = mine.n, nf = 0;
		n = coalesce(batch, n, slots);
		pthread_mutex_lock(&a->db_mu);
		sqlite3_exec(a->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		for (size_t i = 0; i < n; i++) {
			int64_t id = aggregate(a, &batch[i]);
			if (id) {
				fresh_of[nf] = i;
				fresh[nf++] = id;
			}
		}
		/* never auto-approved: not in fresh */
		for (size_t i = 0; i < na; i++)
			adv_agent_aggregate(a, &agents[i]);
		if (sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			gb_log_warn("advisor", "ledger commit failed: %s", sqlite3_errmsg(a->db));
			sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
			nf = 0;
		}
		pthread_mutex_unlock(&a->db_mu);
		/* a proposal superseded later in the same batch is no longer
		 * pending: adv_auto_review checks the status it finds */
		for (size_t i = 0; a->auto_approve && i < nf; i++)
			adv_auto_review(a, batch[fresh_of[i]].sandbox, fresh[i]);
		for (size_t i = 0; i < na; i++)
			free(agents[i].yaml);
		mine.len = mine.n = 0; /* the batch's strings end here */
		pthread_mutex_lock(&a->q_mu);
		a->q_out += taken + na;
		pthread_cond_broadcast(&a->done_cv);
		pthread_mutex_unlock(&a->q_mu);
	}
	free(batch);
	free(fresh);
	free(fresh_of);
	free(slots);
	free(mine.data);
	return NULL;
}

int gb_advisor_open(const struct gb_advisor_opts *o, struct gb_advisor **out, char *err,
                    size_t errlen)
{
	struct gb_advisor *a = calloc(1, sizeof *a);
	if (!a || !(a->qb.data = malloc(ADV_QBYTES)) ||
	    !(a->known.slot = calloc(2 * ADV_KNOWN_MAX, sizeof *a->known.slot))) {
		if (a)
			free(a->qb.data);
		free(a);
		snprintf(err, errlen, "advisor: out of memory");
		return -ENOMEM;
	}
	if (o->root) {
		cpy(a->root, sizeof a->root, o->root);
		a->has_root = 1;
	}
	a->auto_approve = o->auto_approve;
	a->flush_ms = o->flush_ms < 0 ? 0 : o->flush_ms ? o->flush_ms : FLUSH_MS;
	pthread_mutex_init(&a->db_mu, NULL);
	pthread_mutex_init(&a->q_mu, NULL);
	gb_cond_init_monotonic(&a->q_cv); /* the window: not stretched by a clock jump */
	pthread_cond_init(&a->done_cv, NULL);
	int rc = adv_ledger_open(a, o->db_path, err, errlen);
	if (rc == 0 && (rc = -pthread_create(&a->th, NULL, advisor_main, a)) != 0)
		snprintf(err, errlen, "advisor: cannot start its thread: %s", strerror(-rc));
	if (rc == 0) { /* named for top -H and perf --comm */
		pthread_setname_np(a->th, "gb-advisor");
		/* Batch work: the scheduler does not let its wake-ups preempt a
		 * drain thread journaling (its fair share, so its latency, stays) */
		struct sched_param sp = { 0 };
		pthread_setschedparam(a->th, SCHED_BATCH, &sp);
	}
	if (rc < 0) {
		if (a->db)
			sqlite3_close(a->db);
		free(a->qb.data);
		free(a->known.slot);
		free(a);
		return rc;
	}
	*out = a;
	return 0;
}

void gb_advisor_close(struct gb_advisor *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->q_mu);
	a->stop = true;
	pthread_cond_signal(&a->q_cv);
	pthread_mutex_unlock(&a->q_mu);
	pthread_join(a->th, NULL);
	for (size_t i = 0; i < a->aq_len; i++) /* only when the thread never ran */
		free(a->aq[i].yaml);
	adv_stmts_free(a);
	sqlite3_close(a->db);
	pthread_cond_destroy(&a->q_cv);
	pthread_cond_destroy(&a->done_cv);
	pthread_mutex_destroy(&a->q_mu);
	pthread_mutex_destroy(&a->db_mu);
	free(a->qb.data);
	free(a->known.slot);
	free(a);
}

void gb_advisor_sync(struct gb_advisor *a)
{
	pthread_mutex_lock(&a->q_mu);
	uint64_t want = a->q_in;
	if (a->q_out < want) { /* end the batching window now */
		a->flush = true;
		pthread_cond_signal(&a->q_cv);
	}
	while (a->q_out < want)
		pthread_cond_wait(&a->done_cv, &a->q_mu);
	pthread_mutex_unlock(&a->q_mu);
}

uint64_t gb_advisor_dropped(struct gb_advisor *a)
{
	return atomic_load(&a->dropped);
}
