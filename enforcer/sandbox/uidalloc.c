/* enforcer/sandbox/uidalloc.c — see uidalloc.h. */
#include "enforcer/sandbox/uidalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fsutil.h"

#define LOCK_DIR "/run/glassbox/uids"
#define MAX_PROBES 4096

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* 1 when we hold the lock on the file now at `path`. */
static int take(const char *path, int *fd_out)
{
	for (int tries = 0; tries < 3; tries++) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd);
			return 0;
		}
		/* The holder before us may have unlinked it while we opened. */
		struct stat a, b;
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev) {
			*fd_out = fd;
			return 1;
		}
		close(fd);
	}
	return 0;
}

/* Is `id` a uid in /etc/passwd or a gid in /etc/group?  The local files, not
 * NSS: a miss in NSS goes on to every module (systemd's userdb: a library
 * load and a dozen directory probes, ~4 ms per start), and the range is
 * chosen to be one that no account of any source uses. */
struct taken {
	uint32_t *v;
	size_t n, cap;
};

static void add_taken(struct taken *t, unsigned long id)
{
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 64;
		uint32_t *nv = realloc(t->v, nc * sizeof *nv);
		if (!nv)
			return;
		t->v = nv;
		t->cap = nc;
	}
	t->v[t->n++] = (uint32_t)id;
}

static void scan_ids(const char *file, uid_t first, uid_t count, struct taken *t)
{
	FILE *f = fopen(file, "re");
	if (!f)
		return;
	char line[1024];
	while (fgets(line, sizeof line, f)) {
		/* name:x:ID:... */
		char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
		if (!b)
			continue;
		unsigned long id = strtoul(b + 1, NULL, 10);
		if (id >= first && id - first < count)
			add_taken(t, id);
	}
	fclose(f);
}

static int is_taken(const struct taken *t, uid_t id)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i] == id)
			return 1;
	return 0;
}

int gb_uid_claim(const char *name, uid_t first, uid_t count, struct gb_uid_claim *out,
                 char *err, size_t errlen)
{
	out->lock_fd = -1;
	out->id = 0;
	if (first == 0 || count == 0 || (uint64_t)first + count > 4294967295u) {
		snprintf(err, errlen, "uid range %u+%u is not usable", (unsigned)first, (unsigned)count);
		return -EINVAL;
	}
	int mk = gb_mkdir_p(LOCK_DIR, 0755, 0700);
	if (mk < 0) {
		snprintf(err, errlen, "%s: %s", LOCK_DIR, strerror(-mk));
		return mk;
	}
	struct taken t = { 0 };
	scan_ids("/etc/passwd", first, count, &t);
	scan_ids("/etc/group", first, count, &t);
	uint32_t start = fnv1a(name) % count;
	uint32_t probes = count < MAX_PROBES ? count : MAX_PROBES;
	for (uint32_t i = 0; i < probes; i++) {
		uid_t id = first + (start + i) % count;
		/* An account or group that has the number is never borrowed. */
		if (is_taken(&t, id))
			continue;
		snprintf(out->path, sizeof out->path, LOCK_DIR "/%u", (unsigned)id);
		int fd = -1;
		int rc = take(out->path, &fd);
		if (rc < 0) {
			free(t.v);
			snprintf(err, errlen, "%s: %s", out->path, strerror(-rc));
			return rc;
		}
		if (rc == 1) {
			free(t.v);
			out->id = id;
			out->lock_fd = fd;
			return 0;
		}
	}
	free(t.v);
	snprintf(err, errlen, "no free sandbox uid in %u..%u (%u live sandboxes or accounts)",
	         (unsigned)first, (unsigned)(first + count - 1), (unsigned)probes);
	return -EAGAIN;
}

void gb_uid_release(struct gb_uid_claim *c)
{
	if (c->lock_fd < 0)
		return;
	unlink(c->path); /* while still locked: nobody takes a half-released id */
	close(c->lock_fd);
	c->lock_fd = -1;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, text, strlen(text));
	int e = n < 0 ? errno : 0;
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -(e ? e : EIO);
}

int gb_uid_idmap_userns(uid_t disk_uid, gid_t disk_gid, uid_t uid, gid_t gid)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	/* A raw clone, not fork + unshare: the child is born in its own user
	 * namespace (nothing to wait for), and no fork handler runs — under
	 * ThreadSanitizer the forked child restarts a runtime thread, and
	 * unshare(CLONE_NEWUSER) refuses a process with two threads, which left
	 * every TSan-built sandbox without its idmapped workdir.  The child
	 * makes raw system calls only: it shares no libc or sanitizer state. */
	pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), NULL, NULL,
	                           NULL, NULL);
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid == 0) {
		/* The namespace's only member, until the parent has its fd. */
		char c;
		syscall(SYS_close, p[1]);
		syscall(SYS_read, p[0], &c, 1); /* EOF: the parent is done */
		syscall(SYS_exit_group, 0);
	}
	close(p[0]);
	char path[64], map[96], ns[64];
	int rc = 0, fd = -1;
	snprintf(ns, sizeof ns, "/proc/%d/ns/user", (int)pid);
	if (rc == 0) {
		snprintf(path, sizeof path, "/proc/%d/uid_map", (int)pid);
		snprintf(map, sizeof map, "%u %u 1\n", (unsigned)disk_uid, (unsigned)uid);
		rc = write_file(path, map);
	}
	if (rc == 0) {
		snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
		write_file(path, "deny\n");
		snprintf(path, sizeof path, "/proc/%d/gid_map", (int)pid);
		/* Root's group shows as nogroup rather than unmapped: the kernel
		 * refuses to create files in a directory whose group the mount
		 * cannot map.  The sandbox is not in it, so it cannot create files
		 * with it either. */
		snprintf(map, sizeof map, "%u %u 1\n0 65534 1\n", (unsigned)disk_gid, (unsigned)gid);
		rc = write_file(path, map);
	}
	if (rc == 0 && (fd = open(ns, O_RDONLY | O_CLOEXEC)) < 0)
		rc = -errno;
	close(p[1]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return rc < 0 ? rc : fd;
}
