/* enforcer/identity.c — who owns the client end of a proxy connection
 * (contract: identity.h).
 *
 * 1. sock_diag: an exact inet_diag request for the 4-tuple, sent on a
 *    NETLINK_SOCK_DIAG socket that was created inside the clients' network
 *    namespace (a socket keeps the namespace it was made in, so the setns
 *    happens once, in a short-lived thread, at ctx creation).
 * 2. /proc walk: every process with an fd linking to socket:[inode].
 * 3. For the owner: exe from /proc/PID/exe (kernel-resolved, never argv),
 *    uid, the PPid chain, the script of an interpreter, LD_PRELOAD.
 * 4. SHA-256 of the exe read through /proc/PID/exe, cached by file identity;
 *    first hash per path remembered (trust on first use).
 */
#include "identity.h"

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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HASH_SLOTS 1024 /* exe hash cache: bounded, replaced round-robin */
#define TOFU_SLOTS 1024

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
	pthread_mutex_t cache_lock;
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

#define MAX_OWNERS 8

static bool is_pid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Does process `pid` hold a descriptor for socket:[inode]?  readlinkat on
 * the open fd directory: no path building per descriptor. */
static bool holds(const char *proc, int pid, const char *want, size_t wl)
{
	char fddir[300];
	snprintf(fddir, sizeof fddir, "%s/%d/fd", proc, pid);
	DIR *fd = opendir(fddir);
	if (!fd)
		return false; /* gone, or not ours to read */
	int dfd = dirfd(fd);
	struct dirent *f;
	bool hit = false;
	while (!hit && (f = readdir(fd))) {
		if (f->d_name[0] == '.')
			continue;
		char tgt[64];
		ssize_t l = readlinkat(dfd, f->d_name, tgt, sizeof tgt);
		hit = l == (ssize_t)wl && memcmp(tgt, want, wl) == 0;
	}
	closedir(fd);
	return hit;
}

#define MAX_TREE 65536 /* processes searched below root_pid */

/* root_pid and its descendants, from /proc/PID/task/TID/children (host pid
 * numbers).  Returns the count (<= max), or negative errno. */
static int descendants(const char *proc, int root, int *out, int max)
{
	int n = 0;
	out[n++] = root;
	for (int i = 0; i < n; i++) {
		char tdir[300];
		snprintf(tdir, sizeof tdir, "%s/%d/task", proc, out[i]);
		DIR *d = opendir(tdir);
		if (!d)
			continue; /* exited meanwhile */
		struct dirent *t;
		while ((t = readdir(d))) {
			if (!is_pid(t->d_name))
				continue;
			char cp[700], buf[4096];
			snprintf(cp, sizeof cp, "%s/%s/children", tdir, t->d_name);
			int fd = open(cp, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			ssize_t l = read(fd, buf, sizeof buf - 1);
			close(fd);
			if (l <= 0)
				continue;
			buf[l] = 0;
			char *save = NULL;
			for (char *tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
				if (n < max)
					out[n++] = atoi(tok);
		}
		closedir(d);
	}
	return n;
}

static int owners(struct gb_identity_ctx *c, uint32_t inode, int *pids, int max, int *total)
{
	char want[64];
	int wl = snprintf(want, sizeof want, "socket:[%u]", inode);
	int n = 0;
	*total = 0;
	if (c->root_pid > 0) {
		/* A sandbox: its processes only — a handful instead of the host's
		 * hundreds (the walk is most of a connection's cost). */
		int *tree = malloc(MAX_TREE * sizeof *tree);
		if (!tree)
			return -ENOMEM;
		int k = descendants(c->proc, c->root_pid, tree, MAX_TREE);
		for (int i = 0; i < k; i++)
			if (holds(c->proc, tree[i], want, (size_t)wl)) {
				if (n < max)
					pids[n++] = tree[i];
				(*total)++;
			}
		free(tree);
		return n;
	}
	DIR *d = opendir(c->proc);
	if (!d)
		return -errno;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!is_pid(e->d_name))
			continue;
		int pid = atoi(e->d_name);
		if (holds(c->proc, pid, want, (size_t)wl)) {
			if (n < max)
				pids[n++] = pid;
			(*total)++;
		}
	}
	closedir(d);
	return n;
}

/* ---------------- 3. process facts ---------------- */

/* Append s to the buffer store; returns a pointer to the copy. */
struct sbuf {
	char *p;
	size_t left;
};
static const char *sb_put(struct sbuf *b, const char *s)
{
	size_t n = strlen(s) + 1;
	if (n > b->left)
		return "";
	char *r = memcpy(b->p, s, n);
	b->p += n;
	b->left -= n;
	return r;
}

