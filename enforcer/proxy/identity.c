/* enforcer/proxy/identity.c — who owns the client end of a proxy connection
 * (contract: identity.h).
 *
 * 1. sock_diag: an exact inet_diag request for the 4-tuple, sent on a
 *    NETLINK_SOCK_DIAG socket that was created inside the clients' network
 *    namespace (a socket keeps the namespace it was made in, so the setns
 *    happens once, in a short-lived thread, at ctx creation).
 * 2. /proc walk: every process with an fd linking to socket:[inode].
 * 3. For the owner: exe from /proc/PID/exe (kernel-resolved, never argv),
 *    uid, the PPid chain, the script of an interpreter, foreign code mapped
 *    (/proc/PID/maps); paths as the workload sees them (its root).
 * 4. SHA-256 of the exe read through /proc/PID/exe, cached by file identity;
 *    first hash per path remembered (trust on first use).
 */
#include "enforcer/proxy/identity.h"
#include "enforcer/proxy/proc_facts.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/array.h"

#define HASH_SLOTS 1024 /* exe hash cache: bounded, replaced round-robin */
#define TOFU_SLOTS 1024
#define MRU_SLOTS 8    /* latest socket holders, searched first */
#define PROC_SLOTS 128 /* processes whose status/exe are cached */

struct hash_ent {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	char hex[65];
	bool used;
};

struct tofu_ent {
	char *path;
	char hex[65];
};

struct gb_identity_ctx {
	char proc[256];
	int root_pid;
	struct mnl_socket *nl;
	pthread_mutex_t nl_lock; /* one request at a time on the netlink socket */
	unsigned seq;
	pthread_mutex_t cache_lock; /* hashes, tofu, mru */
	int mru[MRU_SLOTS];         /* latest holders found, newest first */
	struct gb_proc_cache *pc;   /* status + exe of holders and ancestors */
	struct hash_ent hashes[HASH_SLOTS];
	unsigned hash_next;
	struct tofu_ent tofu[TOFU_SLOTS];
	size_t n_tofu;
};

/* ---------------- netlink socket in the clients' netns ---------------- */

struct mk_nl {
	int netns_fd;
	struct mnl_socket *nl;
	int err;
};

static void *mk_nl_thread(void *p)
{
	struct mk_nl *m = p;
	/* setns changes only this thread's network namespace. */
	if (m->netns_fd >= 0 && setns(m->netns_fd, CLONE_NEWNET) < 0) {
		m->err = -errno;
		return NULL;
	}
	m->nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	if (!m->nl) {
		m->err = -errno;
		return NULL;
	}
	if (mnl_socket_bind(m->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		m->err = -errno;
		mnl_socket_close(m->nl);
		m->nl = NULL;
	}
	return NULL;
}

int gb_identity_ctx_new(const struct gb_identity_opts *o, struct gb_identity_ctx **out)
{
	struct gb_identity_ctx *c = calloc(1, sizeof *c);
	if (!c)
		return -ENOMEM;
	snprintf(c->proc, sizeof c->proc, "%s", o && o->proc_root ? o->proc_root : "/proc");
	c->root_pid = o ? o->root_pid : 0;
	struct mk_nl m = { .netns_fd = o ? o->netns_fd : -1 };
	pthread_t t;
	if (pthread_create(&t, NULL, mk_nl_thread, &m) != 0) {
		free(c);
		return -EAGAIN;
	}
	pthread_join(t, NULL);
	if (!m.nl) {
		free(c);
		return m.err ? m.err : -EIO;
	}
	c->nl = m.nl;
	/* Each cached process holds a pidfd: a proxy squeezed to a few
	 * descriptors (EMFILE) must not spend them on the cache. */
	struct rlimit rl;
	size_t slots = PROC_SLOTS;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur / 8 < slots)
		slots = (size_t)rl.rlim_cur / 8;
	int rc = gb_proc_cache_new(c->proc, slots, &c->pc);
	if (rc < 0) {
		mnl_socket_close(c->nl);
		free(c);
		return rc;
	}
	pthread_mutex_init(&c->nl_lock, NULL);
	pthread_mutex_init(&c->cache_lock, NULL);
	*out = c;
	return 0;
}

