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
			get_size(c, m->vals[i], &v, 1u << 20);
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
	if (rc < 0)
		return rc;
	struct cctx c = { .file = file, .d = d };
	static const char *const keys[] = { "runtime_dir", "journal" };
	const struct gb_ynode *root = doc.root;
	if (root && expect_map(&c, root, "settings"))
		for (size_t i = 0; i < root->n; i++) {
			const char *k = root->keys[i]->str;
			set_path(&c, NULL, k);
			if (!strcmp(k, "runtime_dir"))
				get_path(&c, root->vals[i], cfg->runtime_dir, sizeof cfg->runtime_dir);
			else if (!strcmp(k, "journal"))
				load_journal(&c, root->vals[i], cfg);
			else
				unknown(&c, NULL, root->keys[i], keys, 2);
		}
	gb_yaml_free(&doc);
	cfg->journal.dir = cfg->journal_dir;
	return d->errors > before ? -EINVAL : 0;
}