static int read_exe(const char *proc, int pid, char *out, size_t outsz, bool *deleted)
{
	char lp[320];
	snprintf(lp, sizeof lp, "%s/%d/exe", proc, pid);
	ssize_t n = readlink(lp, out, outsz - 1);
	if (n < 0)
		return -errno;
	out[n] = '\0';
	*deleted = false;
	static const char sfx[] = " (deleted)";
	size_t sl = sizeof sfx - 1;
	if ((size_t)n > sl && strcmp(out + n - sl, sfx) == 0) {
		/* The suffix is what the kernel appends; confirm by stat-ing the
		 * path rather than trusting a file name that ends that way. */
		struct stat st;
		if (stat(out, &st) < 0) {
			out[n - (ssize_t)sl] = '\0';
			*deleted = true;
		}
	}
	return 0;
}

/* The pid namespace of a process, as the kernel names it ("pid:[N]"). */
static int pidns_of(const char *proc, int pid, char *out, size_t len)
{
	char p[300];
	snprintf(p, sizeof p, "%s/%d/ns/pid", proc, pid);
	ssize_t n = readlink(p, out, len - 1);
	if (n < 0)
		return -errno;
	out[n] = 0;
	return 0;
}

/* PPid and real uid from /proc/PID/status. */
static int read_status_ns(const char *proc, int pid, int *ppid, uint32_t *uid, int *nspid);
static int read_status(const char *proc, int pid, int *ppid, uint32_t *uid)
{
	return read_status_ns(proc, pid, ppid, uid, NULL);
}

/* Also the pid in the innermost pid namespace (NSpid's last field), when
 * nspid is not NULL: 1 means the process is its namespace's init. */
