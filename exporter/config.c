/* exporter/config.c — loading /etc/glassbox/glassbox.yaml (contract:
 * config.h).  The YAML tree and the diagnostics are the policy loader's, so
 * config errors read exactly like policy errors. */
#include "exporter/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/policy_parse.h"

#define MAX_CONFIG_BYTES (1u << 20)

void gb_daemon_config_defaults(struct gb_daemon_config *c, const char *root)
{
	memset(c, 0, sizeof *c);
	const char *r = root && *root ? root : "";
	snprintf(c->runtime_dir, sizeof c->runtime_dir, "%s/run/glassbox/sandboxes", r);
	snprintf(c->journal_dir, sizeof c->journal_dir, "%s/var/lib/glassbox/journal", r);
	snprintf(c->cursor_dir, sizeof c->cursor_dir, "%s/var/lib/glassbox/cursors", r);
	c->journal.dir = c->journal_dir;
	c->journal.fsync = GB_FSYNC_GROUP;
}

static int scaled(const char *s, uint64_t *out, const char *const *units, const uint64_t *mult,
                  size_t n)
{
	if (!s || !*s)
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(end, units[i])) {
			if (mult[i] && v > UINT64_MAX / mult[i])
				return -EINVAL;
			*out = v * mult[i];
			return 0;
		}
	return -EINVAL;
}

int gb_parse_size(const char *s, uint64_t *out)
{
	static const char *const u[] = { "", "B", "KiB", "MiB", "GiB", "TiB", "KB", "MB", "GB", "TB" };
	static const uint64_t m[] = { 1, 1, 1ull << 10, 1ull << 20, 1ull << 30, 1ull << 40,
		                      1000, 1000000, 1000000000, 1000000000000ull };
	return scaled(s, out, u, m, sizeof m / sizeof m[0]);
}

int gb_parse_duration_ms(const char *s, uint64_t *out)
{
	static const char *const u[] = { "ms", "s", "m", "h", "d" };
	static const uint64_t m[] = { 1, 1000, 60000, 3600000, 86400000 };
	return scaled(s, out, u, m, sizeof m / sizeof m[0]);
}

struct cctx {
	const char *file;
	struct gb_diags *d;
	char path[256];
};

__attribute__((format(printf, 4, 5))) static void cerr(struct cctx *c, const struct gb_ynode *n,
                                                        const char *hint, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	gb_diag_vadd(c->d, GB_DIAG_ERROR, c->file, n ? n->line : 0, n ? n->column : 0, c->path, hint,
	             fmt, ap);
	va_end(ap);
}

static void set_path(struct cctx *c, const char *sect, const char *key)
{
	snprintf(c->path, sizeof c->path, "%s%s%s", sect ? sect : "", sect ? "." : "", key);
}

static const char *scalar(struct cctx *c, const struct gb_ynode *n, const char *what)
{
	if (n->kind != GB_Y_SCALAR || gb_ynode_is_null(n)) {
		cerr(c, n, NULL, "expected %s", what);
		return NULL;
	}
	return n->str;
}

static void get_path(struct cctx *c, const struct gb_ynode *n, char *out, size_t len)
{
	const char *s = scalar(c, n, "an absolute path");
	if (!s)
		return;
	if (s[0] != '/' || strlen(s) >= len)
		cerr(c, n, NULL, "expected an absolute path shorter than %zu bytes, got '%s'", len, s);
	else
		snprintf(out, len, "%s", s);
}

static void get_size(struct cctx *c, const struct gb_ynode *n, uint64_t *out, uint64_t min)
{
	const char *s = scalar(c, n, "a size such as 64MiB");
	uint64_t v;
	if (!s)
		return;
	if (gb_parse_size(s, &v) < 0)
		cerr(c, n, "sizes are a number with B, KiB, MiB, GiB or KB, MB, GB", "'%s' is not a size", s);
	else if (v < min)
		cerr(c, n, NULL, "must be at least %llu bytes", (unsigned long long)min);
	else
		*out = v;
}

