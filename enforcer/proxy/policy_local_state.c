/* enforcer/proxy/policy_local_state.c — what http://policy.local remembers
 * (policy_local_int.h): this sandbox's recent denials and the agent's
 * proposals.  A denial is copied when its record leaves the proxy, so the
 * list is exactly what was recorded; query values are redacted here again
 * (records keep some short values, the agent gets keys only). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/buf.h"
#include "enforcer/proxy/policy_local_int.h"

struct pl_denial {
	uint64_t ts_ns, conn_id;
	bool l7;
	unsigned port;
	char binary[256];
	char host[256];
	char method[16];
	char target[600]; /* path?redacted-query */
	char reason[32];
	char detail[300];
	char entry[128];
};

struct pl_state {
	pthread_mutex_t mu;
	struct pl_denial d[GB_PL_DENIALS];
	size_t d_next, d_n;
	struct pl_prop p[GB_PL_PROPOSALS];
	size_t p_next, p_n;
};

bool gb_policy_local_host(const char *host)
{
	size_t n = strlen(host), k = strlen(GB_POLICY_LOCAL_HOST);
	if (n == k + 1 && host[k] == '.')
		n = k;
	return n == k && !strncasecmp(host, GB_POLICY_LOCAL_HOST, k);
}

void gb_pl_redact(const char *path, const char *query, char *out, size_t n)
{
	size_t o = (size_t)snprintf(out, n, "%s", path ? path : "");
	if (o >= n || !query || !*query)
		return;
	for (const char *s = query; *s;) {
		const char *amp = strchr(s, '&'), *end = amp ? amp : s + strlen(s);
		const char *eq = memchr(s, '=', (size_t)(end - s));
		size_t kl = (size_t)((eq ? eq : end) - s);
		if (o + kl + 6 >= n)
			break;
		out[o++] = s == query ? '?' : '&';
		memcpy(out + o, s, kl);
		o += kl;
		if (eq) {
			memcpy(out + o, "=***", 4);
			o += 4;
		}
		out[o] = '\0';
		s = amp ? amp + 1 : end;
	}
}

struct pl_state *pl_state_new(void)
{
	struct pl_state *s = calloc(1, sizeof *s);
	if (s)
		pthread_mutex_init(&s->mu, NULL);
	return s;
}

void pl_state_free(struct pl_state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < GB_PL_PROPOSALS; i++)
		free(s->p[i].yaml);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

void pl_note(struct pl_state *s, const struct gb_record *r)
{
	const struct gb_endpoint *dst;
	const struct gb_identity *id;
	int reason;
	uint64_t conn;
	if (r->type == GB_REC_NET_DECISION) {
		const struct gb_net_decision *n = &r->u.net;
		if (n->phase != GB_NET_OPEN || n->verdict != GB_VERDICT_DENY)
			return;
		dst = &n->dst, id = &n->id, reason = n->reason, conn = n->conn_id;
	} else if (r->type == GB_REC_HTTP_DECISION) {
		const struct gb_http_decision *h = &r->u.http;
		if (h->verdict != GB_VERDICT_DENY)
			return;
		dst = &h->dst, id = &h->id, reason = h->reason, conn = h->conn_id;
	} else {
		return;
	}
	if (dst->host && (gb_policy_local_host(dst->host) || !strcasecmp(dst->host, "inference.local")))
		return; /* the proxy's own answers are not policy denials */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	pthread_mutex_lock(&s->mu);
	struct pl_denial *d = NULL;
	if (r->type == GB_REC_HTTP_DECISION && s->d_n) {
		/* a plain-HTTP refusal is a NET and an HTTP record: one denial */
		struct pl_denial *last = &s->d[(s->d_next + GB_PL_DENIALS - 1) % GB_PL_DENIALS];
		if (last->conn_id == conn && !last->method[0])
			d = last;
	}
	if (!d) {
		d = &s->d[s->d_next];
		s->d_next = (s->d_next + 1) % GB_PL_DENIALS;
		if (s->d_n < GB_PL_DENIALS)
			s->d_n++;
		memset(d, 0, sizeof *d);
	}
	d->ts_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	d->conn_id = conn;
	d->port = dst->port;
	copy(d->host, sizeof d->host, dst->host);
	copy(d->binary, sizeof d->binary, id->exe);
	copy(d->reason, sizeof d->reason, gb_reason_name(reason));
	if (r->type == GB_REC_NET_DECISION) {
		copy(d->detail, sizeof d->detail, r->u.net.reason_text);
		copy(d->entry, sizeof d->entry, r->u.net.policy_entry);
	} else {
		const struct gb_http_decision *h = &r->u.http;
		d->l7 = h->tls != GB_HTTP_TLS_NONE || !strcmp(h->scheme ? h->scheme : "", "https");
		copy(d->method, sizeof d->method, h->method);
		gb_pl_redact(h->path, h->query, d->target, sizeof d->target);
		copy(d->detail, sizeof d->detail, h->reason_text);
		copy(d->entry, sizeof d->entry, h->policy_entry);
	}
	pthread_mutex_unlock(&s->mu);
}

json_t *pl_denials_json(struct pl_state *s, unsigned last)
{
	json_t *a = json_array();
	pthread_mutex_lock(&s->mu);
	size_t n = s->d_n < last ? s->d_n : last;
	for (size_t i = 0; i < n; i++) {
		const struct pl_denial *d = &s->d[(s->d_next + GB_PL_DENIALS - 1 - i) % GB_PL_DENIALS];
		json_t *o = json_pack("{s:I, s:s, s:s, s:i, s:s, s:s, s:s}", "time_ns",
		                      (json_int_t)d->ts_ns, "layer", d->method[0] ? "l7" : "l4",
		                      "host", d->host, "port", (int)d->port, "binary", d->binary,
		                      "reason", d->reason, "detail", d->detail);
		if (o && d->method[0]) {
			json_object_set_new(o, "method", json_string(d->method));
			json_object_set_new(o, "path", json_string(d->target));
		}
		if (o && d->entry[0])
			json_object_set_new(o, "policy", json_string(d->entry));
		if (o)
			json_array_append_new(a, o);
	}
	pthread_mutex_unlock(&s->mu);
	return a;
}

void pl_prop_add(struct pl_state *s, const char *id, const char *key, const char *sha,
                 const char *yaml)
{
	char *y = strdup(yaml);
	if (!y)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	pthread_mutex_lock(&s->mu);
	struct pl_prop *p = NULL;
	for (size_t i = 0; i < s->p_n && !p; i++)
		if (!strcmp(s->p[i].id, id))
			p = &s->p[i];
	if (!p) {
		p = &s->p[s->p_next];
		s->p_next = (s->p_next + 1) % GB_PL_PROPOSALS;
		if (s->p_n < GB_PL_PROPOSALS)
			s->p_n++;
	}
	free(p->yaml);
	copy(p->id, sizeof p->id, id);
	copy(p->key, sizeof p->key, key);
	copy(p->sha, sizeof p->sha, sha);
	p->yaml = y;
	p->created_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	pthread_mutex_unlock(&s->mu);
}

int pl_prop_get(struct pl_state *s, const char *id, struct pl_prop *out)
{
	int rc = -ENOENT;
	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->p_n; i++)
		if (!strcmp(s->p[i].id, id)) {
			*out = s->p[i];
			out->yaml = strdup(s->p[i].yaml);
			rc = out->yaml ? 0 : -ENOMEM;
			break;
		}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void pl_prop_clear(struct pl_prop *p)
{
	free(p->yaml);
	p->yaml = NULL;
}