static int read_status_ns(const char *proc, int pid, int *ppid, uint32_t *uid, int *nspid)
{
	char p[320], line[256];
	snprintf(p, sizeof p, "%s/%d/status", proc, pid);
	FILE *f = fopen(p, "re");
	if (!f)
		return -errno;
	*ppid = 0;
	while (fgets(line, sizeof line, f)) {
		if (!strncmp(line, "PPid:", 5))
			*ppid = atoi(line + 5);
		else if (!strncmp(line, "Uid:", 4))
			*uid = (uint32_t)strtoul(line + 4, NULL, 10);
		else if (nspid && !strncmp(line, "NSpid:", 6)) {
			char *last = strrchr(line, '\t');
			*nspid = atoi(last ? last + 1 : line + 6);
		}
	}
	fclose(f);
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
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
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

/* Is a dynamic-loader override set (non-empty) in the environment? */
static bool has_preload(const char *proc, int pid)
{
	static const char *const vars[] = { "LD_PRELOAD=", "LD_LIBRARY_PATH=", "LD_AUDIT=" };
	char *buf = malloc(65536);
	if (!buf)
		return false;
	ssize_t n = read_nul_file(proc, pid, "environ", buf, 65536);
	bool hit = false;
	for (ssize_t i = 0; n > 0 && i < n && !hit; i += (ssize_t)strlen(buf + i) + 1)
		for (size_t v = 0; v < 3; v++) {
			size_t l = strlen(vars[v]);
			if (!strncmp(buf + i, vars[v], l) && buf[i + (ssize_t)l] != '\0')
				hit = true;
		}
	free(buf);
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

int gb_identity_hash_exe(struct gb_identity_ctx *c, int pid, char hex[65], int *mismatch,
                         char prev_hex[65])
{
	char p[320], path[4096];
	bool deleted;
	*mismatch = 0;
	if (read_exe(c->proc, pid, path, sizeof path, &deleted) < 0)
		path[0] = '\0';
	snprintf(p, sizeof p, "%s/%d/exe", c->proc, pid);
	/* Open through /proc/PID/exe: we hash the file that runs, even when the
	 * path now names another file or none. */
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	bool hit = false;
	pthread_mutex_lock(&c->cache_lock);
	for (unsigned i = 0; i < HASH_SLOTS; i++) {
		struct hash_ent *h = &c->hashes[i];
		if (h->used && h->dev == st.st_dev && h->ino == st.st_ino && h->size == st.st_size &&
		    ts_eq(h->mtime, st.st_mtim) && ts_eq(h->ctime, st.st_ctim)) {
			memcpy(hex, h->hex, 65);
			hit = true;
			break;
		}
	}
	pthread_mutex_unlock(&c->cache_lock);
	int rc = 0;
	if (!hit) {
		rc = sha256_fd(fd, hex);
		if (!rc) {
			pthread_mutex_lock(&c->cache_lock);
			struct hash_ent *h = &c->hashes[c->hash_next++ % HASH_SLOTS];
			*h = (struct hash_ent){ .dev = st.st_dev, .ino = st.st_ino, .size = st.st_size,
				                .mtime = st.st_mtim, .ctime = st.st_ctim, .used = true };
			memcpy(h->hex, hex, 65);
			pthread_mutex_unlock(&c->cache_lock);
		}
	}
	close(fd);
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

/* ---------------- lookup ---------------- */

int gb_identity_lookup(struct gb_identity_ctx *c, const struct sockaddr *peer,
                       const struct sockaddr *local, struct gb_ident_buf *out)
{
	memset(&out->id, 0, sizeof out->id);
	out->prev_sha256[0] = '\0';
	struct gb_identity *id = &out->id;
	struct sbuf sb = { out->store, sizeof out->store };
	id->exe = id->sha256 = id->script = "";
	uint32_t inode = 0;
	int rc = sock_inode(c, peer, local, &inode);
	int pids[MAX_OWNERS], total = 0;
	int n = rc == 0 ? owners(c, inode, pids, MAX_OWNERS, &total) : rc;
	if (n <= 0) {
		id->flags |= GB_ID_LOOKUP_FAILED;
		return n < 0 ? n : -ESRCH;
	}
	if (total > 1)
		id->flags |= GB_ID_MULTI_OWNER;
	/* Several owners (a forked child inheriting the socket): report the
	 * lowest pid, flag the ambiguity; the policy sees that process. */
	int pid = pids[0];
	for (int i = 1; i < n; i++)
		if (pids[i] < pid)
			pid = pids[i];
	id->pid = pid;
	char path[4096];
	bool deleted = false;
	if (read_exe(c->proc, pid, path, sizeof path, &deleted) < 0) {
		id->flags |= GB_ID_LOOKUP_FAILED;
		return -ESRCH;
	}
	id->exe = sb_put(&sb, path);
	if (deleted)
		id->flags |= GB_ID_EXE_DELETED;
	int ppid = 0;
	read_status(c->proc, pid, &ppid, &id->uid);
	char hex[65], prev[65];
	int mismatch = 0;
	if (gb_identity_hash_exe(c, pid, hex, &mismatch, prev) == 0)
		id->sha256 = sb_put(&sb, hex);
	if (mismatch) {
		id->flags |= GB_ID_HASH_MISMATCH;
		memcpy(out->prev_sha256, prev, 65);
	}
	if (interpreter(path)) {
		char script[4096];
		script_of(c->proc, pid, script, sizeof script);
		id->flags |= GB_ID_INTERPRETER;
		id->script = sb_put(&sb, script);
	}
	if (has_preload(c->proc, pid))
		id->flags |= GB_ID_LD_PRELOAD;
	/* Ancestors: the PPid chain, inside the client's pid namespace only and
	 * short of its init.  A sandboxed process's chain ends below the
	 * sandbox's init (glassbox's own pid 1): the
	 * supervisor and whatever shell started glassbox are not its
	 * ancestors, or a policy listing /usr/bin/bash would grant every
	 * process of a sandbox launched from bash. */
	char ns[64], ans[64];
	bool have_ns = pidns_of(c->proc, pid, ns, sizeof ns) == 0;
	int cur = ppid;
	while (cur > 0) {
		if (have_ns && (pidns_of(c->proc, cur, ans, sizeof ans) < 0 || strcmp(ns, ans)))
			break;
		if (id->n_ancestors == GB_MAX_ANCESTORS) {
			id->flags |= GB_ID_ANCESTORS_CUT;
			break;
		}
		bool d2;
		uint32_t u;
		int next = 0, nspid = 0;
		if (read_status_ns(c->proc, cur, &next, &u, &nspid) < 0 || nspid == 1)
			break; /* the namespace's init (the sandbox's, or the host's) ends it */
		if (read_exe(c->proc, cur, path, sizeof path, &d2) == 0) { /* skip kernel threads */
			id->ancestor_pids[id->n_ancestors] = cur;
			id->ancestors[id->n_ancestors] = sb_put(&sb, path);
			id->n_ancestors++;
		}
		cur = next;
	}
	return 0;
}
