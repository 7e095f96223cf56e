/* tests/unit/test_env.c — the workload's environment (enforcer/sandbox/env.h):
 * the caller's secrets do not pass, the allowlist does, --env / --env-file add
 * what they name, a bad env file is reported with FILE:LINE, and the proxy and
 * trust variables cannot be overridden. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "enforcer/sandbox/env.h"

static const char *get(const struct gb_env *e, const char *k)
{
	size_t kl = strlen(k);
	for (size_t i = 0; i < e->n; i++)
		if (!strncmp(e->v[i], k, kl) && e->v[i][kl] == '=')
			return e->v[i] + kl + 1;
	return NULL;
}

static struct gb_ident ident(void)
{
	struct gb_ident id = { .uid = 1234, .gid = 1234 };
	snprintf(id.user, sizeof id.user, "sandbox");
	snprintf(id.home, sizeof id.home, "/nonexistent");
	return id;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void caller_secrets_stay_out(void **state)
{
	(void)state;
	setenv("AWS_SECRET_ACCESS_KEY", "hunter2", 1);
	setenv("SSH_AUTH_SOCK", "/tmp/ssh-agent.sock", 1);
	setenv("GITHUB_TOKEN", "ghp_x", 1);
	setenv("LC_TIME", "C.UTF-8", 1);
	setenv("TERM", "xterm-256color", 1);
	setenv("HTTP_PROXY", "http://evil:1", 1);
	struct gb_ident id = ident();
	struct gb_env e = { 0 };
	char err[256];
	assert_int_equal(gb_env_build(&e, "sb", &id, "/w", NULL, err, sizeof err), 0);
	assert_null(get(&e, "AWS_SECRET_ACCESS_KEY"));
	assert_null(get(&e, "SSH_AUTH_SOCK"));
	assert_null(get(&e, "GITHUB_TOKEN"));
	assert_string_equal(get(&e, "LC_TIME"), "C.UTF-8");
	assert_string_equal(get(&e, "TERM"), "xterm-256color");
	assert_string_equal(get(&e, "HTTP_PROXY"), "http://127.0.0.1:3128");
	assert_string_equal(get(&e, "HOME"), "/w");
	assert_string_equal(get(&e, "USER"), "sandbox");
	assert_string_equal(get(&e, "GLASSBOX_SANDBOX"), "sb");
	assert_non_null(get(&e, "PATH"));
	gb_env_free(&e);
}

static void env_args_and_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/gb-test-env.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char f1[64], f2[64];
	snprintf(f1, sizeof f1, "%s/a.env", dir);
	snprintf(f2, sizeof f2, "%s/b.env", dir);
	write_file(f1, "# comment\n\nFOO=from-file\nexport BAR=two words=yes\nEMPTY=\n");
	write_file(f2, "OK=1\n  # indented comment\nthis is not an assignment\n");
	setenv("PASSED_ON", "caller-value", 1);
	unsetenv("NOT_SET_ANYWHERE");
	const char *args[] = { "FOO=from-arg", "PASSED_ON", "NOT_SET_ANYWHERE" };
	const char *files[] = { f1 };
	struct gb_env_opts o = { .args = args, .n_args = 3, .files = files, .n_files = 1 };
	struct gb_ident id = ident();
	struct gb_env e = { 0 };
	char err[512];
	assert_int_equal(gb_env_build(&e, "sb", &id, "/w", &o, err, sizeof err), 0);
	assert_string_equal(get(&e, "FOO"), "from-arg"); /* --env after the file */
	assert_string_equal(get(&e, "BAR"), "two words=yes");
	assert_string_equal(get(&e, "EMPTY"), "");
	assert_string_equal(get(&e, "PASSED_ON"), "caller-value");
	assert_null(get(&e, "NOT_SET_ANYWHERE"));
	gb_env_free(&e);

	/* A bad line names the file and the line. */
	struct gb_env e2 = { 0 };
	assert_int_equal(gb_env_add_file(&e2, f2, err, sizeof err), -EINVAL);
	char want[128];
	snprintf(want, sizeof want, "%s:3: expected NAME=VALUE", f2);
	assert_string_equal(err, want);
	gb_env_free(&e2);

	struct gb_env e3 = { 0 };
	assert_int_equal(gb_env_add_file(&e3, "/nonexistent/x.env", err, sizeof err), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/x.env"));
	assert_true(gb_env_add_arg(&e3, "1BAD=x", err, sizeof err) < 0);
	assert_true(gb_env_add_arg(&e3, "A-B=x", err, sizeof err) < 0);
	gb_env_free(&e3);
	unlink(f1);
	unlink(f2);
	rmdir(dir);
}

static void forced_cannot_be_overridden(void **state)
{
	(void)state;
	const char *bad[] = { "HTTPS_PROXY=http://evil:1", "SSL_CERT_FILE=/tmp/evil.pem", "no_proxy" };
	for (size_t i = 0; i < 3; i++) {
		struct gb_env_opts o = { .args = &bad[i], .n_args = 1 };
		struct gb_ident id = ident();
		struct gb_env e = { 0 };
		char err[256];
		assert_int_equal(gb_env_build(&e, "sb", &id, "/w", &o, err, sizeof err), -EPERM);
		assert_non_null(strstr(err, "cannot be overridden"));
		gb_env_free(&e);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(caller_secrets_stay_out),
		cmocka_unit_test(env_args_and_files),
		cmocka_unit_test(forced_cannot_be_overridden),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
