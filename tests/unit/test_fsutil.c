/* tests/unit/test_fsutil.c — common/fsutil.h on a real filesystem:
 * gb_write_all through a pipe smaller than the data (partial writes) and
 * into a file the kernel cuts short (RLIMIT_FSIZE); gb_write_file_atomic
 * replaces whole, keeps the old file whole when the write fails halfway,
 * leaves no temporary, refuses to follow a planted PATH.tmp symlink, and
 * sets the mode; gb_mkdir_p (nested, modes of parents and leaf, trailing
 * and repeated slashes, an existing file in the way); gb_fsync_dir; hex;
 * SHA-256 of a file against known vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "unit/tmpdir.h"

static char top[256];

static int setup(void **state)
{
	*state = top;
	return gb_tmpdir_make(top, sizeof top, "fsutil");
}

static size_t slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return (size_t)-1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n < 0 ? (size_t)-1 : (size_t)n;
}

static void content_is(const char *path, const char *want)
{
	char buf[256];
	assert_int_equal(slurp(path, buf, sizeof buf), strlen(want));
	assert_string_equal(buf, want);
}

/* ---- gb_write_all ---- */

struct drain { int fd; size_t got; unsigned sum; };

static void *drain_main(void *arg)
{
	struct drain *d = arg;
	unsigned char b[4096];
	ssize_t n;
	while ((n = read(d->fd, b, sizeof b)) > 0)
		for (ssize_t i = 0; i < n; i++) {
			d->sum = d->sum * 31 + b[i];
			d->got++;
		}
	return NULL;
}

static void t_write_all_pipe(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fcntl(p[1], F_SETPIPE_SZ, 4096); /* smaller than the data: many partial writes */
	enum { N = 1 << 20 };
	unsigned char *data = malloc(N);
	assert_non_null(data);
	unsigned want = 0;
	for (size_t i = 0; i < N; i++) {
		data[i] = (unsigned char)(i * 7 + (i >> 9));
		want = want * 31 + data[i];
	}
	struct drain d = { .fd = p[0] };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, drain_main, &d), 0);
	assert_int_equal(gb_write_all(p[1], data, N), 0);
	close(p[1]);
	pthread_join(t, NULL);
	close(p[0]);
	assert_int_equal(d.got, N);
	assert_int_equal(d.sum, want);
	free(data);
	assert_int_equal(gb_write_all(-1, "x", 1), -EBADF);
}

/* With RLIMIT_FSIZE below the data, write(2) first writes what fits and
 * returns a short count, then fails with EFBIG: the short count must not
 * pass for success.  (SIGXFSZ is ignored, or the process would die.) */
struct fsize_guard { struct rlimit old; void (*old_sig)(int); };

static void limit_fsize(struct fsize_guard *g, rlim_t bytes)
{
	g->old_sig = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &g->old), 0);
	struct rlimit l = { bytes, g->old.rlim_max };
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &l), 0);
}

static void unlimit_fsize(struct fsize_guard *g)
{
	setrlimit(RLIMIT_FSIZE, &g->old);
	signal(SIGXFSZ, g->old_sig);
}

static void t_write_all_cut_short(void **state)
{
	(void)state;
	char p[300];
	snprintf(p, sizeof p, "%s/short", top);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	char data[100];
	memset(data, 'x', sizeof data);
	struct fsize_guard g;
	limit_fsize(&g, 40);
	int rc = gb_write_all(fd, data, sizeof data);
	unlimit_fsize(&g);
	close(fd);
	assert_int_equal(rc, -EFBIG);
}

/* ---- gb_write_file_atomic ---- */

static void t_atomic_replace(void **state)
{
	(void)state;
	char p[300], tmp[310];
	snprintf(p, sizeof p, "%s/f", top);
	snprintf(tmp, sizeof tmp, "%s.tmp", p);
	assert_int_equal(gb_write_file_atomic(p, "first\n", 6, 0640, 0), 0);
	content_is(p, "first\n");
	assert_int_equal(gb_write_file_atomic(p, "2\n", 2, 0640, 0), 0);
	content_is(p, "2\n"); /* replaced, not overwritten in place */
	assert_int_equal(access(tmp, F_OK), -1); /* no temporary left */
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	mode_t um = umask(0);
	umask(um);
	assert_int_equal(st.st_mode & 0777, 0640 & ~um);
	/* the no-fsync variant is still all-or-nothing */
	assert_int_equal(gb_write_file_atomic(p, "", 0, 0644, GB_ATOMIC_NO_FSYNC), 0);
	content_is(p, "");
	/* a directory that does not exist: error, nothing created */
	char q[300];
	snprintf(q, sizeof q, "%s/none/f", top);
	assert_int_equal(gb_write_file_atomic(q, "x", 1, 0600, 0), -ENOENT);
}

/* The write fails halfway for real: the old content survives whole, the
 * error is returned, the temporary is gone. */
static void t_atomic_fails_halfway(void **state)
{
	(void)state;
	char big[64], p[300], tmp[310];
	memset(big, 'n', sizeof big);
	snprintf(p, sizeof p, "%s/keep", top);
	snprintf(tmp, sizeof tmp, "%s.tmp", p);
	assert_int_equal(gb_write_file_atomic(p, "old\n", 4, 0600, 0), 0);
	struct fsize_guard g;
	limit_fsize(&g, 16);
	int rc = gb_write_file_atomic(p, big, sizeof big, 0600, 0);
	unlimit_fsize(&g);
	assert_int_equal(rc, -EFBIG);
	content_is(p, "old\n");
	assert_int_equal(access(tmp, F_OK), -1);
}

