/* tests/unit/test_inference.c — the inference.local route table and the
 * protocol pieces (enforcer/proxy/inference.h): which calls pass for each
 * provider type, which caller headers are forwarded (never a credential or
 * a hop-by-hop header), the model rewrite, the credential file's checks,
 * the route's validation, the scopes of a change and the token usage read
 * from provider answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enforcer/proxy/inference.h"
#include "tmpdir.h"

static void test_host(void **s)
{
	(void)s;
	assert_true(gb_inference_host("inference.local"));
	assert_true(gb_inference_host("INFERENCE.Local"));
	assert_true(gb_inference_host("inference.local."));
	assert_false(gb_inference_host("inference.local.evil.test"));
	assert_false(gb_inference_host("xinference.local"));
	assert_false(gb_inference_host("inference.loca"));
	assert_false(gb_inference_host(""));
}

static void test_patterns(void **s)
{
	(void)s;
	assert_int_equal(gb_inf_allowed(GB_INF_OPENAI, "POST", "/v1/chat/completions"), 0);
	assert_int_equal(gb_inf_allowed(GB_INF_OPENAI, "POST", "/v1/completions"), 0);
	assert_int_equal(gb_inf_allowed(GB_INF_OPENAI, "POST", "/v1/responses"), 0);
	assert_int_equal(gb_inf_allowed(GB_INF_OPENAI, "POST", "/v1/embeddings"), 0);
	assert_int_equal(gb_inf_allowed(GB_INF_OPENAI, "GET", "/v1/models"), 0);
	assert_int_equal(gb_inf_allowed(GB_INF_OPENAI, "GET", "/v1/models/gpt-x"), 0);
	assert_int_equal(gb_inf_allowed(GB_INF_ANTHROPIC, "POST", "/v1/messages"), 0);
	/* another method, another type's API: 403 */
	assert_int_equal(gb_inf_allowed(GB_INF_OPENAI, "GET", "/v1/chat/completions"), 403);
	assert_int_equal(gb_inf_allowed(GB_INF_OPENAI, "DELETE", "/v1/models/x"), 403);
	assert_int_equal(gb_inf_allowed(GB_INF_OPENAI, "POST", "/v1/messages"), 403);
	assert_int_equal(gb_inf_allowed(GB_INF_ANTHROPIC, "POST", "/v1/chat/completions"), 403);
	/* anything else, and shapes that could walk elsewhere: 404 */
	const char *bad[] = { "/v1/files", "/v1/chat/completions/", "/v1/chat/completions/x",
		              "/v1/models/a/b", "/v1/models/..", "/v1/models/.", "/v1/models/",
		              "/v1/models/%2e%2e", "/v1//chat/completions", "/V1/models", "/",
		              "/v1/organization/api_keys", "/v2/chat/completions", "" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(gb_inf_allowed(GB_INF_OPENAI, "GET", bad[i]), 404);
		assert_int_equal(gb_inf_allowed(GB_INF_ANTHROPIC, "POST", bad[i]), 404);
	}
}

static bool fwd(enum gb_inf_type t, const char *n)
{
	return gb_inf_header_forwarded(t, n, strlen(n));
}

static void test_headers(void **s)
{
	(void)s;
	const char *never[] = { "Authorization", "authorization", "x-api-key", "X-Api-Key", "Cookie",
		                "Proxy-Authorization", "Connection", "Keep-Alive", "Transfer-Encoding",
		                "TE", "Upgrade", "Host", "Content-Length", "Forwarded",
		                "X-Forwarded-For", "api-key", "x-goog-api-key" };
	for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
		assert_false(fwd(GB_INF_OPENAI, never[i]));
		assert_false(fwd(GB_INF_ANTHROPIC, never[i]));
	}
	assert_true(fwd(GB_INF_OPENAI, "Content-Type"));
	assert_true(fwd(GB_INF_OPENAI, "OpenAI-Organization"));
	assert_true(fwd(GB_INF_OPENAI, "x-model-id"));
	assert_false(fwd(GB_INF_OPENAI, "anthropic-version"));
	assert_true(fwd(GB_INF_ANTHROPIC, "anthropic-version"));
	assert_true(fwd(GB_INF_ANTHROPIC, "anthropic-beta"));
	assert_false(fwd(GB_INF_ANTHROPIC, "openai-organization"));
	/* a prefix of an allowed name is not the name */
	assert_false(gb_inf_header_forwarded(GB_INF_OPENAI, "content-type", 7));
}