void gb_identity_ctx_free(struct gb_identity_ctx *c)
{
	if (!c)
		return;
	mnl_socket_close(c->nl);
	gb_proc_cache_free(c->pc);
	for (size_t i = 0; i < c->n_tofu; i++)
		free(c->tofu[i].path);
	pthread_mutex_destroy(&c->nl_lock);
	pthread_mutex_destroy(&c->cache_lock);
	free(c);
}

/* ---------------- 1. socket inode ---------------- */

struct diag_ans {
	uint32_t inode;
	bool found;
};

static int diag_cb(const struct nlmsghdr *nlh, void *data)
{
	struct diag_ans *a = data;
	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return MNL_CB_OK;
	const struct inet_diag_msg *msg = mnl_nlmsg_get_payload(nlh);
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof *msg)
		return MNL_CB_ERROR;
	a->inode = msg->idiag_inode;
	a->found = true;
	return MNL_CB_OK;
}

/* The client socket is the one whose source is `peer` and destination is
 * `local` (the proxy's side). */
static int sock_inode(struct gb_identity_ctx *c, const struct sockaddr *peer,
                      const struct sockaddr *local, uint32_t *inode)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	struct inet_diag_req_v2 *req = mnl_nlmsg_put_extra_header(nlh, sizeof *req);
	req->sdiag_family = (uint8_t)peer->sa_family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = ~0u;
	req->id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (peer->sa_family == AF_INET) {
		const struct sockaddr_in *p = (const void *)peer, *l = (const void *)local;
		req->id.idiag_sport = p->sin_port;
		req->id.idiag_dport = l->sin_port;
		memcpy(req->id.idiag_src, &p->sin_addr, 4);
		memcpy(req->id.idiag_dst, &l->sin_addr, 4);
	} else if (peer->sa_family == AF_INET6) {
		const struct sockaddr_in6 *p = (const void *)peer, *l = (const void *)local;
		req->id.idiag_sport = p->sin6_port;
		req->id.idiag_dport = l->sin6_port;
		memcpy(req->id.idiag_src, &p->sin6_addr, 16);
		memcpy(req->id.idiag_dst, &l->sin6_addr, 16);
	} else {
		return -EAFNOSUPPORT;
	}
	struct diag_ans ans = { 0 };
	int rc = 0;
	pthread_mutex_lock(&c->nl_lock);
	nlh->nlmsg_seq = ++c->seq;
	unsigned portid = mnl_socket_get_portid(c->nl);
	if (mnl_socket_sendto(c->nl, nlh, nlh->nlmsg_len) < 0) {
		rc = -errno;
	} else {
		for (;;) {
			ssize_t n = mnl_socket_recvfrom(c->nl, buf, sizeof buf);
			if (n < 0) {
				rc = -errno;
				break;
			}
			int r = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, diag_cb, &ans);
			if (r == MNL_CB_ERROR) {
				rc = errno ? -errno : -EIO;
				break;
			}
			if (r == MNL_CB_STOP || ans.found)
				break;
		}
	}
	pthread_mutex_unlock(&c->nl_lock);
	if (rc == 0 && !ans.found)
		rc = -ENOENT;
	if (rc == 0)
		*inode = ans.inode;
	return rc;
}

/* ---------------- 2. owners ---------------- */

static bool is_pid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Socket inodes seen while searching a descriptor table. */
struct sockset {
	uint32_t v[GB_PROC_MEMO_SOCKETS + 1];
	size_t n;      /* > GB_PROC_MEMO_SOCKETS: too many to remember */
	bool complete; /* every descriptor was read */
};

/* Does process `pid` hold a descriptor for `want` ("socket:[N]")?  One
 * getdents64 on /proc/PID/fd and a readlinkat per descriptor on that open
 * directory: the fewest system calls /proc allows, since this runs for
 * every process searched.  With `set`, the whole table is read and its
 * socket inodes collected (for the memo in proc_facts.h); without, the
 * search stops at the first match. */
