/* tests/unit/test_config.c — the daemon config loader (exporter/config.h)
 * on real files: a full file lands in every field; each bad file is refused
 * with the exact file, line, column, field path and a fragment of the
 * message (and of the hint); every problem of a file is reported in one
 * run; hostile files (nesting, alias expansion, NUL bytes, oversize, too
 * many sinks or properties) are refused within their bounds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/array.h"
#include "exporter/config.h"

static char dir[64], file[96];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/gb-test-config.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(file, sizeof file, "%s/glassbox.yaml", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(file);
	return rmdir(dir);
}

static void put(const char *text, size_t len)
{
	FILE *f = fopen(file, "we");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int load(const char *yaml, struct gb_daemon_config *c, struct gb_diags *d)
{
	put(yaml, strlen(yaml));
	gb_daemon_config_defaults(c, "/r");
	return gb_daemon_config_load(c, file, 1, d);
}

static const struct gb_diag *find(const struct gb_diags *d, int line, int col, const char *field,
                                  const char *frag, const char *hint)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct gb_diag *g = &d->v[i];
		if (g->level == GB_DIAG_ERROR && g->line == line && g->column == col &&
		    !strcmp(g->field ? g->field : "", field) && strstr(g->message, frag) &&
		    (!hint || (g->hint && strstr(g->hint, hint))) && !strcmp(g->file, file))
			return g;
	}
	return NULL;
}

static void test_full_file(void **state)
{
	(void)state;
	static const char y[] =
	    "journal:\n"
	    "  dir: /j\n"
	    "  segment_size: 1MiB\n"
	    "  segment_age: 2m\n"
	    "  fsync: always\n"
	    "  fsync_interval: 5m\n" /* capped at 60 s */
	    "  retention:\n"
	    "    max_size: 10GiB\n"
	    "    max_age: 30d\n"
	    "cursor_dir: /c\n"
	    "sinks:\n"
	    "  - name: siem\n"
	    "    type: http\n"
	    "    url: https://siem.example/raw\n"
	    "    format: bulk\n"
	    "    index: gb\n"
	    "    timeout: 2s\n"
	    "    batch: \"250\"\n" /* the config has always taken quoted numbers */
	    "    backoff_max: 1h\n"
	    "    auth_file: /a\n"
	    "  - name: f.1\n"
	    "    type: file\n"
	    "    path: /var/log/x\n"
	    "    rotate_size: 64KiB\n"
	    "    keep: 3\n"
	    "  - name: bus\n"
	    "    type: kafka\n"
	    "    brokers: k1:9092,k2:9092\n"
	    "    topic: glassbox.ocsf\n"
	    "    kafka.security.protocol: ssl\n"
	    "    kafka.linger.ms: 5\n";
	struct gb_daemon_config c;
	struct gb_diags d = { 0 };
	int rc = load(y, &c, &d);
	gb_diags_print(&d, stderr);
	assert_int_equal(rc, 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(c.journal_dir, "/j");
	assert_ptr_equal(c.journal.dir, c.journal_dir);
	assert_int_equal(c.journal.segment_bytes, 1u << 20);
	assert_int_equal(c.journal.segment_age_s, 120);
	assert_int_equal(c.journal.fsync, GB_FSYNC_ALWAYS);
	assert_int_equal(c.journal.fsync_interval_ms, 60000);
	assert_int_equal(c.journal.retain_bytes, 10ull << 30);
	assert_int_equal(c.journal.retain_age_s, 30u * 86400);
	assert_string_equal(c.cursor_dir, "/c");
	assert_int_equal(c.n_sinks, 3);
	const struct gb_sink_conf *h = &c.sinks[0], *f = &c.sinks[1], *k = &c.sinks[2];
	assert_string_equal(h->name, "siem");
	assert_int_equal(h->kind, GB_SINK_HTTP);
	assert_string_equal(h->url, "https://siem.example/raw");
	assert_int_equal(h->format, GB_HTTP_BULK);
	assert_string_equal(h->index, "gb");
	assert_int_equal(h->timeout_ms, 2000);
	assert_int_equal(h->batch_max, 250);
	assert_int_equal(h->backoff_max_ms, 3600000);
	assert_string_equal(h->auth_file, "/a");
	assert_int_equal(f->kind, GB_SINK_FILE);
	assert_string_equal(f->path, "/var/log/x");
	assert_int_equal(f->rotate_bytes, 64u << 10);
	assert_int_equal(f->keep, 3);
	assert_int_equal(k->kind, GB_SINK_KAFKA);
	assert_string_equal(k->brokers, "k1:9092,k2:9092");
	assert_string_equal(k->topic, "glassbox.ocsf");
	assert_int_equal(k->n_props, 2);
	assert_string_equal(k->props[0].key, "security.protocol");
	assert_string_equal(k->props[0].value, "ssl");
	assert_string_equal(k->props[1].key, "linger.ms");
	assert_string_equal(k->props[1].value, "5");
	gb_diags_free(&d);
}