static void test_rewrite(void **s)
{
	(void)s;
	char *out = NULL, err[200];
	size_t n = 0;
	const char *b = "{\"model\":\"agent\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true}";
	assert_int_equal(gb_inf_rewrite_model(b, strlen(b), "host-model", &out, &n, err, sizeof err), 0);
	json_t *o = json_loadb(out, n, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "model")), "host-model");
	assert_true(json_is_true(json_object_get(o, "stream")));
	json_decref(o);
	free(out);
	/* no model given: added */
	assert_int_equal(gb_inf_rewrite_model("{}", 2, "m", &out, &n, err, sizeof err), 0);
	assert_string_equal(out, "{\"model\":\"m\"}");
	free(out);
	/* empty stays empty */
	assert_int_equal(gb_inf_rewrite_model("", 0, "m", &out, &n, err, sizeof err), 0);
	assert_null(out);
	/* not an object, not JSON, a duplicate "model" (which one would the provider read?) */
	const char *bad[] = { "[1]", "\"x\"", "{", "{\"model\":\"a\",\"model\":\"b\"}", "x" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(gb_inf_rewrite_model(bad[i], strlen(bad[i]), "m", &out, &n, err, sizeof err),
		                 -EINVAL);
}

static void test_usage(void **s)
{
	(void)s;
	struct gb_inf_usage u = { -1, -1, "" };
	const char *oa = "{\"model\":\"gpt\",\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":7}}";
	gb_inf_usage_scan(oa, strlen(oa), &u);
	assert_int_equal(u.input_tokens, 11);
	assert_int_equal(u.output_tokens, 7);
	assert_string_equal(u.model, "gpt");
	struct gb_inf_usage a = { -1, -1, "" };
	const char *st = "{\"type\":\"message_start\",\"message\":{\"model\":\"claude\",\"usage\":{\"input_tokens\":13,\"output_tokens\":1}}}";
	gb_inf_usage_scan(st, strlen(st), &a);
	const char *dl = "{\"type\":\"message_delta\",\"usage\":{\"output_tokens\":5}}";
	gb_inf_usage_scan(dl, strlen(dl), &a);
	assert_int_equal(a.input_tokens, 13);
	assert_int_equal(a.output_tokens, 5);
	assert_string_equal(a.model, "claude");
	/* junk changes nothing */
	gb_inf_usage_scan("{\"usage\":\"x\"}", 13, &a);
	gb_inf_usage_scan("not json", 8, &a);
	assert_int_equal(a.input_tokens, 13);
}

/* Which SSE payloads are parsed: usage always, the model until it is known,
 * nothing else (a content chunk, not an object). */
static void test_usage_wanted(void **s)
{
	(void)s;
	struct gb_inf_usage u = { -1, -1, "" };
	const char *c0 = "{\"id\":\"c\",\"model\":\"gpt-a\",\"choices\":[{\"delta\":{\"content\":\"t0\"}}]}";
	const char *c1 = "{\"id\":\"c\",\"model\":\"gpt-b\",\"choices\":[{\"delta\":{\"content\":\"t1\"}}]}";
	const char *fin = "{\"model\":\"gpt-b\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}";
	assert_true(gb_inf_usage_wanted(c0, strlen(c0), &u));
	gb_inf_usage_scan(c0, strlen(c0), &u);
	assert_string_equal(u.model, "gpt-a");
	/* the model is known: the next chunk is not parsed, the model kept */
	assert_false(gb_inf_usage_wanted(c1, strlen(c1), &u));
	assert_true(gb_inf_usage_wanted(fin, strlen(fin), &u));
	gb_inf_usage_scan(fin, strlen(fin), &u);
	assert_int_equal(u.input_tokens, 3);
	assert_int_equal(u.output_tokens, 2);
	const char *plain = "{\"choices\":[{\"delta\":{\"content\":\"usag\"}}]}";
	struct gb_inf_usage v = { -1, -1, "" };
	assert_false(gb_inf_usage_wanted(plain, strlen(plain), &v));
	assert_false(gb_inf_usage_wanted("[DONE]", 6, &v));
	assert_false(gb_inf_usage_wanted("", 0, &v));
	assert_true(gb_inf_usage_wanted("{\"model\":\"m\"}", 13, &v));
}

static int setup(void **state)
{
	static char dir[64];
	if (gb_tmpdir_make(dir, sizeof dir, "inference") < 0)
		return -1;
	*state = dir;
	return 0;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	fchmod(fd, mode);
	close(fd);
}