static bool fd_search(const char *proc, int pid, const char *want, size_t wl, struct sockset *set)
{
	char fddir[300];
	snprintf(fddir, sizeof fddir, "%s/%d/fd", proc, pid);
	if (set)
		*set = (struct sockset){ 0 };
	int dfd = open(fddir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return false; /* gone, or not ours to read */
	_Alignas(struct dirent64) char buf[8192];
	bool hit = false, last = false;
	while ((!hit || set) && !last) {
		ssize_t n = getdents64(dfd, buf, sizeof buf);
		if (n <= 0) {
			last = n == 0;
			break;
		}
		/* procfs fills the buffer while descriptors remain: a batch that
		 * left room for more was the last one, and the empty read that
		 * would confirm it is skipped. */
		last = (size_t)n < sizeof buf - 512;
		/* Newest descriptors first: procfs lists them in ascending
		 * order, and the socket just connected is usually the highest
		 * (one readlinkat instead of one per descriptor). */
		uint16_t at[sizeof buf / 20];
		size_t k = 0;
		for (ssize_t off = 0; off < n && k < GB_ARRAY_LEN(at);) {
			const struct dirent64 *d = (const void *)(buf + off);
			if (d->d_name[0] != '.')
				at[k++] = (uint16_t)off;
			off += d->d_reclen;
		}
		while (k > 0 && (!hit || set)) {
			const struct dirent64 *d = (const void *)(buf + at[--k]);
			char tgt[64];
			ssize_t l = readlinkat(dfd, d->d_name, tgt, sizeof tgt - 1);
			if (l < 0 && (errno == EACCES || errno == EPERM))
				goto out; /* the same refusal for every descriptor of it */
			if (l <= 0)
				continue;
			tgt[l] = '\0';
			if (l == (ssize_t)wl && memcmp(tgt, want, wl) == 0)
				hit = true;
			if (set && !strncmp(tgt, "socket:[", 8)) {
				if (set->n < GB_PROC_MEMO_SOCKETS)
					set->v[set->n] = (uint32_t)strtoul(tgt + 8, NULL, 10);
				if (set->n <= GB_PROC_MEMO_SOCKETS)
					set->n++;
			}
		}
	}
	if (set)
		set->complete = last;
out:
	close(dfd);
	return hit;
}

static bool holds(const char *proc, int pid, const char *want, size_t wl)
{
	return fd_search(proc, pid, want, wl, NULL);
}

/* Does ancestor `pid` hold the socket too?  Skipped when the memo proves
 * it cannot (proc_facts.h: listed after the holder was alive, without
 * it); otherwise its table is read whole and remembered. */
static bool ancestor_holds(struct gb_identity_ctx *c, int pid, uint32_t inode, const char *want,
                           size_t wl, uint64_t holder_seen_ns)
{
	if (gb_proc_sockets_lacks(c->pc, pid, inode, holder_seen_ns))
		return false;
	struct sockset set;
	uint64_t t = gb_proc_now_ns();
	bool hit = fd_search(c->proc, pid, want, wl, &set);
	if (set.complete)
		gb_proc_sockets_note(c->pc, pid, set.v, set.n, t);
	return hit;
}

#define MAX_TREE 65536  /* processes searched below root_pid */
#define MAX_FAMILY 4096 /* descendants of an owner searched for co-holders */

/* Append the pids listed in a /proc/PID/task/TID/children file. */
static void add_children(const char *path, int *out, int *n, int max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return; /* exited meanwhile */
	char buf[4096];
	size_t have = 0;
	for (;;) {
		ssize_t l = read(fd, buf + have, sizeof buf - 1 - have);
		if (l <= 0)
			break;
		have += (size_t)l;
		buf[have] = '\0';
		/* parse whole numbers; keep a number cut by the buffer's end */
		char *p = buf, *end = buf + have;
		while (p < end) {
			char *q = p;
			while (q < end && *q >= '0' && *q <= '9')
				q++;
			if (q == end && q != p)
				break; /* maybe cut */
			if (q != p && *n < max)
				out[(*n)++] = atoi(p);
			p = q + 1;
		}
		have = p < end ? (size_t)(end - p) : 0;
		memmove(buf, p < end ? p : end, have);
	}
	if (have && *n < max) {
		buf[have] = '\0';
		out[(*n)++] = atoi(buf);
	}
	close(fd);
}

/* root_pid and its descendants, from /proc/PID/task/TID/children (host pid
 * numbers).  Returns the count (<= max). */
static int descendants(const char *proc, int root, int *out, int max)
{
	int n = 0;
	out[n++] = root;
	for (int i = 0; i < n; i++) {
		char tdir[300], cp[700];
		snprintf(tdir, sizeof tdir, "%s/%d/task", proc, out[i]);
		/* A task directory's link count is 2 + its threads: a process
		 * with one thread has one children file, read without listing
		 * the directory (one stat instead of open+getdents+close). */
		struct stat st;
		if (stat(tdir, &st) < 0)
			continue; /* exited meanwhile */
		if (st.st_nlink == 3) {
			snprintf(cp, sizeof cp, "%s/%d/children", tdir, out[i]);
			add_children(cp, out, &n, max);
			continue;
		}
		DIR *d = opendir(tdir);
		if (!d)
			continue;
		struct dirent *t;
		while ((t = readdir(d))) {
			if (!is_pid(t->d_name))
				continue;
			snprintf(cp, sizeof cp, "%s/%s/children", tdir, t->d_name);
			add_children(cp, out, &n, max);
		}
		closedir(d);
	}
	return n;
}

/* Remember pid as the latest holder found (front of the MRU list). */
static void mru_push(struct gb_identity_ctx *c, int pid)
{
	pthread_mutex_lock(&c->cache_lock);
	int i;
	for (i = 0; i < MRU_SLOTS - 1 && c->mru[i] != pid; i++)
		;
	memmove(c->mru + 1, c->mru, (size_t)i * sizeof c->mru[0]);
	c->mru[0] = pid;
	pthread_mutex_unlock(&c->cache_lock);
}

static int cmp_desc(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x < y) - (x > y);
}

