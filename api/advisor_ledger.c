/* api/advisor_ledger.c — the advisor's SQLite ledger: schema, a proposal
 * row as JSON, history rows.  WAL with synchronous=NORMAL: a crash may
 * lose the last batch of aggregation (the journal still has the denials),
 * never corrupt the file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/advisor_int.h"

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS proposals("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" sandbox TEXT NOT NULL, gkey TEXT NOT NULL, status TEXT NOT NULL,"
	" rule_name TEXT NOT NULL, host TEXT NOT NULL, ip TEXT NOT NULL, port INTEGER NOT NULL,"
	" method TEXT NOT NULL, binaries TEXT NOT NULL, paths TEXT NOT NULL, yaml TEXT NOT NULL,"
	" hits INTEGER NOT NULL, first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL,"
	" samples TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',"
	" decided_by TEXT NOT NULL DEFAULT '', revision INTEGER NOT NULL DEFAULT 0,"
	" superseded_by INTEGER NOT NULL DEFAULT 0,"
	" created_ns INTEGER NOT NULL, updated_ns INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS proposals_key ON proposals(sandbox, gkey, id);"
	"CREATE TABLE IF NOT EXISTS history("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, proposal INTEGER NOT NULL, sandbox TEXT NOT NULL,"
	" time_ns INTEGER NOT NULL, action TEXT NOT NULL, actor TEXT NOT NULL, detail TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS history_sandbox ON history(sandbox, id);";

static int known_load(struct gb_advisor *a);

int64_t adv_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int adv_ledger_open(struct gb_advisor *a, const char *path, char *err, size_t errlen)
{
	int rc = sqlite3_open_v2(path, &a->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                         SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "advisor ledger %s: %s", path,
		         a->db ? sqlite3_errmsg(a->db) : sqlite3_errstr(rc));
		sqlite3_close(a->db);
		a->db = NULL;
		return -EIO;
	}
	sqlite3_busy_timeout(a->db, 5000);
	char *msg = NULL;
	if (sqlite3_exec(a->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "advisor ledger %s: %s", path, msg ? msg : "schema failed");
		sqlite3_free(msg);
		sqlite3_close(a->db);
		a->db = NULL;
		return -EIO;
	}
	if (known_load(a) < 0)
		a->known.full = true;
	return 0;
}

uint64_t adv_group_hash(const char *sandbox, const char *gkey)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)sandbox; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull; /* 0xff is in no UTF-8 text: the seam */
	for (const unsigned char *p = (const unsigned char *)gkey; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return h ? h : 1; /* 0 marks an empty slot */
}

void adv_known_add(struct gb_advisor *a, const char *sandbox, const char *gkey)
{
	struct adv_known *k = &a->known;
	if (k->full)
		return;
	uint64_t h = adv_group_hash(sandbox, gkey);
	size_t mask = 2 * (size_t)ADV_KNOWN_MAX - 1, j = (size_t)h & mask;
	for (; k->slot[j]; j = (j + 1) & mask)
		if (k->slot[j] == h)
			return;
	if (k->n == ADV_KNOWN_MAX) { /* never more than half full */
		k->full = true;
		return;
	}
	k->slot[j] = h;
	k->n++;
}

int adv_known_maybe(const struct gb_advisor *a, const char *sandbox, const char *gkey)
{
	const struct adv_known *k = &a->known;
	if (k->full)
		return 1;
	uint64_t h = adv_group_hash(sandbox, gkey);
	size_t mask = 2 * (size_t)ADV_KNOWN_MAX - 1;
	for (size_t j = (size_t)h & mask; k->slot[j]; j = (j + 1) & mask)
		if (k->slot[j] == h)
			return 1;
	return 0;
}

/* Every group the ledger holds into a->known (at open). */
static int known_load(struct gb_advisor *a)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(a->db, "SELECT DISTINCT sandbox, gkey FROM proposals", -1, &st,
	                       NULL) != SQLITE_OK)
		return -EIO;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		adv_known_add(a, (const char *)sqlite3_column_text(st, 0),
		              (const char *)sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		a->known.full = true; /* not known to be complete: consult the ledger always */
	return 0;
}