static void get_dur(struct cctx *c, const struct gb_ynode *n, uint64_t *ms, uint64_t min_ms)
{
	const char *s = scalar(c, n, "a duration such as 100ms or 1h");
	uint64_t v;
	if (!s)
		return;
	if (gb_parse_duration_ms(s, &v) < 0)
		cerr(c, n, "durations are a number with ms, s, m, h or d", "'%s' is not a duration", s);
	else if (v < min_ms)
		cerr(c, n, NULL, "must be at least %llums", (unsigned long long)min_ms);
	else
		*ms = v;
}

/* Walk a map, handing each known key to fn; unknown keys get a hint. */
static bool expect_map(struct cctx *c, const struct gb_ynode *n, const char *what)
{
	if (n->kind != GB_Y_MAP && !gb_ynode_is_null(n)) {
		cerr(c, n, NULL, "expected a map of %s", what);
		return false;
	}
	return n->kind == GB_Y_MAP;
}

static void unknown(struct cctx *c, const char *sect, const struct gb_ynode *k,
                    const char *const *valid, size_t n)
{
	set_path(c, sect, k->str);
	char hint[96] = "";
	const char *s = gb_suggest(k->str, valid, n);
	if (s)
		snprintf(hint, sizeof hint, "did you mean '%s'?", s);
	cerr(c, k, s ? hint : NULL, "unknown key");
}

static void load_retention(struct cctx *c, const struct gb_ynode *m, struct gb_daemon_config *cfg)
{
	static const char *const keys[] = { "max_size", "max_age" };
	if (!expect_map(c, m, "retention settings"))
		return;
	for (size_t i = 0; i < m->n; i++) {
		const char *k = m->keys[i]->str;
		set_path(c, "journal.retention", k);
		uint64_t v = 0;
		if (!strcmp(k, "max_size")) {
			get_size(c, m->vals[i], &v, 16u << 10);
			cfg->journal.retain_bytes = v;
		} else if (!strcmp(k, "max_age")) {
			get_dur(c, m->vals[i], &v, 60000);
			cfg->journal.retain_age_s = (uint32_t)(v / 1000 > UINT32_MAX ? UINT32_MAX : v / 1000);
		} else
			unknown(c, "journal.retention", m->keys[i], keys, 2);
	}
}

static void load_journal(struct cctx *c, const struct gb_ynode *m, struct gb_daemon_config *cfg)
{
	static const char *const keys[] = { "dir", "segment_size", "segment_age", "fsync",
		                            "fsync_interval", "retention" };
	if (!expect_map(c, m, "journal settings"))
		return;
	for (size_t i = 0; i < m->n; i++) {
		const char *k = m->keys[i]->str;
		const struct gb_ynode *v = m->vals[i];
		set_path(c, "journal", k);
		uint64_t x = 0;
		if (!strcmp(k, "dir"))
			get_path(c, v, cfg->journal_dir, sizeof cfg->journal_dir);
		else if (!strcmp(k, "segment_size")) {
			get_size(c, v, &x, 4096);
			cfg->journal.segment_bytes = x;
		} else if (!strcmp(k, "segment_age")) {
			get_dur(c, v, &x, 1000);
			cfg->journal.segment_age_s = (uint32_t)(x / 1000 > UINT32_MAX ? UINT32_MAX : x / 1000);
		} else if (!strcmp(k, "fsync")) {
			const char *s = scalar(c, v, "group, always or never");
			if (!s)
				continue;
			if (!strcmp(s, "group"))
				cfg->journal.fsync = GB_FSYNC_GROUP;
			else if (!strcmp(s, "always"))
				cfg->journal.fsync = GB_FSYNC_ALWAYS;
			else if (!strcmp(s, "never"))
				cfg->journal.fsync = GB_FSYNC_NEVER;
			else
				cerr(c, v, NULL, "expected group, always or never, got '%s'", s);
		} else if (!strcmp(k, "fsync_interval")) {
			get_dur(c, v, &x, 1);
			cfg->journal.fsync_interval_ms = (uint32_t)(x > 60000 ? 60000 : x);
		} else if (!strcmp(k, "retention"))
			load_retention(c, v, cfg);
		else
			unknown(c, "journal", m->keys[i], keys, sizeof keys / sizeof keys[0]);
	}
}

