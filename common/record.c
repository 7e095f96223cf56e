/* common/record.c — binary encoding of the event records (contract:
 * record.h; the wire layout is below and in docs/architecture.md,
 * "Records").
 *
 * Layout: u8 version, then the fields of the type in declaration order.
 * Integers little-endian; strings as u16 length, bytes, NUL; lists as a
 * count (u8) then elements.  The decoder checks every length against what
 * is left, every string for its terminating NUL and for embedded NULs, every
 * count against its limit, and that nothing is left over. */
#include "common/record.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* ---------------- writer ---------------- */

struct wr {
	unsigned char *p;
	size_t cap, len;
	bool full;
	uint16_t flags;
};

static void put(struct wr *w, const void *v, size_t n)
{
	if (w->full || n > w->cap - w->len) {
		w->full = true;
		return;
	}
	memcpy(w->p + w->len, v, n);
	w->len += n;
}

static void put_u8(struct wr *w, uint8_t v)
{
	put(w, &v, 1);
}

static void put_u16(struct wr *w, uint16_t v)
{
	unsigned char b[2] = { (unsigned char)v, (unsigned char)(v >> 8) };
	put(w, b, 2);
}

static void put_u32(struct wr *w, uint32_t v)
{
	unsigned char b[4];
	for (int i = 0; i < 4; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	put(w, b, 4);
}

static void put_u64(struct wr *w, uint64_t v)
{
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	put(w, b, 8);
}

static void put_str(struct wr *w, const char *s)
{
	if (!s)
		s = "";
	size_t n = strlen(s);
	if (n > GB_STR_MAX) {
		n = GB_STR_MAX;
		w->flags |= GB_RECF_TRUNCATED;
	}
	put_u16(w, (uint16_t)n);
	put(w, s, n);
	put_u8(w, 0);
}

static void put_endpoint(struct wr *w, const struct gb_endpoint *e)
{
	put_str(w, e->host);
	put_str(w, e->ip);
	put_u16(w, e->port);
}

static void put_identity(struct wr *w, const struct gb_identity *id)
{
	uint32_t n = id->n_ancestors;
	uint32_t flags = id->flags;
	if (n > GB_MAX_ANCESTORS) {
		n = GB_MAX_ANCESTORS;
		flags |= GB_ID_ANCESTORS_CUT;
		w->flags |= GB_RECF_TRUNCATED;
	}
	put_u32(w, (uint32_t)id->pid);
	put_u32(w, id->uid);
	put_u32(w, flags);
	put_str(w, id->exe);
	put_str(w, id->sha256);
	put_str(w, id->script);
	put_u8(w, (uint8_t)n);
	for (uint32_t i = 0; i < n; i++) {
		put_u32(w, (uint32_t)id->ancestor_pids[i]);
		put_str(w, id->ancestors[i]);
	}
}

int gb_rec_encode(const struct gb_record *rec, void *buf, size_t cap, uint16_t *flags_out)
{
	struct wr w = { .p = buf, .cap = cap };
	put_u8(&w, GB_RECORD_VERSION);
	switch (rec->type) {
	case GB_REC_NET_DECISION: {
		const struct gb_net_decision *n = &rec->u.net;
		put_u8(&w, n->phase);
		put_u8(&w, n->kind);
		put_u8(&w, n->verdict);
		put_u8(&w, n->ssrf_tier);
		put_u8(&w, n->inspected);
		put_u16(&w, n->reason);
		put_u64(&w, n->conn_id);
		put_u64(&w, n->policy_rev);
		put_u64(&w, n->bytes_up);
		put_u64(&w, n->bytes_down);
		put_u64(&w, n->duration_ns);
		put_endpoint(&w, &n->src);
		put_endpoint(&w, &n->dst);
		put_identity(&w, &n->id);
		put_str(&w, n->reason_text);
		put_str(&w, n->policy_entry);
		put_str(&w, n->endpoint);
		break;
	}
	case GB_REC_HTTP_DECISION: {
		const struct gb_http_decision *h = &rec->u.http;
		put_u8(&w, h->verdict);
		put_u8(&w, h->mode);
		put_u16(&w, h->reason);
		put_u16(&w, h->status);
		put_u64(&w, h->conn_id);
		put_u64(&w, h->policy_rev);
		put_endpoint(&w, &h->src);
		put_endpoint(&w, &h->dst);
		put_identity(&w, &h->id);
		put_str(&w, h->method);
		put_str(&w, h->scheme);
		put_str(&w, h->path);
		put_str(&w, h->query);
		put_str(&w, h->rule);
		put_str(&w, h->reason_text);
		put_str(&w, h->policy_entry);
		put_u64(&w, h->bytes_req);
		put_u64(&w, h->bytes_resp);
		put_u64(&w, h->latency_ns);
		put_u8(&w, h->tls);
		put_str(&w, h->sni);
		put_str(&w, h->tls_version);
		put_str(&w, h->credentials);
		if (h->ai_provider && *h->ai_provider) { /* optional tail: inference.local */
			put_str(&w, h->ai_provider);
			put_str(&w, h->ai_type);
			put_str(&w, h->ai_model);
			put_u64(&w, h->ai_ttfb_ns);
			put_u64(&w, (uint64_t)h->ai_tokens_in);
			put_u64(&w, (uint64_t)h->ai_tokens_out);
			put_u8(&w, h->ai_stream);
		}
		break;
	}
	case GB_REC_PROC: {
		const struct gb_proc *p = &rec->u.proc;
		uint32_t argc = p->argc;
		if (argc > GB_MAX_ARGV) {
			argc = GB_MAX_ARGV;
			w.flags |= GB_RECF_TRUNCATED;
		}
		put_u8(&w, p->activity);
		put_u32(&w, (uint32_t)p->pid);
		put_u32(&w, (uint32_t)p->ppid);
		put_u32(&w, p->uid);
		put_u32(&w, p->gid);
		put_u32(&w, (uint32_t)p->exit_code);
		put_u32(&w, (uint32_t)p->signal);
		put_u64(&w, p->duration_ns);
		put_str(&w, p->exe);
		put_str(&w, p->sha256);
		put_str(&w, p->detail);
		put_u8(&w, (uint8_t)argc);
		for (uint32_t i = 0; i < argc; i++)
			put_str(&w, p->argv[i]);
		put_u32(&w, (uint32_t)p->supervisor_pid);
		break;
	}
	case GB_REC_FINDING: {
		const struct gb_finding *f = &rec->u.finding;
		put_u16(&w, f->kind);
		put_u8(&w, f->severity);
		put_u8(&w, f->has_identity ? 1 : 0);
		if (f->has_identity)
			put_identity(&w, &f->id);
		put_str(&w, f->title);
		put_str(&w, f->detail);
		put_str(&w, f->subject);
		break;
	}
	case GB_REC_CONFIG: {
		const struct gb_config *c = &rec->u.config;
		put_u8(&w, c->action);
		put_u64(&w, c->revision);
		put_str(&w, c->sha256);
		put_str(&w, c->source);
		put_str(&w, c->detail);
		break;
	}
	case GB_REC_LIFECYCLE: {
		const struct gb_lifecycle *l = &rec->u.lifecycle;
		put_u8(&w, l->activity);
		put_u32(&w, l->layers);
		put_u32(&w, l->landlock_abi);
		put_u32(&w, l->uid);
		put_u32(&w, l->gid);
		put_str(&w, l->sandbox_name);
		put_str(&w, l->landlock_rights);
		put_str(&w, l->seccomp_mode);
		put_str(&w, l->detail);
		if (l->memory_max || l->pids_max || l->nofile || l->cpu_milli) { /* optional tail */
			put_u64(&w, l->memory_max);
			put_u64(&w, l->pids_max);
			put_u64(&w, l->nofile);
			put_u32(&w, l->cpu_milli);
		}
		break;
	}
	case GB_REC_LOSS: {
		const struct gb_loss *l = &rec->u.loss;
		put_u8(&w, l->cause);
		put_u64(&w, l->count);
		put_u64(&w, l->first_seq);
		put_u64(&w, l->last_seq);
		put_str(&w, l->detail);
		break;
	}
	default:
		return -EINVAL;
	}
	if (w.full)
		return -ENOSPC;
	if (flags_out)
		*flags_out = w.flags;
	return (int)w.len;
}

/* ---------------- reader ---------------- */

struct rd {
	const unsigned char *p;
	size_t len, off;
	bool bad;
};

static const unsigned char *take(struct rd *r, size_t n)
{
	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		return NULL;
	}
	const unsigned char *v = r->p + r->off;
	r->off += n;
	return v;
}