static json_t *route_obj(const char *cred)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "provider", "p", "type", "openai", "base_url",
	                 "https://api.test:8443/prefix/v1/", "credential_file", cred, "model", "m");
}

static void test_credential(void **state)
{
	if (geteuid() != 0) {
		skip(); /* the file must be owned by root */
	}
	const char *dir = *state;
	char p[256], err[600];
	snprintf(p, sizeof p, "%s/key", dir);
	write_file(p, "  sk-123\n", 0600);
	assert_int_equal(gb_inf_credential_check(p, err, sizeof err), 0);
	json_t *o = route_obj(p);
	struct gb_inf_route *r = NULL;
	assert_int_equal(gb_inf_route_parse(o, true, &r, err, sizeof err), 0);
	size_t n;
	const char *sec = gb_inf_secret(r, &n);
	assert_int_equal(n, 6);
	assert_memory_equal(sec, "sk-123", 6);
	assert_true(r->tls);
	assert_string_equal(r->host, "api.test");
	assert_int_equal(r->port, 8443);
	assert_string_equal(r->prefix, "/prefix"); /* the trailing /v1 is the requests' */
	assert_int_equal(r->timeout_ms, GB_INF_TIMEOUT_DEFAULT_MS);
	/* the JSON names the file, never the secret */
	json_t *j = gb_inf_route_json(r);
	char *text = json_dumps(j, 0);
	assert_null(strstr(text, "sk-123"));
	free(text);
	json_decref(j);
	gb_inf_route_free(r);
	/* readable by others, by the group, a symlink, two lines, empty, a directory */
	write_file(p, "sk-123\n", 0644);
	assert_int_equal(gb_inf_credential_check(p, err, sizeof err), -EACCES);
	assert_non_null(strstr(err, "0644"));
	assert_null(strstr(err, "sk-123"));
	write_file(p, "sk-123\n", 0640);
	assert_int_equal(gb_inf_credential_check(p, err, sizeof err), -EACCES);
	char l[256];
	write_file(p, "sk-123\n", 0600);
	snprintf(l, sizeof l, "%s/link", dir);
	assert_int_equal(symlink(p, l), 0);
	assert_true(gb_inf_credential_check(l, err, sizeof err) < 0);
	write_file(p, "sk-1\r\nX-Injected: 1\n", 0600);
	assert_int_equal(gb_inf_credential_check(p, err, sizeof err), -EINVAL);
	write_file(p, "\n", 0600);
	assert_int_equal(gb_inf_credential_check(p, err, sizeof err), -EINVAL);
	assert_true(gb_inf_credential_check(dir, err, sizeof err) < 0);
	/* not root-owned */
	write_file(p, "sk-123\n", 0600);
	assert_int_equal(chown(p, 4242, 4242), 0);
	assert_int_equal(gb_inf_credential_check(p, err, sizeof err), -EACCES);
	assert_int_equal(gb_inf_route_parse(o, true, &r, err, sizeof err), -EACCES);
	json_decref(o);
}