static bool sink_name_ok(const char *n)
{
	size_t l = strlen(n);
	if (!l || l >= 64 || n[0] == '.' || n[0] == '-')
		return false;
	for (size_t i = 0; i < l; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z') ||
		      (n[i] >= '0' && n[i] <= '9') || n[i] == '.' || n[i] == '_' || n[i] == '-'))
			return false;
	return true;
}

static void get_str(struct cctx *c, const struct gb_ynode *n, char *out, size_t len, const char *what)
{
	const char *s = scalar(c, n, what);
	if (!s)
		return;
	if (strlen(s) >= len)
		cerr(c, n, NULL, "longer than %zu bytes", len - 1);
	else
		snprintf(out, len, "%s", s);
}

static void get_u32(struct cctx *c, const struct gb_ynode *n, uint32_t *out, uint32_t min, uint32_t max)
{
	const char *s = scalar(c, n, "a number");
	if (!s)
		return;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || end == s || *s == '-' || v < min || v > max)
		cerr(c, n, NULL, "expected a number from %u to %u, got '%s'", min, max, s);
	else
		*out = (uint32_t)v;
}

static void load_sink(struct cctx *c, const struct gb_ynode *m, struct gb_sink_conf *k, size_t idx)
{
	static const char *const keys[] = { "name", "type", "batch", "backoff_max", "path", "rotate_size",
		                            "keep", "url", "format", "auth_file", "ca_file", "index",
		                            "timeout", "brokers", "topic" };
	char sect[32];
	snprintf(sect, sizeof sect, "sinks[%zu]", idx);
	if (m->kind != GB_Y_MAP) {
		set_path(c, NULL, sect);
		cerr(c, m, NULL, "expected a map with name and type");
		return;
	}
	const struct gb_ynode *type = gb_ymap_get(m, "type"), *name = gb_ymap_get(m, "name");
	set_path(c, sect, "name");
	if (!name)
		cerr(c, m, NULL, "a sink needs a name");
	else {
		get_str(c, name, k->name, sizeof k->name, "a sink name");
		if (k->name[0] && !sink_name_ok(k->name))
			cerr(c, name, NULL, "'%s': a sink name is 1-63 of [A-Za-z0-9._-], not starting with '.' or '-'",
			     k->name);
	}
	set_path(c, sect, "type");
	const char *t = type ? scalar(c, type, "kafka, http or file") : NULL;
	if (!type)
		cerr(c, m, NULL, "a sink needs a type (kafka, http or file)");
	else if (t && !strcmp(t, "http"))
		k->kind = GB_SINK_HTTP;
	else if (t && !strcmp(t, "file"))
		k->kind = GB_SINK_FILE;
	else if (t && !strcmp(t, "kafka"))
		k->kind = GB_SINK_KAFKA;
	else if (t) {
		static const char *const kinds[] = { "kafka", "http", "file" };
		const char *near = gb_suggest(t, kinds, 3);
		char hint[64] = "";
		if (near)
			snprintf(hint, sizeof hint, "did you mean '%s'?", near);
		cerr(c, type, near ? hint : NULL, "'%s' is not a sink type (kafka, http, file)", t);
	}
	for (size_t i = 0; i < m->n; i++) {
		const char *key = m->keys[i]->str;
		const struct gb_ynode *v = m->vals[i];
		set_path(c, sect, key);
		uint64_t x = 0;
		bool http_only = !strcmp(key, "url") || !strcmp(key, "format") || !strcmp(key, "auth_file") ||
		                 !strcmp(key, "ca_file") || !strcmp(key, "index") || !strcmp(key, "timeout");
		bool file_only = !strcmp(key, "path") || !strcmp(key, "rotate_size") || !strcmp(key, "keep");
		bool kafka_only = !strcmp(key, "brokers") || !strcmp(key, "topic") || !strncmp(key, "kafka.", 6);
		if (k->kind && ((http_only && k->kind != GB_SINK_HTTP) || (file_only && k->kind != GB_SINK_FILE) ||
		                (kafka_only && k->kind != GB_SINK_KAFKA))) {
			cerr(c, m->keys[i], NULL, "not a key of a %s sink",
			     k->kind == GB_SINK_FILE ? "file" : k->kind == GB_SINK_HTTP ? "http" : "kafka");
			continue;
		}
		if (!strncmp(key, "kafka.", 6)) {
			/* passed to librdkafka verbatim; it validates names and values
			 * when the sink starts */
			if (k->n_props == GB_KAFKA_MAX_PROPS) {
				cerr(c, m->keys[i], NULL, "at most %d kafka.* keys", GB_KAFKA_MAX_PROPS);
				continue;
			}
			const char *val = scalar(c, v, "a value for librdkafka");
			if (!val)
				continue;
			if (strlen(key + 6) >= sizeof k->props[0].key || strlen(val) >= sizeof k->props[0].value ||
			    !key[6]) {
				cerr(c, m->keys[i], NULL, "kafka property name or value too long (or empty)");
				continue;
			}
			snprintf(k->props[k->n_props].key, sizeof k->props[0].key, "%s", key + 6);
			snprintf(k->props[k->n_props].value, sizeof k->props[0].value, "%s", val);
			k->n_props++;
			continue;
		}
		if (!strcmp(key, "name") || !strcmp(key, "type"))
			continue;
		else if (!strcmp(key, "batch"))
			get_u32(c, v, &k->batch_max, 1, 100000);
		else if (!strcmp(key, "backoff_max")) {
			get_dur(c, v, &x, 100);
			k->backoff_max_ms = (uint32_t)(x > 3600000 ? 3600000 : x);
		} else if (!strcmp(key, "path"))
			get_path(c, v, k->path, sizeof k->path);
		else if (!strcmp(key, "rotate_size"))
			get_size(c, v, &k->rotate_bytes, 4096);
		else if (!strcmp(key, "keep"))
			get_u32(c, v, &k->keep, 1, 1000);
		else if (!strcmp(key, "url")) {
			get_str(c, v, k->url, sizeof k->url, "a URL");
			if (k->url[0] && strncmp(k->url, "http://", 7) && strncmp(k->url, "https://", 8))
				cerr(c, v, NULL, "expected an http:// or https:// URL, got '%s'", k->url);
		} else if (!strcmp(key, "format")) {
			const char *f = scalar(c, v, "ndjson, hec or bulk");
			if (f && !strcmp(f, "ndjson"))
				k->format = GB_HTTP_NDJSON;
			else if (f && !strcmp(f, "hec"))
				k->format = GB_HTTP_HEC;
			else if (f && !strcmp(f, "bulk"))
				k->format = GB_HTTP_BULK;
			else if (f)
				cerr(c, v, NULL, "expected ndjson, hec or bulk, got '%s'", f);
		} else if (!strcmp(key, "auth_file"))
			get_path(c, v, k->auth_file, sizeof k->auth_file);
		else if (!strcmp(key, "ca_file"))
			get_path(c, v, k->ca_file, sizeof k->ca_file);
		else if (!strcmp(key, "index"))
			get_str(c, v, k->index, sizeof k->index, "an index name");
		else if (!strcmp(key, "timeout")) {
			get_dur(c, v, &x, 100);
			k->timeout_ms = (uint32_t)(x > 600000 ? 600000 : x);
		} else if (!strcmp(key, "brokers"))
			get_str(c, v, k->brokers, sizeof k->brokers, "bootstrap servers host:port[,host:port]");
		else if (!strcmp(key, "topic"))
			get_str(c, v, k->topic, sizeof k->topic, "a topic name");
		else
			unknown(c, sect, m->keys[i], keys, sizeof keys / sizeof keys[0]);
	}
	if (k->kind == GB_SINK_KAFKA) {
		set_path(c, sect, k->brokers[0] ? "topic" : "brokers");
		if (!k->brokers[0] || !k->topic[0])
			cerr(c, m, NULL, "a kafka sink needs brokers and a topic");
		return;
	}
	set_path(c, sect, k->kind == GB_SINK_HTTP ? "url" : "path");
	if (k->kind == GB_SINK_HTTP && !k->url[0])
		cerr(c, m, NULL, "an http sink needs a url");
	if (k->kind == GB_SINK_FILE && !k->path[0])
		cerr(c, m, NULL, "a file sink needs a path");
}

