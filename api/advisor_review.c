/* api/advisor_review.c — the review side of the advisor (advisor.h):
 * proposals shown with their risk findings, diff and review token against
 * the policy running now; approve applies the proposal with the control
 * socket's "update" (what PATCH does), so the supervisor validates, swaps
 * and records CONFIG naming the approver and the proposal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/advisor_int.h"
#include "api/advisor_rule.h"
#include "api/control_client.h"
#include "common/buf.h"
#include "common/diag.h"
#include "common/log.h"
#include "common/policy.h"

/* One approval at a time: the token check and the apply must not
 * interleave with another approval's apply. */
static pthread_mutex_t approve_mu = PTHREAD_MUTEX_INITIALIZER;

static json_t *err_obj(const char *e, const char *detail)
{
	return json_pack("{s:s, s:s}", "error", e, "detail", detail);
}

/* The running policy of sandbox: 0 and *resp ({revision, sha256, yaml}),
 * or -ENOENT when it is not running, other -errno. */
static int running(struct gb_advisor *a, const char *sandbox, json_t **resp, char *err,
                   size_t errlen)
{
	json_t *req = json_pack("{s:s}", "op", "get");
	int rc = gb_ctl_call(a->has_root ? a->root : NULL, sandbox, req, resp, err, errlen);
	json_decref(req);
	if (rc == 0 && !json_is_true(json_object_get(*resp, "ok"))) {
		snprintf(err, errlen, "the supervisor refused: %s",
		         json_string_value(json_object_get(*resp, "detail")) ?: "?");
		json_decref(*resp);
		*resp = NULL;
		return -EIO;
	}
	return rc;
}

/* Add what depends on the running policy: findings, diff, token. */
static void decorate(json_t *row, json_t *run)
{
	const char *ry = run ? json_string_value(json_object_get(run, "yaml")) : NULL;
	const char *rs = run ? json_string_value(json_object_get(run, "sha256")) : NULL;
	const char *yaml = json_string_value(json_object_get(row, "yaml"));
	const char *name = json_string_value(json_object_get(row, "rule_name"));
	const char *method = json_string_value(json_object_get(row, "method"));
	int agent = !strcmp(json_string_value(json_object_get(row, "author")) ?: "", "agent");
	json_t *rules = gb_adv_path_rules(json_object_get(row, "paths"));
	json_object_set_new(row, "findings",
	                    agent ? adv_agent_findings(yaml, ry)
	                          : gb_adv_findings(json_string_value(json_object_get(row, "host")),
	                                            json_string_value(json_object_get(row, "ip")),
	                                            (unsigned)json_integer_value(
	                                                json_object_get(row, "port")),
	                                            json_object_get(row, "binaries"),
	                                            method ? method : "", rules, ry));
	if (method)
		json_object_set(row, "path_rules", rules);
	json_decref(rules);
	struct gb_buf b = GB_BUF_INIT;
	gb_adv_diff(&b, name, yaml, ry);
	json_object_set_new(row, "diff", json_string(gb_buf_cstr(&b)));
	b.len = 0;
	json_int_t hits = json_integer_value(json_object_get(row, "hits"));
	if (agent) {
		gb_buf_printf(&b, "proposed by the agent in the sandbox (policy.local, %lld time%s): "
		              "the entry as written, not the narrowest rule for observed denials; "
		              "approving it grants exactly what the YAML says", (long long)hits,
		              hits == 1 ? "" : "s");
	} else {
		gb_buf_printf(&b, "%lld denial%s to %s:%lld", (long long)hits, hits == 1 ? "" : "s",
		              json_string_value(json_object_get(row, "host")),
		              (long long)json_integer_value(json_object_get(row, "port")));
		if (method)
			gb_buf_printf(&b, " (%s on %zu path%s)", method,
			              json_array_size(json_object_get(row, "paths")),
			              json_array_size(json_object_get(row, "paths")) == 1 ? "" : "s");
		gb_buf_puts(&b, "; the narrowest rule allowing exactly them: this host and port");
		gb_buf_puts(&b, method ? ", inspected, this method and these paths" : "");
		gb_buf_puts(&b, ", these binaries");
	}
	json_object_set_new(row, "rationale", json_string(gb_buf_cstr(&b)));
	gb_buf_free(&b);
	if (rs && !strcmp(json_string_value(json_object_get(row, "status")), "pending")) {
		char tok[65];
		gb_adv_token(json_integer_value(json_object_get(row, "id")), rs, yaml, tok);
		json_object_set_new(row, "review_token", json_string(tok));
		json_object_set(row, "running_revision", json_object_get(run, "revision"));
	}
}

