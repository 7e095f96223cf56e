/* exporter/config.c — loading /etc/glassbox/glassbox.yaml (contract:
 * config.h).  The YAML tree, the typed accessors and the diagnostics are the
 * ones the policy loader uses (common/yaml.h, schema.h, diag.h), so config
 * errors read like policy errors.  Each section of the file is a table of
 * typed keys, stored at an offset of the struct the section fills. */
#include "exporter/config.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/paths.h"
#include "common/schema.h"
#include "common/yaml.h"
#include "exporter/config_sink.h"

#define MAX_CONFIG_BYTES (1u << 20)

void gb_daemon_config_defaults(struct gb_daemon_config *c, const char *root)
{
	memset(c, 0, sizeof *c);
	/* paths.h: the same builders `run` and the CLI use (a root too long
	 * for them leaves "", which every later open reports) */
	gb_path_sandboxes(c->runtime_dir, sizeof c->runtime_dir, root);
	gb_path_journal(c->journal_dir, sizeof c->journal_dir, root);
	gb_path_cursors(c->cursor_dir, sizeof c->cursor_dir, root);
	c->journal.dir = c->journal_dir;
	c->journal.fsync = GB_FSYNC_GROUP;
	c->run.memory_max = c->run.pids_max = c->run.files = -1;
	c->run.cpus = -1;
	c->run.internal_needs_allowed_ips = -1;
}

/* ---------------- the schema ---------------- */

enum ftype {
	F_SKIP,    /* read by the section's own code */
	F_PATH,    /* absolute path into char[size] */
	F_STR,     /* string into char[size] */
	F_URL,     /* http:// or https:// URL into char[size] */
	F_SIZE,    /* uint64_t bytes, at least min */
	F_MS,      /* uint32_t milliseconds, at least min, capped at max */
	F_SECONDS, /* uint32_t seconds, at least min ms */
	F_U32,     /* uint32_t in [min, max] */
	F_ENUM,    /* int: vals[i] for names[i] (a NULL-terminated list) */
	F_PROP,    /* kafka.NAME: passed to librdkafka verbatim */
	F_SECTION, /* a nested map: sub */
	F_SINKS,   /* the list of sinks */
	F_CREDS,   /* the list of credentials */
	F_MEMORY,  /* int64_t bytes, at least min, or "max" (stored as 0: no limit) */
	F_COUNT,   /* int64_t in [min, max]; "max" (stored as 0) when max_ok */
	F_CPUS,    /* double: a number of CPUs in [0, max] */
	F_BOOL,    /* int: 0 or 1 */
};

/* One key of a section; a section is an array ending with { NULL }. */
struct field {
	const char *key;
	enum ftype type;
	size_t off, size; /* of the value in the struct the section fills */
	uint64_t min, max;
	const char *what; /* "expected %s" */
	const char *const *names;
	const int *vals;
	unsigned sinks;   /* sink keys: the kinds that have it (1 << kind); 0 = all */
	bool max_ok;      /* F_COUNT: "max" means no limit */
	const struct field *sub;
};

#define AT(type, member) .off = offsetof(type, member), .size = sizeof(((type *)0)->member)
#define CFG(member) AT(struct gb_daemon_config, member)
#define SNK(member) AT(struct gb_sink_conf, member)
#define FILE_ (1u << GB_SINK_FILE)
#define HTTP_ (1u << GB_SINK_HTTP)
#define KAFKA_ (1u << GB_SINK_KAFKA)
_Static_assert(sizeof(enum gb_fsync_mode) == sizeof(int) && sizeof(enum gb_http_format) == sizeof(int),
               "F_ENUM stores an int");

static const char *const fsync_names[] = { "group", "always", "never", NULL };
static const int fsync_vals[] = { GB_FSYNC_GROUP, GB_FSYNC_ALWAYS, GB_FSYNC_NEVER };
static const char *const format_names[] = { "ndjson", "hec", "bulk", NULL };
static const int format_vals[] = { GB_HTTP_NDJSON, GB_HTTP_HEC, GB_HTTP_BULK };
static const char *const sink_kinds[] = { "kafka", "http", "file" };
static const int sink_kind_vals[] = { GB_SINK_KAFKA, GB_SINK_HTTP, GB_SINK_FILE };

