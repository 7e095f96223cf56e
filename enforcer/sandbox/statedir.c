/* enforcer/sandbox/statedir.c — see statedir.h. */
#include "enforcer/sandbox/statedir.h"
#include "common/paths.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/ring.h"
#include "common/fsutil.h"

/* Remove every entry but the lock file (flat directory: we create no
 * subdirectories). */
static void clean_dir(const char *path, const char *keep)
{
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    (keep && !strcmp(e->d_name, keep)))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) < 0 && errno == EISDIR)
			unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

int gb_statedir_file(const struct gb_statedir *sd, const char *file, char *buf, size_t len)
{
	return gb_path_join(buf, len, sd->path, file);
}

int gb_statedir_keep_ring(const struct gb_statedir *sd, const char *file, const char *tag,
                          char *dst, size_t len)
{
	char src[4200], base[4096];
	int rc = gb_statedir_file(sd, file, src, sizeof src);
	if (rc < 0)
		return rc;
	/* <root>/run/glassbox/sandboxes/NAME -> <root>/run/glassbox + NAME */
	snprintf(base, sizeof base, "%s", sd->path);
	char *slash = strrchr(base, '/');
	if (!slash)
		return -EINVAL;
	const char *name = slash + 1;
	*slash = 0;
	slash = strrchr(base, '/');
	if (!slash)
		return -EINVAL;
	*slash = 0;
	int n = snprintf(dst, len, "%s/%s", base, GB_RING_LEFTOVER_DIR);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (mkdir(dst, 0700) < 0 && errno != EEXIST)
		return -errno;
	n = snprintf(dst, len, "%s/%s/%s@%s.ring", base, GB_RING_LEFTOVER_DIR, name, tag);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return rename(src, dst) < 0 ? -errno : 0;
}

int gb_statedir_claim(const char *root, const char *name, struct gb_statedir *sd,
                      pid_t *stale_pid)
{
	*stale_pid = 0;
	sd->lock_fd = -1;
	if (!gb_sandbox_name_valid(name))
		return -EINVAL;
	char lockp[GB_PATH_MAX];
	int rc = gb_path_sandbox(sd->path, sizeof sd->path, root, name);
	if (rc == 0)
		rc = gb_statedir_file(sd, GB_SUPERVISOR_LOCK, lockp, sizeof lockp);
	if (rc < 0)
		return rc;
	for (int attempt = 0; attempt < 8; attempt++) {
		rc = gb_mkdir_p(sd->path, 0755, 0700);
		if (rc < 0)
			return rc;
		int fd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			if (errno == ENOENT)
				continue; /* a dying owner removed the directory: retry */
			return -errno;
		}
		char buf[32] = "";
		ssize_t r = pread(fd, buf, sizeof buf - 1, 0);
		pid_t old = r > 0 ? (pid_t)atoi(buf) : 0;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int e = errno;
			close(fd);
			if (e == EWOULDBLOCK) {
				*stale_pid = old;
				return -EBUSY;
			}
			return -e;
		}
		/* The file we locked must still be the one at the path (the previous
		 * owner may have unlinked it while we waited). */
		struct stat a, b;
		if (fstat(fd, &a) < 0 || stat(lockp, &b) < 0 || a.st_ino != b.st_ino ||
		    a.st_dev != b.st_dev) {
			close(fd);
			continue;
		}
		if (r > 0) {
			/* Locked by nobody but not removed: its supervisor died. */
			*stale_pid = old > 0 ? old : -1;
			/* Its ring may hold records no daemon has journaled yet. */
			unsigned char rnd[8];
			char tag[40];
			snprintf(tag, sizeof tag, "stale%d-%ld", (int)old, (long)time(NULL));
			if (getrandom(rnd, sizeof rnd, 0) == (ssize_t)sizeof rnd)
				for (int i = 0; i < 8; i++)
					snprintf(tag + 2 * i, 3, "%02x", rnd[i]);
			char kept[4200];
			gb_statedir_keep_ring(sd, GB_RING_FILE, tag, kept, sizeof kept);
			clean_dir(sd->path, GB_SUPERVISOR_LOCK);
		}
		char pid[32];
		int len = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
		if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
			int e = errno;
			close(fd);
			return -e;
		}
		sd->lock_fd = fd;
		return 0;
	}
	return -EAGAIN;
}

void gb_statedir_release(struct gb_statedir *sd)
{
	if (sd->lock_fd < 0)
		return;
	/* Remove while still holding the lock, so nobody claims a half-removed
	 * directory. */
	clean_dir(sd->path, NULL);
	rmdir(sd->path);
	close(sd->lock_fd);
	sd->lock_fd = -1;
}
