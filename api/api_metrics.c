/* api/api_metrics.c — GET /metrics, Prometheus text format 0.0.4.
 *
 * Counters by event content (decisions by sandbox, verdict, layer and
 * reason; events by class; LOSS events; policy changes) come from a tap:
 * one thread following the journal from the daemon's start, woken by the
 * journal writer (inotify), so they count what was journaled since then —
 * the usual meaning of a Prometheus counter, reset by a restart.  The rest
 * is read at scrape time: the daemon's ring and sink counters
 * (exporter/serve.h), the journal's files, the running sandboxes and their
 * policy revisions, and the API's own requests and latencies.
 *
 * Bounded: at most MAX_SERIES label sets; past that, new ones are counted
 * in glassbox_metrics_series_dropped_total instead. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/paths.h"
#include "api/api_int.h"
#include "api/control_client.h"
#include "common/buf.h"
#include "exporter/journal.h"
#include "exporter/config.h"
#include "exporter/serve.h"
#include "exporter/sink.h"

#define MAX_SERIES 4096

enum fam { F_DECISION, F_EVENT, F_LOSS, F_POLICY, N_FAM };

struct series {
	enum fam fam;
	char *labels; /* already rendered: a="x",b="y" */
	uint64_t n;
};

struct api_metrics {
	pthread_t th;
	int started;
	pthread_mutex_t mu;
	struct series *v;
	size_t n, cap;
	uint64_t dropped, tapped;
	struct gb_api *api;
};

static void esc(struct gb_buf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			gb_buf_putc(b, '\\');
		if (*s == '\n') {
			gb_buf_puts(b, "\\n");
			continue;
		}
		gb_buf_putc(b, *s);
	}
}

static void count(struct api_metrics *m, enum fam f, const char *labels)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].fam == f && !strcmp(m->v[i].labels, labels)) {
			m->v[i].n++;
			return;
		}
	if (m->n == MAX_SERIES) {
		m->dropped++;
		return;
	}
	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 64;
		struct series *nv = realloc(m->v, nc * sizeof *nv);
		if (!nv) {
			m->dropped++;
			return;
		}
		m->v = nv;
		m->cap = nc;
	}
	char *l = strdup(labels);
	if (!l) {
		m->dropped++;
		return;
	}
	m->v[m->n++] = (struct series){ f, l, 1 };
}

/* The value of "key": in one OCSF line, without parsing it: the tap sees
 * every event the daemon writes, and a full JSON parse of each would cost
 * more than journaling it.  Top-level keys come before nested objects in
 * the OCSF writer's output, so the first occurrence is the top-level one
 * (metadata.log_name is found by gb_jmeta_parse). */
static long num_of(const char *line, size_t len, const char *key)
{
	char k[48];
	int kl = snprintf(k, sizeof k, "\"%s\":", key);
	const char *p = memmem(line, len, k, (size_t)kl);
	return p ? strtol(p + kl, NULL, 10) : -1;
}

static void str_of(const char *line, size_t len, const char *key, char *out, size_t outlen)
{
	char k[48];
	int kl = snprintf(k, sizeof k, "\"%s\":\"", key);
	const char *p = memmem(line, len, k, (size_t)kl);
	out[0] = 0;
	if (!p)
		return;
	p += kl;
	size_t i = 0;
	const char *end = line + len;
	while (p < end && *p != '"' && *p != '\\' && i + 1 < outlen)
		out[i++] = *p++;
	out[i] = 0;
}