static json_t *row_locked(struct gb_advisor *a, const char *sandbox, int64_t id)
{
	pthread_mutex_lock(&a->db_mu);
	json_t *r = adv_row(a, sandbox, id);
	pthread_mutex_unlock(&a->db_mu);
	return r;
}

unsigned gb_advisor_list(struct gb_advisor *a, const char *sandbox, const char *status,
                         json_t **out)
{
	json_t *ids = json_array();
	sqlite3_stmt *st;
	pthread_mutex_lock(&a->db_mu);
	if (sqlite3_prepare_v2(a->db, "SELECT id FROM proposals WHERE sandbox = ?1 AND"
	                       " (?2 IS NULL OR status = ?2) ORDER BY id", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, sandbox, -1, SQLITE_TRANSIENT);
		if (status)
			sqlite3_bind_text(st, 2, status, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(st, 2);
		while (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(ids, json_integer(sqlite3_column_int64(st, 0)));
		sqlite3_finalize(st);
	}
	json_t *list = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(ids, i, v) {
		json_t *r = adv_row(a, sandbox, json_integer_value(v));
		if (r)
			json_array_append_new(list, r);
	}
	pthread_mutex_unlock(&a->db_mu);
	json_decref(ids);
	json_t *run = NULL;
	char err[256];
	if (json_array_size(list) && running(a, sandbox, &run, err, sizeof err) < 0)
		run = NULL;
	json_array_foreach(list, i, v)
		decorate(v, run);
	*out = json_pack("{s:s, s:o, s:b}", "sandbox", sandbox, "suggestions", list, "running",
	                 run != NULL);
	json_decref(run);
	return 200;
}

unsigned gb_advisor_show(struct gb_advisor *a, const char *sandbox, int64_t id, json_t **out)
{
	json_t *r = row_locked(a, sandbox, id);
	if (!r) {
		*out = err_obj("not_found", "no such proposal for this sandbox");
		return 404;
	}
	json_t *run = NULL;
	char err[256];
	if (running(a, sandbox, &run, err, sizeof err) < 0)
		run = NULL;
	decorate(r, run);
	json_decref(run);
	*out = r;
	return 200;
}

static void set_status(struct gb_advisor *a, int64_t id, const char *status, const char *who,
                       const char *reason, int64_t revision)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(a->db, "UPDATE proposals SET status = ?, decided_by = ?, reason = ?,"
	                       " revision = ?, updated_ns = ? WHERE id = ?", -1, &st,
	                       NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, status, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, who, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, reason ? reason : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, revision);
	sqlite3_bind_int64(st, 5, adv_now_ns());
	sqlite3_bind_int64(st, 6, id);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

/* An agent's proposal may add an entry, never replace the operator's: the
 * approval (an update, which replaces by name) is refused when the running
 * policy has an entry of that name that no approved agent proposal put
 * there (an operator may name an entry agent_x; the agent's ruleName x is
 * renamed to exactly that).  1 = refuse. */
static int shadows_operator(struct gb_advisor *a, const char *sandbox, const char *name,
                            json_t *run)
{
	const char *ry = json_string_value(json_object_get(run, "yaml"));
	struct gb_policy *p = NULL;
	struct gb_diags d = { 0 };
	int taken = 0;
	if (ry && gb_policy_load_buf("running", ry, strlen(ry), &p, &d) == 0)
		for (size_t i = 0; i < p->n_entries && !taken; i++)
			taken = !strcmp(p->entries[i].key, name);
	gb_diags_free(&d);
	gb_policy_free(p);
	if (!taken)
		return 0;
	int agents = 0;
	sqlite3_stmt *st;
	pthread_mutex_lock(&a->db_mu);
	if (sqlite3_prepare_v2(a->db, "SELECT 1 FROM proposals WHERE sandbox = ? AND rule_name = ?"
	                       " AND substr(gkey, 1, 6) = 'agent|' AND status = 'approved' LIMIT 1",
	                       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, sandbox, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
		agents = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&a->db_mu);
	return !agents;
}

static unsigned approve_locked(struct gb_advisor *a, const char *sandbox, int64_t id,
                               const char *token, const char *who, json_t **out)
{
	char err[512];
	json_t *r = row_locked(a, sandbox, id);
	if (!r) {
		*out = err_obj("not_found", "no such proposal for this sandbox");
		return 404;
	}
	const char *status = json_string_value(json_object_get(r, "status"));
	if (strcmp(status, "pending")) {
		snprintf(err, sizeof err, "proposal %lld is %s, not pending", (long long)id, status);
		*out = err_obj("not_pending", err);
		json_object_set_new(*out, "proposal", r);
		return 409;
	}
	json_t *run = NULL;
	int rc = running(a, sandbox, &run, err, sizeof err);
	if (rc < 0) {
		json_decref(r);
		*out = err_obj(rc == -ENOENT ? "not_found" : "supervisor_unreachable", err);
		return rc == -ENOENT ? 404 : 502;
	}
	decorate(r, run);
	const char *want = json_string_value(json_object_get(r, "review_token"));
	if (!token || !want || strcmp(token, want)) {
		/* The reviewer saw another candidate (the running policy or the
		 * proposal changed since): refuse and hand back the refreshed one. */
		pthread_mutex_lock(&a->db_mu);
		adv_history(a, id, sandbox, "refreshed", who,
		            token ? "stale review token: the running policy or the proposal changed"
		                  : "approval without a review token");
		pthread_mutex_unlock(&a->db_mu);
		*out = err_obj(token ? "stale_token" : "bad_request",
		               token ? "the review token is not for the candidate running now; review "
		                       "the refreshed proposal and approve with its token"
		                     : "approve needs the proposal's review_token");
		json_object_set_new(*out, "proposal", r);
		json_decref(run);
		return token ? 409 : 400;
	}
	const char *rname = json_string_value(json_object_get(r, "rule_name"));
	if (!strcmp(json_string_value(json_object_get(r, "author")) ?: "", "agent") && rname &&
	    shadows_operator(a, sandbox, rname, run)) {
		snprintf(err, sizeof err, "the running policy has an entry named %s that the agent did "
		         "not get approved: approving would replace it (an agent's proposal only adds)",
		         rname);
		pthread_mutex_lock(&a->db_mu);
		adv_history(a, id, sandbox, "apply_failed", who, err);
		pthread_mutex_unlock(&a->db_mu);
		*out = err_obj("name_taken", err);
		json_object_set_new(*out, "proposal", r);
		json_decref(run);
		return 409;
	}
	json_decref(run);
	char file[64], author[400];
	snprintf(file, sizeof file, "advisor proposal %lld", (long long)id);
	snprintf(author, sizeof author, "advisor proposal %lld approved by %s", (long long)id, who);
	json_t *req = json_pack("{s:s, s:s, s:s, s:s}", "op", "update", "yaml",
	                        json_string_value(json_object_get(r, "yaml")), "file", file, "who",
	                        author);
	json_t *resp = NULL;
	rc = gb_ctl_call(a->has_root ? a->root : NULL, sandbox, req, &resp, err, sizeof err);
	json_decref(req);
	if (rc < 0 || !json_is_true(json_object_get(resp, "ok"))) {
		const char *d = rc < 0 ? err : json_string_value(json_object_get(resp, "detail"));
		pthread_mutex_lock(&a->db_mu);
		adv_history(a, id, sandbox, "apply_failed", who, d ? d : "?");
		pthread_mutex_unlock(&a->db_mu);
		*out = err_obj("apply_failed", d ? d : "the supervisor refused the proposal");
		if (resp && json_object_get(resp, "diagnostics"))
			json_object_set(*out, "diagnostics", json_object_get(resp, "diagnostics"));
		json_decref(resp);
		json_decref(r);
		return rc == -ENOENT ? 404 : 422;
	}
	json_int_t rev = json_integer_value(json_object_get(resp, "revision"));
	char detail[128];
	snprintf(detail, sizeof detail, "revision %lld", (long long)rev);
	pthread_mutex_lock(&a->db_mu);
	set_status(a, id, "approved", who, NULL, rev);
	adv_history(a, id, sandbox, "approved", who, detail);
	json_decref(r);
	r = adv_row(a, sandbox, id);
	pthread_mutex_unlock(&a->db_mu);
	*out = json_pack("{s:o, s:I, s:O}", "proposal", r ? r : json_null(), "revision", rev,
	                 "sha256", json_object_get(resp, "sha256"));
	json_decref(resp);
	return 200;
}

unsigned gb_advisor_approve(struct gb_advisor *a, const char *sandbox, int64_t id,
                            const char *token, const char *who, json_t **out)
{
	pthread_mutex_lock(&approve_mu);
	unsigned s = approve_locked(a, sandbox, id, token, who, out);
	pthread_mutex_unlock(&approve_mu);
	return s;
}

void adv_auto_review(struct gb_advisor *a, const char *sandbox, int64_t id)
{
	json_t *shown = NULL, *out = NULL;
	if (gb_advisor_show(a, sandbox, id, &shown) != 200)
		goto done;
	const char *tok = json_string_value(json_object_get(shown, "review_token"));
	if (!tok || json_array_size(json_object_get(shown, "findings")) ||
	    strcmp(json_string_value(json_object_get(shown, "author")) ?: "", "advisor"))
		goto done; /* a finding, an agent's proposal, no running sandbox: a human decides */
	/* A policy-level denial carries no resolved address, and a name alone
	 * cannot show the grant stays off internal ranges: a human decides. */
	const char *ip = json_string_value(json_object_get(shown, "ip"));
	if (!ip || !*ip)
		goto done;
	char t[65];
	snprintf(t, sizeof t, "%s", tok);
	unsigned s = gb_advisor_approve(a, sandbox, id, t, "advisor auto mode", &out);
	if (s != 200)
		gb_log_warn("advisor", "%s: auto approval of proposal %lld failed (%u)", sandbox,
		            (long long)id, s);
done:
	json_decref(shown);
	json_decref(out);
}

unsigned gb_advisor_reject(struct gb_advisor *a, const char *sandbox, int64_t id,
                           const char *reason, const char *who, json_t **out)
{
	pthread_mutex_lock(&approve_mu);
	pthread_mutex_lock(&a->db_mu);
	json_t *r = adv_row(a, sandbox, id);
	unsigned s = 200;
	if (!r) {
		*out = err_obj("not_found", "no such proposal for this sandbox");
		s = 404;
	} else if (strcmp(json_string_value(json_object_get(r, "status")), "pending")) {
		*out = err_obj("not_pending", "only a pending proposal can be rejected");
		json_object_set_new(*out, "proposal", r);
		s = 409;
	} else {
		json_decref(r);
		set_status(a, id, "rejected", who, reason, 0);
		adv_history(a, id, sandbox, "rejected", who, reason);
		*out = json_pack("{s:o}", "proposal", adv_row(a, sandbox, id));
	}
	pthread_mutex_unlock(&a->db_mu);
	pthread_mutex_unlock(&approve_mu);
	return s;
}

unsigned gb_advisor_history(struct gb_advisor *a, const char *sandbox, json_t **out)
{
	json_t *list = json_array();
	sqlite3_stmt *st;
	pthread_mutex_lock(&a->db_mu);
	if (sqlite3_prepare_v2(a->db, "SELECT proposal, time_ns, action, actor, detail FROM history"
	                       " WHERE sandbox = ? ORDER BY id", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, sandbox, -1, SQLITE_TRANSIENT);
		while (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(
			    list, json_pack("{s:I, s:I, s:s, s:s, s:s}", "proposal",
			                    (json_int_t)sqlite3_column_int64(st, 0), "time_ns",
			                    (json_int_t)sqlite3_column_int64(st, 1), "action",
			                    (const char *)sqlite3_column_text(st, 2), "actor",
			                    (const char *)sqlite3_column_text(st, 3), "detail",
			                    (const char *)sqlite3_column_text(st, 4)));
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&a->db_mu);
	*out = json_pack("{s:s, s:o}", "sandbox", sandbox, "history", list);
	return 200;
}

unsigned gb_advisor_export(struct gb_advisor *a, const char *sandbox, json_t **out)
{
	/* The newest live proposal per endpoint: it already carries every
	 * binary and path its predecessors had (aggregate() carries them). */
	struct gb_buf y = GB_BUF_INIT;
	gb_buf_puts(&y, "version: 1\nnetwork_policies:\n");
	size_t n = 0;
	sqlite3_stmt *st;
	pthread_mutex_lock(&a->db_mu);
	if (sqlite3_prepare_v2(a->db, "SELECT yaml FROM proposals WHERE id IN (SELECT MAX(id) FROM"
	                       " proposals WHERE sandbox = ? AND status IN ('pending','approved')"
	                       " AND gkey NOT LIKE 'agent|%' GROUP BY gkey) ORDER BY id", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, sandbox, -1, SQLITE_TRANSIENT);
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *p = strstr((const char *)sqlite3_column_text(st, 0),
			                       "network_policies:\n");
			if (p) {
				gb_buf_puts(&y, p + strlen("network_policies:\n"));
				n++;
			}
		}
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&a->db_mu);
	if (!n) {
		y.len = 0;
		gb_buf_puts(&y, "version: 1\nnetwork_policies: {}\n");
	}
	*out = json_pack("{s:s, s:s, s:I}", "sandbox", sandbox, "yaml", gb_buf_cstr(&y), "entries",
	                 (json_int_t)n);
	gb_buf_free(&y);
	return 200;
}