static uint8_t get_u8(struct rd *r)
{
	const unsigned char *b = take(r, 1);
	return b ? b[0] : 0;
}

static uint16_t get_u16(struct rd *r)
{
	const unsigned char *b = take(r, 2);
	return b ? (uint16_t)(b[0] | b[1] << 8) : 0;
}

static uint32_t get_u32(struct rd *r)
{
	const unsigned char *b = take(r, 4);
	uint32_t v = 0;
	for (int i = 0; b && i < 4; i++)
		v |= (uint32_t)b[i] << (8 * i);
	return v;
}

static uint64_t get_u64(struct rd *r)
{
	const unsigned char *b = take(r, 8);
	uint64_t v = 0;
	for (int i = 0; b && i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static const char *get_str(struct rd *r)
{
	uint16_t n = get_u16(r);
	if (n > GB_STR_MAX) {
		r->bad = true;
		return "";
	}
	const unsigned char *s = take(r, (size_t)n + 1);
	if (!s || s[n] != 0 || memchr(s, 0, n)) {
		r->bad = true;
		return "";
	}
	return (const char *)s;
}

static void get_endpoint(struct rd *r, struct gb_endpoint *e)
{
	e->host = get_str(r);
	e->ip = get_str(r);
	e->port = get_u16(r);
}

static void get_identity(struct rd *r, struct gb_identity *id)
{
	id->pid = (int32_t)get_u32(r);
	id->uid = get_u32(r);
	id->flags = get_u32(r);
	id->exe = get_str(r);
	id->sha256 = get_str(r);
	id->script = get_str(r);
	uint8_t n = get_u8(r);
	if (n > GB_MAX_ANCESTORS) {
		r->bad = true;
		n = 0;
	}
	id->n_ancestors = n;
	for (uint8_t i = 0; i < n; i++) {
		id->ancestor_pids[i] = (int32_t)get_u32(r);
		id->ancestors[i] = get_str(r);
	}
}

int gb_rec_decode(int type, const void *payload, size_t len, struct gb_record *out)
{
	struct rd r = { .p = payload, .len = len };
	if (!payload || get_u8(&r) != GB_RECORD_VERSION)
		return -EBADMSG;
	memset(&out->u, 0, sizeof out->u);
	switch (type) {
	case GB_REC_NET_DECISION: {
		struct gb_net_decision *n = &out->u.net;
		n->phase = get_u8(&r);
		n->kind = get_u8(&r);
		n->verdict = get_u8(&r);
		n->ssrf_tier = get_u8(&r);
		n->inspected = get_u8(&r);
		n->reason = get_u16(&r);
		n->conn_id = get_u64(&r);
		n->policy_rev = get_u64(&r);
		n->bytes_up = get_u64(&r);
		n->bytes_down = get_u64(&r);
		n->duration_ns = get_u64(&r);
		get_endpoint(&r, &n->src);
		get_endpoint(&r, &n->dst);
		get_identity(&r, &n->id);
		n->reason_text = get_str(&r);
		n->policy_entry = get_str(&r);
		n->endpoint = get_str(&r);
		break;
	}
	case GB_REC_HTTP_DECISION: {
		struct gb_http_decision *h = &out->u.http;
		h->verdict = get_u8(&r);
		h->mode = get_u8(&r);
		h->reason = get_u16(&r);
		h->status = get_u16(&r);
		h->conn_id = get_u64(&r);
		h->policy_rev = get_u64(&r);
		get_endpoint(&r, &h->src);
		get_endpoint(&r, &h->dst);
		get_identity(&r, &h->id);
		h->method = get_str(&r);
		h->scheme = get_str(&r);
		h->path = get_str(&r);
		h->query = get_str(&r);
		h->rule = get_str(&r);
		h->reason_text = get_str(&r);
		h->policy_entry = get_str(&r);
		h->bytes_req = get_u64(&r);
		h->bytes_resp = get_u64(&r);
		h->latency_ns = get_u64(&r);
		h->tls = get_u8(&r);
		h->sni = get_str(&r);
		h->tls_version = get_str(&r);
		h->credentials = get_str(&r);
		h->ai_provider = h->ai_type = h->ai_model = "";
		h->ai_tokens_in = h->ai_tokens_out = -1;
		if (r.off < r.len) { /* the inference tail */
			h->ai_provider = get_str(&r);
			h->ai_type = get_str(&r);
			h->ai_model = get_str(&r);
			h->ai_ttfb_ns = get_u64(&r);
			h->ai_tokens_in = (int64_t)get_u64(&r);
			h->ai_tokens_out = (int64_t)get_u64(&r);
			h->ai_stream = get_u8(&r);
			if (!*h->ai_provider)
				r.bad = true; /* a tail is written only with a provider */
		}
		break;
	}
	case GB_REC_PROC: {
		struct gb_proc *p = &out->u.proc;
		p->activity = get_u8(&r);
		p->pid = (int32_t)get_u32(&r);
		p->ppid = (int32_t)get_u32(&r);
		p->uid = get_u32(&r);
		p->gid = get_u32(&r);
		p->exit_code = (int32_t)get_u32(&r);
		p->signal = (int32_t)get_u32(&r);
		p->duration_ns = get_u64(&r);
		p->exe = get_str(&r);
		p->sha256 = get_str(&r);
		p->detail = get_str(&r);
		uint8_t argc = get_u8(&r);
		if (argc > GB_MAX_ARGV) {
			r.bad = true;
			argc = 0;
		}
		p->argc = argc;
		for (uint8_t i = 0; i < argc; i++)
			p->argv[i] = get_str(&r);
		if (!r.bad && r.off < r.len)
			p->supervisor_pid = (int32_t)get_u32(&r);
		break;
	}
	case GB_REC_FINDING: {
		struct gb_finding *f = &out->u.finding;
		f->kind = get_u16(&r);
		f->severity = get_u8(&r);
		uint8_t has = get_u8(&r);
		if (has > 1)
			r.bad = true;
		f->has_identity = has;
		if (has)
			get_identity(&r, &f->id);
		else
			f->id.exe = f->id.sha256 = f->id.script = "";
		f->title = get_str(&r);
		f->detail = get_str(&r);
		f->subject = get_str(&r);
		break;
	}
	case GB_REC_CONFIG: {
		struct gb_config *c = &out->u.config;
		c->action = get_u8(&r);
		c->revision = get_u64(&r);
		c->sha256 = get_str(&r);
		c->source = get_str(&r);
		c->detail = get_str(&r);
		break;
	}
	case GB_REC_LIFECYCLE: {
		struct gb_lifecycle *l = &out->u.lifecycle;
		l->activity = get_u8(&r);
		l->layers = get_u32(&r);
		l->landlock_abi = get_u32(&r);
		l->uid = get_u32(&r);
		l->gid = get_u32(&r);
		l->sandbox_name = get_str(&r);
		l->landlock_rights = get_str(&r);
		l->seccomp_mode = get_str(&r);
		l->detail = get_str(&r);
		if (r.off < r.len) { /* the limits tail */
			l->memory_max = get_u64(&r);
			l->pids_max = get_u64(&r);
			l->nofile = get_u64(&r);
			l->cpu_milli = get_u32(&r);
		}
		break;
	}
	case GB_REC_LOSS: {
		struct gb_loss *l = &out->u.loss;
		l->cause = get_u8(&r);
		l->count = get_u64(&r);
		l->first_seq = get_u64(&r);
		l->last_seq = get_u64(&r);
		l->detail = get_str(&r);
		break;
	}
	default:
		return -EBADMSG;
	}
	if (r.bad || r.off != r.len)
		return -EBADMSG; /* truncated, malformed, or trailing bytes */
	out->type = (uint16_t)type;
	return 0;
}
