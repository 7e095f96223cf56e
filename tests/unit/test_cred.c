/* tests/unit/test_cred.c — provider credentials (enforcer/proxy/cred.h,
 * common/cred_spec.h): the --credential syntax, host binding (a glob never
 * matches a look-alike), the file checks (owner, mode, symlink, bad bytes),
 * and the rewrite's refusals (unknown name, unbound host, not UTF-8, over
 * the bound) with nothing written, form bodies percent-encoded, and the
 * secret absent from every error text. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "enforcer/proxy/cred_int.h"
#include "unit/tmpdir.h"

#define SECRET "sk-test-0123456789abcdef+/="

/* Feed text to a mask in pieces cut at every position pair; the output
 * must be the text with every copy masked, whatever the cuts. */
static void mask_split(void **state)
{
	(void)state;
	const char *sec = "sk-host-0123456789", *sec2 = "ghp_abcdefgh";
	const char *text = "{\"m\":\"key sk-host-0123456789 and ghp_abcdefgh, sk-host-01 sk\"}";
	char want[256];
	snprintf(want, sizeof want, "%s", text);
	for (char *p = want; (p = strstr(p, sec)); p += strlen(sec))
		memset(p, '*', strlen(sec));
	for (char *p = want; (p = strstr(p, sec2)); p += strlen(sec2))
		memset(p, '*', strlen(sec2));
	size_t n = strlen(text);
	for (size_t i = 0; i <= n; i++)
		for (size_t j = i; j <= n; j++) {
			struct gb_cred_mask m;
			gb_cred_mask_init(&m);
			gb_cred_mask_add(&m, sec, strlen(sec));
			gb_cred_mask_add(&m, sec2, strlen(sec2));
			gb_cred_mask_add(&m, "short", 5); /* too short to mask */
			struct gb_buf out = GB_BUF_INIT;
			assert_int_equal(gb_cred_mask_feed(&m, text, i, &out), 0);
			assert_int_equal(gb_cred_mask_feed(&m, text + i, j - i, &out), 0);
			assert_int_equal(gb_cred_mask_feed(&m, text + j, n - j, &out), 0);
			assert_int_equal(gb_cred_mask_flush(&m, &out), 0);
			assert_int_equal(out.len, n);
			assert_memory_equal(out.data, want, n);
			gb_buf_free(&out);
		}
	/* only a tail that can begin a secret is held back: an SSE event goes
	 * out whole */
	struct gb_cred_mask m;
	gb_cred_mask_init(&m);
	gb_cred_mask_add(&m, sec, strlen(sec));
	struct gb_buf out = GB_BUF_INIT;
	assert_int_equal(gb_cred_mask_feed(&m, "data: {\"x\":1}\n\n", 16, &out), 0);
	assert_int_equal(out.len, 16);
	assert_int_equal(gb_cred_mask_feed(&m, "abc sk-ho", 9, &out), 0);
	assert_int_equal(out.len, 20); /* "sk-ho" held */
	/* the stream ends inside a copy: its beginning is masked too */
	assert_int_equal(gb_cred_mask_flush(&m, &out), 0);
	assert_int_equal(out.len, 25);
	assert_memory_equal(out.data + 20, "*****", 5);
	gb_buf_free(&out);
	/* a cut stream: nothing held goes out */
	gb_cred_mask_init(&m);
	gb_cred_mask_add(&m, sec, strlen(sec));
	assert_int_equal(gb_cred_mask_feed(&m, "sk-host-01234", 13, &out), 0);
	assert_int_equal(out.len, 0);
	gb_cred_mask_drop(&m);
	assert_int_equal(m.pn, 0);
	gb_buf_free(&out);
}

