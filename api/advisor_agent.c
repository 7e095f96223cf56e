/* api/advisor_agent.c — agent-authored proposals (policy.local, see
 * enforcer/sandbox/policy_local.h): an entry the agent wrote, validated and
 * renamed agent_<key> by the supervisor, becomes a pending proposal of its
 * own group (gkey "agent|<key>").  The same entry again counts a hit (a
 * rejected one stays rejected); a changed entry supersedes the pending one.
 * Such a proposal always carries the finding agent_authored, so auto mode
 * never approves it, and the usual findings over each of its endpoints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/advisor_int.h"
#include "api/advisor_rule.h"
#include "common/diag.h"
#include "common/log.h"
#include "common/policy.h"

static struct gb_policy *load(const char *yaml)
{
	struct gb_policy *p = NULL;
	struct gb_diags d = { 0 };
	if (gb_policy_load_buf("policy.local", yaml, strlen(yaml), &p, &d) < 0)
		p = NULL;
	gb_diags_free(&d);
	if (p && p->n_entries != 1) {
		gb_policy_free(p);
		p = NULL;
	}
	return p;
}

static json_t *binaries_of(const struct gb_net_entry *e)
{
	json_t *b = json_array();
	for (size_t i = 0; i < e->n_binaries; i++)
		json_array_append_new(b, json_string(e->binaries[i].path));
	return b;
}

json_t *adv_agent_findings(const char *yaml, const char *running_yaml)
{
	json_t *out = json_array();
	json_array_append_new(out, json_pack("{s:s, s:s}", "kind", "agent_authored", "reason",
	                                     "written by the sandboxed agent (policy.local), not "
	                                     "derived from observed denials: review every field"));
	struct gb_policy *p = load(yaml);
	if (!p) {
		json_array_append_new(out, json_pack("{s:s, s:s}", "kind", "invalid", "reason",
		                                     "the proposal no longer loads as a policy"));
		return out;
	}
	const struct gb_net_entry *e = &p->entries[0];
	json_t *bins = binaries_of(e);
	json_t *seen = json_object(); /* one finding of a kind and reason, once */
	for (size_t i = 0; i < e->n_endpoints; i++) {
		const struct gb_endpoint_spec *ep = &e->endpoints[i];
		if (ep->n_allowed_ips)
			json_array_append_new(out, json_pack("{s:s, s:s}", "kind", "address_grant", "reason",
			                                     "allowed_ips grants address ranges, not names"));
		json_t *rules = json_array();
		for (size_t k = 0; k < ep->n_rules; k++)
			json_array_append_new(rules, json_string(ep->rules[k].path));
		const char *method = ep->protocol != GB_PROTO_NONE ? "*" : "";
		for (size_t k = 0; k < (ep->n_ports ? ep->n_ports : 1); k++) {
			unsigned port = ep->n_ports ? ep->ports[k] : 0;
			json_t *f = gb_adv_findings(ep->host ? ep->host : "", "", port, bins, method, rules,
			                            running_yaml);
			size_t j;
			json_t *v;
			json_array_foreach(f, j, v) {
				const char *r = json_string_value(json_object_get(v, "reason"));
				if (r && !json_object_get(seen, r)) {
					json_object_set_new(seen, r, json_true());
					json_array_append(out, v);
				}
			}
			json_decref(f);
		}
		json_decref(rules);
	}
	json_decref(seen);
	json_decref(bins);
	gb_policy_free(p);
	return out;
}

