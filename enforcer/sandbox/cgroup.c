/* enforcer/sandbox/cgroup.c — see cgroup.h. */
#include "enforcer/sandbox/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#define CG "/sys/fs/cgroup"

static int write_str(const char *dir, const char *file, const char *val)
{
	char p[600];
	snprintf(p, sizeof p, "%s/%s", dir, file);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, val, strlen(val));
	int e = n < 0 ? errno : 0;
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -(e ? e : EIO);
}

static int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

/* "key N" in a flat keyed file (memory.events, pids.events, oom_control). */
static uint64_t keyed(const char *dir, const char *file, const char *key)
{
	char p[600], buf[2048];
	snprintf(p, sizeof p, "%s/%s", dir, file);
	if (read_str(p, buf, sizeof buf) < 0)
		return 0;
	size_t kl = strlen(key);
	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, kl) && l[kl] == ' ')
			return strtoull(l + kl + 1, NULL, 10);
	return 0;
}

int gb_cgroup_parse_size(const char *s, uint64_t *out)
{
	if (!strcmp(s, "max") || !strcmp(s, "0")) {
		*out = 0;
		return 0;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -EINVAL;
	unsigned shift = 0;
	switch (*end) {
	case 0: break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: return -EINVAL;
	}
	if ((*end == 'i' || *end == 'I') && shift)
		end++;
	if ((*end == 'b' || *end == 'B') && shift)
		end++;
	if (*end || v == 0 || (shift && v > (~0ULL >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

/* The supervisor's own group in v1 hierarchy `ctrl` ("/" when unknown). */
static void own_v1_group(const char *ctrl, char *out, size_t len)
{
	snprintf(out, len, "/");
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return;
	char line[1024];
	size_t cl = strlen(ctrl);
	while (fgets(line, sizeof line, f)) {
		/* ID:controller[,controller]:path */
		char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
		if (!b)
			continue;
		*b = 0;
		for (char *c = a + 1; c && *c;) {
			char *comma = strchr(c, ',');
			size_t l = comma ? (size_t)(comma - c) : strlen(c);
			if (l == cl && !strncmp(c, ctrl, cl)) {
				b[1 + strcspn(b + 1, "\n")] = 0;
				snprintf(out, len, "%s", b + 1);
				fclose(f);
				return;
			}
			c = comma ? comma + 1 : NULL;
		}
	}
	fclose(f);
}

/* Groups a killed supervisor (kill -9) left behind: glassbox-NAME-PID whose
 * PID is gone.  rmdir removes only an empty cgroup, so a group that still
 * holds processes (or a reused pid's) is never touched. */
static void sweep(const char *parent)
{
	DIR *d = opendir(parent);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "glassbox-", 9))
			continue;
		const char *dash = strrchr(e->d_name, '-');
		char *end;
		long pid = dash ? strtol(dash + 1, &end, 10) : 0;
		if (pid <= 0 || *end || (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

static int mkgroup_v1(const char *ctrl, const char *leaf, char *out, size_t len)
{
	char own[400];
	own_v1_group(ctrl, own, sizeof own);
	int n = snprintf(out, len, CG "/%s%s", ctrl, strcmp(own, "/") ? own : "");
	struct stat st;
	if (n < 0 || (size_t)n >= len || stat(out, &st) < 0 || !S_ISDIR(st.st_mode)) {
		out[0] = 0;
		return -ENOENT;
	}
	sweep(out);
	size_t l = strlen(out);
	n = snprintf(out + l, len - l, "/%s", leaf);
	if (n < 0 || (size_t)n >= len - l) {
		out[0] = 0;
		return -ENAMETOOLONG;
	}
	if (mkdir(out, 0755) < 0 && errno != EEXIST) {
		int e = errno;
		out[0] = 0;
		return -e;
	}
	return 0;
}

static int is_v2(void)
{
	struct statfs fs;
	if (statfs(CG, &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC)
		return 0;
	char buf[512];
	if (read_str(CG "/cgroup.controllers", buf, sizeof buf) < 0)
		return 0;
	return strstr(buf, "memory") && strstr(buf, "pids");
}

static int create_v2(const char *leaf, struct gb_cgroup *cg, char *err, size_t errlen)
{
	const struct gb_cgroup_limits *l = &cg->lim;
	/* Each controller separately: one that is missing must not stop the rest. */
	static const char *const ctrls[] = { "+memory", "+pids", "+cpu" };
	for (size_t i = 0; i < 3; i++)
		write_str(CG, "cgroup.subtree_control", ctrls[i]);
	if (mkdir(CG "/glassbox", 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cgroup " CG "/glassbox: %s", strerror(errno));
		return -errno;
	}
	for (size_t i = 0; i < 3; i++)
		write_str(CG "/glassbox", "cgroup.subtree_control", ctrls[i]);
	sweep(CG "/glassbox");
	snprintf(cg->v2, sizeof cg->v2, CG "/glassbox/%s", leaf);
	if (mkdir(cg->v2, 0755) < 0 && errno != EEXIST) {
		int e = errno;
		snprintf(err, errlen, "cgroup %s: %s", cg->v2, strerror(e));
		cg->v2[0] = 0;
		return -e;
	}
	char v[64];
	int rc = 0;
	if (l->memory_max) {
		snprintf(v, sizeof v, "%llu", (unsigned long long)l->memory_max);
		if ((rc = write_str(cg->v2, "memory.max", v)) < 0) {
			snprintf(err, errlen, "cgroup %s/memory.max: %s", cg->v2, strerror(-rc));
			return rc;
		}
		write_str(cg->v2, "memory.swap.max", "0"); /* absent without swap accounting */
		write_str(cg->v2, "memory.oom.group", "0");
	}
	if (l->pids_max) {
		snprintf(v, sizeof v, "%llu", (unsigned long long)l->pids_max);
		if ((rc = write_str(cg->v2, "pids.max", v)) < 0) {
			snprintf(err, errlen, "cgroup %s/pids.max: %s", cg->v2, strerror(-rc));
			return rc;
		}
	}
	if (l->cpus > 0) {
		snprintf(v, sizeof v, "%llu 100000", (unsigned long long)(l->cpus * 100000));
		if ((rc = write_str(cg->v2, "cpu.max", v)) < 0) {
			snprintf(err, errlen, "cgroup %s/cpu.max: %s", cg->v2, strerror(-rc));
			return rc;
		}
	}
	cg->version = 2;
	return 0;
}

static int create_v1(const char *leaf, struct gb_cgroup *cg, char *err, size_t errlen)
{
	const struct gb_cgroup_limits *l = &cg->lim;
	char v[64];
	int rc;
	cg->version = 1;
	if (l->pids_max) {
		if ((rc = mkgroup_v1("pids", leaf, cg->pids, sizeof cg->pids)) < 0) {
			snprintf(err, errlen, "cgroup v1 pids: %s", strerror(-rc));
			return rc;
		}
		snprintf(v, sizeof v, "%llu", (unsigned long long)l->pids_max);
		if ((rc = write_str(cg->pids, "pids.max", v)) < 0) {
			snprintf(err, errlen, "cgroup %s/pids.max: %s", cg->pids, strerror(-rc));
			return rc;
		}
	}
	if (l->memory_max) {
		if ((rc = mkgroup_v1("memory", leaf, cg->mem, sizeof cg->mem)) < 0) {
			snprintf(err, errlen, "cgroup v1 memory: %s", strerror(-rc));
			return rc;
		}
		snprintf(v, sizeof v, "%llu", (unsigned long long)l->memory_max);
		if ((rc = write_str(cg->mem, "memory.limit_in_bytes", v)) < 0) {
			snprintf(err, errlen, "cgroup %s/memory.limit_in_bytes: %s", cg->mem, strerror(-rc));
			return rc;
		}
		/* Swap off: memory+swap = memory when swap is accounted; else
		 * the group never swaps anonymous memory. */
		if (write_str(cg->mem, "memory.memsw.limit_in_bytes", v) < 0)
			write_str(cg->mem, "memory.swappiness", "0");
	}
	if (l->cpus > 0) {
		if ((rc = mkgroup_v1("cpu", leaf, cg->cpu, sizeof cg->cpu)) < 0) {
			snprintf(err, errlen, "cgroup v1 cpu: %s", strerror(-rc));
			return rc;
		}
		snprintf(v, sizeof v, "%llu", (unsigned long long)(l->cpus * 100000));
		if (write_str(cg->cpu, "cpu.cfs_period_us", "100000") < 0 ||
		    (rc = write_str(cg->cpu, "cpu.cfs_quota_us", v)) < 0) {
			snprintf(err, errlen, "cgroup %s/cpu.cfs_quota_us: %s", cg->cpu, strerror(-rc));
			return rc < 0 ? rc : -EIO;
		}
	}
	return 0;
}

int gb_cgroup_create(const char *name, const struct gb_cgroup_limits *lim, struct gb_cgroup *cg,
                     char *err, size_t errlen)
{
	memset(cg, 0, sizeof *cg);
	cg->lim = *lim;
	if (!lim->memory_max && !lim->pids_max && !(lim->cpus > 0))
		return 0;
	/* The supervisor's pid keeps names of different --roots apart. */
	char leaf[128];
	snprintf(leaf, sizeof leaf, "glassbox-%s-%d", name, (int)getpid());
	int rc = is_v2() ? create_v2(leaf, cg, err, errlen) : create_v1(leaf, cg, err, errlen);
	if (rc < 0)
		gb_cgroup_destroy(cg);
	return rc;
}

static int join(const struct gb_cgroup *cg, const char *file, const char *v, char *err,
                size_t errlen)
{
	const char *dirs[] = { cg->v2, cg->pids, cg->mem, cg->cpu };
	for (size_t i = 0; i < 4; i++) {
		if (!dirs[i][0])
			continue;
		int rc = write_str(dirs[i], file, v);
		if (rc < 0) {
			snprintf(err, errlen, "joining cgroup %s: %s", dirs[i], strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int gb_cgroup_add(const struct gb_cgroup *cg, pid_t pid, char *err, size_t errlen)
{
	if (cg->version != 2)
		return 0;
	char v[32];
	snprintf(v, sizeof v, "%d", (int)pid);
	return join(cg, "cgroup.procs", v, err, errlen);
}

int gb_cgroup_join_self(const struct gb_cgroup *cg, char *err, size_t errlen)
{
	return cg->version == 1 ? join(cg, "tasks", "0", err, errlen) : 0;
}

void gb_cgroup_read_events(const struct gb_cgroup *cg, struct gb_cgroup_events *ev)
{
	memset(ev, 0, sizeof *ev);
	if (cg->version == 2) {
		ev->oom_kills = keyed(cg->v2, "memory.events", "oom_kill");
		ev->pids_max = keyed(cg->v2, "pids.events", "max");
	} else if (cg->version == 1) {
		if (cg->mem[0])
			ev->oom_kills = keyed(cg->mem, "memory.oom_control", "oom_kill");
		if (cg->pids[0])
			ev->pids_max = keyed(cg->pids, "pids.events", "max");
	}
}

void gb_cgroup_destroy(struct gb_cgroup *cg)
{
	char *dirs[] = { cg->v2, cg->pids, cg->mem, cg->cpu };
	for (size_t i = 0; i < 4; i++) {
		if (!dirs[i][0])
			continue;
		/* The sandbox's last processes may still be exiting: up to 1 s. */
		for (int t = 0; t < 200 && rmdir(dirs[i]) < 0 && errno == EBUSY; t++)
			nanosleep(&(struct timespec){ .tv_nsec = 5000000 }, NULL);
		dirs[i][0] = 0;
	}
	cg->version = 0;
}