static void spec_parse(void **state)
{
	(void)state;
	struct gb_cred_spec s;
	char err[600];
	assert_int_equal(gb_cred_spec_parse_arg("openai=/k/f@api.openai.com,*.azure.test:8443", &s, err,
	                                        sizeof err), 0);
	assert_string_equal(s.name, "openai");
	assert_string_equal(s.env, "openai"); /* a variable name as it is */
	struct gb_cred_spec s2;
	assert_int_equal(gb_cred_spec_parse_arg("my-key=/k@h.test", &s2, err, sizeof err), 0);
	assert_string_equal(s2.env, "MY_KEY");
	assert_string_equal(s.file, "/k/f");
	assert_int_equal(s.n_hosts, 2);
	assert_int_equal(s.hosts[0].port, 443);
	assert_string_equal(s.hosts[1].glob, "*.azure.test");
	assert_int_equal(s.hosts[1].port, 8443);
	assert_int_equal(gb_cred_spec_parse_arg("gh:GH_TOKEN=/a@b/c@api.github.com", &s, err, sizeof err), 0);
	assert_string_equal(s.env, "GH_TOKEN");
	assert_string_equal(s.file, "/a@b/c"); /* FILE ends at the last '@' */
	const char *bad[] = { "x=/f", "x=rel@h", "-x=/f@h", "1x=/f@h", "x:1A=/f@h", "x=/f@", "x=/f@h:0",
		              "x=/f@h:70000", "x=/f@bad host", "x=/f@a*.b", "x=/f@*", "x y=/f@h" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(gb_cred_spec_parse_arg(bad[i], &s, err, sizeof err), -EINVAL);
}

static void host_match(void **state)
{
	(void)state;
	struct gb_cred_host h;
	char err[300];
	assert_int_equal(gb_cred_host_parse("*.Example.test", 14, &h, err, sizeof err), 0);
	assert_true(gb_cred_host_match(&h, "api.example.test", 443));
	assert_true(gb_cred_host_match(&h, "a.b.EXAMPLE.test.", 443));
	assert_false(gb_cred_host_match(&h, "example.test", 443));
	assert_false(gb_cred_host_match(&h, "evilexample.test", 443));
	assert_false(gb_cred_host_match(&h, "api.example.test.evil", 443));
	assert_false(gb_cred_host_match(&h, "api.example.test", 80));
	assert_int_equal(gb_cred_host_parse("api.test:8443", 13, &h, err, sizeof err), 0);
	assert_true(gb_cred_host_match(&h, "API.test", 8443));
	assert_false(gb_cred_host_match(&h, "api.test", 443));
	assert_false(gb_cred_host_match(&h, "xapi.test", 8443));
}

static int put_file(const char *dir, const char *name, const char *data, mode_t mode, char *path)
{
	sprintf(path, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, strlen(data)) != (ssize_t)strlen(data))
		return -1;
	close(fd);
	return chmod(path, mode);
}

static int setup(void **state)
{
	static char dir[64];
	if (gb_tmpdir_make(dir, sizeof dir, "cred") < 0)
		return -1;
	*state = dir;
	return 0;
}

static struct gb_cred_spec spec(const char *name, const char *file, const char *host)
{
	struct gb_cred_spec s;
	char arg[1400], err[600];
	snprintf(arg, sizeof arg, "%s=%s@%s", name, file, host);
	assert_int_equal(gb_cred_spec_parse_arg(arg, &s, err, sizeof err), 0);
	return s;
}

static void load_checks(void **state)
{
	const char *dir = *state;
	char p[300], err[600];
	struct gb_creds *c;
	if (geteuid() != 0)
		skip(); /* the owner check needs files owned by root */
	assert_int_equal(put_file(dir, "ok", SECRET "\n", 0600, p), 0);
	struct gb_cred_spec s = spec("ok", p, "api.test");
	assert_int_equal(gb_creds_load(&s, 1, &c, err, sizeof err), 0);
	assert_int_equal(gb_creds_count(c), 1);
	char ph[100];
	gb_creds_placeholder(c, 0, ph, sizeof ph);
	assert_string_equal(ph, "glassbox:credential:ok");
	gb_creds_free(c);

	struct {
		const char *name, *data;
		mode_t mode;
		int rc;
	} bad[] = {
		{ "grp", SECRET, 0640, -EPERM },
		{ "wrl", SECRET, 0604, -EPERM },
		{ "empty", "\n", 0600, -EINVAL },
		{ "quote", "ab\"cd", 0600, -EINVAL },
		{ "space", "ab " SECRET, 0600, -EINVAL },
		{ "crlf", "ab\r\nX-Injected: 1", 0600, -EINVAL },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(put_file(dir, bad[i].name, bad[i].data, bad[i].mode, p), 0);
		s = spec(bad[i].name, p, "api.test");
		assert_int_equal(gb_creds_load(&s, 1, &c, err, sizeof err), bad[i].rc);
		assert_null(c);
		assert_null(strstr(err, SECRET)); /* no error text carries the secret */
		assert_null(strstr(err, "X-Injected"));
	}
	/* not owned by root */
	assert_int_equal(put_file(dir, "owner", SECRET, 0600, p), 0);
	assert_int_equal(chown(p, 4242, 4242), 0);
	s = spec("owner", p, "api.test");
	assert_int_equal(gb_creds_load(&s, 1, &c, err, sizeof err), -EPERM);
	assert_non_null(strstr(err, "owned by root"));
	/* a symlink to a good file is refused (O_NOFOLLOW) */
	char q[300];
	snprintf(q, sizeof q, "%s/link", dir);
	snprintf(p, sizeof p, "%s/ok", dir);
	assert_int_equal(symlink(p, q), 0);
	s = spec("link", q, "api.test");
	assert_true(gb_creds_load(&s, 1, &c, err, sizeof err) < 0);
	/* a directory, a missing file */
	s = spec("dir", dir, "api.test");
	assert_true(gb_creds_load(&s, 1, &c, err, sizeof err) < 0);
	snprintf(q, sizeof q, "%s/none", dir);
	s = spec("none", q, "api.test");
	assert_int_equal(gb_creds_load(&s, 1, &c, err, sizeof err), -ENOENT);
	/* two credentials with one variable */
	struct gb_cred_spec two[2] = { spec("a", p, "api.test"), spec("b", p, "api.test") };
	snprintf(two[1].env, sizeof two[1].env, "a");
	assert_int_equal(gb_creds_load(two, 2, &c, err, sizeof err), -EINVAL);
}