int64_t adv_agent_aggregate(struct gb_advisor *a, const struct adv_agent *ag)
{
	struct gb_policy *p = load(ag->yaml);
	if (!p) {
		gb_log_warn("advisor", "%s: an agent proposal that does not load as one entry is "
		            "dropped", ag->sandbox);
		return 0;
	}
	const struct gb_net_entry *e = &p->entries[0];
	const struct gb_endpoint_spec *ep0 = e->n_endpoints ? &e->endpoints[0] : NULL;
	char gkey[400], uid[96];
	snprintf(gkey, sizeof gkey, ADV_AGENT_GKEY "%s", e->key);
	snprintf(uid, sizeof uid, "%s:%llu", ag->sandbox, (unsigned long long)ag->seq);
	int64_t old = 0, fresh = 0;
	char status[16] = "";
	int same = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(a->db, "SELECT id, status, yaml FROM proposals WHERE sandbox = ? AND"
	                       " gkey = ? AND status IN ('pending','rejected','approved')"
	                       " ORDER BY id DESC LIMIT 1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, ag->sandbox, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, gkey, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW) {
			old = sqlite3_column_int64(st, 0);
			snprintf(status, sizeof status, "%s", (const char *)sqlite3_column_text(st, 1));
			same = !strcmp((const char *)sqlite3_column_text(st, 2), ag->yaml);
		}
		sqlite3_finalize(st);
	}
	if (same) {
		/* proposed again as it was: a hit (a rejected one stays rejected) */
		if (sqlite3_prepare_v2(a->db, "UPDATE proposals SET hits = hits + 1, last_ns = ?,"
		                       " updated_ns = ? WHERE id = ?", -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, (int64_t)ag->ts_ns);
			sqlite3_bind_int64(st, 2, adv_now_ns());
			sqlite3_bind_int64(st, 3, old);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
		gb_policy_free(p);
		return 0;
	}
	json_t *bins = binaries_of(e);
	char *bs = json_dumps(bins, JSON_COMPACT);
	json_t *sj = json_pack("[s]", uid);
	char *ss = json_dumps(sj, JSON_COMPACT);
	int64_t now = adv_now_ns();
	if (bs && ss &&
	    sqlite3_prepare_v2(a->db, "INSERT INTO proposals(sandbox, gkey, status, rule_name, host,"
	                       " ip, port, method, binaries, paths, yaml, hits, first_ns, last_ns,"
	                       " samples, created_ns, updated_ns) VALUES(?,?,'pending',?,?,'',?,'',?,"
	                       "'[]',?,1,?,?,?,?,?)", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, ag->sandbox, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, gkey, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, e->key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, ep0 && ep0->host ? ep0->host : "", -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 5, ep0 && ep0->n_ports ? ep0->ports[0] : 0);
		sqlite3_bind_text(st, 6, bs, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 7, ag->yaml, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 8, (int64_t)ag->ts_ns);
		sqlite3_bind_int64(st, 9, (int64_t)ag->ts_ns);
		sqlite3_bind_text(st, 10, ss, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 11, now);
		sqlite3_bind_int64(st, 12, now);
		if (sqlite3_step(st) == SQLITE_DONE) {
			fresh = sqlite3_last_insert_rowid(a->db);
			adv_known_add(a, ag->sandbox, gkey); /* one set for every gkey */
		}
		sqlite3_finalize(st);
	}
	char detail[400];
	if (fresh && old && !strcmp(status, "pending")) {
		snprintf(detail, sizeof detail, "superseded by proposal %lld", (long long)fresh);
		if (sqlite3_prepare_v2(a->db, "UPDATE proposals SET status = 'superseded',"
		                       " superseded_by = ?, updated_ns = ? WHERE id = ?", -1, &st,
		                       NULL) == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, fresh);
			sqlite3_bind_int64(st, 2, now);
			sqlite3_bind_int64(st, 3, old);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
		adv_history(a, old, ag->sandbox, "superseded", "agent (policy.local)", detail);
	}
	if (fresh) {
		snprintf(detail, sizeof detail, "agent proposed entry %s (%zu endpoint%s, %zu binar%s)",
		         e->key, e->n_endpoints, e->n_endpoints == 1 ? "" : "s", e->n_binaries,
		         e->n_binaries == 1 ? "y" : "ies");
		adv_history(a, fresh, ag->sandbox, "detected", "agent (policy.local)", detail);
	}
	free(bs);
	free(ss);
	json_decref(sj);
	json_decref(bins);
	gb_policy_free(p);
	return fresh;
}
