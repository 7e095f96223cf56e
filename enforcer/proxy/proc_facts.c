/* enforcer/proxy/proc_facts.c — /proc/PID/status and exe, cached under kept /proc/PID directories
 * (contract: proc_facts.h). */
#include "enforcer/proxy/proc_facts.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"

/* Status from descriptor fd (closed here); -ESRCH for a process that has
 * exited and not been reaped (State Z or X), as a pidfd would say. */
static int status_fd(int fd, struct gb_pstatus *st)
{
	char buf[4096];
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	ssize_t n = read(fd, buf, sizeof buf - 1); /* a seq_file: whole in one read */
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	*st = (struct gb_pstatus){ .depth = 1 };
	for (char *line = buf; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (!strncmp(line, "State:", 6)) {
			const char *t = line + 6;
			while (*t == '\t' || *t == ' ')
				t++;
			if (*t == 'Z' || *t == 'X')
				return -ESRCH;
		} else if (!strncmp(line, "PPid:", 5)) {
			st->ppid = atoi(line + 5);
		} else if (!strncmp(line, "Uid:", 4)) {
			st->uid = (uint32_t)strtoul(line + 4, NULL, 10);
		} else if (!strncmp(line, "NSpid:", 6)) {
			st->depth = 0;
			for (char *t = line + 6; *t;) {
				while (*t == '\t' || *t == ' ')
					t++;
				if (!*t)
					break;
				st->nspid = atoi(t);
				st->depth++;
				while (*t && *t != '\t' && *t != ' ')
					t++;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

int gb_proc_status(const char *proc, int pid, struct gb_pstatus *st)
{
	char p[320];
	snprintf(p, sizeof p, "%s/%d/status", proc, pid);
	return status_fd(open(p, O_RDONLY | O_CLOEXEC), st);
}

struct ent {
	int pid;   /* 0 = free */
	int dirfd; /* /proc/PID, opened when the entry was read (the pin) */
	struct gb_pstatus st;
	char *exe;
	uint64_t seen_ns;     /* when first read */
	uint64_t parent_seen; /* seen_ns of the parent entry confirmed as st.ppid's holder, 0: none */
	uint64_t listed_ns;   /* 0: sockets never listed completely */
	uint32_t n_sock, sock[GB_PROC_MEMO_SOCKETS];
};

struct gb_proc_cache {
	char proc[256];
	pthread_mutex_t lock;
	size_t n, next;
	struct ent *e;
};

int gb_proc_cache_new(const char *proc, size_t slots, struct gb_proc_cache **out)
{
	struct gb_proc_cache *pc = calloc(1, sizeof *pc);
	if (!pc)
		return -ENOMEM;
	snprintf(pc->proc, sizeof pc->proc, "%s", proc);
	pc->n = strcmp(proc, "/proc") == 0 ? slots : 0;
	if (pc->n && !(pc->e = calloc(pc->n, sizeof *pc->e))) {
		free(pc);
		return -ENOMEM;
	}
	pthread_mutex_init(&pc->lock, NULL);
	*out = pc;
	return 0;
}

static void drop(struct ent *e)
{
	if (e->pid)
		close(e->dirfd);
	free(e->exe);
	*e = (struct ent){ 0 };
}

void gb_proc_cache_free(struct gb_proc_cache *pc)
{
	if (!pc)
		return;
	for (size_t i = 0; i < pc->n; i++)
		drop(&pc->e[i]);
	free(pc->e);
	pthread_mutex_destroy(&pc->lock);
	free(pc);
}

static int read_link(const char *proc, int pid, char *exe, size_t len)
{
	char p[320];
	snprintf(p, sizeof p, "%s/%d/exe", proc, pid);
	ssize_t n = readlink(p, exe, len - 1);
	if (n < 0) {
		exe[0] = '\0';
		/* ENOENT with a live /proc/PID: a kernel thread, which has no exe */
		return errno == ENOENT ? 0 : -errno;
	}
	exe[n] = '\0';
	return 0;
}

/* The exe link read through a kept /proc/PID directory: a directory of
 * procfs belongs to the process it was opened for (its struct pid, not
 * the number), so once that process has exited — and whoever has its
 * number since — every name under it reads ENOENT; and an exited but
 * unreaped process (a zombie, or a leader whose threads all ended) has no
 * mm, so no exe either.  So one readlinkat says both "the very process
 * the entry was read from is alive" (what a pidfd poll said) and "runs
 * this exe" (the second system call the cache used to make).  Returns
 * the length, or -1. */
static ssize_t exe_at(int dirfd, char *exe, size_t len)
{
	ssize_t n = readlinkat(dirfd, "exe", exe, len - 1);
	exe[n > 0 ? n : 0] = '\0';
	return n > 0 ? n : -1;
}

/* Is e's process alive and running the exe it was read with?  The exe
 * link, read now into exe (len bytes), answers it (exe_at).  An entry of
 * a process without an exe (a kernel thread, or an init whose exe this
 * mount namespace cannot show, which every chain reaches) still reads
 * ENOENT for its exe, so for it the status entry, found through the pin,
 * says it lives: the two system calls a pidfd poll and a readlink were. */
static bool live(const struct ent *e, char *exe, size_t len)
{
	if (exe_at(e->dirfd, exe, len) > 0)
		return strcmp(e->exe, exe) == 0;
	return !e->exe[0] && errno == ENOENT && faccessat(e->dirfd, "status", F_OK, 0) == 0;
}

/* The live entry of pid, or NULL.  Called with the lock held. */
static struct ent *find(struct gb_proc_cache *pc, int pid)
{
	char exe[4096];
	for (size_t i = 0; i < pc->n; i++)
		if (pc->e[i].pid == pid)
			return live(&pc->e[i], exe, sizeof exe) ? &pc->e[i] : NULL;
	return NULL;
}

void gb_proc_sockets_note(struct gb_proc_cache *pc, int pid, const uint32_t *inodes, size_t n,
                          uint64_t t_ns)
{
	if (!pc->n)
		return;
	pthread_mutex_lock(&pc->lock);
	struct ent *e = find(pc, pid);
	if (e && t_ns >= e->listed_ns) {
		e->listed_ns = n <= GB_PROC_MEMO_SOCKETS ? t_ns : 0;
		e->n_sock = n <= GB_PROC_MEMO_SOCKETS ? (uint32_t)n : 0;
		if (e->n_sock)
			memcpy(e->sock, inodes, n * sizeof *inodes);
	}
	pthread_mutex_unlock(&pc->lock);
}

int gb_proc_sockets_lacks(struct gb_proc_cache *pc, int pid, uint64_t pid_seen_ns, uint32_t inode,
                          uint64_t seen_ns)
{
	if (!pc->n || !seen_ns)
		return 0;
	int lacks = 0;
	pthread_mutex_lock(&pc->lock);
	struct ent *e = NULL;
	/* The entry gb_proc_facts just vouched for (same process: same
	 * seen_ns), with no second liveness read — that was one of two
	 * system calls per ancestor per lookup. */
	for (size_t i = 0; pid_seen_ns && i < pc->n && !e; i++)
		if (pc->e[i].pid == pid && pc->e[i].seen_ns == pid_seen_ns)
			e = &pc->e[i];
	if (!pid_seen_ns)
		e = find(pc, pid);
	if (e && e->listed_ns && e->listed_ns >= seen_ns) {
		lacks = 1;
		for (uint32_t i = 0; i < e->n_sock; i++)
			if (e->sock[i] == inode)
				lacks = 0;
	}
	pthread_mutex_unlock(&pc->lock);
	return lacks;
}

int gb_proc_parent_is(struct gb_proc_cache *pc, int child, uint64_t child_seen, int parent,
                      uint64_t parent_seen, int *ppid)
{
	*ppid = parent;
	if (!pc->n || !child_seen || !parent_seen)
		return 1;
	int rc = -ESTALE;
	pthread_mutex_lock(&pc->lock);
	for (size_t i = 0; i < pc->n; i++) {
		struct ent *e = &pc->e[i];
		if (e->pid != child || e->seen_ns != child_seen)
			continue;
		if (e->st.ppid == parent && e->parent_seen == parent_seen) {
			rc = 1; /* confirmed before, both alive since */
			break;
		}
		/* Read under the lock: the pin cannot be closed meanwhile. */
		struct gb_pstatus now;
		rc = status_fd(openat(e->dirfd, "status", O_RDONLY | O_CLOEXEC), &now);
		if (rc < 0)
			break; /* the child itself is gone */
		e->st.ppid = now.ppid;
		e->parent_seen = now.ppid == parent ? parent_seen : 0;
		*ppid = now.ppid;
		rc = now.ppid == parent;
		break;
	}
	pthread_mutex_unlock(&pc->lock);
	return rc;
}

int gb_proc_facts(struct gb_proc_cache *pc, int pid, struct gb_pstatus *st, char *exe, size_t len,
                  uint64_t *seen_ns)
{
	if (seen_ns)
		*seen_ns = 0;
	if (!pc->n) {
		int rc = read_link(pc->proc, pid, exe, len);
		return rc < 0 ? rc : gb_proc_status(pc->proc, pid, st);
	}
	pthread_mutex_lock(&pc->lock);
	for (size_t i = 0; i < pc->n; i++) {
		struct ent *e = &pc->e[i];
		if (e->pid != pid)
			continue;
		/* One readlinkat through the pinned directory: alive, and
		 * the same exe (live).  The lock is held across it so the
		 * descriptor cannot be closed by another thread's eviction. */
		if (live(e, exe, len)) {
			*st = e->st;
			if (seen_ns)
				*seen_ns = e->seen_ns;
			pthread_mutex_unlock(&pc->lock);
			return 0;
		}
		drop(e); /* gone (pid maybe reused) or exec'd: read afresh */
		break;
	}
	pthread_mutex_unlock(&pc->lock);
	/* An exe we may not read (EACCES: an init outside our user's reach,
	 * which ends every chain) fails at once, in one system call, as it
	 * always did: it is not cached, and pinning it first would cost five. */
	int rc = read_link(pc->proc, pid, exe, len);
	if (rc < 0)
		return rc;
	/* Pin first, then read through the pin: status and exe read through
	 * the /proc/PID directory opened here are that process's or fail
	 * (ENOENT once it has exited), so nothing read can be another's. */
	char dp[300];
	snprintf(dp, sizeof dp, "%s/%d", pc->proc, pid);
	int dirfd = open(dp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		if (errno == ENOENT || errno == ESRCH)
			return -ESRCH;
		/* out of descriptors, say: uncached but correct */
		return gb_proc_status(pc->proc, pid, st);
	}
	uint64_t t0 = gb_now_ns(CLOCK_MONOTONIC); /* after pinning: alive if the reads below succeed */
	rc = status_fd(openat(dirfd, "status", O_RDONLY | O_CLOEXEC), st);
	if (rc == 0 && exe_at(dirfd, exe, len) < 0) {
		/* no exe: a kernel thread or an init whose exe is outside our
		 * mount namespace (alive: its status just read), or it exited
		 * between the two reads (then its status is gone too) */
		rc = errno == ENOENT ? 0 : -errno;
		struct gb_pstatus again;
		if (rc == 0 && status_fd(openat(dirfd, "status", O_RDONLY | O_CLOEXEC), &again) < 0)
			rc = -ESRCH; /* exited meanwhile: gone, as a pidfd would have said */
		exe[0] = '\0';
	}
	if (rc < 0) {
		close(dirfd);
		return rc;
	}
	char *copy = strdup(exe);
	if (!copy) {
		close(dirfd);
		return 0;
	}
	pthread_mutex_lock(&pc->lock);
	struct ent *e = &pc->e[pc->next++ % pc->n];
	drop(e);
	*e = (struct ent){ .pid = pid, .dirfd = dirfd, .st = *st, .exe = copy, .seen_ns = t0 };
	pthread_mutex_unlock(&pc->lock);
	if (seen_ns)
		*seen_ns = t0;
	return 0;
}
