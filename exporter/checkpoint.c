/* exporter/checkpoint.c — one checkpoint: the bytes signed, the signature,
 * and the OCSF event that carries it (contract: checkpoint.h).
 *
 * What is signed is a small text, not the JSON event: JSON has many
 * spellings of one object (key order, escapes, number forms), and a
 * verifier must rebuild the signed bytes exactly from what a sink
 * delivered, whatever it did to the layout.  The text has one spelling
 * per checkpoint.
 *
 * The event: Event Log Activity 1008 (the class of things that happen to
 * the log itself, as LOSS is), activity 99 "Checkpoint", Informational,
 * Success; the fields live in unmapped.checkpoint because OCSF has no
 * attribute for a signed log digest. */
#include "exporter/checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "common/fsutil.h"
#include "exporter/ocsf_int.h"

static const char *kind_name(enum gb_ckpt_kind k)
{
	return k == GB_CKPT_SEAL ? "seal" : k == GB_CKPT_TAIL ? "tail" : NULL;
}

int gb_ckpt_message(const struct gb_ckpt *c, char *buf, size_t len)
{
	const char *kind = kind_name(c->kind);
	if (!kind)
		return -EINVAL;
	int n = snprintf(buf, len,
	                 GB_CKPT_FORMAT "\nkind=%s\nsegment=%" PRIu64 "\noffset=%" PRIu64
	                 "\nevents=%" PRIu64 "\nsha256=%s\nprev_sha256=%s\ntime_ms=%" PRId64
	                 "\nkey_id=%s\n",
	                 kind, c->segment, c->offset, c->events, c->sha256, c->prev_sha256, c->time_ms,
	                 c->key_id);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : n;
}

int gb_ckpt_sign(EVP_PKEY *k, struct gb_ckpt *c)
{
	char msg[512];
	if (gb_ckpt_key_id(k, c->key_id) < 0)
		return -EINVAL;
	int n = gb_ckpt_message(c, msg, sizeof msg);
	if (n < 0)
		return n;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char sig[64];
	size_t sl = sizeof sig;
	int ok = md && EVP_DigestSignInit(md, NULL, NULL, NULL, k) == 1 &&
	         EVP_DigestSign(md, sig, &sl, (const unsigned char *)msg, (size_t)n) == 1 && sl == 64;
	EVP_MD_CTX_free(md);
	if (!ok)
		return -EIO;
	gb_hex(sig, sl, c->sig);
	return 0;
}

static int unhex(const char *h, unsigned char *out, size_t n)
{
	if (strlen(h) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;
		for (int j = 0; j < 2; j++) {
			char ch = h[2 * i + (size_t)j];
			unsigned d = ch >= '0' && ch <= '9' ? (unsigned)(ch - '0')
			             : ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10) : 16u;
			if (d > 15)
				return -1;
			v = v * 16 + d;
		}
		out[i] = (unsigned char)v;
	}
	return 0;
}

int gb_ckpt_check(EVP_PKEY *k, const struct gb_ckpt *c)
{
	char id[17], msg[512];
	unsigned char sig[64];
	if (gb_ckpt_key_id(k, id) < 0)
		return -EINVAL;
	if (strcmp(id, c->key_id) || unhex(c->sig, sig, sizeof sig) < 0)
		return -EBADMSG;
	int n = gb_ckpt_message(c, msg, sizeof msg);
	if (n < 0)
		return -EBADMSG;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md)
		return -ENOMEM;
	int ok = EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) == 1 &&
	         EVP_DigestVerify(md, sig, sizeof sig, (const unsigned char *)msg, (size_t)n) == 1;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -EBADMSG;
}

int gb_ckpt_format(const struct gb_ocsf_ctx *ctx, const struct gb_ckpt *c, struct gb_buf *out,
                   struct gb_ocsf_meta *meta)
{
	const char *kind = kind_name(c->kind);
	if (!kind)
		return -EINVAL;
	/* ocsf_finish takes time, metadata.uid and sequence from a record:
	 * uid = checkpoint:<time_ms>, unique because the signer never signs
	 * two checkpoints in one millisecond. */
	struct gb_record rec;
	memset(&rec, 0, sizeof rec);
	rec.type = GB_REC_LOSS;
	rec.seq = (uint64_t)c->time_ms;
	rec.ts_ns = (uint64_t)c->time_ms * 1000000u;
	struct gb_ocsf_ctx cx = *ctx;
	/* metadata.log_name "glassbox": glassbox's own stream (`glassbox logs
	 * glassbox` shows checkpoints; the Kafka key is the same word) */
	cx.sandbox_name = "glassbox";
	cx.sandbox_id = "checkpoint";
	struct ocsf_ev ev;
	memset(&ev, 0, sizeof ev);
	ev.ctx = &cx;
	ev.rec = &rec;
	size_t start = out->len;
	gb_jw_init(&ev.w, out);
	struct gb_jsonw *w = &ev.w;

