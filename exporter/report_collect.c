/* exporter/report_collect.c — one pass over the journal into the report
 * model (contract: report.h).  Events are parsed with jansson (a report is
 * not a hot path); each class adds to its section. */
#include "exporter/report.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "exporter/checkpoint.h"
#include "exporter/journal.h"

#define BUCKETS 24
#define MAX_ITEMS 500 /* findings and losses listed one by one (all are counted) */

static const char *str(json_t *o, const char *path)
{
	char key[64];
	while (o) {
		const char *dot = strchr(path, '.');
		if (!dot)
			return json_string_value(json_object_get(o, path));
		snprintf(key, sizeof key, "%.*s", (int)(dot - path), path);
		o = json_object_get(o, key);
		path = dot + 1;
	}
	return NULL;
}

static json_int_t num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static json_t *sandbox_of(json_t *sbx, const char *name, const char *uid)
{
	size_t i;
	json_t *s;
	json_array_foreach(sbx, i, s) {
		if (!strcmp(str(s, "uid") ? str(s, "uid") : "", uid ? uid : ""))
			return s;
	}
	s = json_pack("{ssss}", "name", name ? name : "", "uid", uid ? uid : "");
	json_array_append_new(sbx, s);
	return s;
}

static void lifecycle(json_t *m, json_t *ev)
{
	json_t *s = sandbox_of(json_object_get(m, "sandboxes"), str(ev, "app.name"), str(ev, "app.uid"));
	json_int_t act = num(ev, "activity_id"), t = num(ev, "time");
	const char *k = act == 1 ? "created_ms" : act == 3 ? "started_ms" : act == 4 ? "stopped_ms" : NULL;
	if (k)
		json_object_set_new(s, k, json_integer(t));
	json_t *p = json_object_get(json_object_get(ev, "unmapped"), "posture");
	if (act == 3 && p) { /* the posture it ran with */
		json_object_set(s, "layers", json_object_get(p, "layers"));
		json_object_set(s, "landlock_abi", json_object_get(p, "landlock_abi"));
		json_object_set(s, "seccomp", json_object_get(p, "seccomp_mode"));
		json_object_set(s, "uid_in_sandbox", json_object_get(p, "uid"));
	}
}

static void config(json_t *m, json_t *ev, const char *sbx)
{
	json_t *pol = json_object_get(ev, "policy");
	const char *author = str(ev, "actor.user.name");
	json_array_append_new(json_object_get(m, "policies"),
	                      json_pack("{sIssssssssssss}", "time_ms", num(ev, "time"), "sandbox", sbx ? sbx : "",
	                                "action", str(ev, "status_detail") ? str(ev, "status_detail") : "",
	                                "revision", str(pol, "version") ? str(pol, "version") : "",
	                                "sha256", str(pol, "uid") ? str(pol, "uid") : "",
	                                "source", str(pol, "data.source") ? str(pol, "data.source") : "",
	                                "author", author ? author : "not recorded"));
	json_object_set_new(json_array_get(json_object_get(m, "policies"),
	                                   json_array_size(json_object_get(m, "policies")) - 1),
	                    "message", json_string(str(ev, "message") ? str(ev, "message") : ""));
}

static void decision(json_t *m, json_t *ev, const char *sbx, bool http, int64_t t0, int64_t bucket_ms)
{
	json_int_t action = num(ev, "action_id");
	if (action != 1 && action != 2)
		return;
	if (!http && num(ev, "activity_id") == 2)
		return; /* the close of an allowed connection: counted at its open */
	bool allowed = action == 1;
	json_t *tot = json_object_get(m, "totals");
	if (http) {
		/* a request inside a connection the NET events already count */
		const char *hk = allowed ? "http_allowed" : "http_denied";
		json_object_set_new(tot, hk, json_integer(num(tot, hk) + 1));
		return;
	}
	const char *bin = str(ev, "actor.process.file.path");
	if (!bin)
		bin = str(ev, "actor.process.path");
	json_t *dst = json_object_get(ev, "dst_endpoint");
	const char *host = str(dst, "hostname") ? str(dst, "hostname") : str(dst, "ip");
	char d[300];
	snprintf(d, sizeof d, "%s:%lld", host ? host : "?", (long long)num(dst, "port"));
	char key[700];
	snprintf(key, sizeof key, "%s\x1f%s\x1f%s", sbx ? sbx : "", bin ? bin : "?", d);
	json_t *idx = json_object_get(m, "_dest_index"), *row = json_object_get(idx, key);
	if (!row) {
		row = json_pack("{sssssssIsI}", "sandbox", sbx ? sbx : "", "binary", bin ? bin : "?",
		                "destination", d, "allowed", (json_int_t)0, "denied", (json_int_t)0);
		json_array_append_new(json_object_get(m, "destinations"), row);
		json_object_set(idx, key, row);
	}
	const char *k = allowed ? "allowed" : "denied";
	json_object_set_new(row, k, json_integer(num(row, k) + 1));
	json_object_set_new(tot, k, json_integer(num(tot, k) + 1));
	if (!allowed) {
		json_t *td = json_object_get(m, "_top_denied");
		json_object_set_new(td, d, json_integer(num(td, d) + 1));
	}
	int64_t b = (num(ev, "time") - t0) / bucket_ms;
	if (b >= 0 && b < BUCKETS) {
		json_t *arr = json_object_get(json_object_get(m, "timeline"), k);
		json_array_set_new(arr, (size_t)b, json_integer(json_integer_value(json_array_get(arr, (size_t)b)) + 1));
	}
}