static void load_sinks(struct cctx *c, const struct gb_ynode *n, struct gb_daemon_config *cfg)
{
	if (n->kind != GB_Y_SEQ) {
		if (!gb_ynode_is_null(n))
			cerr(c, n, NULL, "expected a list of sinks");
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		if (cfg->n_sinks == GB_MAX_SINKS) {
			cerr(c, n->vals[i], NULL, "at most %d sinks", GB_MAX_SINKS);
			break;
		}
		struct gb_sink_conf *k = &cfg->sinks[cfg->n_sinks];
		memset(k, 0, sizeof *k);
		load_sink(c, n->vals[i], k, i);
		for (size_t j = 0; j < cfg->n_sinks; j++)
			if (k->name[0] && !strcmp(cfg->sinks[j].name, k->name)) {
				char sect[32];
				snprintf(sect, sizeof sect, "sinks[%zu]", i);
				set_path(c, sect, "name");
				cerr(c, n->vals[i], NULL, "sink name '%s' is used twice (cursors are per name)",
				     k->name);
			}
		cfg->n_sinks++;
	}
}

int gb_daemon_config_load(struct gb_daemon_config *cfg, const char *file, int required, struct gb_diags *d)
{
	FILE *f = fopen(file, "re");
	if (!f) {
		int e = errno;
		if (e == ENOENT && !required)
			return 0;
		gb_diag_add(d, GB_DIAG_ERROR, file, 0, 0, NULL, NULL, "cannot open: %s", strerror(e));
		return -e;
	}
	char *buf = malloc(MAX_CONFIG_BYTES + 1);
	size_t len = buf ? fread(buf, 1, MAX_CONFIG_BYTES + 1, f) : 0;
	fclose(f);
	if (!buf)
		return -ENOMEM;
	if (len > MAX_CONFIG_BYTES) {
		free(buf);
		gb_diag_add(d, GB_DIAG_ERROR, file, 0, 0, NULL, NULL, "larger than %u bytes", MAX_CONFIG_BYTES);
		return -EINVAL;
	}
	size_t before = d->errors;
	struct gb_ydoc doc;
	int rc = gb_yaml_parse(file, buf, len, &doc, d);
	free(buf);
	if (rc < 0) {
		gb_yaml_free(&doc); /* a failed parse leaves a partial tree (fuzz_daemon_config) */
		return rc;
	}
	struct cctx c = { .file = file, .d = d };
	static const char *const keys[] = { "runtime_dir", "journal", "cursor_dir", "sinks" };
	const struct gb_ynode *root = doc.root;
	if (root && expect_map(&c, root, "settings"))
		for (size_t i = 0; i < root->n; i++) {
			const char *k = root->keys[i]->str;
			set_path(&c, NULL, k);
			if (!strcmp(k, "runtime_dir"))
				get_path(&c, root->vals[i], cfg->runtime_dir, sizeof cfg->runtime_dir);
			else if (!strcmp(k, "journal"))
				load_journal(&c, root->vals[i], cfg);
			else if (!strcmp(k, "cursor_dir"))
				get_path(&c, root->vals[i], cfg->cursor_dir, sizeof cfg->cursor_dir);
			else if (!strcmp(k, "sinks"))
				load_sinks(&c, root->vals[i], cfg);
			else
				unknown(&c, NULL, root->keys[i], keys, sizeof keys / sizeof keys[0]);
		}
	gb_yaml_free(&doc);
	cfg->journal.dir = cfg->journal_dir;
	return d->errors > before ? -EINVAL : 0;
}