	ocsf_envelope_other(&ev, OCSF_EVENT_LOG, "Checkpoint", 1, OCSF_STATUS_SUCCESS);
	ocsf_kstr(w, "status_detail", kind);
	char msg[256];
	if (c->kind == GB_CKPT_SEAL)
		snprintf(msg, sizeof msg, "Journal checkpoint: segment %" PRIu64 " sealed, %" PRIu64
		         " events, sha256 %.16s, signed by key %s", c->segment, c->events, c->sha256, c->key_id);
	else
		snprintf(msg, sizeof msg, "Journal checkpoint: segment %" PRIu64 " up to byte %" PRIu64
		         " (%" PRIu64 " events), signed by key %s", c->segment, c->offset, c->events, c->key_id);
	ocsf_kstr(w, "message", msg);
	ev.meta.log_name = "glassbox";
	ocsf_kstr(w, "log_name", "glassbox");
	ocsf_kstr(w, "log_provider", "glassbox");
	ocsf_kuint(w, "log_type_id", 2);
	ocsf_kstr(w, "log_type", "Application");
	ocsf_key(w, "actor");
	gb_jw_obj_begin(w);
	ocsf_kstr(w, "app_name", "glassbox");
	gb_jw_obj_end(w);

	ocsf_key(w, "unmapped");
	gb_jw_obj_begin(w);
	ocsf_key(w, "checkpoint");
	gb_jw_obj_begin(w);
	ocsf_kstr(w, "format", GB_CKPT_FORMAT);
	ocsf_kstr(w, "kind", kind);
	ocsf_kuint(w, "segment", c->segment);
	ocsf_kuint(w, "offset", c->offset);
	ocsf_kuint(w, "events", c->events);
	ocsf_kstr(w, "sha256", c->sha256);
	ocsf_kstr(w, "prev_sha256", c->prev_sha256);
	ocsf_kuint(w, "time_ms", (uint64_t)c->time_ms);
	ocsf_kstr(w, "alg", "ed25519");
	ocsf_kstr(w, "key_id", c->key_id);
	ocsf_kstr(w, "sig", c->sig);
	gb_jw_obj_end(w);
	gb_jw_obj_end(w);
	int rc = ocsf_finish(&ev);
	if (rc < 0) {
		out->len = start;
		return rc;
	}
	if (meta)
		*meta = ev.meta;
	return 0;
}

static int copy_str(json_t *o, const char *key, char *dst, size_t len, bool hex)
{
	const char *s = json_string_value(json_object_get(o, key));
	if (!s || strlen(s) >= len)
		return -1;
	if (hex)
		for (const char *p = s; *p; p++)
			if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
				return -1;
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int get_u64(json_t *o, const char *key, uint64_t *v)
{
	json_t *n = json_object_get(o, key);
	if (!json_is_integer(n) || json_integer_value(n) < 0)
		return -1;
	*v = (uint64_t)json_integer_value(n);
	return 0;
}

int gb_ckpt_parse(const char *line, size_t len, struct gb_ckpt *c)
{
	/* Cheap test first: nearly every line is not a checkpoint. */
	if (!memmem(line, len, GB_CKPT_FORMAT, sizeof GB_CKPT_FORMAT - 1))
		return 0;
	json_t *ev = json_loadb(line, len, 0, NULL);
	json_t *cp = json_object_get(json_object_get(ev, "unmapped"), "checkpoint");
	json_t *cls = json_object_get(ev, "class_uid");
	const char *fmt = json_string_value(json_object_get(cp, "format"));
	if (!ev || !json_is_integer(cls) || json_integer_value(cls) != OCSF_EVENT_LOG || !fmt ||
	    strcmp(fmt, GB_CKPT_FORMAT)) {
		/* the string inside some other event's value (a URL, a path) */
		json_decref(ev);
		return 0;
	}
	memset(c, 0, sizeof *c);
	const char *kind = json_string_value(json_object_get(cp, "kind"));
	uint64_t t = 0;
	int bad = !kind || get_u64(cp, "segment", &c->segment) || get_u64(cp, "offset", &c->offset) ||
	          get_u64(cp, "events", &c->events) || get_u64(cp, "time_ms", &t) ||
	          copy_str(cp, "sha256", c->sha256, sizeof c->sha256, true) ||
	          copy_str(cp, "prev_sha256", c->prev_sha256, sizeof c->prev_sha256, true) ||
	          copy_str(cp, "key_id", c->key_id, sizeof c->key_id, true) ||
	          copy_str(cp, "sig", c->sig, sizeof c->sig, true);
	if (!bad) {
		c->kind = !strcmp(kind, "seal") ? GB_CKPT_SEAL : !strcmp(kind, "tail") ? GB_CKPT_TAIL : 0;
		c->time_ms = (int64_t)t;
		bad = c->kind == 0 || t > (uint64_t)INT64_MAX;
	}
	json_decref(ev);
	return bad ? -EBADMSG : 1;
}