static const struct field retention_keys[] = {
	{ "max_size", F_SIZE, CFG(journal.retain_bytes), .min = 16u << 10 },
	{ "max_age", F_SECONDS, CFG(journal.retain_age_s), .min = 60000 },
	{ .key = NULL },
};
static const struct field journal_keys[] = {
	{ "dir", F_PATH, CFG(journal_dir) },
	{ "segment_size", F_SIZE, CFG(journal.segment_bytes), .min = 4096 },
	{ "segment_age", F_SECONDS, CFG(journal.segment_age_s), .min = 1000 },
	{ "fsync", F_ENUM, CFG(journal.fsync), .names = fsync_names, .vals = fsync_vals },
	{ "fsync_interval", F_MS, CFG(journal.fsync_interval_ms), .min = 1, .max = 60000 },
	{ "checkpoint_interval", F_SECONDS, CFG(checkpoint_interval_s), .min = 1000 },
	{ .key = "retention", .type = F_SECTION, .sub = retention_keys },
	{ .key = NULL },
};
/* The cgroup limits take "max" for none, as the cgroup files do. */
static const struct field run_keys[] = {
	{ "memory", F_MEMORY, CFG(run.memory_max), .min = 1u << 20 },
	{ "pids", F_COUNT, CFG(run.pids_max), .min = 1, .max = 4194304, .max_ok = true,
	  .what = "a process count 1-4194304 or max" },
	{ "cpus", F_CPUS, CFG(run.cpus), .max = 4096 },
	{ "files", F_COUNT, CFG(run.files), .min = 16, .max = 1u << 20,
	  .what = "an open-file limit 16-1048576" },
	{ "upstream_ca", F_PATH, CFG(run.upstream_ca) },
	{ "internal_needs_allowed_ips", F_BOOL, CFG(run.internal_needs_allowed_ips) },
	{ .key = NULL },
};
static const struct field top_keys[] = {
	{ "runtime_dir", F_PATH, CFG(runtime_dir) },
	{ .key = "journal", .type = F_SECTION, .sub = journal_keys },
	{ "cursor_dir", F_PATH, CFG(cursor_dir) },
	{ .key = "sinks", .type = F_SINKS },
	{ .key = "credentials", .type = F_CREDS },
	{ .key = "sandbox", .type = F_SECTION, .sub = run_keys },
	{ .key = NULL },
};
static const struct field sink_keys[] = {
	{ .key = "name", .type = F_SKIP },
	{ .key = "type", .type = F_SKIP },
	{ "batch", F_U32, SNK(batch_max), .min = 1, .max = 100000, .what = "a batch size 1-100000" },
	{ "backoff_max", F_MS, SNK(backoff_max_ms), .min = 100, .max = 3600000 },
	{ "path", F_PATH, SNK(path), .sinks = FILE_ },
	{ "rotate_size", F_SIZE, SNK(rotate_bytes), .min = 4096, .sinks = FILE_ },
	{ "keep", F_U32, SNK(keep), .min = 1, .max = 1000, .what = "a count 1-1000", .sinks = FILE_ },
	{ "url", F_URL, SNK(url), .what = "a URL", .sinks = HTTP_ },
	{ "format", F_ENUM, SNK(format), .names = format_names, .vals = format_vals, .sinks = HTTP_ },
	{ "auth_file", F_PATH, SNK(auth_file), .sinks = HTTP_ },
	{ "ca_file", F_PATH, SNK(ca_file), .sinks = HTTP_ },
	{ "index", F_STR, SNK(index), .what = "an index name", .sinks = HTTP_ },
	{ "timeout", F_MS, SNK(timeout_ms), .min = 100, .max = 600000, .sinks = HTTP_ },
	{ "brokers", F_STR, SNK(brokers), .what = "bootstrap servers host:port[,host:port]", .sinks = KAFKA_ },
	{ "topic", F_STR, SNK(topic), .what = "a topic name", .sinks = KAFKA_ },
	{ .key = "kafka.", .type = F_PROP, .sinks = KAFKA_ },
	{ .key = NULL },
};

/* ---------------- the walk ---------------- */