/* Every pid under proc (the whole host, or what this pid namespace shows). */
static int all_pids(const char *proc, int **out)
{
	DIR *d = opendir(proc);
	if (!d)
		return -errno;
	int n = 0, cap = 512, *v = malloc((size_t)cap * sizeof *v);
	struct dirent *e;
	while (v && (e = readdir(d))) {
		if (!is_pid(e->d_name))
			continue;
		if (n == cap) {
			int *nv = realloc(v, (size_t)(cap *= 2) * sizeof *v);
			if (!nv) {
				free(v);
				v = NULL;
				break;
			}
			v = nv;
		}
		v[n++] = atoi(e->d_name);
	}
	closedir(d);
	if (!v)
		return -ENOMEM;
	*out = v;
	return n;
}

/* The first process found holding the socket, searched in the order most
 * likely to hit early: the latest holders found (a long-lived client opens
 * connection after connection), then the newest processes (pids
 * descending: a freshly started curl).  Returns the pid, 0 when none holds
 * it, or negative errno.  Who else holds it is the caller's question
 * (co-holders share the holder's family; see gb_identity_lookup). */
static int find_holder(struct gb_identity_ctx *c, const char *want, size_t wl)
{
	int mru[MRU_SLOTS];
	pthread_mutex_lock(&c->cache_lock);
	memcpy(mru, c->mru, sizeof mru);
	pthread_mutex_unlock(&c->cache_lock);
	for (int i = 0; i < MRU_SLOTS && mru[i] > 0; i++)
		if (holds(c->proc, mru[i], want, wl)) {
			if (i > 0)
				mru_push(c, mru[i]);
			return mru[i];
		}
	int *cand = NULL, k, found = 0;
	if (c->root_pid > 0) {
		/* A sandbox: its processes only — a handful, not the host's
		 * hundreds. */
		cand = malloc(MAX_TREE * sizeof *cand);
		k = cand ? descendants(c->proc, c->root_pid, cand, MAX_TREE) : -ENOMEM;
	} else {
		k = all_pids(c->proc, &cand);
	}
	if (k < 0) {
		free(cand);
		return k;
	}
	qsort(cand, (size_t)k, sizeof *cand, cmp_desc);
	for (int i = 0; i < k && !found; i++)
		if (holds(c->proc, cand[i], want, wl))
			found = cand[i];
	free(cand);
	if (found)
		mru_push(c, found);
	return found;
}

/* How many of pid's descendants also hold the socket (inherited at fork). */
static int descendant_holders(struct gb_identity_ctx *c, int pid, const char *want, size_t wl)
{
	int *tree = malloc(MAX_FAMILY * sizeof *tree), n = 0;
	if (!tree)
		return 0;
	int k = descendants(c->proc, pid, tree, MAX_FAMILY);
	for (int i = 1; i < k; i++) /* tree[0] is pid itself */
		n += holds(c->proc, tree[i], want, wl);
	free(tree);
	return n;
}

/* ---------------- 3. process facts ---------------- */

/* The strings of one identity, copied into gb_ident_buf.store. */
struct sbuf {
	char *p;
	size_t left;
	bool cut; /* a string did not fit and reads "" */
};

/* Append s to the buffer store; returns a pointer to the copy, or "" when
 * the store is full, which is remembered so the records say they are cut
 * (an empty exe path must never pass for a real one unmarked). */
