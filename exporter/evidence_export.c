/* exporter/evidence_export.c — writing the evidence bundle (contract:
 * evidence.h).  Members are read whole into memory one at a time (a sealed
 * segment is at most segment_size before compression) and written to
 * FILE.tar.tmp, renamed over FILE.tar when complete. */
#include "exporter/evidence.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "exporter/journal_int.h"
#include "exporter/tar.h"

static int slurp(const char *path, char **data, size_t *len, bool whole_lines)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = -errno;
		if (fd >= 0)
			close(fd);
		return e;
	}
	size_t n = (size_t)st.st_size;
	char *d = malloc(n ? n : 1);
	ssize_t r = d ? (n ? pread(fd, d, n, 0) : 0) : -1;
	close(fd);
	if (!d || r < 0) {
		free(d);
		return d ? -EIO : -ENOMEM;
	}
	n = (size_t)r;
	if (whole_lines) /* an active segment: drop a line still being written */
		while (n && d[n - 1] != '\n')
			n--;
	*data = d;
	*len = n;
	return 0;
}

static void sha_of(const void *d, size_t n, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned ml = 0;
	EVP_Digest(d, n, md, &ml, EVP_sha256(), NULL);
	gb_hex(md, ml, hex);
}

struct bundle {
	FILE *f;
	json_t *members;
	int64_t now;
};

static int add(struct bundle *b, const char *name, const char *data, size_t len, json_t *extra)
{
	char sha[65];
	sha_of(data, len, sha);
	int rc = gb_tar_add(b->f, name, data, len, b->now / 1000);
	json_t *m = extra ? extra : json_object();
	json_object_set_new(m, "name", json_string(name));
	json_object_set_new(m, "bytes", json_integer((json_int_t)len));
	json_object_set_new(m, "sha256", json_string(sha));
	json_array_append_new(b->members, m);
	return rc;
}

static bool wanted(const struct jidx *x, const struct gb_evidence_opts *o)
{
	if (o->since_ms && x->last_ms && x->last_ms < o->since_ms)
		return false;
	if (!o->sandbox || x->sbx_overflow)
		return true;
	for (size_t i = 0; i < x->n_sbx; i++)
		if (!strcmp(x->sbx[i].name, o->sandbox) || !strcmp(x->sbx[i].name, "glassbox"))
			return true;
	return false;
}

static int add_segments(struct bundle *b, const struct gb_evidence_opts *o, struct gb_evidence_stats *st)
{
	struct jseg *v;
	size_t n;
	int rc = jseg_list(o->journal_dir, &v, &n);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct jseg seg = v[i];
		const struct jseg *s = &seg;
		char p[GB_PATH_MAX], name[100];
		char *d = NULL;
		size_t len = 0;
		if (s->active) {
			if ((rc = jseg_path(p, sizeof p, o->journal_dir, s, ".jsonl")) < 0)
				break;
			rc = slurp(p, &d, &len, true);
			/* a rotated segment the journal's sealer sealed since the
			 * listing (serve runs): bundled in its sealed form */
			if (rc == -ENOENT) {
				seg.active = seg.has_jsonl = false;
				seg.sealed = seg.has_idx = true;
				rc = 0;
			}
		}
		if (rc < 0)
			break;
		if (s->active) {
			uint64_t lines = 0;
			for (const char *q = d; (q = memchr(q, '\n', (size_t)(d + len - q))); q++)
				lines++;
			snprintf(name, sizeof name, "journal/%s/%0*llu.jsonl", s->day, J_NAME_DIGITS,
			         (unsigned long long)s->n);
			json_t *m = json_pack("{sIsIsb}", "segment", (json_int_t)s->n, "events", (json_int_t)lines,
			                      "active", 1);
			rc = add(b, name, d, len, m);
			st->segments++;
			st->events += lines;
			free(d);
			continue;
		}
		if (!s->sealed || !s->has_idx)
			continue; /* journal verify reports it; the bundle holds what is whole */
		struct jidx x;
		if (jseg_path(p, sizeof p, o->journal_dir, s, ".idx.json") < 0 || jidx_read(p, &x) < 0)
			continue;
		bool want = wanted(&x, o);
		json_t *meta = json_pack("{sIsIsIsI}", "segment", (json_int_t)s->n, "events", (json_int_t)x.events,
		                         "first_ms", (json_int_t)x.first_ms, "last_ms", (json_int_t)x.last_ms);
		uint64_t events = x.events;
		jidx_free(&x);
		if (!want) {
			json_decref(meta);
			continue;
		}
		if ((rc = slurp(p, &d, &len, false)) == 0) {
			snprintf(name, sizeof name, "journal/%s/%0*llu.idx.json", s->day, J_NAME_DIGITS,
			         (unsigned long long)s->n);
			rc = add(b, name, d, len, json_deep_copy(meta));
			free(d);
		}
		if (rc == 0 && (rc = jseg_path(p, sizeof p, o->journal_dir, s, ".jsonl.zst")) == 0 &&
		    (rc = slurp(p, &d, &len, false)) == 0) {
			snprintf(name, sizeof name, "journal/%s/%0*llu.jsonl.zst", s->day, J_NAME_DIGITS,
			         (unsigned long long)s->n);
			rc = add(b, name, d, len, json_incref(meta));
			free(d);
		}
		json_decref(meta);
		st->segments++;
		st->events += events;
	}
	free(v);
	return rc;
}