static struct gb_creds *two_creds(const char *dir)
{
	char p1[300], p2[300], err[600];
	assert_int_equal(put_file(dir, "k1", SECRET, 0600, p1), 0);
	assert_int_equal(put_file(dir, "k2", "second-secret", 0600, p2), 0);
	struct gb_cred_spec s[2] = { spec("openai", p1, "api.test"), spec("gh", p2, "*.gh.test") };
	snprintf(s[0].env, sizeof s[0].env, "OPENAI_API_KEY");
	struct gb_creds *c;
	assert_int_equal(gb_creds_load(s, 2, &c, err, sizeof err), 0);
	return c;
}

static void rewrite(void **state)
{
	if (geteuid() != 0)
		skip();
	struct gb_creds *c = two_creds(*state);
	struct gb_buf out = GB_BUF_INIT;
	struct gb_cred_result r;
	const char *h = "Authorization: Bearer glassbox:credential:openai\r\n"
	                "X-Other: openshell:resolve:env:OPENAI_API_KEY;tail\r\n\r\n";
	gb_creds_rewrite(c, GB_CRED_HEADER, "api.test", 443, h, strlen(h), 0, &out, &r);
	assert_int_equal(r.status, GB_CRED_OK);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.used, 1);
	assert_string_equal(out.data, "Authorization: Bearer " SECRET "\r\nX-Other: " SECRET ";tail\r\n\r\n");
	char names[100];
	gb_creds_used_names(c, r.used, names, sizeof names);
	assert_string_equal(names, "openai");
	gb_creds_buf_wipe(&out);

	/* nothing to rewrite: nothing written */
	gb_creds_rewrite(c, GB_CRED_HEADER, "api.test", 443, "A: b\r\n", 6, 0, &out, &r);
	assert_int_equal(r.status, GB_CRED_OK);
	assert_int_equal(r.n, 0);
	assert_int_equal(out.len, 0);

	/* unbound host: refused, nothing written, the text names no secret */
	gb_creds_rewrite(c, GB_CRED_HEADER, "evil.test", 443, h, strlen(h), 0, &out, &r);
	assert_int_equal(r.status, GB_CRED_UNBOUND);
	assert_string_equal(r.what, "openai");
	assert_int_equal(out.len, 0);
	char t[400];
	gb_creds_result_text(&r, "evil.test", 443, t, sizeof t);
	assert_non_null(strstr(t, "evil.test"));
	assert_null(strstr(t, SECRET));
	/* the right host on another port is another host */
	gb_creds_rewrite(c, GB_CRED_HEADER, "api.test", 8443, h, strlen(h), 0, &out, &r);
	assert_int_equal(r.status, GB_CRED_UNBOUND);
	/* one bound and one unbound placeholder: the whole request is refused */
	const char *mix = "A: glassbox:credential:gh\r\nB: glassbox:credential:openai\r\n";
	gb_creds_rewrite(c, GB_CRED_HEADER, "x.gh.test", 443, mix, strlen(mix), 0, &out, &r);
	assert_int_equal(r.status, GB_CRED_UNBOUND);
	assert_int_equal(out.len, 0);

	/* unknown names, empty names, a near miss of a name */
	const char *unk[] = { "A: glassbox:credential:nope\r\n", "A: glassbox:credential:\r\n",
		              "A: openshell:resolve:env:openai\r\n", "A: glassbox:credential:openai2\r\n" };
	for (size_t i = 0; i < sizeof unk / sizeof unk[0]; i++) {
		gb_creds_rewrite(c, GB_CRED_HEADER, "api.test", 443, unk[i], strlen(unk[i]), 0, &out, &r);
		assert_int_equal(r.status, GB_CRED_UNKNOWN);
		assert_int_equal(out.len, 0);
	}
	/* no store at all: every placeholder is unknown */
	gb_creds_rewrite(NULL, GB_CRED_HEADER, "api.test", 443, h, strlen(h), 0, &out, &r);
	assert_int_equal(r.status, GB_CRED_UNKNOWN);

	/* form bodies percent-encode, JSON keeps the value as is */
	const char *form = "key=glassbox:credential:openai&x=1";
	gb_creds_rewrite(c, GB_CRED_FORM, "api.test", 443, form, strlen(form), 0, &out, &r);
	assert_int_equal(r.status, GB_CRED_OK);
	assert_string_equal(out.data, "key=sk-test-0123456789abcdef%2B%2F%3D&x=1");
	gb_creds_buf_wipe(&out);
	const char *js = "{\"k\":\"glassbox:credential:openai\",\"\xc3\xa9\":1}";
	gb_creds_rewrite(c, GB_CRED_JSON, "api.test", 443, js, strlen(js), 0, &out, &r);
	assert_int_equal(r.status, GB_CRED_OK);
	assert_string_equal(out.data, "{\"k\":\"" SECRET "\",\"\xc3\xa9\":1}");
	gb_creds_buf_wipe(&out);
	/* a body that is not UTF-8 (overlong, surrogate, truncated) */
	const char *nu[] = { "glassbox:credential:openai \xc0\xaf", "glassbox:credential:openai \xed\xa0\x80",
		             "glassbox:credential:openai \xe2\x82" };
	for (size_t i = 0; i < 3; i++) {
		gb_creds_rewrite(c, GB_CRED_JSON, "api.test", 443, nu[i], strlen(nu[i]), 0, &out, &r);
		assert_int_equal(r.status, GB_CRED_NOT_UTF8);
		assert_int_equal(out.len, 0);
	}
	/* over the output bound */
	gb_creds_rewrite(c, GB_CRED_HEADER, "api.test", 443, h, strlen(h), 40, &out, &r);
	assert_int_equal(r.status, GB_CRED_TOO_LARGE);
	assert_int_equal(out.len, 0);
	/* bound hosts */
	char n[64];
	assert_true(gb_creds_bound(c, "a.gh.test", 443, n, sizeof n));
	assert_string_equal(n, "gh");
	assert_false(gb_creds_bound(c, "gh.test", 443, n, sizeof n));
	gb_creds_free(c);
}