static const char *sb_put(struct sbuf *b, const char *s)
{
	size_t n = strlen(s) + 1;
	if (n > b->left) {
		b->cut = true;
		return "";
	}
	char *r = memcpy(b->p, s, n);
	b->p += n;
	b->left -= n;
	return r;
}

/* A raw exe link target to a path: the kernel appends " (deleted)" to an
 * unlinked file's name; strip it only when the path is really gone, not
 * for a file whose name merely ends that way. */
static void exe_clean(const char *raw, char *out, size_t outsz, bool *deleted)
{
	snprintf(out, outsz, "%s", raw);
	*deleted = false;
	static const char sfx[] = " (deleted)";
	size_t n = strlen(out), sl = sizeof sfx - 1;
	if (n > sl && strcmp(out + n - sl, sfx) == 0) {
		struct stat st;
		if (stat(out, &st) < 0) {
			out[n - sl] = '\0';
			*deleted = true;
		}
	}
}

static int read_exe(const char *proc, int pid, char *out, size_t outsz, bool *deleted)
{
	char lp[320], raw[4096];
	snprintf(lp, sizeof lp, "%s/%d/exe", proc, pid);
	ssize_t n = readlink(lp, raw, sizeof raw - 1);
	if (n < 0)
		return -errno;
	raw[n] = '\0';
	exe_clean(raw, out, outsz, deleted);
	return 0;
}