/* The shipped sample and an empty file are valid and change nothing. */
static void test_defaults(void **state)
{
	(void)state;
	const char *src = getenv("GB_SOURCE_DIR");
	assert_non_null(src);
	char sample[4200];
	snprintf(sample, sizeof sample, "%s/dist/glassbox.yaml", src);
	struct gb_daemon_config c, ref;
	struct gb_diags d = { 0 };
	gb_daemon_config_defaults(&ref, "/r");
	gb_daemon_config_defaults(&c, "/r");
	assert_int_equal(gb_daemon_config_load(&c, sample, 1, &d), 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(c.journal_dir, ref.journal_dir);
	assert_int_equal(c.n_sinks, 0);
	assert_int_equal(load("", &c, &d), 0);
	assert_int_equal(load("journal:\n", &c, &d), 0);
	assert_int_equal(d.n, 0);
	/* missing: fine unless required */
	unlink(file);
	assert_int_equal(gb_daemon_config_load(&c, file, 0, &d), 0);
	assert_int_equal(gb_daemon_config_load(&c, file, 1, &d), -ENOENT);
	assert_non_null(strstr(d.v[0].message, "cannot open"));
	gb_diags_free(&d);
}

struct ccase {
	const char *name, *yaml;
	int line, column;
	const char *field, *frag, *hint;
};

static const struct ccase cases[] = {
	{ "unknown top key", "jurnal:\n  dir: /j\n", 1, 1, "jurnal", "unknown key", "did you mean 'journal'?" },
	{ "unknown journal key", "journal:\n  segmnt_size: 1MiB\n", 2, 3, "journal.segmnt_size",
	  "unknown key", "segment_size" },
	{ "unknown retention key", "journal:\n  retention:\n    max_sise: 1GiB\n", 3, 5,
	  "journal.retention.max_sise", "unknown key", "max_size" },
	{ "top not a map", "- a\n", 1, 1, "", "expected a map of settings", NULL },
	{ "journal a list", "journal: [1]\n", 1, 10, "journal", "expected a map of settings, got a list", NULL },
	{ "relative dir", "journal:\n  dir: var/j\n", 2, 8, "journal.dir", "expected an absolute path", NULL },
	{ "dir a map", "cursor_dir: {a: 1}\n", 1, 13, "cursor_dir", "expected an absolute path, got a mapping", NULL },
	{ "bad size", "journal:\n  segment_size: lots\n", 2, 17, "journal.segment_size", "'lots' is not a size",
	  "KiB" },
	{ "small size", "journal:\n  segment_size: 100\n", 2, 17, "journal.segment_size",
	  "must be at least 4096 bytes", NULL },
	{ "size overflow", "journal:\n  segment_size: 99999999999TiB\n", 2, 17, "journal.segment_size",
	  "is not a size", NULL },
	{ "bad duration", "journal:\n  segment_age: soon\n", 2, 16, "journal.segment_age",
	  "'soon' is not a duration", "ms, s, m, h or d" },
	{ "short retention", "journal:\n  retention:\n    max_age: 10s\n", 3, 14,
	  "journal.retention.max_age", "must be at least 60000ms", NULL },
	{ "bad fsync", "journal:\n  segment_size: 1MiB\n  fsync: sometimes\n", 3, 10, "journal.fsync",
	  "unknown value 'sometimes' (expected one of: group, always, never)", NULL },
	{ "fsync typo", "journal:\n  fsync: allways\n", 2, 10, "journal.fsync", "unknown value", "always" },
	{ "sinks a map", "sinks: {a: 1}\n", 1, 8, "sinks", "expected a list of sinks, got a mapping", NULL },
	{ "sink a scalar", "sinks:\n  - x\n", 2, 5, "sinks[0]", "expected a map with name and type", NULL },
	{ "sink without name", "sinks:\n  - type: file\n    path: /x\n", 2, 5, "sinks[0].name",
	  "a sink needs a name", NULL },
	{ "sink without type", "sinks:\n  - name: a\n", 2, 5, "sinks[0].type", "a sink needs a type", NULL },
	{ "bad sink name", "sinks:\n  - name: ../x\n    type: file\n    path: /x\n", 2, 11, "sinks[0].name",
	  "a sink name is 1-63 of", NULL },
	{ "sink type typo", "sinks:\n  - name: b\n    type: kafak\n", 3, 11, "sinks[0].type",
	  "'kafak' is not a sink type (kafka, http, file)", "did you mean 'kafka'?" },
	{ "unknown sink key", "sinks:\n  - name: a\n    type: http\n    urll: http://x\n", 4, 5, "sinks[0].urll",
	  "unknown key", "did you mean 'url'?" },
	{ "http needs url", "sinks:\n  - name: a\n    type: http\n", 2, 5, "sinks[0].url",
	  "an http sink needs a url", NULL },
	{ "file needs path", "sinks:\n  - name: a\n    type: file\n", 2, 5, "sinks[0].path",
	  "a file sink needs a path", NULL },
	{ "kafka needs topic", "sinks:\n  - name: a\n    type: kafka\n    brokers: k:9092\n", 2, 5,
	  "sinks[0].topic", "a kafka sink needs brokers and a topic", NULL },
	{ "key of another kind", "sinks:\n  - name: a\n    type: file\n    path: /x\n    url: http://y\n", 5, 5,
	  "sinks[0].url", "not a key of a file sink", NULL },
	{ "kafka key on http", "sinks:\n  - name: a\n    type: http\n    url: http://y\n    kafka.acks: all\n",
	  5, 5, "sinks[0].kafka.acks", "not a key of a http sink", NULL },
	{ "bad url", "sinks:\n  - name: a\n    type: http\n    url: ftp://y\n", 4, 10, "sinks[0].url",
	  "expected an http:// or https:// URL", NULL },
	{ "bad format", "sinks:\n  - name: a\n    type: http\n    url: http://y\n    format: xml\n", 5, 13,
	  "sinks[0].format", "unknown value 'xml'", NULL },
	{ "batch zero", "sinks:\n  - name: a\n    type: file\n    path: /x\n    batch: 0\n", 5, 12,
	  "sinks[0].batch", "out of range 1..100000", NULL },
	{ "batch not a number", "sinks:\n  - name: a\n    type: file\n    path: /x\n    batch: many\n", 5, 12,
	  "sinks[0].batch", "expected a batch size 1-100000, got 'many'", NULL },
	{ "batch negative", "sinks:\n  - name: a\n    type: file\n    path: /x\n    batch: -5\n", 5, 12,
	  "sinks[0].batch", "out of range", NULL },
	{ "index too long",
	  "sinks:\n  - name: a\n    type: http\n    url: http://y\n    index: "
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
	  5, 12, "sinks[0].index", "of at most 255 bytes", NULL },
	{ "duplicate sink name", "sinks:\n  - name: a\n    type: file\n    path: /x\n  - name: a\n    type: file\n"
	  "    path: /y\n", 5, 5, "sinks[1].name", "sink name 'a' is used twice", NULL },
	{ "duplicate key", "journal:\n  fsync: group\n  fsync: never\n", 3, 3, "journal", "duplicate key 'fsync'", NULL },
	{ "syntax", "journal: [\n", 2, 1, "journal[0]", "YAML syntax error", NULL },
	{ "null value", "journal:\n  dir:\n", 2, 7, "journal.dir", "expected an absolute path, got nothing", NULL },
	{ "NUL byte", "journal:\n  dir: \"/j\\0x\"\n", 2, 8, "journal.dir", "NUL byte", NULL },
	{ "credential bad host", "credentials:\n  - name: a\n    file: /k\n    hosts: [\"bad host\"]\n", 4, 13,
	  "credentials[0].hosts[0]", "expected a DNS name", NULL },
	{ "credential host glob inside", "credentials:\n  - name: a\n    file: /k\n    hosts: [a*.b]\n", 4, 13,
	  "credentials[0].hosts[0]", "expected a DNS name", NULL },
	{ "credential without hosts", "credentials:\n  - name: a\n    file: /k\n", 2, 5, "credentials[0].hosts",
	  "missing", NULL },
	{ "credential relative file", "credentials:\n  - name: a\n    file: k\n    hosts: [h]\n", 3, 11,
	  "credentials[0].file", "expected an absolute path", NULL },
	{ "credential bad name", "credentials:\n  - name: -a\n    file: /k\n    hosts: [h]\n", 2, 11,
	  "credentials[0].name", "credential name", NULL },
	{ "credential bad env", "credentials:\n  - name: a\n    env: A-B\n    file: /k\n    hosts: [h]\n", 3, 10,
	  "credentials[0].env", "not a variable name", NULL },
	{ "credential twice", "credentials:\n  - {name: a, file: /k, hosts: [h]}\n  - {name: a, file: /j, hosts: [h]}\n",
	  3, 5, "credentials[1]", "used twice", NULL },
	{ "credential unknown key", "credentials:\n  - name: a\n    file: /k\n    hosts: [h]\n    host: h\n", 5, 5,
	  "credentials[0].host", "unknown key", "hosts" },
};

/* credentials: (common/cred_spec.h), read by glassbox run. */
static void test_credentials(void **state)
{
	(void)state;
	struct gb_daemon_config c;
	struct gb_diags d = { 0 };
	assert_int_equal(load("credentials:\n  - name: openai\n    file: /etc/glassbox/credentials/openai\n"
	                      "    env: OPENAI_API_KEY\n    hosts: [api.openai.com, \"*.Azure.test:8443\"]\n"
	                      "  - name: my-key\n    file: /k\n    hosts: [h.test]\n", &c, &d), 0);
	gb_diags_print(&d, stderr);
	assert_int_equal(c.n_creds, 2);
	assert_string_equal(c.creds[0].name, "openai");
	assert_string_equal(c.creds[0].env, "OPENAI_API_KEY");
	assert_int_equal(c.creds[0].n_hosts, 2);
	assert_string_equal(c.creds[0].hosts[1].glob, "*.azure.test");
	assert_int_equal(c.creds[0].hosts[1].port, 8443);
	assert_string_equal(c.creds[1].env, "MY_KEY");
	assert_int_equal(c.creds[1].hosts[0].port, 443);
	gb_diags_free(&d);
}

static void test_errors(void **state)
{
	(void)state;
	int failed = 0;
	for (size_t i = 0; i < GB_ARRAY_LEN(cases); i++) {
		const struct ccase *c = &cases[i];
		struct gb_daemon_config cfg;
		struct gb_diags d = { 0 };
		int rc = load(c->yaml, &cfg, &d);
		if (rc != -EINVAL || !find(&d, c->line, c->column, c->field, c->frag, c->hint)) {
			fprintf(stderr, "case '%s' failed (rc %d): want %d:%d %s: %s\n", c->name, rc, c->line,
			        c->column, c->field, c->frag);
			gb_diags_print(&d, stderr);
			failed++;
		}
		gb_diags_free(&d);
	}
	assert_int_equal(failed, 0);
}

/* Every problem in one run, sorted by position, printed compiler style. */
static void test_all_errors_one_run(void **state)
{
	(void)state;
	static const char y[] = "sinks:\n"
	                        "  - name: a\n"
	                        "    type: http\n"
	                        "    urll: http://x\n"
	                        "  - name: b\n"
	                        "    type: kafak\n"
	                        "journal:\n"
	                        "  fsync: sometimes\n"
	                        "bogus: 1\n";
	struct gb_daemon_config c;
	struct gb_diags d = { 0 };
	assert_int_equal(load(y, &c, &d), -EINVAL);
	assert_int_equal(d.errors, 5);
	for (size_t i = 1; i < d.n; i++)
		assert_true(d.v[i - 1].line <= d.v[i].line);
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	assert_non_null(m);
	gb_diags_print(&d, m);
	fclose(m);
	char want[256];
	snprintf(want, sizeof want, "%s:4:5: error: sinks[0].urll: unknown key (did you mean 'url'?)\n", file);
	assert_non_null(strstr(text, want));
	snprintf(want, sizeof want, "%s:9:1: error: bogus: unknown key\n", file);
	assert_non_null(strstr(text, want));
	free(text);
	gb_diags_free(&d);
}

/* Hostile files stop at their bounds with a diagnostic, not a crash. */
static void test_hostile(void **state)
{
	(void)state;
	struct gb_daemon_config c;
	struct gb_diags d = { 0 };
	/* nesting deeper than the YAML bound */
	char deep[400];
	size_t o = 0;
	o += (size_t)snprintf(deep + o, sizeof deep - o, "journal: ");
	for (int i = 0; i < 100; i++)
		deep[o++] = '[';
	deep[o++] = '\n';
	deep[o] = 0;
	assert_int_equal(load(deep, &c, &d), -EINVAL);
	assert_true(d.n >= 1 && strstr(d.v[0].message, "nesting deeper than"));
	gb_diags_free(&d);
	/* a billion laughs: alias expansion is counted, never materialised */
	static const char laughs[] = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	                             "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	                             "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	                             "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	                             "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	                             "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
	assert_int_equal(load(laughs, &c, &d), -EINVAL);
	bool bounded = false;
	for (size_t i = 0; i < d.n; i++)
		bounded |= strstr(d.v[i].message, "document too large") != NULL;
	assert_true(bounded);
	gb_diags_free(&d);
	/* more sinks than the table holds */
	char many[4096];
	o = (size_t)snprintf(many, sizeof many, "sinks:\n");
	for (int i = 0; i < GB_MAX_SINKS + 2; i++)
		o += (size_t)snprintf(many + o, sizeof many - o, "  - {name: s%d, type: file, path: /x}\n", i);
	assert_int_equal(load(many, &c, &d), -EINVAL);
	assert_int_equal(c.n_sinks, GB_MAX_SINKS);
	assert_non_null(find(&d, GB_MAX_SINKS + 2, 5, "sinks", "at most 16 sinks", NULL));
	gb_diags_free(&d);
	/* more kafka properties than a sink holds */
	o = (size_t)snprintf(many, sizeof many, "sinks:\n  - name: k\n    type: kafka\n    brokers: b:1\n"
	                                        "    topic: t\n");
	for (int i = 0; i < GB_KAFKA_MAX_PROPS + 1; i++)
		o += (size_t)snprintf(many + o, sizeof many - o, "    kafka.p%d: v\n", i);
	assert_int_equal(load(many, &c, &d), -EINVAL);
	assert_int_equal(c.sinks[0].n_props, GB_KAFKA_MAX_PROPS);
	assert_non_null(find(&d, 6 + GB_KAFKA_MAX_PROPS, 5, "sinks[0].kafka.p32", "at most 32 kafka.* keys", NULL));
	gb_diags_free(&d);
	/* a file over the size bound is refused before parsing */
	size_t big = (1u << 20) + 10;
	char *b = malloc(big);
	assert_non_null(b);
	memset(b, '#', big);
	put(b, big);
	free(b);
	gb_daemon_config_defaults(&c, NULL);
	assert_int_equal(gb_daemon_config_load(&c, file, 1, &d), -EINVAL);
	assert_non_null(strstr(d.v[0].message, "file too large"));
	gb_diags_free(&d);
	/* a FIFO (or a device) is refused without waiting for a writer: a
	 * blocking open would hang this test */
	unlink(file);
	assert_int_equal(mkfifo(file, 0600), 0);
	assert_int_equal(gb_daemon_config_load(&c, file, 1, &d), -EINVAL);
	assert_non_null(strstr(d.v[0].message, "not a regular file"));
	gb_diags_free(&d);
	unlink(file);
	assert_int_equal(gb_daemon_config_load(&c, "/dev/zero", 1, &d), -EINVAL);
	gb_diags_free(&d);
	assert_int_equal(gb_daemon_config_load(&c, dir, 0, &d), -EINVAL); /* a directory */
	gb_diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_all_errors_one_run),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_credentials),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