static void test_route_validation(void **s)
{
	(void)s;
	char err[600];
	struct gb_inf_route *r = NULL;
	struct {
		const char *k, *v;
	} bad[] = {
		{ "type", "bard" },
		{ "base_url", "ftp://x" },
		{ "base_url", "http://user:pw@x.test" },
		{ "base_url", "http://x.test:0" },
		{ "base_url", "http://x.test:99999" },
		{ "base_url", "http://inference.local" },
		{ "base_url", "http://x.test/a?b=c" },
		{ "base_url", "http://" },
		{ "credential_file", "relative/key" },
		{ "model", "" },
		{ "provider", "a\nb" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *o = route_obj("/etc/glassbox/credentials/k");
		json_object_set_new(o, bad[i].k, json_string(bad[i].v));
		assert_int_equal(gb_inf_route_parse(o, false, &r, err, sizeof err), -EINVAL);
		json_decref(o);
	}
	json_t *o = route_obj("/k");
	json_object_set_new(o, "surprise", json_true());
	assert_int_equal(gb_inf_route_parse(o, false, &r, err, sizeof err), -EINVAL);
	json_object_del(o, "surprise");
	json_object_set_new(o, "timeout_ms", json_integer(5));
	assert_int_equal(gb_inf_route_parse(o, false, &r, err, sizeof err), -EINVAL);
	json_object_set_new(o, "timeout_ms", json_integer(1500));
	json_object_set_new(o, "base_url", json_string("http://[::1]:8080"));
	assert_int_equal(gb_inf_route_parse(o, false, &r, err, sizeof err), 0);
	assert_string_equal(r->host, "::1");
	assert_int_equal(r->port, 8080);
	assert_false(r->tls);
	assert_int_equal(r->timeout_ms, 1500);
	gb_inf_route_free(r);
	json_decref(o);
}

static struct gb_inf_route *mk(const char *provider)
{
	struct gb_inf_route *r = NULL;
	char err[600];
	json_t *o = route_obj("/k");
	json_object_set_new(o, "provider", json_string(provider));
	assert_int_equal(gb_inf_route_parse(o, false, &r, err, sizeof err), 0);
	json_decref(o);
	return r;
}

static void test_scopes(void **s)
{
	(void)s;
	struct gb_inference *inf;
	assert_int_equal(gb_inference_new(&inf), 0);
	assert_null(gb_inference_get(inf));
	/* the default applies when there is no route */
	assert_int_equal(gb_inference_set(inf, mk("d1"), true), 1);
	const struct gb_inf_route *r = gb_inference_get(inf);
	assert_string_equal(r->provider, "d1");
	assert_string_equal(r->origin, "default");
	/* a sandbox route replaces it; a reader keeps its reference */
	assert_int_equal(gb_inference_set(inf, mk("own"), false), 1);
	assert_string_equal(r->provider, "d1");
	gb_inference_put(inf, r);
	/* the default no longer overrides, nor clears */
	assert_int_equal(gb_inference_set(inf, mk("d2"), true), 0);
	assert_int_equal(gb_inference_set(inf, NULL, true), 0);
	r = gb_inference_get(inf);
	assert_string_equal(r->provider, "own");
	gb_inference_put(inf, r);
	/* the control ops */
	json_t *q = json_pack("{s:s}", "op", "inference_get");
	json_t *a = gb_inference_control(inf, q);
	assert_string_equal(json_string_value(json_object_get(json_object_get(a, "route"), "origin")), "sandbox");
	json_decref(a);
	json_decref(q);
	q = json_pack("{s:s, s:s}", "op", "inference_clear", "scope", "sandbox");
	a = gb_inference_control(inf, q);
	assert_true(json_is_null(json_object_get(a, "route")));
	json_decref(a);
	json_decref(q);
	q = json_pack("{s:s, s:{s:s}}", "op", "inference_set", "route", "type", "openai");
	a = gb_inference_control(inf, q);
	assert_false(json_is_true(json_object_get(a, "ok")));
	assert_string_equal(json_string_value(json_object_get(a, "error")), "invalid");
	json_decref(a);
	json_decref(q);
	q = json_pack("{s:s, s:s}", "op", "inference_get", "scope", "elsewhere");
	a = gb_inference_control(inf, q);
	assert_false(json_is_true(json_object_get(a, "ok")));
	json_decref(a);
	json_decref(q);
	assert_null(gb_inference_get(inf));
	gb_inference_free(inf);
}

/* Readers take and drop routes while a writer swaps them (TSan build: no
 * race; ASan: a route freed under a reader would be a use after free). */
static void *reader(void *arg)
{
	struct gb_inference *inf = arg;
	unsigned long seen = 0;
	for (int i = 0; i < 20000; i++) {
		const struct gb_inf_route *r = gb_inference_get(inf);
		if (r) {
			size_t n;
			seen += strlen(r->provider) + (gb_inf_secret(r, &n) == NULL);
		}
		gb_inference_put(inf, r);
	}
	return (void *)seen;
}

static void test_swap_under_readers(void **s)
{
	(void)s;
	struct gb_inference *inf;
	assert_int_equal(gb_inference_new(&inf), 0);
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, inf), 0);
	for (int i = 0; i < 2000; i++) {
		char name[16];
		snprintf(name, sizeof name, "p%d", i);
		gb_inference_set(inf, i % 7 == 6 ? NULL : mk(name), i % 2 == 0);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	gb_inference_free(inf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_rewrite),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_usage_wanted),
		cmocka_unit_test_setup_teardown(test_credential, setup, gb_tmpdir_teardown),
		cmocka_unit_test(test_route_validation),
		cmocka_unit_test(test_scopes),
		cmocka_unit_test(test_swap_under_readers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