/* Read a NUL-separated /proc file (cmdline, environ) into buf. */
static ssize_t read_nul_file(const char *proc, int pid, const char *name, char *buf, size_t sz)
{
	char p[320];
	snprintf(p, sizeof p, "%s/%d/%s", proc, pid, name);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t got = 0;
	while (got < sz - 1) {
		ssize_t n = read(fd, buf + got, sz - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	return (ssize_t)got;
}

static bool interpreter(const char *exe)
{
	const char *b = strrchr(exe, '/');
	b = b ? b + 1 : exe;
	static const char *const names[] = { "python", "node", "nodejs", "bash", "sh", "dash", "zsh",
	                                     "ksh", "perl", "ruby", "php", "lua", "deno", "bun",
	                                     "tclsh", "Rscript", "osascript", "pwsh" };
	for (size_t i = 0; i < GB_ARRAY_LEN(names); i++) {
		size_t n = strlen(names[i]);
		/* python3, python3.11, perl5.36, ruby3.1 ... */
		if (!strncmp(b, names[i], n) && (b[n] == '\0' || isdigit((unsigned char)b[n])))
			return true;
	}
	return false;
}

/* The script of an interpreter: the first argument after argv[0] that is
 * not an option, resolved against the process's cwd.  `-c` / `-e` mean
 * inline code: no script. */
static void script_of(const char *proc, int pid, char *out, size_t outsz)
{
	char cmd[4096];
	out[0] = '\0';
	ssize_t n = read_nul_file(proc, pid, "cmdline", cmd, sizeof cmd);
	if (n <= 0)
		return;
	const char *p = cmd + strlen(cmd) + 1, *end = cmd + n;
	for (; p < end; p += strlen(p) + 1) {
		if (!strcmp(p, "-c") || !strcmp(p, "-e") || !strcmp(p, "-m"))
			return;
		if (p[0] == '-')
			continue;
		if (p[0] == '/') {
			snprintf(out, outsz, "%s", p);
		} else {
			char cwdl[320], cwd[2048];
			snprintf(cwdl, sizeof cwdl, "%s/%d/cwd", proc, pid);
			ssize_t l = readlink(cwdl, cwd, sizeof cwd - 1);
			if (l < 0)
				l = 0;
			cwd[l] = '\0';
			snprintf(out, outsz, "%s/%s", cwd, p);
		}
		return;
	}
}

/* ---- the workload's view of paths ---- */

/* The workload's root as this process sees it ("" for our own "/").  The
 * kernel renders /proc/PID/exe and maps relative to the *reader's* root: a
 * process chrooted to /srv/r, or in a mount namespace whose root we cannot
 * reach (a copy made by unshare, a pivot_root), shows /srv/r/usr/bin/curl
 * where it runs /usr/bin/curl — and the policy names paths as the workload
 * sees them. */
static size_t workload_root(const char *proc, int pid, char *out, size_t sz)
{
	char lp[320];
	snprintf(lp, sizeof lp, "%s/%d/root", proc, pid);
	ssize_t n = readlink(lp, out, sz - 1);
	if (n <= 1) { /* "/" (or unreadable: take paths as they are) */
		out[0] = '\0';
		return 0;
	}
	out[n] = '\0';
	return (size_t)n;
}

/* path without the root prefix, when it has it. */
static const char *strip_root(const char *path, const char *root, size_t rl)
{
	if (rl && !strncmp(path, root, rl) && path[rl] == '/')
		return path + rl;
	return path;
}

/* The exe path of pid as the workload sees it: the kernel's path with the
 * workload's root taken off, kept only if that path, resolved inside the
 * workload's root (/proc/PID/root/...), is the very file that runs (same
 * device and inode).  Otherwise the kernel's path is kept as it is. */
static void exe_as_seen(const char *proc, int pid, const char *root, size_t rl, char *path, size_t sz)
{
	if (!rl)
		return;
	const char *in = strip_root(path, root, rl);
	if (in == path)
		return;
	char p[4400];
	struct stat run, named;
	snprintf(p, sizeof p, "%s/%d/exe", proc, pid);
	if (stat(p, &run) < 0)
		return;
	snprintf(p, sizeof p, "%s/%d/root%s", proc, pid, in);
	if (stat(p, &named) < 0 || named.st_dev != run.st_dev || named.st_ino != run.st_ino)
		return;
	memmove(path, in, strlen(in) + 1);
	(void)sz;
}

/* Is code mapped that the system did not put there?  Read from the kernel's
 * own record of executable mappings (/proc/PID/maps), not the environment:
 * a preloaded library can wipe LD_PRELOAD from environ, it cannot unmap
 * itself while it runs.  An executable file mapping other than the exe
 * itself outside the system library directories (a preloaded or
 * LD_LIBRARY_PATH/LD_AUDIT library, code from a memfd) sets the flag. */
static bool foreign_code(const char *proc, int pid, const char *exe, const char *root, size_t rl)
{
	static const char *const sys[] = { "/usr/lib/", "/lib/", "/lib64/", "/usr/lib64/", "/usr/lib32/",
		                           "/lib32/", "/usr/libexec/" };
	char p[320];
	snprintf(p, sizeof p, "%s/%d/maps", proc, pid);
	FILE *f = fopen(p, "re");
	if (!f)
		return false;
	char line[4608];
	bool hit = false;
	while (!hit && fgets(line, sizeof line, f)) {
		/* addr perms offset dev inode path */
		char perms[8];
		int off = 0;
		if (sscanf(line, "%*s %7s %*s %*s %*s %n", perms, &off) < 1 || perms[2] != 'x' || !off)
			continue;
		char *path = line + off;
		path[strcspn(path, "\n")] = '\0';
		if (path[0] != '/')
			continue; /* [vdso], anonymous (JIT) */
		const char *in = strip_root(path, root, rl);
		if (!strcmp(in, exe) || !strcmp(path, exe))
			continue;
		bool system = false;
		for (size_t i = 0; i < sizeof sys / sizeof sys[0] && !system; i++)
			system = !strncmp(in, sys[i], strlen(sys[i]));
		if (!system)
			hit = true;
	}
	fclose(f);
	return hit;
}

/* ---------------- 4. hashing ---------------- */

static int sha256_fd(int fd, char hex[65])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md)
		return -ENOMEM;
	int rc = 0;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		rc = -EIO;
	} else {
		unsigned char buf[65536];
		ssize_t n;
		while ((n = read(fd, buf, sizeof buf)) > 0)
			EVP_DigestUpdate(md, buf, (size_t)n);
		if (n < 0)
			rc = -errno;
		unsigned char dig[32];
		unsigned dl = 0;
		if (!rc && EVP_DigestFinal_ex(md, dig, &dl) == 1) {
			for (unsigned i = 0; i < 32; i++)
				snprintf(hex + 2 * i, 3, "%02x", dig[i]);
		} else if (!rc) {
			rc = -EIO;
		}
	}
	EVP_MD_CTX_free(md);
	return rc;
}