static void load_sinks(struct gb_schema *c, const struct gb_ynode *n, struct gb_daemon_config *cfg);
static void load_creds(struct gb_schema *c, const struct gb_ynode *n, struct gb_daemon_config *cfg);
static void load_map(struct gb_schema *c, const struct gb_ynode *m, const struct field *sec,
                     void *base, struct gb_sink_conf *sink, struct gb_daemon_config *cfg);

static size_t count(const char *const *v)
{
	size_t n = 0;
	while (v[n])
		n++;
	return n;
}

static void kafka_prop(struct gb_schema *c, const struct gb_ynode *k, const struct gb_ynode *v,
                       struct gb_sink_conf *s)
{
	/* librdkafka validates names and values when the sink starts */
	const char *val = gb_schema_str(c, v, "a value for librdkafka");
	if (s->n_props == GB_KAFKA_MAX_PROPS)
		gb_schema_err(c, k, NULL, "at most %d kafka.* keys", GB_KAFKA_MAX_PROPS);
	else if (val && (k->len - 6 >= sizeof s->props[0].key || strlen(val) >= sizeof s->props[0].value))
		gb_schema_err(c, k, NULL, "kafka property name or value too long (or empty)");
	else if (val) {
		snprintf(s->props[s->n_props].key, sizeof s->props[0].key, "%s", k->str + 6);
		snprintf(s->props[s->n_props++].value, sizeof s->props[0].value, "%s", val);
	}
}

/* A number into its field; the table's size must be the value's (a wrong
 * F_ type would write over the next field: unit.config sets every one). */
static void put(char *dst, const struct field *f, const void *v, size_t n)
{
	assert(f->size == n);
	memcpy(dst, v, n);
}

static bool is_max(const struct gb_ynode *v)
{
	return v && v->kind == GB_Y_SCALAR && v->len == 3 && !memcmp(v->str, "max", 3);
}

/* A CPU count: a decimal such as 1.5, in [0, f->max] (0 = no limit). */
static void cpus(struct gb_schema *c, const struct field *f, const struct gb_ynode *v, char *dst)
{
	const char *s = gb_schema_str(c, v, "a number of CPUs such as 1.5");
	if (!s)
		return;
	char *end;
	errno = 0;
	double x = strtod(s, &end);
	/* digits and one point only: no "inf", "nan", hex or exponents */
	bool ok = *s && !*end && !errno && strspn(s, "0123456789.") == strlen(s);
	if (!ok || !(x >= 0) || x > (double)f->max)
		gb_schema_err(c, v, NULL, "expected a number of CPUs 0-%llu such as 1.5 (0: no limit), got '%.100s'",
		              (unsigned long long)f->max, s);
	else
		put(dst, f, &x, sizeof x);
}

