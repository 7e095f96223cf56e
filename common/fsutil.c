/* common/fsutil.c — see fsutil.h. */
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/paths.h"
#include "common/sha256.h"

int gb_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int gb_fsync_dir(const char *path_in_dir)
{
	char d[GB_PATH_MAX];
	if ((size_t)snprintf(d, sizeof d, "%s", path_in_dir) >= sizeof d)
		return -ENAMETOOLONG;
	char *slash = strrchr(d, '/');
	if (!slash)
		return -EINVAL;
	if (slash == d)
		slash[1] = 0; /* a file in "/" */
	else
		*slash = 0;
	int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

int gb_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                         unsigned flags)
{
	char tmp[GB_PATH_MAX + 8];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
		return -ENAMETOOLONG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	int rc = gb_write_all(fd, data, len);
	if (rc == 0 && !(flags & GB_ATOMIC_NO_FSYNC) && fsync(fd) < 0)
		rc = -errno;
	/* close reports a deferred write error (NFS): it counts too */
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	return flags & GB_ATOMIC_NO_FSYNC ? 0 : gb_fsync_dir(path);
}

/* One mkdir; an existing directory is success. */
static int mkdir_one(const char *p, mode_t mode)
{
	if (mkdir(p, mode) == 0)
		return 0;
	int e = errno;
	struct stat st;
	if (e == EEXIST)
		return stat(p, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	return -e;
}

/* p[0..n) is the path (NUL at n): the leaf first, its parents only when it
 * is missing one — an existing prefix costs no call (the sandbox's root
 * builds ~20 mount points below a deep state directory). */
static int mkdir_up(char *p, size_t n, mode_t parents, mode_t mode)
{
	int rc = mkdir_one(p, mode);
	if (rc != -ENOENT)
		return rc;
	size_t k = n;
	while (k > 0 && p[k - 1] != '/')
		k--;
	while (k > 1 && p[k - 1] == '/')
		k--; /* "a/b//c": the parent is "a/b" */
	if (k == 0 || (k == 1 && p[0] == '/'))
		return -ENOENT; /* no parent to make: the root or a relative top is missing */
	char c = p[k];
	p[k] = 0;
	rc = mkdir_up(p, k, parents, parents);
	p[k] = c;
	return rc < 0 ? rc : mkdir_one(p, mode);
}

int gb_mkdir_p(const char *path, mode_t parents, mode_t leaf)
{
	char p[GB_PATH_MAX];
	if ((size_t)snprintf(p, sizeof p, "%s", path) >= sizeof p)
		return -ENAMETOOLONG;
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = 0;
	if (!n)
		return -ENOENT;
	return mkdir_up(p, n, parents, leaf);
}

void gb_hex(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = 0;
}

int gb_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int gb_sha256_fd(int fd, char hex[65])
{
	hex[0] = 0;
	struct gb_sha256 h; /* sha256.h: no EVP fetch (the exe hash of every start) */
	gb_sha256_init(&h);
	unsigned char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		gb_sha256_update(&h, buf, (size_t)n);
	}
	unsigned char dig[32];
	gb_sha256_final(&h, dig);
	gb_hex(dig, 32, hex);
	return 0;
}

int gb_sha256_file(const char *path, char hex[65])
{
	hex[0] = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = gb_sha256_fd(fd, hex);
	close(fd);
	return rc;
}