static bool ts_eq(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static bool cached_hash(struct gb_identity_ctx *c, const struct stat *st, char hex[65])
{
	bool hit = false;
	pthread_mutex_lock(&c->cache_lock);
	for (unsigned i = 0; i < HASH_SLOTS && !hit; i++) {
		struct hash_ent *h = &c->hashes[i];
		if (h->used && h->dev == st->st_dev && h->ino == st->st_ino && h->size == st->st_size &&
		    ts_eq(h->mtime, st->st_mtim) && ts_eq(h->ctime, st->st_ctim)) {
			memcpy(hex, h->hex, 65);
			hit = true;
		}
	}
	pthread_mutex_unlock(&c->cache_lock);
	return hit;
}

/* The hash of what pid runs, whose exe path (for trust on first use) is
 * `path` ("" or deleted: no TOFU). */
static int hash_exe(struct gb_identity_ctx *c, int pid, const char *path, bool deleted,
                    char hex[65], int *mismatch, char prev_hex[65])
{
	char p[320];
	*mismatch = 0;
	snprintf(p, sizeof p, "%s/%d/exe", c->proc, pid);
	/* Through /proc/PID/exe: the file that runs, even when the path now
	 * names another file or none.  stat() first: a known file costs one
	 * call; only an unknown one is opened and read. */
	struct stat st;
	if (stat(p, &st) < 0)
		return -errno;
	int rc = 0;
	if (!cached_hash(c, &st, hex)) {
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		/* the fd's own identity: the exe may have changed since stat */
		if (fstat(fd, &st) < 0)
			rc = -errno;
		else if (!cached_hash(c, &st, hex) && !(rc = sha256_fd(fd, hex))) {
			pthread_mutex_lock(&c->cache_lock);
			struct hash_ent *h = &c->hashes[c->hash_next++ % HASH_SLOTS];
			*h = (struct hash_ent){ .dev = st.st_dev, .ino = st.st_ino, .size = st.st_size,
				                .mtime = st.st_mtim, .ctime = st.st_ctim, .used = true };
			memcpy(h->hex, hex, 65);
			pthread_mutex_unlock(&c->cache_lock);
		}
		close(fd);
	}
	if (rc || !path[0] || deleted)
		return rc;
	/* Trust on first use, per path. */
	pthread_mutex_lock(&c->cache_lock);
	size_t i;
	for (i = 0; i < c->n_tofu; i++)
		if (!strcmp(c->tofu[i].path, path))
			break;
	if (i < c->n_tofu) {
		if (strcmp(c->tofu[i].hex, hex) != 0) {
			*mismatch = 1;
			memcpy(prev_hex, c->tofu[i].hex, 65);
		}
	} else if (c->n_tofu < TOFU_SLOTS) {
		c->tofu[c->n_tofu].path = strdup(path);
		if (c->tofu[c->n_tofu].path) {
			memcpy(c->tofu[c->n_tofu].hex, hex, 65);
			c->n_tofu++;
		}
	}
	pthread_mutex_unlock(&c->cache_lock);
	return 0;
}

int gb_identity_hash_exe(struct gb_identity_ctx *c, int pid, char hex[65], int *mismatch,
                         char prev_hex[65])
{
	char path[4096];
	bool deleted = false;
	if (read_exe(c->proc, pid, path, sizeof path, &deleted) < 0)
		path[0] = '\0';
	return hash_exe(c, pid, path, deleted, hex, mismatch, prev_hex);
}

/* ---------------- lookup ---------------- */

/* One step of the ancestor chain. */
struct link {
	int pid;
	uint32_t uid;
	bool holds;   /* holds the client's socket too */
	bool deleted; /* its exe was unlinked */
	const char *exe;
};

int gb_identity_lookup(struct gb_identity_ctx *c, const struct sockaddr *peer,
                       const struct sockaddr *local, struct gb_ident_buf *out)
{
	memset(&out->id, 0, sizeof out->id);
	out->prev_sha256[0] = '\0';
	out->truncated = false;
	struct gb_identity *id = &out->id;
	struct sbuf sb = { .p = out->store, .left = sizeof out->store };
	id->exe = id->sha256 = id->script = "";
	uint32_t inode = 0;
	char want[64], raw[4096], path[4096];
	int rc = sock_inode(c, peer, local, &inode);
	int wl = snprintf(want, sizeof want, "socket:[%u]", inode);
	int found = rc == 0 ? find_holder(c, want, (size_t)wl) : rc;
	struct gb_pstatus st;
	uint64_t seen = 0; /* when the holder was known alive (0: unknown) */
	if (found > 0 && (gb_proc_facts(c->pc, found, &st, raw, sizeof raw, &seen) < 0 || !raw[0]))
		found = -ESRCH; /* exited meanwhile */
	if (found <= 0) {
		id->flags |= GB_ID_LOOKUP_FAILED;
		return found < 0 ? found : -ESRCH;
	}
	struct link chain[GB_MAX_ANCESTORS + 2];
	int n = 0, top = 0, holders = 1;
	/* Paths as the workload sees them: one readlink, and more only for a
	 * workload whose root is not ours.  The holder's root is taken for
	 * its ancestors too (a chroot inside the sandbox is the rare case). */
	char root[4096];
	size_t rl = workload_root(c->proc, found, root, sizeof root);
	chain[n] = (struct link){ .pid = found, .uid = st.uid, .holds = true };
	exe_clean(raw, path, sizeof path, &chain[n].deleted);
	exe_as_seen(c->proc, found, root, rl, path, sizeof path);
	chain[n++].exe = sb_put(&sb, path);
	/* The chain above the holder, inside its pid namespace and short of
	 * the namespace's init: a sandboxed process's chain ends below the
	 * sandbox's init (glassbox's own pid 1), so the supervisor and the
	 * shell that started glassbox are not its ancestors — or a policy
	 * listing /usr/bin/bash would grant every process of a sandbox
	 * launched from bash.  A parent in a shallower pid namespace (fewer
	 * NSpid fields) is across the boundary; one at the same depth is in
	 * the same namespace, since children are only ever created in their
	 * parent's namespace or one below it.
	 * Each ancestor is also searched for the socket: a descriptor
	 * inherited at fork is held by the process that made it and its
	 * descendants, so the identity is the topmost holder — a process
	 * cannot borrow an allowed child's identity by forking it after
	 * connecting. */
	int cur = (st.nspid == 1 || (c->root_pid > 0 && found == c->root_pid)) ? 0 : st.ppid;
	while (cur > 0) {
		struct gb_pstatus as;
		if (gb_proc_facts(c->pc, cur, &as, raw, sizeof raw, NULL) < 0 || as.nspid == 1 ||
		    as.depth < st.depth)
			break;
		if (n == GB_MAX_ANCESTORS + 2) {
			id->flags |= GB_ID_ANCESTORS_CUT;
			break;
		}
		if (raw[0]) { /* kernel threads have no exe and are skipped */
			struct link *l = &chain[n++];
			*l = (struct link){ .pid = cur, .uid = as.uid,
				            .holds = ancestor_holds(c, cur, inode, want, (size_t)wl, seen) };
			exe_clean(raw, path, sizeof path, &l->deleted);
			exe_as_seen(c->proc, cur, root, rl, path, sizeof path);
			l->exe = sb_put(&sb, path);
			if (l->holds) {
				top = n - 1;
				holders++;
			}
		}
		if (c->root_pid > 0 && cur == c->root_pid)
			break;
		cur = as.ppid;
	}
	holders += descendant_holders(c, found, want, (size_t)wl);
	if (holders > 1)
		id->flags |= GB_ID_MULTI_OWNER;
	const struct link *h = &chain[top];
	int pid = h->pid;
	id->pid = pid;
	id->uid = h->uid;
	id->exe = h->exe;
	if (h->deleted)
		id->flags |= GB_ID_EXE_DELETED;
	for (int i = top + 1; i < n; i++) {
		if (id->n_ancestors == GB_MAX_ANCESTORS) {
			id->flags |= GB_ID_ANCESTORS_CUT;
			break;
		}
		id->ancestor_pids[id->n_ancestors] = chain[i].pid;
		id->ancestors[id->n_ancestors++] = chain[i].exe;
	}
	char hex[65], prev[65];
	int mismatch = 0;
	if (hash_exe(c, pid, h->exe, h->deleted, hex, &mismatch, prev) == 0)
		id->sha256 = sb_put(&sb, hex);
	if (mismatch) {
		id->flags |= GB_ID_HASH_MISMATCH;
		memcpy(out->prev_sha256, prev, 65);
	}
	if (interpreter(h->exe)) {
		char script[4096];
		script_of(c->proc, pid, script, sizeof script);
		id->flags |= GB_ID_INTERPRETER;
		id->script = sb_put(&sb, script);
	}
	if (foreign_code(c->proc, pid, h->exe, root, rl))
		id->flags |= GB_ID_LD_PRELOAD;
	out->truncated = sb.cut;
	return 0;
}