sqlite3_stmt *adv_stmt(struct gb_advisor *a, enum adv_slot slot, const char *sql)
{
	sqlite3_stmt **st = &a->stmts[slot];
	if (*st) {
		sqlite3_reset(*st);
		sqlite3_clear_bindings(*st);
		return *st;
	}
	if (sqlite3_prepare_v3(a->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
		*st = NULL;
	return *st;
}

void adv_stmts_free(struct gb_advisor *a)
{
	for (size_t i = 0; i < sizeof a->stmts / sizeof a->stmts[0]; i++) {
		sqlite3_finalize(a->stmts[i]);
		a->stmts[i] = NULL;
	}
}

void adv_history(struct gb_advisor *a, int64_t id, const char *sandbox, const char *action,
                 const char *actor, const char *detail)
{
	sqlite3_stmt *st = adv_stmt(a, ADV_ST_HIST, "INSERT INTO history(proposal, sandbox, time_ns,"
	                            " action, actor, detail) VALUES(?,?,?,?,?,?)");
	if (!st)
		return;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, sandbox, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, adv_now_ns());
	sqlite3_bind_text(st, 4, action, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, actor ? actor : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, detail ? detail : "", -1, SQLITE_TRANSIENT);
	sqlite3_step(st);
	sqlite3_reset(st);
}

static json_t *jtext(sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);
	json_t *v = json_loads(s ? s : "[]", 0, NULL);
	return v ? v : json_array();
}

json_t *adv_row(struct gb_advisor *a, const char *sandbox, int64_t id)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(a->db, "SELECT id, status, rule_name, host, ip, port, method, binaries,"
	                       " paths, yaml, hits, first_ns, last_ns, samples, reason, decided_by,"
	                       " revision, superseded_by, created_ns, updated_ns, gkey FROM proposals"
	                       " WHERE sandbox = ? AND id = ?", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, sandbox, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, id);
	json_t *o = NULL;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *method = (const char *)sqlite3_column_text(st, 6);
		o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:o, s:o, s:s, s:I, s:I, s:I,"
		              " s:o, s:s, s:s, s:I, s:I, s:I, s:I}",
		              "id", (json_int_t)sqlite3_column_int64(st, 0),
		              "sandbox", sandbox,
		              "status", (const char *)sqlite3_column_text(st, 1),
		              "rule_name", (const char *)sqlite3_column_text(st, 2),
		              "host", (const char *)sqlite3_column_text(st, 3),
		              "ip", (const char *)sqlite3_column_text(st, 4),
		              "port", sqlite3_column_int(st, 5),
		              "layer", method && *method ? "L7" : "L4",
		              "binaries", jtext(st, 7), "paths", jtext(st, 8),
		              "yaml", (const char *)sqlite3_column_text(st, 9),
		              "hits", (json_int_t)sqlite3_column_int64(st, 10),
		              "first_seen_ns", (json_int_t)sqlite3_column_int64(st, 11),
		              "last_seen_ns", (json_int_t)sqlite3_column_int64(st, 12),
		              "sample_event_uids", jtext(st, 13),
		              "reason", (const char *)sqlite3_column_text(st, 14),
		              "decided_by", (const char *)sqlite3_column_text(st, 15),
		              "revision", (json_int_t)sqlite3_column_int64(st, 16),
		              "superseded_by", (json_int_t)sqlite3_column_int64(st, 17),
		              "created_ns", (json_int_t)sqlite3_column_int64(st, 18),
		              "updated_ns", (json_int_t)sqlite3_column_int64(st, 19));
		if (o && method && *method)
			json_object_set_new(o, "method", json_string(method));
		const char *gk = (const char *)sqlite3_column_text(st, 20);
		if (o)
			json_object_set_new(o, "author",
			                    json_string(gk && !strncmp(gk, ADV_AGENT_GKEY,
			                                               strlen(ADV_AGENT_GKEY))
			                                    ? "agent" : "advisor"));
	}
	sqlite3_finalize(st);
	return o;
}