static void tap_event(struct api_metrics *m, const char *line, size_t len)
{
	char sbx[64], cname[64], detail[96];
	long cls = num_of(line, len, "class_uid"), act = num_of(line, len, "activity_id");
	if (cls < 0)
		return; /* not an OCSF event */
	str_of(line, len, "class_name", cname, sizeof cname);
	str_of(line, len, "status_detail", detail, sizeof detail);
	/* metadata.log_name: the only key of that name, and a value's quotes
	 * are escaped, so the text cannot spell it elsewhere */
	str_of(line, len, "log_name", sbx, sizeof sbx);
	const char *s = sbx;
	struct gb_buf l = GB_BUF_INIT;
	pthread_mutex_lock(&m->mu);
	m->tapped++;
	gb_buf_printf(&l, "class_uid=\"%ld\",class=\"", cls);
	esc(&l, cname[0] ? cname : "?");
	gb_buf_putc(&l, '"');
	count(m, F_EVENT, gb_buf_cstr(&l));
	/* A decision: a connection's OPEN/refusal (not its CLOSE) or an L7 request. */
	if ((cls == 4001 && act != 2) || cls == 4002) {
		long a = num_of(line, len, "action_id");
		l.len = 0;
		gb_buf_puts(&l, "sandbox=\"");
		esc(&l, s);
		gb_buf_printf(&l, "\",verdict=\"%s\",layer=\"%s\",reason=\"",
		              a == 1 ? "allow" : a == 2 ? "deny" : "other", cls == 4001 ? "L4" : "L7");
		esc(&l, detail[0] ? detail : (a == 1 ? "allowed" : "unknown"));
		gb_buf_putc(&l, '"');
		count(m, F_DECISION, gb_buf_cstr(&l));
	} else if (cls == 1008 || cls == 5019) {
		l.len = 0;
		gb_buf_puts(&l, "sandbox=\"");
		esc(&l, s);
		gb_buf_puts(&l, cls == 1008 ? "\",cause=\"" : "\",action=\"");
		esc(&l, detail[0] ? detail : "unknown");
		gb_buf_putc(&l, '"');
		count(m, cls == 1008 ? F_LOSS : F_POLICY, gb_buf_cstr(&l));
	}
	pthread_mutex_unlock(&m->mu);
	gb_buf_free(&l);
}

static void *tap(void *arg)
{
	struct api_metrics *m = arg;
	/* From the journal's end at start, unfiltered: a since= filter would
	 * make the reader parse every new line (jansson) only to learn its time,
	 * and the tap then scanned it again — two full parses per event, which
	 * under a burst (1 M events) kept a core busy for minutes and took it
	 * from the API's queries.  No journal yet: everything is new. */
	struct gb_jpos from;
	bool placed = gb_journal_tail(m->api->journal_dir, &from) == 0;
	struct gb_jreader *r = NULL;
	while (!atomic_load(&m->api->stopping)) {
		if (!r && gb_jreader_open(m->api->journal_dir, NULL, placed ? &from : NULL, &r) < 0) {
			r = NULL;
			struct timespec d = { 0, 500000000 };
			nanosleep(&d, NULL);
			continue;
		}
		const char *line;
		size_t len;
		int rc = gb_jreader_next(r, &line, &len, NULL);
		if (rc == 1) {
			tap_event(m, line, len);
			continue;
		}
		if (rc == 2)
			continue; /* damage skipped (a LOSS line): no event of a sandbox */
		if (rc < 0) { /* an I/O error (damage is rc 2): again from where it was, after a pause */
			from = gb_jreader_tell(r);
			placed = true;
			gb_jreader_close(r);
			r = NULL;
			struct timespec d = { 0, 100000000 };
			nanosleep(&d, NULL);
			continue;
		}
		gb_jreader_wait(r, 500);
	}
	gb_jreader_close(r);
	return NULL;
}

int api_metrics_start(struct gb_api *a)
{
	struct api_metrics *m = calloc(1, sizeof *m);
	if (!m)
		return -ENOMEM;
	m->api = a;
	pthread_mutex_init(&m->mu, NULL);
	if (pthread_create(&m->th, NULL, tap, m) == 0)
		m->started = 1;
	a->metrics = m;
	return 0;
}

void api_metrics_stop(struct gb_api *a)
{
	struct api_metrics *m = a->metrics;
	if (!m)
		return;
	if (m->started)
		pthread_join(m->th, NULL);
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].labels);
	free(m->v);
	pthread_mutex_destroy(&m->mu);
	free(m);
	a->metrics = NULL;
}

void api_metrics_sandbox(struct gb_api *a, const char *name, uint64_t *allowed, uint64_t *denied)
{
	struct api_metrics *m = a->metrics;
	*allowed = *denied = 0;
	if (!m)
		return;
	char pa[128], pd[128];
	snprintf(pa, sizeof pa, "sandbox=\"%s\",verdict=\"allow\",", name);
	snprintf(pd, sizeof pd, "sandbox=\"%s\",verdict=\"deny\",", name);
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < m->n; i++) {
		if (m->v[i].fam != F_DECISION)
			continue;
		if (!strncmp(m->v[i].labels, pa, strlen(pa)))
			*allowed += m->v[i].n;
		else if (!strncmp(m->v[i].labels, pd, strlen(pd)))
			*denied += m->v[i].n;
	}
	pthread_mutex_unlock(&m->mu);
}