static void finding(json_t *m, json_t *ev, const char *sbx, const char *type)
{
	json_t *f = json_object_get(m, "findings"), *by = json_object_get(f, "by_type");
	json_object_set_new(by, type, json_integer(num(by, type) + 1));
	json_t *items = json_object_get(f, "items");
	if (json_array_size(items) < MAX_ITEMS)
		json_array_append_new(items, json_pack("{sIssssss}", "time_ms", num(ev, "time"), "sandbox",
		                                       sbx ? sbx : "", "type", type, "message",
		                                       str(ev, "message") ? str(ev, "message") : ""));
}

static void loss(json_t *m, json_t *ev)
{
	json_t *l = json_object_get(m, "loss");
	json_object_set_new(l, "lost", json_integer(num(l, "lost") + num(ev, "count")));
	json_t *items = json_object_get(l, "events");
	if (json_array_size(items) < MAX_ITEMS)
		json_array_append_new(items, json_pack("{sIsssIss}", "time_ms", num(ev, "time"), "log_name",
		                                       str(ev, "log_name") ? str(ev, "log_name") : "",
		                                       "count", num(ev, "count"), "message",
		                                       str(ev, "message") ? str(ev, "message") : ""));
}

static void integrity(json_t *m, const struct gb_report_opts *o)
{
	uint64_t segs = 0;
	int chain = gb_journal_verify(o->journal_dir, NULL, NULL, &segs);
	json_t *in = json_pack("{sisI}", "chain_problems", chain, "sealed_segments", (json_int_t)segs);
	EVP_PKEY *k = NULL;
	char err[256];
	if (o->pub_path && gb_ckpt_pub_load(o->pub_path, &k, err, sizeof err) == 0) {
		struct gb_ckpt_result r;
		int p = gb_ckpt_verify(o->journal_dir, k, o->since_ms, NULL, NULL, &r);
		if (p >= 0) {
			uint64_t proven = 0, unproven = 0, broken = 0;
			for (size_t i = 0; i < r.n_segs; i++) {
				const struct gb_ckpt_seg *g = &r.segs[i];
				broken += g->broken;
				uint64_t own = g->events > g->tail_ckpts ? g->events - g->tail_ckpts : 0;
				proven += g->seal_proven ? g->events : g->proven_events;
				if (!g->seal_proven && !g->broken && own > g->proven_events)
					unproven += own - g->proven_events;
			}
			json_object_set_new(in, "key_id", json_string(r.key_id));
			json_object_set_new(in, "checkpoint_problems", json_integer(p));
			json_object_set_new(in, "checkpoints_valid", json_integer((json_int_t)r.valid));
			json_object_set_new(in, "proven_events", json_integer((json_int_t)proven));
			json_object_set_new(in, "unproven_events", json_integer((json_int_t)unproven));
			json_object_set_new(in, "broken_segments", json_integer((json_int_t)broken));
			gb_ckpt_result_free(&r);
		}
		EVP_PKEY_free(k);
	} else
		json_object_set_new(in, "key_id", json_null());
	json_t *p = json_object_get(in, "checkpoint_problems");
	const char *res = chain < 0 ? "journal unreadable"
	                  : chain > 0 || (p && json_integer_value(p) > 0) ? "PROBLEMS FOUND"
	                  : !p ? "chain intact; signatures not checked (no key)"
	                  : num(in, "unproven_events") ? "intact; the newest events are not yet covered by a checkpoint"
	                  : "intact and every event proven by a signed checkpoint";
	json_object_set_new(in, "result", json_string(res));
	json_object_set_new(m, "integrity", in);
}

static int cmp_count(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "count"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "count"));
	return x < y ? 1 : x > y ? -1 : 0;
}