/* The VmFlags of the mapping that holds addr, from /proc/self/smaps. */
static void vmflags(const void *addr, char *out, size_t n)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	assert_non_null(f);
	char line[512];
	int in = 0;
	out[0] = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
		else if (in && !strncmp(line, "VmFlags:", 8))
			snprintf(out, n, "%s", line + 8);
	}
	fclose(f);
}

/* The secrets are in memory a core dump leaves out and a fork does not
 * copy, and the holder is not dumpable. */
static void secrets_not_dumped_nor_inherited(void **state)
{
	if (geteuid() != 0)
		skip();
	struct gb_creds *c = two_creds(*state);
	char fl[512];
	vmflags(c->secret[0], fl, sizeof fl);
	assert_non_null(strstr(fl, " dd")); /* MADV_DONTDUMP */
	assert_non_null(strstr(fl, " dc")); /* MADV_DONTFORK */
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL); /* cmocka's handler would go on running tests here */
		signal(SIGBUS, SIG_DFL);
		volatile char x = c->secret[0][0]; /* not mapped in the child */
		(void)x;
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_false(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	gb_creds_free(c);
}

static void has_placeholder(void **state)
{
	(void)state;
	assert_true(gb_creds_has_placeholder("x glassbox:credential:a", 23));
	assert_true(gb_creds_has_placeholder("openshell:resolve:env:K", 23));
	assert_false(gb_creds_has_placeholder("glassbox:credentia", 18));
	assert_false(gb_creds_has_placeholder("glassbox:credential:a", 19)); /* bounded by len */
}