/* One value, converted as f says, stored at base + f->off. */
static void set_field(struct gb_schema *c, const struct field *f, const struct gb_ynode *k,
                      const struct gb_ynode *v, void *base, struct gb_daemon_config *cfg)
{
	char *dst = (char *)base + f->off;
	const char *s;
	uint64_t x;
	long long ll;
	int e;
	uint32_t u;
	switch (f->type) {
	case F_SKIP:
		break;
	case F_PATH:
		if ((s = gb_schema_str(c, v, "an absolute path")) && (s[0] != '/' || strlen(s) >= f->size))
			gb_schema_err(c, v, NULL, "expected an absolute path shorter than %zu bytes, got '%s'",
			              f->size, s);
		else if (s)
			memcpy(dst, s, strlen(s) + 1);
		break;
	case F_STR:
	case F_URL:
		if (gb_schema_strbuf(c, v, f->what, dst, f->size) && f->type == F_URL &&
		    strncmp(dst, "http://", 7) && strncmp(dst, "https://", 8))
			gb_schema_err(c, v, NULL, "expected an http:// or https:// URL, got '%s'", dst);
		break;
	case F_SIZE:
		if (gb_schema_size(c, v, f->min, &x))
			put(dst, f, &x, sizeof x);
		break;
	case F_MS:
	case F_SECONDS:
		if (!gb_schema_duration_ms(c, v, f->min, &x))
			break;
		x = f->type == F_SECONDS ? x / 1000 : x;
		u = (uint32_t)(f->max && x > f->max ? f->max : x > UINT32_MAX ? UINT32_MAX : x);
		put(dst, f, &u, sizeof u);
		break;
	case F_U32:
		if (gb_schema_int(c, v, (long long)f->min, (long long)f->max, f->what, &ll)) {
			u = (uint32_t)ll;
			put(dst, f, &u, sizeof u);
		}
		break;
	case F_ENUM:
		if ((e = gb_schema_enum(c, v, f->names, count(f->names))) >= 0)
			put(dst, f, &f->vals[e], sizeof(int));
		break;
	case F_MEMORY:
	case F_COUNT: {
		int64_t i64 = 0; /* "max": no limit */
		if (is_max(v) && (f->type == F_MEMORY || f->max_ok))
			put(dst, f, &i64, sizeof i64);
		else if (f->type == F_MEMORY && gb_schema_size(c, v, f->min, &x) && x <= INT64_MAX)
			put(dst, f, &(int64_t){ (int64_t)x }, sizeof i64);
		else if (f->type == F_COUNT &&
		         gb_schema_int(c, v, (long long)f->min, (long long)f->max, f->what, &ll))
			put(dst, f, &(int64_t){ ll }, sizeof i64);
		break;
	}
	case F_CPUS:
		cpus(c, f, v, dst);
		break;
	case F_BOOL: {
		bool b;
		if (gb_schema_bool(c, v, &b)) {
			int i = b;
			put(dst, f, &i, sizeof i);
		}
		break;
	}
	case F_PROP:
		kafka_prop(c, k, v, base);
		break;
	case F_SECTION:
		if (!gb_ynode_is_null(v) && gb_schema_map(c, v, "a map of settings"))
			load_map(c, v, f->sub, base, NULL, cfg);
		break;
	case F_SINKS:
		load_sinks(c, v, cfg);
		break;
	case F_CREDS:
		load_creds(c, v, cfg);
		break;
	}
}

/* The table entry for key k (F_PROP matches a prefix), or NULL. */
static const struct field *find(const struct field *sec, const struct gb_ynode *k)
{
	for (const struct field *f = sec; f->key; f++) {
		size_t l = strlen(f->key);
		if (f->type == F_PROP ? k->len > l && !strncmp(k->str, f->key, l)
		                      : k->len == l && !memcmp(k->str, f->key, l))
			return f;
	}
	return NULL;
}

static const char *kind_name(enum gb_sink_kind k)
{
	for (size_t i = 0; i < GB_ARRAY_LEN(sink_kinds); i++)
		if (sink_kind_vals[i] == (int)k)
			return sink_kinds[i];
	return "?";
}

/* Every key of map m by the section's table; base is the struct it fills,
 * sink the sink being read (NULL outside sinks). */
