/* enforcer/sandbox/rootfs.c — see rootfs.h.  Everything here runs in the
 * sandbox child before the privilege drop, in its own mount namespace: no
 * mount made here is visible on the host. */
#include "enforcer/sandbox/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/record.h"
#include "enforcer/sandbox/limits.h"

enum kind { K_RO, K_RW, K_EXTRA, K_TMPFS, K_PROC, K_DEV, K_WORKDIR };

struct ent {
	enum kind kind;
	const char *src; /* host path (binds) */
	const char *dst; /* path inside */
	const char *opts; /* tmpfs options */
	size_t dlen;
};

struct ctx {
	const struct gb_rootfs_spec *s;
	gb_landlock_report_fn report;
	void *rctx;
	char *err;
	size_t errlen;
	char root[2048]; /* the state directory's root/: well below PATH_MAX */
	char root_real[PATH_MAX]; /* the same, symlinks resolved */
};

/* The minimal /dev: bound from the host, whatever the policy says. */
static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };

/* A problem with one part of the root: an error under hard_requirement, a
 * FINDING naming it under best_effort. */
static int trouble(struct ctx *c, const char *path, int e, const char *what)
{
	char d[600];
	/* The reason before the path: a long path is cut, not the reason. */
	snprintf(d, sizeof d, "private root: %s failed (%s): %s", what, strerror(e), path);
	if (c->s->hard) {
		snprintf(c->err, c->errlen, "hard_requirement: %s", d);
		return -e;
	}
	if (c->report)
		c->report(c->rctx, GB_F_CONTAINMENT_DEGRADED, GB_SEV_MEDIUM, path, d);
	return 0;
}