int gb_report_collect(const struct gb_report_opts *o, json_t **model, char *err, size_t errlen)
{
	int64_t now = gb_now_ms(CLOCK_REALTIME);
	int64_t until = o->until_ms ? o->until_ms : now, since = o->since_ms;
	struct gb_jfilter f = { .since_ms = since, .until_ms = o->until_ms };
	struct gb_jreader *r;
	int rc;
	if (!since) { /* the period starts at the first event */
		if ((rc = gb_jreader_open(o->journal_dir, &f, NULL, &r)) < 0)
			goto fail;
		const char *line;
		size_t len;
		struct gb_jmeta jm;
		char sb[64];
		if (gb_jreader_next(r, &line, &len, NULL) == 1 && gb_jmeta_parse(line, len, &jm, sb, sizeof sb) == 0)
			since = jm.time_ms;
		gb_jreader_close(r);
		if (!since)
			since = until;
	}
	int64_t bucket = (until - since) / BUCKETS + 1;
	json_t *m = json_pack("{ss sI sI sI ss so s[] s[] s[] s{sIsIsIsI} s{s{}s[]} s{sIs[]} s{} s{}}", "format",
	                      GB_REPORT_FORMAT, "generated_ms", (json_int_t)now, "since_ms", (json_int_t)since,
	                      "until_ms", (json_int_t)until, "host", o->hostname ? o->hostname : "",
	                      "sandbox_filter", o->sandbox ? json_string(o->sandbox) : json_null(),
	                      "sandboxes", "policies", "destinations", "totals", "allowed", (json_int_t)0,
	                      "denied", (json_int_t)0, "http_allowed", (json_int_t)0, "http_denied", (json_int_t)0, "findings", "by_type", "items", "loss", "lost",
	                      (json_int_t)0, "events", "_dest_index", "_top_denied");
	json_t *tl = json_pack("{sIsIs[]s[]}", "start_ms", (json_int_t)since, "bucket_ms", (json_int_t)bucket,
	                       "allowed", "denied");
	for (int i = 0; i < BUCKETS; i++) {
		json_array_append_new(json_object_get(tl, "allowed"), json_integer(0));
		json_array_append_new(json_object_get(tl, "denied"), json_integer(0));
	}
	json_object_set_new(m, "timeline", tl);
	f.sandbox = NULL; /* the sandbox filter is applied below: CONFIG events carry it too */
	if ((rc = gb_jreader_open(o->journal_dir, &f, NULL, &r)) < 0) {
		json_decref(m);
		goto fail;
	}
	const char *line;
	size_t len;
	uint64_t events = 0;
	while ((rc = gb_jreader_next(r, &line, &len, NULL)) == 1) {
		json_t *ev = json_loadb(line, len, 0, NULL);
		if (!ev)
			continue;
		const char *sbx = str(ev, "metadata.log_name");
		json_int_t cls = num(ev, "class_uid");
		if (cls == 6002 && !sbx)
			sbx = str(ev, "app.name");
		if (o->sandbox && (!sbx || strcmp(sbx, o->sandbox)) && cls != 1008) {
			json_decref(ev);
			continue;
		}
		events++;
		struct gb_ckpt c;
		switch (cls) {
		case 6002: lifecycle(m, ev); break;
		case 5019: config(m, ev, sbx); break;
		case 4001: decision(m, ev, sbx, false, since, bucket); break;
		case 4002: decision(m, ev, sbx, true, since, bucket); break;
		case 2004: {
			const char *type = str(ev, "status_detail");
			finding(m, ev, sbx, type ? type : "finding");
			break;
		}
		case 1007: {
			const char *msg = str(ev, "message");
			if (msg && (strstr(msg, "OOM") || strstr(msg, "oom")))
				finding(m, ev, sbx, "oom_kill");
			break;
		}
		case 1008:
			if (gb_ckpt_parse(line, len, &c) == 0 && (!o->sandbox || !str(ev, "log_name") ||
			                                          !strcmp(str(ev, "log_name"), o->sandbox) ||
			                                          !strcmp(str(ev, "log_name"), "glassbox")))
				loss(m, ev);
			break;
		}
		json_decref(ev);
	}
	gb_jreader_close(r);
	if (rc < 0) {
		json_decref(m);
		goto fail;
	}
	json_object_set_new(json_object_get(m, "totals"), "events", json_integer((json_int_t)events));
	/* top 10 denied destinations */
	json_t *td = json_object_get(m, "_top_denied"), *top = json_array();
	const char *k;
	json_t *v;
	json_object_foreach(td, k, v)
		json_array_append_new(top, json_pack("{sssO}", "destination", k, "count", v));
	size_t n = json_array_size(top);
	json_t **arr = n ? calloc(n, sizeof *arr) : NULL;
	for (size_t i = 0; i < n && arr; i++)
		arr[i] = json_array_get(top, i);
	if (arr)
		qsort(arr, n, sizeof *arr, cmp_count);
	json_t *top10 = json_array();
	for (size_t i = 0; i < n && i < 10 && arr; i++)
		json_array_append(top10, arr[i]);
	free(arr);
	json_decref(top);
	json_object_set_new(m, "top_denied", top10);
	json_object_del(m, "_top_denied");
	json_object_del(m, "_dest_index");
	integrity(m, o);
	*model = m;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", o->journal_dir, strerror(-rc));
	return rc;
}