/* ---------------- scrape ---------------- */

static void head(struct gb_buf *b, const char *name, const char *type, const char *help)
{
	gb_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void journal_files(const char *dir, uint64_t *bytes, uint64_t *segments)
{
	*bytes = *segments = 0;
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.' || strlen(e->d_name) != 10)
			continue; /* day directories YYYY-MM-DD */
		char p[4400];
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		DIR *dd = opendir(p);
		for (struct dirent *f; dd && (f = readdir(dd));) {
			size_t l = strlen(f->d_name);
			int seg = (l > 6 && !strcmp(f->d_name + l - 6, ".jsonl")) ||
			          (l > 10 && !strcmp(f->d_name + l - 10, ".jsonl.zst"));
			if (!seg)
				continue;
			char fp[4700];
			struct stat st;
			snprintf(fp, sizeof fp, "%s/%s", p, f->d_name);
			if (stat(fp, &st) == 0) {
				*bytes += (uint64_t)st.st_size;
				++*segments;
			}
		}
		if (dd)
			closedir(dd);
	}
	if (d)
		closedir(d);
}

static void sandboxes(struct gb_api *a, struct gb_buf *b)
{
	head(b, "glassbox_sandboxes_running", "gauge", "Sandboxes whose supervisor is alive.");
	struct gb_buf rev = GB_BUF_INIT;
	size_t live = 0;
	DIR *d = opendir(a->runtime_dir);
	for (struct dirent *e; d && (e = readdir(d));) {
		long pid;
		if (!gb_sandbox_name_valid(e->d_name) || !api_sandbox_alive(a, e->d_name, &pid))
			continue;
		live++;
		json_t *req = json_pack("{s:s}", "op", "get"), *resp = NULL;
		char err[256];
		if (gb_ctl_call(a->has_root ? a->root : NULL, e->d_name, req, &resp, err, sizeof err) ==
		        0 && json_is_true(json_object_get(resp, "ok")))
			gb_buf_printf(&rev, "glassbox_policy_revision{sandbox=\"%s\"} %lld\n", e->d_name,
			              (long long)json_integer_value(json_object_get(resp, "revision")));
		json_decref(req);
		json_decref(resp);
	}
	if (d)
		closedir(d);
	gb_buf_printf(b, "glassbox_sandboxes_running %zu\n", live);
	head(b, "glassbox_policy_revision", "gauge", "The running policy revision of each sandbox.");
	gb_buf_append(b, rev.data ? rev.data : "", rev.len);
	gb_buf_free(&rev);
}

static const char *const fam_name[N_FAM] = {
	"glassbox_decisions_total", "glassbox_events_total", "glassbox_loss_events_total",
	"glassbox_policy_changes_total",
};
static const char *const fam_help[N_FAM] = {
	"Connection (L4) and request (L7) decisions journaled since the daemon started.",
	"Events journaled since the daemon started, by OCSF class.",
	"LOSS events (records that never reached the journal) since the daemon started.",
	"Policy changes (CONFIG events: loaded, updated, refused) since the daemon started.",
};