static int full_path(struct ctx *c, const char *dst, char *out, size_t len)
{
	int n = snprintf(out, len, "%s%s", c->root, dst);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* mkdir -p of a path in the new root (whose prefix exists). */
static int mkdirs(const char *p)
{
	return gb_mkdir_p(p, 0755, 0755);
}

/* Does `full` stay in the new root?  A policy symlink recreated there with an
 * absolute target (/lib64 -> /usr/lib64) would lead a later mount point
 * below it out to the host's tree before pivot_root: the longest existing
 * prefix of `full`, resolved, must be inside the root. */
static int inside_root(struct ctx *c, const char *full)
{
	char probe[PATH_MAX], real[PATH_MAX];
	size_t rl = strlen(c->root);
	snprintf(probe, sizeof probe, "%s", full);
	struct stat st;
	while (strlen(probe) > rl && lstat(probe, &st) < 0) {
		char *slash = strrchr(probe, '/');
		if (!slash)
			break;
		*slash = 0;
	}
	if (!realpath(probe, real))
		return 0;
	size_t l = strlen(c->root_real);
	return !strncmp(real, c->root_real, l) && (real[l] == 0 || real[l] == '/');
}

/* A mount point at `full`: a directory, or an empty file for a file bind. */
static int mountpoint(struct ctx *c, const char *full, int dir)
{
	size_t rl = strlen(c->root);
	if (dir)
		return mkdirs(full);
	char parent[PATH_MAX];
	snprintf(parent, sizeof parent, "%s", full);
	char *slash = strrchr(parent, '/');
	if (slash && (size_t)(slash - parent) > rl) {
		*slash = 0;
		int rc = mkdirs(parent);
		if (rc < 0)
			return rc;
	}
	int fd = open(full, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 && errno != EEXIST && errno != EISDIR)
		return -errno;
	if (fd >= 0)
		close(fd);
	return 0;
}

static int set_attrs(const char *full, int ro, int nodev)
{
	struct mount_attr a = { .attr_set = MOUNT_ATTR_NOSUID | (ro ? MOUNT_ATTR_RDONLY : 0) |
		                                (nodev ? MOUNT_ATTR_NODEV : 0) };
	if (mount_setattr(AT_FDCWD, full, AT_RECURSIVE, &a, sizeof a) == 0)
		return 0;
	if (errno != ENOSYS)
		return -errno;
	/* Kernels before 5.12: the top mount only; submounts keep their flags. */
	unsigned long f = MS_BIND | MS_REMOUNT | MS_NOSUID | (ro ? MS_RDONLY : 0) | (nodev ? MS_NODEV : 0);
	return mount(NULL, full, NULL, f, NULL) < 0 ? -errno : 0;
}

static int do_bind(struct ctx *c, const struct ent *e)
{
	char full[PATH_MAX];
	if (full_path(c, e->dst, full, sizeof full) < 0)
		return trouble(c, e->dst, ENAMETOOLONG, "bind");
	struct stat st;
	int rc = e->kind == K_EXTRA ? stat(e->src, &st) : lstat(e->src, &st);
	if (rc < 0) {
		if (errno == ENOENT && !c->s->hard)
			return 0; /* Landlock's finding names it */
		return trouble(c, e->dst, errno, "bind");
	}
	if (S_ISLNK(st.st_mode)) {
		/* Merged /usr: /bin -> usr/bin stays a link in the new root too. */
		char tgt[PATH_MAX];
		ssize_t n = readlink(e->src, tgt, sizeof tgt - 1);
		if (n < 0)
			return trouble(c, e->dst, errno, "readlink");
		tgt[n] = 0;
		char parent[PATH_MAX];
		snprintf(parent, sizeof parent, "%s", full);
		char *slash = strrchr(parent, '/');
		if (slash && slash != parent)
			*slash = 0;
		if (!inside_root(c, parent))
			return trouble(c, e->dst, ELOOP, "symlink (a symlink leads out of the root)");
		if ((rc = mkdirs(parent)) < 0)
			return trouble(c, e->dst, -rc, "mkdir");
		if (symlink(tgt, full) < 0 && errno != EEXIST)
			return trouble(c, e->dst, errno, "symlink");
		return 0;
	}
	if (!inside_root(c, full))
		return trouble(c, e->dst, ELOOP, "mount point (a symlink leads out of the root)");
	if ((rc = mountpoint(c, full, S_ISDIR(st.st_mode))) < 0)
		return trouble(c, e->dst, -rc, "mount point");
	if (mount(e->src, full, NULL, MS_BIND | MS_REC, NULL) < 0)
		return trouble(c, e->dst, errno, "bind");
	/* A device the policy names explicitly (below /dev) keeps working. */
	int nodev = strncmp(e->dst, "/dev/", 5) != 0;
	int ro = e->kind != K_RW && e->kind != K_WORKDIR;
	if ((rc = set_attrs(full, ro, nodev)) < 0)
		return trouble(c, e->dst, -rc, ro ? "read-only remount" : "nosuid,nodev");
	return 0;
}

/* The workdir through the sandbox's idmapping: a detached copy of the
 * host's mount tree (open_tree), idmapped, nosuid, nodev, moved into
 * place.  0 done, 1 not possible here (the caller binds it plainly, after
 * a FINDING), negative errno under hard_requirement. */
static int do_idmapped(struct ctx *c, const struct ent *e)
{
	char full[PATH_MAX];
	int rc;
	if (full_path(c, e->dst, full, sizeof full) < 0 || !inside_root(c, full) ||
	    (rc = mkdirs(full)) < 0)
		return 1; /* the plain bind reports it */
	int fd = open_tree(AT_FDCWD, e->src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	const char *what = "open_tree";
	if (fd >= 0) {
		struct mount_attr a = { .attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
			                    .userns_fd = (uint64_t)c->s->workdir_userns };
		what = "idmapped mount";
		if (mount_setattr(fd, "", AT_EMPTY_PATH, &a, sizeof a) == 0) {
			what = "move_mount";
			if (move_mount(fd, "", AT_FDCWD, full, MOVE_MOUNT_F_EMPTY_PATH) == 0) {
				close(fd);
				return 0;
			}
		}
	}
	int err = errno;
	if (fd >= 0)
		close(fd);
	char d[700];
	snprintf(d, sizeof d, "workdir: %s failed (%s): files the sandbox writes there will be owned "
	         "by its uid %u on the host: %s", what, strerror(err), (unsigned)c->s->uid, e->src);
	if (c->report)
		c->report(c->rctx, GB_F_CONTAINMENT_DEGRADED, GB_SEV_LOW, e->src, d);
	return 1;
}

static int do_tmpfs(struct ctx *c, const struct ent *e)
{
	char full[PATH_MAX];
	int rc;
	if (full_path(c, e->dst, full, sizeof full) < 0)
		return trouble(c, e->dst, ENAMETOOLONG, "tmpfs");
	if (!inside_root(c, full))
		return trouble(c, e->dst, ELOOP, "tmpfs (a symlink leads out of the root)");
	if ((rc = mkdirs(full)) < 0)
		return trouble(c, e->dst, -rc, "tmpfs");
	if (mount("tmpfs", full, "tmpfs", MS_NOSUID | MS_NODEV, e->opts) < 0)
		return trouble(c, e->dst, errno, "tmpfs");
	return 0;
}

static int do_proc(struct ctx *c)
{
	char full[2100];
	snprintf(full, sizeof full, "%s/proc", c->root);
	if (mkdir(full, 0555) < 0 && errno != EEXIST)
		return trouble(c, "/proc", errno, "mkdir");
	if (mount("proc", full, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		int e = errno;
		snprintf(c->err, c->errlen, "mounting /proc: %s", strerror(e));
		return -e; /* the sandbox's /proc is never optional */
	}
	return 0;
}

static int do_dev(struct ctx *c)
{
	char full[2100], p[2200];
	int rc;
	snprintf(full, sizeof full, "%s/dev", c->root);
	if (mkdir(full, 0755) < 0 && errno != EEXIST)
		return trouble(c, "/dev", errno, "mkdir");
	if (mount("tmpfs", full, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") < 0)
		return trouble(c, "/dev", errno, "tmpfs");
	for (size_t i = 0; i < sizeof dev_nodes / sizeof dev_nodes[0]; i++) {
		char src[64];
		snprintf(src, sizeof src, "/dev/%s", dev_nodes[i]);
		snprintf(p, sizeof p, "%s/%s", full, dev_nodes[i]);
		int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
		if (fd < 0 || close(fd) < 0 || mount(src, p, NULL, MS_BIND, NULL) < 0) {
			if ((rc = trouble(c, src, errno, "bind")) < 0)
				return rc;
			continue;
		}
		struct mount_attr a = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC };
		mount_setattr(AT_FDCWD, p, 0, &a, sizeof a);
	}
	/* A devpts of our own: the workload's ptys are not the host's. */
	snprintf(p, sizeof p, "%s/pts", full);
	if (mkdir(p, 0755) < 0 ||
	    mount("devpts", p, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") < 0) {
		if ((rc = trouble(c, "/dev/pts", errno, "devpts")) < 0)
			return rc;
	} else {
		snprintf(p, sizeof p, "%s/ptmx", full);
		if (symlink("pts/ptmx", p) < 0 && (rc = trouble(c, "/dev/ptmx", errno, "symlink")) < 0)
			return rc;
	}
	static const char *const links[][2] = { { "fd", "/proc/self/fd" },
		                                    { "stdin", "/proc/self/fd/0" },
		                                    { "stdout", "/proc/self/fd/1" },
		                                    { "stderr", "/proc/self/fd/2" } };
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", full, links[i][0]);
		if (symlink(links[i][1], p) < 0 && (rc = trouble(c, p, errno, "symlink")) < 0)
			return rc;
	}
	return 0;
}

/* /etc/passwd and /etc/group of the new root: the host's entries minus any
 * that claim the sandbox's name or ids, plus the sandbox's own line, so
 * `id`, `whoami` and `ls -l` name it "sandbox" whatever its uid. */
static int identity_file(struct ctx *c, const char *file, const char *line, const char *name,
                         unsigned id)
{
	char full[2100], tmp[2100];
	struct stat st;
	snprintf(full, sizeof full, "%s/etc/%s", c->root, file);
	if (lstat(full, &st) < 0 || !S_ISREG(st.st_mode))
		return 0; /* /etc not visible, or an odd one: nothing to name */
	/* Made in the private /tmp (always there, writable even when a
	 * read_only "/" covers the root), bound, then unlinked. */
	snprintf(tmp, sizeof tmp, "%s/tmp/.glassbox-%s", c->root, file);
	char host[64];
	snprintf(host, sizeof host, "/etc/%s", file);
	FILE *in = fopen(host, "re");
	FILE *out = fopen(tmp, "we");
	if (!out) {
		if (in)
			fclose(in);
		return trouble(c, host, errno, "writing");
	}
	char *l = NULL;
	size_t cap = 0;
	size_t nl = strlen(name);
	while (in && getline(&l, &cap, in) >= 0) {
		/* name:x:ID:... — drop our name and our id */
		const char *f3 = strchr(l, ':');
		f3 = f3 ? strchr(f3 + 1, ':') : NULL;
		if ((!strncmp(l, name, nl) && l[nl] == ':') || (f3 && strtoul(f3 + 1, NULL, 10) == id))
			continue;
		fputs(l, out);
	}
	free(l);
	if (in)
		fclose(in);
	fputs(line, out);
	int bad = fclose(out) != 0;
	int rc = 0;
	if (bad || mount(tmp, full, NULL, MS_BIND, NULL) < 0)
		rc = trouble(c, host, bad ? EIO : errno, "bind");
	else
		set_attrs(full, 1, 1);
	unlink(tmp); /* the bind keeps the inode */
	return rc;
}

static int is_private(const char *p)
{
	return !strcmp(p, "/tmp") || !strcmp(p, "/var/tmp") || !strcmp(p, "/dev/shm") ||
	       !strcmp(p, "/sandbox");
}

/* What a policy path becomes: 0 bind it, 1 covered by our own mounts. */
static int covered(const char *p)
{
	if (!strcmp(p, "/proc") || !strncmp(p, "/proc/", 6) || !strcmp(p, "/dev") ||
	    !strcmp(p, "/dev/pts") || !strncmp(p, "/dev/pts/", 9) || !strcmp(p, "/dev/ptmx") ||
	    is_private(p))
		return 1;
	for (size_t i = 0; i < sizeof dev_nodes / sizeof dev_nodes[0]; i++)
		if (!strncmp(p, "/dev/", 5) && !strcmp(p + 5, dev_nodes[i]))
			return 1;
	return 0;
}

static int named(const struct gb_rootfs_spec *s, const char *p)
{
	for (size_t i = 0; i < s->n_read_only; i++)
		if (!strcmp(s->read_only[i], p))
			return 1;
	for (size_t i = 0; i < s->n_read_write; i++)
		if (!strcmp(s->read_write[i], p))
			return 1;
	return 0;
}

int gb_rootfs_host_tree(char *err, size_t errlen)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		snprintf(err, errlen, "making / private: %s", strerror(errno));
		return -errno;
	}
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		snprintf(err, errlen, "mounting /proc: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static int fallback(struct ctx *c, const char *what, int e)
{
	char d[600];
	snprintf(d, sizeof d, "private root unavailable (%s: %s): the sandbox sees the host's "
	         "filesystem, confined by Landlock only", what, strerror(e));
	if (c->s->hard) {
		snprintf(c->err, c->errlen, "hard_requirement: %s", d);
		return -e;
	}
	if (c->report)
		c->report(c->rctx, GB_F_CONTAINMENT_DEGRADED, GB_SEV_HIGH, "rootfs", d);
	umount2(c->root, MNT_DETACH);
	int rc = gb_rootfs_host_tree(c->err, c->errlen);
	return rc < 0 ? rc : 0;
}

static int build(struct ctx *c, struct ent *v, size_t n)
{
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		switch (v[i].kind) {
		case K_PROC: rc = do_proc(c); break;
		case K_DEV: rc = do_dev(c); break;
		case K_TMPFS: rc = do_tmpfs(c, &v[i]); break;
		case K_WORKDIR:
			rc = c->s->workdir_userns >= 0 ? do_idmapped(c, &v[i]) : 1;
			if (rc == 1)
				rc = do_bind(c, &v[i]);
			break;
		default: rc = do_bind(c, &v[i]); break;
		}
	}
	if (rc < 0)
		return rc;
	/* The workdir is where CMD starts, bound or not. */
	char full[PATH_MAX];
	if (c->s->workdir && full_path(c, c->s->workdir, full, sizeof full) == 0 &&
	    access(full, F_OK) < 0 && (rc = mkdirs(full)) < 0 &&
	    (rc = trouble(c, c->s->workdir, -rc, "workdir")) < 0)
		return rc;
	/* The default user only: a numeric run_as_user keeps the host's names. */
	if (c->s->uid && c->s->user && !strcmp(c->s->user, "sandbox")) {
		char line[256];
		const char *user = c->s->user;
		snprintf(line, sizeof line, "%s:x:%u:%u:glassbox sandbox:%s:/usr/sbin/nologin\n", user,
		         (unsigned)c->s->uid, (unsigned)c->s->gid,
		         c->s->workdir ? c->s->workdir : "/");
		if ((rc = identity_file(c, "passwd", line, user, (unsigned)c->s->uid)) < 0)
			return rc;
		snprintf(line, sizeof line, "%s:x:%u:\n", user, (unsigned)c->s->gid);
		if ((rc = identity_file(c, "group", line, user, (unsigned)c->s->gid)) < 0)
			return rc;
	}
	return 0;
}

int gb_rootfs_setup(const struct gb_rootfs_spec *s, gb_landlock_report_fn report, void *rctx,
                    char *err, size_t errlen)
{
	struct ctx c = { .s = s, .report = report, .rctx = rctx, .err = err, .errlen = errlen };
	if (strlen(s->dir) >= sizeof c.root) {
		snprintf(err, errlen, "private root: state directory path too long");
		return -ENAMETOOLONG;
	}
	snprintf(c.root, sizeof c.root, "%s", s->dir);
	if (!realpath(c.root, c.root_real)) {
		snprintf(err, errlen, "private root %s: %s", c.root, strerror(errno));
		return -errno;
	}
	/* Nothing we mount may propagate back to the host, nor the host's mounts
	 * into the sandbox. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		snprintf(err, errlen, "making / private: %s", strerror(errno));
		return -errno;
	}
	if (mount("tmpfs", c.root, "tmpfs", MS_NOSUID | MS_NODEV,
	          "mode=0755,size=" GB_TMPFS_ROOT_SIZE) < 0)
		return fallback(&c, "tmpfs root", errno);

	size_t cap = s->n_read_only + s->n_read_write + s->n_extra_ro + 8, n = 0;
	struct ent *v = calloc(cap, sizeof *v);
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	char sandbox_opts[96];
	snprintf(sandbox_opts, sizeof sandbox_opts, "mode=0755,uid=%u,gid=%u,size=%s",
	         (unsigned)s->uid, (unsigned)s->gid, GB_TMPFS_SANDBOX_SIZE);
	v[n++] = (struct ent){ .kind = K_PROC, .dst = "/proc" };
	v[n++] = (struct ent){ .kind = K_DEV, .dst = "/dev" };
	v[n++] = (struct ent){ .kind = K_TMPFS, .dst = "/dev/shm",
		                   .opts = "mode=1777,size=" GB_TMPFS_SHM_SIZE };
	v[n++] = (struct ent){ .kind = K_TMPFS, .dst = "/tmp", .opts = "mode=1777,size=" GB_TMPFS_TMP_SIZE };
	v[n++] = (struct ent){ .kind = K_TMPFS, .dst = "/var/tmp",
		                   .opts = "mode=1777,size=" GB_TMPFS_VARTMP_SIZE };
	if (named(s, "/sandbox"))
		v[n++] = (struct ent){ .kind = K_TMPFS, .dst = "/sandbox", .opts = sandbox_opts };
	for (size_t i = 0; i < s->n_read_only; i++)
		if (!covered(s->read_only[i]))
			v[n++] = (struct ent){ .kind = K_RO, .src = s->read_only[i], .dst = s->read_only[i] };
	for (size_t i = 0; i < s->n_read_write; i++)
		if (!covered(s->read_write[i]))
			v[n++] = (struct ent){ .kind = K_RW, .src = s->read_write[i], .dst = s->read_write[i] };
	if (s->bind_workdir && s->workdir)
		v[n++] = (struct ent){ .kind = K_WORKDIR, .src = s->workdir, .dst = s->workdir };
	for (size_t i = 0; i < s->n_extra_ro; i++)
		v[n++] = (struct ent){ .kind = K_EXTRA, .src = s->extra_ro[i].src, .dst = s->extra_ro[i].dst };
	/* Parents before children (a parent's path is shorter); insertion sort
	 * keeps the order otherwise, so a read_write repeat lands on top. */
	for (size_t i = 0; i < n; i++)
		v[i].dlen = strlen(v[i].dst);
	for (size_t i = 1; i < n; i++) {
		struct ent t = v[i];
		size_t j = i;
		for (; j > 0 && v[j - 1].dlen > t.dlen; j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
	int rc = build(&c, v, n);
	free(v);
	if (rc < 0)
		return rc;

	if (chdir(c.root) < 0)
		return fallback(&c, "chdir new root", errno);
	if (syscall(SYS_pivot_root, ".", ".") < 0) {
		int e = errno;
		if (chdir("/") < 0) {
			/* unreachable in practice; the fallback works on absolute paths */
		}
		return fallback(&c, "pivot_root", e);
	}
	/* The old root is stacked under the new one: detach it. */
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0) {
		snprintf(err, errlen, "detaching the host's root: %s", strerror(errno));
		return -errno;
	}
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0) {
		int e = errno;
		if ((rc = trouble(&c, "/", e, "read-only remount of")) < 0)
			return rc;
	}
	return 1;
}
