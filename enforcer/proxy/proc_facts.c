/* enforcer/proxy/proc_facts.c — /proc/PID/status and exe, cached under pidfds
 * (contract: proc_facts.h). */
#include "enforcer/proxy/proc_facts.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"

int gb_proc_status(const char *proc, int pid, struct gb_pstatus *st)
{
	char p[320], buf[4096];
	snprintf(p, sizeof p, "%s/%d/status", proc, pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
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
		if (!strncmp(line, "PPid:", 5)) {
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

struct ent {
	int pid;   /* 0 = free */
	int pidfd;
	struct gb_pstatus st;
	char *exe;
	uint64_t seen_ns;     /* when first read */
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
		close(e->pidfd);
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

static bool alive(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	return poll(&p, 1, 0) == 0; /* readable = exited */
}

/* The live entry of pid, or NULL.  Called with the lock held. */
static struct ent *find(struct gb_proc_cache *pc, int pid)
{
	for (size_t i = 0; i < pc->n; i++)
		if (pc->e[i].pid == pid)
			return alive(pc->e[i].pidfd) ? &pc->e[i] : NULL;
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
	 * seen_ns), with no second poll of its pidfd — that poll was one
	 * of two system calls per ancestor per lookup. */
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

int gb_proc_facts(struct gb_proc_cache *pc, int pid, struct gb_pstatus *st, char *exe, size_t len,
                  uint64_t *seen_ns)
{
	if (seen_ns)
		*seen_ns = 0;
	int rc = read_link(pc->proc, pid, exe, len);
	if (rc < 0)
		return rc;
	if (!pc->n)
		return gb_proc_status(pc->proc, pid, st);
	pthread_mutex_lock(&pc->lock);
	for (size_t i = 0; i < pc->n; i++) {
		struct ent *e = &pc->e[i];
		if (e->pid != pid)
			continue;
		/* The pidfd pins the process the entry was read from: alive
		 * means this pid is still that process. */
		if (alive(e->pidfd) && strcmp(e->exe, exe) == 0) {
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
	/* Pin first, read second, check last: what was read belongs to the
	 * process the pidfd holds if it is still alive afterwards. */
	int pidfd = pidfd_open(pid, 0);
	uint64_t t0 = gb_now_ns(CLOCK_MONOTONIC); /* after pinning: the process was alive */
	rc = gb_proc_status(pc->proc, pid, st);
	if (rc == 0)
		rc = read_link(pc->proc, pid, exe, len);
	if (pidfd < 0)
		return rc; /* out of descriptors, say: uncached but correct */
	if (rc < 0 || !alive(pidfd)) {
		close(pidfd);
		return rc < 0 ? rc : -ESRCH;
	}
	char *copy = strdup(exe);
	if (!copy) {
		close(pidfd);
		return 0;
	}
	pthread_mutex_lock(&pc->lock);
	struct ent *e = &pc->e[pc->next++ % pc->n];
	drop(e);
	*e = (struct ent){ .pid = pid, .pidfd = pidfd, .st = *st, .exe = copy, .seen_ns = t0 };
	pthread_mutex_unlock(&pc->lock);
	if (seen_ns)
		*seen_ns = t0;
	return 0;
}