enum MHD_Result api_metrics(struct api_req *r)
{
	struct gb_api *a = r->api;
	struct gb_buf b = GB_BUF_INIT;
	struct api_metrics *m = a->metrics;
	if (m) {
		pthread_mutex_lock(&m->mu);
		for (int f = 0; f < N_FAM; f++) {
			head(&b, fam_name[f], "counter", fam_help[f]);
			for (size_t i = 0; i < m->n; i++)
				if (m->v[i].fam == (enum fam)f)
					gb_buf_printf(&b, "%s{%s} %llu\n", fam_name[f], m->v[i].labels,
					              (unsigned long long)m->v[i].n);
		}
		head(&b, "glassbox_metrics_series_dropped_total", "counter",
		     "Label sets not tracked because the series limit was reached.");
		gb_buf_printf(&b, "glassbox_metrics_series_dropped_total %llu\n",
		              (unsigned long long)m->dropped);
		pthread_mutex_unlock(&m->mu);
	}
	if (a->serve) {
		struct gb_serve_stats st;
		gb_serve_stats(a->serve, &st);
		head(&b, "glassbox_ring_records_lost_total", "counter",
		     "Records the sandboxes' rings reported lost (full ring, abandoned reservation).");
		gb_buf_printf(&b, "glassbox_ring_records_lost_total %llu\n", (unsigned long long)st.lost);
		head(&b, "glassbox_exporter_events_total", "counter", "Events the exporter appended to the journal.");
		gb_buf_printf(&b, "glassbox_exporter_events_total %llu\n", (unsigned long long)st.events);
		head(&b, "glassbox_exporter_errors_total", "counter", "Records that could not be decoded or written.");
		gb_buf_printf(&b, "glassbox_exporter_errors_total %llu\n", (unsigned long long)st.errors);
		head(&b, "glassbox_rings_attached", "gauge", "Rings the exporter is draining now.");
		gb_buf_printf(&b, "glassbox_rings_attached %llu\n", (unsigned long long)st.active);
		struct gb_sink_metrics sm[GB_MAX_SINKS];
		size_t n = gb_serve_sink_metrics(a->serve, sm, GB_MAX_SINKS);
		static const char *const sk[] = { "sent", "failed", "retried" };
		for (int k = 0; k < 3; k++) {
			char nm[64];
			snprintf(nm, sizeof nm, "glassbox_sink_%s_total", sk[k]);
			head(&b, nm, "counter", k == 0 ? "Events a sink delivered (acknowledged)."
			                       : k == 1 ? "Deliveries that failed." : "Deliveries retried.");
			for (size_t i = 0; i < n; i++) {
				uint64_t v = k == 0 ? sm[i].sent : k == 1 ? sm[i].failed : sm[i].retried;
				gb_buf_printf(&b, "%s{sink=\"", nm);
				esc(&b, sm[i].name);
				gb_buf_printf(&b, "\"} %llu\n", (unsigned long long)v);
			}
		}
		head(&b, "glassbox_sink_lag_bytes", "gauge", "Journal bytes a sink has not delivered yet.");
		for (size_t i = 0; i < n; i++) {
			gb_buf_puts(&b, "glassbox_sink_lag_bytes{sink=\"");
			esc(&b, sm[i].name);
			gb_buf_printf(&b, "\"} %llu\n", (unsigned long long)sm[i].lag_bytes);
		}
	}
	uint64_t jb, js;
	journal_files(a->journal_dir, &jb, &js);
	head(&b, "glassbox_journal_bytes", "gauge", "Bytes of journal segments on disk.");
	gb_buf_printf(&b, "glassbox_journal_bytes %llu\n", (unsigned long long)jb);
	head(&b, "glassbox_journal_segments", "gauge", "Journal segments on disk (active and sealed).");
	gb_buf_printf(&b, "glassbox_journal_segments %llu\n", (unsigned long long)js);
	sandboxes(a, &b);
	head(&b, "glassbox_api_requests_total", "counter", "API requests answered, by status class.");
	static const char *const cl[] = { "2xx", "3xx", "4xx", "5xx", "other" };
	for (int i = 0; i < 5; i++)
		gb_buf_printf(&b, "glassbox_api_requests_total{code=\"%s\"} %llu\n", cl[i],
		              (unsigned long long)atomic_load(&a->requests[i]));
	head(&b, "glassbox_api_request_duration_seconds", "histogram",
	     "Time from a request's first byte to its completion (follow streams included).");
	static const char *const le[] = { "0.001", "0.005", "0.01", "0.05", "0.1", "0.5", "1", "+Inf" };
	uint64_t cum = 0;
	for (int i = 0; i < 8; i++) {
		cum += atomic_load(&a->latency_buckets[i]);
		gb_buf_printf(&b, "glassbox_api_request_duration_seconds_bucket{le=\"%s\"} %llu\n", le[i],
		              (unsigned long long)cum);
	}
	gb_buf_printf(&b, "glassbox_api_request_duration_seconds_sum %.6f\n",
	              (double)atomic_load(&a->latency_us_sum) / 1e6);
	gb_buf_printf(&b, "glassbox_api_request_duration_seconds_count %llu\n", (unsigned long long)cum);
	head(&b, "glassbox_api_follow_streams", "gauge", "Clients following logs now.");
	gb_buf_printf(&b, "glassbox_api_follow_streams %llu\n",
	              (unsigned long long)atomic_load(&a->follows));
	if (b.err) {
		gb_buf_free(&b);
		return api_error(r, 500, "internal", "out of memory");
	}
	return api_queue(r, 200, b.data, b.len, "text/plain; version=0.0.4; charset=utf-8");
}