/* checkpoints.jsonl and policy-revisions.jsonl: one pass over the range. */
static int add_derived(struct bundle *b, const struct gb_evidence_opts *o, struct gb_evidence_stats *st)
{
	struct gb_jfilter f = { .since_ms = o->since_ms };
	struct gb_jreader *r;
	int rc = gb_jreader_open(o->journal_dir, &f, NULL, &r);
	if (rc < 0)
		return rc;
	struct gb_buf ck = GB_BUF_INIT, cfg = GB_BUF_INIT;
	const char *line;
	size_t len;
	while ((rc = gb_jreader_next(r, &line, &len, NULL)) == 1) {
		struct gb_ckpt c;
		struct gb_jmeta m;
		char sb[64];
		if (gb_ckpt_parse(line, len, &c) != 0) {
			gb_buf_append(&ck, line, len);
			gb_buf_putc(&ck, '\n');
			st->checkpoints++;
		} else if (gb_jmeta_parse(line, len, &m, sb, sizeof sb) == 0 && m.class_uid == 5019 &&
		           (!o->sandbox || !strcmp(sb, o->sandbox))) {
			gb_buf_append(&cfg, line, len);
			gb_buf_putc(&cfg, '\n');
			st->config_events++;
		}
	}
	gb_jreader_close(r);
	if (rc == 0 && (ck.err || cfg.err))
		rc = -ENOMEM;
	if (rc == 0)
		rc = add(b, "checkpoints.jsonl", ck.data ? ck.data : "", ck.len, NULL);
	if (rc == 0)
		rc = add(b, "policy-revisions.jsonl", cfg.data ? cfg.data : "", cfg.len, NULL);
	gb_buf_free(&ck);
	gb_buf_free(&cfg);
	return rc;
}

int gb_evidence_export(const struct gb_evidence_opts *o, struct gb_evidence_stats *st, char *err,
                       size_t errlen)
{
	memset(st, 0, sizeof *st);
	err[0] = 0;
	char tmp[GB_PATH_MAX + 8], key_id[17] = "";
	EVP_PKEY *k;
	int rc = gb_ckpt_pub_load(o->pub_path, &k, err, errlen);
	if (rc < 0)
		return rc;
	gb_ckpt_key_id(k, key_id);
	EVP_PKEY_free(k);
	snprintf(tmp, sizeof tmp, "%s.tmp", o->out);
	struct bundle b = { .f = fopen(tmp, "we"), .members = json_array(), .now = gb_now_ms(CLOCK_REALTIME) };
	if (!b.f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(-rc));
		json_decref(b.members);
		return rc;
	}
	char *d = NULL;
	size_t len = 0;
	if ((rc = slurp(o->pub_path, &d, &len, false)) == 0) {
		rc = add(&b, "journal.pub", d, len, NULL);
		free(d);
	}
	if (rc == 0)
		rc = add_segments(&b, o, st);
	if (rc == 0)
		rc = add_derived(&b, o, st);
	if (rc == 0) {
		json_t *man = json_pack("{sssIsssIsssO}", "format", GB_EVIDENCE_FORMAT, "created_ms",
		                        (json_int_t)b.now, "host", o->hostname ? o->hostname : "",
		                        "since_ms", (json_int_t)o->since_ms, "key_id", key_id,
		                        "members", b.members);
		if (o->sandbox)
			json_object_set_new(man, "sandbox", json_string(o->sandbox));
		char *text = json_dumps(man, JSON_INDENT(1) | JSON_SORT_KEYS);
		json_decref(man);
		/* the manifest is not in its own list */
		rc = text ? gb_tar_add(b.f, "manifest.json", text, strlen(text), b.now / 1000) : -ENOMEM;
		free(text);
	}
	if (rc == 0)
		rc = gb_tar_finish(b.f);
	if (rc == 0 && fsync(fileno(b.f)) < 0)
		rc = -errno;
	if (fclose(b.f) != 0 && rc == 0)
		rc = -EIO;
	json_decref(b.members);
	if (rc == 0 && rename(tmp, o->out) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		if (!*err)
			snprintf(err, errlen, "%s: %s", o->out, strerror(-rc));
	}
	return rc;
}