/* Someone planted PATH.tmp as a symlink to a file we must not write: the
 * write refuses (O_NOFOLLOW) and the target is untouched. */
static void t_atomic_tmp_symlink(void **state)
{
	(void)state;
	char p[300], tmp[310], victim[300];
	snprintf(p, sizeof p, "%s/cur", top);
	snprintf(tmp, sizeof tmp, "%s.tmp", p);
	snprintf(victim, sizeof victim, "%s/victim", top);
	assert_int_equal(gb_write_file_atomic(victim, "precious", 8, 0600, 0), 0);
	assert_int_equal(symlink(victim, tmp), 0);
	assert_int_equal(gb_write_file_atomic(p, "x", 1, 0600, 0), -ELOOP);
	content_is(victim, "precious");
	assert_int_equal(access(p, F_OK), -1);
}

/* ---- gb_mkdir_p, gb_fsync_dir ---- */

static void t_mkdir_p(void **state)
{
	(void)state;
	mode_t um = umask(022);
	char p[300], q[300];
	snprintf(p, sizeof p, "%s/a/b//c/", top);
	assert_int_equal(gb_mkdir_p(p, 0755, 0700), 0);
	assert_int_equal(gb_mkdir_p(p, 0755, 0700), 0); /* again: fine */
	struct stat st;
	snprintf(q, sizeof q, "%s/a/b/c", top);
	assert_int_equal(stat(q, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(q, sizeof q, "%s/a/b", top);
	assert_int_equal(stat(q, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);
	/* a file in the way, as the leaf or above it */
	snprintf(q, sizeof q, "%s/file", top);
	int fd = open(q, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(gb_mkdir_p(q, 0755, 0755), -ENOTDIR);
	snprintf(q, sizeof q, "%s/file/sub", top);
	assert_int_equal(gb_mkdir_p(q, 0755, 0755), -ENOTDIR);
	assert_int_equal(gb_mkdir_p("", 0755, 0755), -ENOENT);
	assert_int_equal(gb_mkdir_p("/", 0755, 0755), 0);
	umask(um);
}

static void t_fsync_dir(void **state)
{
	(void)state;
	char p[300];
	snprintf(p, sizeof p, "%s/x", top);
	assert_int_equal(gb_fsync_dir(p), 0);        /* the file need not exist */
	assert_int_equal(gb_fsync_dir("/etc"), 0);   /* a name in "/" */
	assert_int_equal(gb_fsync_dir("noslash"), -EINVAL);
	snprintf(p, sizeof p, "%s/none/x", top);
	assert_int_equal(gb_fsync_dir(p), -ENOENT);
}

/* ---- hex, SHA-256 ---- */

static void t_hex(void **state)
{
	(void)state;
	char out[9];
	gb_hex((const unsigned char *)"\x00\x01\xab\xff", 4, out);
	assert_string_equal(out, "0001abff");
	gb_hex(NULL, 0, out);
	assert_string_equal(out, "");
}

static void t_sha256(void **state)
{
	(void)state;
	char p[300], hex[65];
	snprintf(p, sizeof p, "%s/abc", top);
	assert_int_equal(gb_write_file_atomic(p, "abc", 3, 0600, 0), 0);
	assert_int_equal(gb_sha256_file(p, hex), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(gb_write_file_atomic(p, "", 0, 0600, 0), 0);
	assert_int_equal(gb_sha256_file(p, hex), 0);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	/* larger than one read buffer: 200000 x 'a' */
	enum { N = 200000 };
	char *a = malloc(N);
	assert_non_null(a);
	memset(a, 'a', N);
	assert_int_equal(gb_write_file_atomic(p, a, N, 0600, 0), 0);
	free(a);
	assert_int_equal(gb_sha256_file(p, hex), 0);
	char want[65];
	FILE *f = popen("head -c 200000 /dev/zero | tr '\\0' a | sha256sum", "r");
	assert_non_null(f);
	assert_non_null(fgets(want, sizeof want, f));
	pclose(f);
	assert_string_equal(hex, want);
	snprintf(p, sizeof p, "%s/missing", top);
	strcpy(hex, "junk");
	assert_int_equal(gb_sha256_file(p, hex), -ENOENT);
	assert_string_equal(hex, "");
	/* a directory reads as EISDIR: an error, not the hash of nothing */
	assert_int_equal(gb_sha256_file(top, hex), -EISDIR);
	assert_string_equal(hex, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_write_all_pipe),
		cmocka_unit_test_setup_teardown(t_write_all_cut_short, setup, gb_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(t_atomic_replace, setup, gb_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(t_atomic_fails_halfway, setup, gb_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(t_atomic_tmp_symlink, setup, gb_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(t_mkdir_p, setup, gb_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(t_fsync_dir, setup, gb_tmpdir_teardown),
		cmocka_unit_test(t_hex),
		cmocka_unit_test_setup_teardown(t_sha256, setup, gb_tmpdir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