/* Basic credentials: decoded, rewritten toward a bound host only, encoded
 * again; other lines untouched; padding optional. */
static void basic_auth(void **state)
{
	if (geteuid() != 0)
		skip();
	struct gb_creds *c = two_creds(*state);
	struct gb_buf out = GB_BUF_INIT;
	struct gb_cred_result r;
	/* base64("me:glassbox:credential:openai") */
	const char *h = "Host: api.test\r\n"
	                "authorization:  basic bWU6Z2xhc3Nib3g6Y3JlZGVudGlhbDpvcGVuYWk=\r\nX: y\r\n\r\n";
	assert_true(gb_creds_basic_has_placeholder(h, strlen(h)));
	assert_false(gb_creds_has_placeholder(h, strlen(h)));
	gb_creds_rewrite_basic(c, "api.test", 443, h, strlen(h), 0, &out, &r);
	assert_int_equal(r.status, GB_CRED_OK);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.used, 1);
	/* base64("me:" SECRET) */
	assert_string_equal(out.data, "Host: api.test\r\nauthorization:  basic "
	                              "bWU6c2stdGVzdC0wMTIzNDU2Nzg5YWJjZGVmKy89\r\nX: y\r\n\r\n");
	gb_creds_buf_wipe(&out);
	/* the same without its padding */
	const char *np = "Authorization: Basic bWU6Z2xhc3Nib3g6Y3JlZGVudGlhbDpvcGVuYWk\r\n";
	gb_creds_rewrite_basic(c, "api.test", 443, np, strlen(np), 0, &out, &r);
	assert_int_equal(r.status, GB_CRED_OK);
	assert_int_equal(r.n, 1);
	gb_creds_buf_wipe(&out);
	/* toward an unbound host: refused, nothing written */
	gb_creds_rewrite_basic(c, "evil.test", 443, h, strlen(h), 0, &out, &r);
	assert_int_equal(r.status, GB_CRED_UNBOUND);
	assert_int_equal(out.len, 0);
	/* an unknown name inside: refused */
	const char *unk = "Authorization: Basic bWU6Z2xhc3Nib3g6Y3JlZGVudGlhbDpub3Bl\r\n"; /* me:glassbox:credential:nope */
	gb_creds_rewrite_basic(c, "api.test", 443, unk, strlen(unk), 0, &out, &r);
	assert_int_equal(r.status, GB_CRED_UNKNOWN);
	assert_int_equal(out.len, 0);
	/* no placeholder inside, or not base64, or another scheme: nothing to do */
	const char *none[] = { "Authorization: Basic dXNlcjpwYXNz\r\n", "Authorization: Basic !!!\r\n",
		               "Authorization: Bearer bWU6Z2xhc3Nib3g6Y3JlZGVudGlhbDpvcGVuYWk=\r\n",
		               "Authorization: Basic\r\n", "X-Authorization: Basic bWU6Z2xhc3Nib3g6Y3JlZGVudGlhbDpvcGVuYWk=\r\n" };
	for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
		assert_false(gb_creds_basic_has_placeholder(none[i], strlen(none[i])));
		gb_creds_rewrite_basic(c, "api.test", 443, none[i], strlen(none[i]), 0, &out, &r);
		assert_int_equal(r.status, GB_CRED_OK);
		assert_int_equal(r.n, 0);
		assert_int_equal(out.len, 0);
	}
	gb_creds_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spec_parse),
		cmocka_unit_test(mask_split),
		cmocka_unit_test_setup_teardown(basic_auth, setup, gb_tmpdir_teardown),
		cmocka_unit_test(host_match),
		cmocka_unit_test_setup_teardown(load_checks, setup, gb_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(rewrite, setup, gb_tmpdir_teardown),
		cmocka_unit_test(has_placeholder),
		cmocka_unit_test_setup_teardown(secrets_not_dumped_nor_inherited, setup, gb_tmpdir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