static void load_map(struct gb_schema *c, const struct gb_ynode *m, const struct field *sec,
                     void *base, struct gb_sink_conf *sink, struct gb_daemon_config *cfg)
{
	const char *names[24];
	size_t nn = 0;
	for (const struct field *f = sec; f->key && nn < GB_ARRAY_LEN(names); f++)
		if (f->type != F_PROP)
			names[nn++] = f->key;
	for (size_t i = 0; i < m->n; i++) {
		const struct gb_ynode *k = m->keys[i];
		const struct field *f = find(sec, k);
		if (!f) {
			gb_schema_unknown_key(c, k, names, nn);
			continue;
		}
		size_t mark = gb_schema_field_node(c, k);
		if (sink && sink->kind && f->sinks && !(f->sinks & 1u << sink->kind))
			gb_schema_err(c, k, NULL, "not a key of a %s sink", kind_name(sink->kind));
		else
			set_field(c, f, k, m->vals[i], base, cfg);
		gb_schema_pop(c, mark);
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

/* Name and type first: the type decides which other keys belong. */
static void load_sink(struct gb_schema *c, const struct gb_ynode *m, struct gb_sink_conf *k,
                      struct gb_daemon_config *cfg)
{
	if (!gb_schema_map(c, m, "a map with name and type"))
		return;
	const struct gb_ynode *name = gb_ymap_get(m, "name"), *type = gb_ymap_get(m, "type");
	size_t mark = gb_schema_field(c, "name");
	if (!name)
		gb_schema_err(c, m, NULL, "a sink needs a name");
	else if (gb_schema_strbuf(c, name, "a sink name", k->name, sizeof k->name) && !sink_name_ok(k->name))
		gb_schema_err(c, name, NULL,
		              "'%s': a sink name is 1-63 of [A-Za-z0-9._-], not starting with '.' or '-'", k->name);
	gb_schema_pop(c, mark);
	mark = gb_schema_field(c, "type");
	const char *t = type ? gb_schema_str(c, type, "kafka, http or file") : NULL;
	if (!type) {
		gb_schema_err(c, m, NULL, "a sink needs a type (kafka, http or file)");
	} else if (t) {
		for (size_t i = 0; i < GB_ARRAY_LEN(sink_kinds); i++)
			if (!strcmp(t, sink_kinds[i]))
				k->kind = (enum gb_sink_kind)sink_kind_vals[i];
		const char *near = k->kind ? NULL : gb_suggest(t, sink_kinds, GB_ARRAY_LEN(sink_kinds));
		char hint[64];
		if (near)
			snprintf(hint, sizeof hint, "did you mean '%s'?", near);
		if (!k->kind)
			gb_schema_err(c, type, near ? hint : NULL, "'%s' is not a sink type (kafka, http, file)", t);
	}
	gb_schema_pop(c, mark);
	load_map(c, m, sink_keys, k, k, cfg);
	const char *need = NULL, *what = NULL;
	if (k->kind == GB_SINK_KAFKA && (!k->brokers[0] || !k->topic[0]))
		need = k->brokers[0] ? "topic" : "brokers", what = "a kafka sink needs brokers and a topic";
	else if (k->kind == GB_SINK_HTTP && !k->url[0])
		need = "url", what = "an http sink needs a url";
	else if (k->kind == GB_SINK_FILE && !k->path[0])
		need = "path", what = "a file sink needs a path";
	if (need) {
		mark = gb_schema_field(c, need);
		gb_schema_err(c, m, NULL, "%s", what);
		gb_schema_pop(c, mark);
	}
	gb_sink_conf_check(c, m, k, cfg->probe_sinks);
}

static void load_sinks(struct gb_schema *c, const struct gb_ynode *n, struct gb_daemon_config *cfg)
{
	if (!gb_schema_seq(c, n, "a list of sinks"))
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (cfg->n_sinks == GB_MAX_SINKS) {
			gb_schema_err(c, n->vals[i], NULL, "at most %d sinks", GB_MAX_SINKS);
			break;
		}
		struct gb_sink_conf *k = &cfg->sinks[cfg->n_sinks];
		memset(k, 0, sizeof *k);
		size_t mark = gb_schema_push(c, "[%zu]", i);
		load_sink(c, n->vals[i], k, cfg);
		for (size_t j = 0; j < cfg->n_sinks; j++)
			if (k->name[0] && !strcmp(cfg->sinks[j].name, k->name)) {
				size_t m2 = gb_schema_field(c, "name");
				gb_schema_err(c, n->vals[i], NULL, "sink name '%s' is used twice (cursors are per name)",
				              k->name);
				gb_schema_pop(c, m2);
			}
		gb_schema_pop(c, mark);
		cfg->n_sinks++;
	}
}

/* credentials: [{name, file, env, hosts}] (common/cred_spec.h); the files
 * are checked by `glassbox run`, which reads them. */
static void load_cred(struct gb_schema *c, const struct gb_ynode *m, struct gb_cred_spec *k)
{
	static const char *const keys[] = { "name", "file", "env", "hosts" };
	if (!gb_schema_map(c, m, "a map with name, file and hosts"))
		return;
	gb_schema_check_keys(c, m, keys, GB_ARRAY_LEN(keys));
	char err[400];
	const struct gb_ynode *v;
	size_t mark;
	if (!(v = gb_ymap_get(m, "name"))) {
		gb_schema_missing(c, m, "name", "the credential's name");
	} else {
		mark = gb_schema_field(c, "name");
		if (gb_schema_strbuf(c, v, "a credential name", k->name, sizeof k->name) &&
		    gb_cred_name_check(k->name, err, sizeof err) < 0)
			gb_schema_err(c, v, NULL, "%s", err);
		gb_schema_pop(c, mark);
	}
	if (!(v = gb_ymap_get(m, "file"))) {
		gb_schema_missing(c, m, "file", "the root-owned 0600 file holding the secret");
	} else {
		mark = gb_schema_field(c, "file");
		if (gb_schema_strbuf(c, v, "an absolute path", k->file, sizeof k->file) && k->file[0] != '/')
			gb_schema_err(c, v, NULL, "expected an absolute path, got '%s'", k->file);
		gb_schema_pop(c, mark);
	}
	mark = gb_schema_field(c, "env");
	if ((v = gb_ymap_get(m, "env"))) {
		if (gb_schema_strbuf(c, v, "a variable name", k->env, sizeof k->env) &&
		    gb_cred_env_check(k->env, err, sizeof err) < 0)
			gb_schema_err(c, v, NULL, "%s", err);
	} else {
		gb_cred_env_default(k->name, k->env, sizeof k->env);
	}
	gb_schema_pop(c, mark);
	if (!(v = gb_ymap_get(m, "hosts"))) {
		gb_schema_missing(c, m, "hosts", "the hosts the credential may be sent to");
		return;
	}
	mark = gb_schema_field(c, "hosts");
	if (gb_schema_seq(c, v, "a list of HOST[:PORT]")) {
		for (size_t i = 0; i < v->n; i++) {
			size_t m2 = gb_schema_push(c, "[%zu]", i);
			const char *s = gb_schema_str(c, v->vals[i], "HOST[:PORT]");
			if (s && k->n_hosts == GB_CRED_MAX_HOSTS)
				gb_schema_err(c, v->vals[i], NULL, "at most %d hosts", GB_CRED_MAX_HOSTS);
			else if (s && gb_cred_host_parse(s, strlen(s), &k->hosts[k->n_hosts], err, sizeof err) < 0)
				gb_schema_err(c, v->vals[i], NULL, "%s", err);
			else if (s)
				k->n_hosts++;
			gb_schema_pop(c, m2);
		}
	}
	if (!k->n_hosts)
		gb_schema_err(c, v, NULL, "a credential needs at least one host");
	gb_schema_pop(c, mark);
}

static void load_creds(struct gb_schema *c, const struct gb_ynode *n, struct gb_daemon_config *cfg)
{
	if (!gb_schema_seq(c, n, "a list of credentials"))
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (cfg->n_creds == GB_CRED_MAX) {
			gb_schema_err(c, n->vals[i], NULL, "at most %d credentials", GB_CRED_MAX);
			break;
		}
		struct gb_cred_spec *k = &cfg->creds[cfg->n_creds];
		memset(k, 0, sizeof *k);
		size_t mark = gb_schema_push(c, "[%zu]", i);
		load_cred(c, n->vals[i], k);
		for (size_t j = 0; j < cfg->n_creds; j++)
			if (k->name[0] && (!strcmp(cfg->creds[j].name, k->name) || !strcmp(cfg->creds[j].env, k->env)))
				gb_schema_err(c, n->vals[i], NULL, "credential '%s': its name or variable is "
				              "used twice", k->name);
		gb_schema_pop(c, mark);
		cfg->n_creds++;
	}
}

int gb_daemon_config_load(struct gb_daemon_config *cfg, const char *file, int required, struct gb_diags *d)
{
	char *buf;
	size_t len;
	int rc = gb_yaml_read_file(file, MAX_CONFIG_BYTES, "config", !required, &buf, &len, d);
	if (rc)
		return rc == -ENOENT && !required ? 0 : rc;
	size_t before = d->errors, n0 = d->n, counted0 = d->errors + d->warnings;
	struct gb_ydoc doc;
	rc = gb_yaml_parse(file, buf, len, &doc, d);
	free(buf);
	/* quoted numbers and the terse unknown-key message: schema.h says why */
	struct gb_schema c = { .file = file, .d = d, .quoted_numbers = true, .unknown_key_terse = true };
	if (!rc && doc.root && !gb_ynode_is_null(doc.root) && gb_schema_map(&c, doc.root, "a map of settings"))
		load_map(&c, doc.root, top_keys, cfg, NULL, cfg);
	gb_yaml_free(&doc);
	gb_diags_finish(d, n0, counted0, file);
	cfg->journal.dir = cfg->journal_dir;
	if (rc < 0)
		return rc;
	return d->errors > before ? -EINVAL : 0;
}
