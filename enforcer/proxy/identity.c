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
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/paths.h"

#define HASH_SLOTS 1024 /* exe hash cache: bounded, replaced round-robin */
#define TOFU_SLOTS 1024
#define MRU_SLOTS 8    /* latest socket holders, searched first */
#define MRU_FDS 8      /* descriptors each was found at (hints), newest first */
#define PROC_SLOTS 128 /* processes whose status/exe are cached */
#define HASH_QUEUE 32  /* executables waiting for the hash thread */
#define FC_SLOTS 64    /* processes whose mapped-code check is remembered */
#define KID_SLOTS 32   /* children files kept open (threads of recent holders) */
/* Hashed on the spot below this size (SHA-256 runs at ~0.5-1.5 GB/s here:
 * at most a few ms); larger files go to the hash thread, so a 4 GiB
 * executable cannot hold a proxy worker for seconds. */
#define SYNC_HASH_MAX (8 * 1024 * 1024)

/* fd_search's search order of large descriptor tables (see there) */
#define FDT_SLOTS 16  /* processes whose table order is kept */
#define FDT_MIN 64    /* smaller tables are read as they are listed */
#define FDT_RECENT 16 /* latest hits kept per process */
#define FDT_MAX (1 << 20) /* descriptors listed at most (the kernel's nr_open) */

struct fdt_ent {
	int pid; /* 0: free */
	uint64_t used;
	int *fds; /* ascending, as last listed */
	size_t n, cap;
	int recent[FDT_RECENT]; /* -1: none; newest at recent_next - 1 */
	unsigned recent_next;
};

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
	int mru_fd[MRU_SLOTS][MRU_FDS]; /* where each held them (hints; -1: none) */
	struct gb_proc_cache *pc;   /* status + exe of holders and ancestors */
	struct hash_ent hashes[HASH_SLOTS];
	unsigned hash_next;
	struct tofu_ent tofu[TOFU_SLOTS];
	size_t n_tofu;
	/* Hashing of large executables off the caller's thread (async_hash):
	 * one thread, a bounded queue of open descriptors; results land in
	 * hashes[] (a failed job as an entry with an empty hex). */
	/* foreign_code() results, keyed by (pid, the proc cache's seen_ns):
	 * valid exactly as long as that process's cached facts are. */
	struct fc_ent { int pid; uint64_t seen; bool foreign; } fc[FC_SLOTS];
	unsigned fc_next;
	bool async_hash;
	pthread_t hthread;
	bool hthread_up, hstop;
	pthread_cond_t hcond;
	struct hjob { int fd; struct stat st; } hq[HASH_QUEUE];
	size_t hq_n;
	struct stat hbusy; /* the job being hashed now (st_ino 0: none) */
	/* children files of recent holders' threads, kept open
	 * (cached_children); fd -1 = free */
	pthread_mutex_t kid_lock;
	struct kid_ent { int pid, tid; uint64_t seen, ino; int fd; } kids[KID_SLOTS];
	unsigned kid_next, kid_slots; /* kid_slots <= KID_SLOTS (descriptor limit) */
	/* the search order of large descriptor tables (fd_search) */
	pthread_mutex_t fdt_lock;
	struct fdt_ent *fdt; /* FDT_SLOTS */
	uint64_t fdt_tick;
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
	c->async_hash = o && o->async_hash;
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
	/* Each cached process holds a /proc/PID directory open: a proxy squeezed to a few
	 * descriptors (EMFILE) must not spend them on the cache. */
	struct rlimit rl;
	size_t slots = PROC_SLOTS;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur / 8 < slots)
		slots = (size_t)rl.rlim_cur / 8;
	/* and so do kept children files (a sixteenth of the limit at most) */
	c->kid_slots = KID_SLOTS;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur / 16 < c->kid_slots)
		c->kid_slots = (unsigned)(rl.rlim_cur / 16);
	if (strcmp(c->proc, "/proc") != 0)
		c->kid_slots = 0; /* a test's fake /proc: read afresh, as the proc cache does */
	int rc = gb_proc_cache_new(c->proc, slots, &c->pc);
	if (rc < 0) {
		mnl_socket_close(c->nl);
		free(c);
		return rc;
	}
	pthread_mutex_init(&c->nl_lock, NULL);
	pthread_mutex_init(&c->cache_lock, NULL);
	pthread_mutex_init(&c->kid_lock, NULL);
	pthread_mutex_init(&c->fdt_lock, NULL);
	c->fdt = calloc(FDT_SLOTS, sizeof *c->fdt); /* NULL: tables read newest first */
	for (unsigned i = 0; i < KID_SLOTS; i++)
		c->kids[i].fd = -1;
	pthread_cond_init(&c->hcond, NULL);
	*out = c;
	return 0;
}

void gb_identity_ctx_free(struct gb_identity_ctx *c)
{
	if (!c)
		return;
	if (c->hthread_up) {
		pthread_mutex_lock(&c->cache_lock);
		c->hstop = true;
		pthread_cond_signal(&c->hcond);
		pthread_mutex_unlock(&c->cache_lock);
		pthread_join(c->hthread, NULL);
	}
	for (size_t i = 0; i < c->hq_n; i++)
		close(c->hq[i].fd);
	mnl_socket_close(c->nl);
	gb_proc_cache_free(c->pc);
	for (unsigned i = 0; i < KID_SLOTS; i++)
		if (c->kids[i].fd >= 0)
			close(c->kids[i].fd);
	pthread_mutex_destroy(&c->kid_lock);
	for (unsigned i = 0; c->fdt && i < FDT_SLOTS; i++)
		free(c->fdt[i].fds);
	free(c->fdt);
	pthread_mutex_destroy(&c->fdt_lock);
	for (size_t i = 0; i < c->n_tofu; i++)
		free(c->tofu[i].path);
	pthread_cond_destroy(&c->hcond);
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

/* > 0: at most this many readlinkat per descriptor table (quick lookups). */
static _Thread_local int fd_budget;

/* ---- the order a descriptor table is searched in ----
 *
 * A client holding thousands of sockets (10 000 tunnels) used to cost a
 * readlink of every descriptor above the new one, for each new connection:
 * quadratic in the sockets it holds.  The listing (getdents64 of
 * /proc/PID/fd) is cheap; the readlinks are not.  So per process with a
 * large table the last listing's descriptor numbers and the latest
 * descriptors found holding a looked-up socket are kept, and the next
 * search reads, in this order: those recent hits, the numbers that are
 * new since the last listing, lowest first (a socket just connected is
 * usually one of them), then every other descriptor, newest first.  A
 * process with hits is first probed without any listing (fdt_probes).
 *
 * The cache decides only the ORDER of the readlinks, never an answer: a
 * "holds" answer is always the readlink of that very descriptor, read now;
 * a "does not hold" answer is given only after every descriptor of the
 * current listing was read (or, quick, never: a quick miss is no proof).
 * A stale entry (a number closed and reused since, a pid now of another
 * process) can therefore only make a search slower, never hide a holder
 * — which is why it is keyed by pid alone, with no start time (see the
 * FDT_* limits and struct fdt_ent at the top). */

/* A growable int array. */
struct ivec {
	int *v;
	size_t n, cap;
};

static bool ivec_push(struct ivec *a, int x)
{
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 256;
		if (nc > FDT_MAX)
			return false;
		int *nv = realloc(a->v, nc * sizeof *nv);
		if (!nv)
			return false;
		a->v = nv;
		a->cap = nc;
	}
	a->v[a->n++] = x;
	return true;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static bool sorted_has(const int *v, size_t n, int x)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (v[m] == x)
			return true;
		if (v[m] < x)
			lo = m + 1;
		else
			hi = m;
	}
	return false;
}

/* cur (ascending) into *ord (capacity >= cur->n) in search order, and
 * cur remembered as pid's latest listing.  c->fdt_lock held. */
static void fdt_order(struct gb_identity_ctx *c, int pid, const struct ivec *cur, struct ivec *ord)
{
	struct fdt_ent *fdt = c->fdt;
	ord->n = 0;
	struct fdt_ent *e = NULL, *victim = &fdt[0];
	for (unsigned i = 0; i < FDT_SLOTS && !e; i++) {
		if (fdt[i].pid == pid)
			e = &fdt[i];
		else if (fdt[i].used < victim->used)
			victim = &fdt[i];
	}
	if (!e) {
		e = victim;
		e->pid = pid;
		e->n = 0;
		for (unsigned i = 0; i < FDT_RECENT; i++)
			e->recent[i] = -1;
		e->recent_next = 0;
	}
	e->used = ++c->fdt_tick;
	int rec[FDT_RECENT];
	unsigned nr = 0;
	for (unsigned i = 0; i < FDT_RECENT; i++) {
		int fd = e->recent[(e->recent_next + FDT_RECENT - 1 - i) % FDT_RECENT];
		bool dup = false;
		for (unsigned j = 0; j < nr && !dup; j++)
			dup = rec[j] == fd;
		if (fd >= 0 && !dup && sorted_has(cur->v, cur->n, fd)) {
			rec[nr++] = fd;
			ivec_push(ord, fd); /* ord's capacity is cur's: cannot fail */
		}
	}
	/* new numbers first, oldest first (connections are accepted in the
	 * order they were opened), then the rest, newest first */
	for (int pass = 0; pass < 2; pass++)
		for (size_t k = 0; k < cur->n; k++) {
			int fd = cur->v[pass == 0 ? k : cur->n - 1 - k];
			bool is_new = !sorted_has(e->fds, e->n, fd), dup = false;
			if (is_new != (pass == 0))
				continue;
			for (unsigned j = 0; j < nr && !dup; j++)
				dup = rec[j] == fd;
			if (!dup)
				ivec_push(ord, fd);
		}
	if (e->cap < cur->n) {
		int *nv = realloc(e->fds, cur->n * sizeof *nv);
		if (!nv) {
			e->n = 0; /* nothing remembered: the next search reads newest first */
			return;
		}
		e->fds = nv;
		e->cap = cur->n;
	}
	memcpy(e->fds, cur->v, cur->n * sizeof *cur->v);
	e->n = cur->n;
}

static void fdt_hit(struct gb_identity_ctx *c, int pid, int fd)
{
	pthread_mutex_lock(&c->fdt_lock);
	for (unsigned i = 0; i < FDT_SLOTS; i++) {
		struct fdt_ent *e = &c->fdt[i];
		if (e->pid != pid)
			continue;
		e->recent[e->recent_next++ % FDT_RECENT] = fd;
		/* into the listing (sorted), so the next probe starts above it
		 * or skips the hole it filled */
		size_t lo = 0, hi = e->n;
		while (lo < hi) {
			size_t m = lo + (hi - lo) / 2;
			if (e->fds[m] < fd)
				lo = m + 1;
			else
				hi = m;
		}
		if (lo < e->n && e->fds[lo] == fd)
			break;
		if (e->n == e->cap) {
			size_t nc = e->cap ? e->cap * 2 : 256;
			int *nv = nc <= FDT_MAX ? realloc(e->fds, nc * sizeof *nv) : NULL;
			if (!nv)
				break;
			e->fds = nv;
			e->cap = nc;
		}
		memmove(e->fds + lo + 1, e->fds + lo, (e->n - lo) * sizeof *e->fds);
		e->fds[lo] = fd;
		e->n++;
		break;
	}
	pthread_mutex_unlock(&c->fdt_lock);
}

/* The descriptors worth one readlink before any listing, for a process
 * whose large table had hits before: its recent hits, the numbers just
 * above its last listing (a new socket gets the lowest free number: past
 * the end of a table without holes) and the lowest holes in it (the
 * lowest free numbers of one with holes).  Up to max, into out; 0 when
 * pid has no entry with hits (a listing is read as usual). */
#define FDT_PROBE_UP 24
#define FDT_PROBE_HOLES 16
static size_t fdt_probes(struct gb_identity_ctx *c, int pid, int *out, size_t max)
{
	size_t n = 0;
	if (!c->fdt)
		return 0;
	pthread_mutex_lock(&c->fdt_lock);
	for (unsigned i = 0; i < FDT_SLOTS; i++) {
		struct fdt_ent *e = &c->fdt[i];
		if (e->pid != pid || !e->n)
			continue;
		for (unsigned k = 0; k < FDT_RECENT && n < max; k++) {
			int fd = e->recent[(e->recent_next + FDT_RECENT - 1 - k) % FDT_RECENT];
			if (fd >= 0)
				out[n++] = fd;
		}
		if (!n)
			break; /* never a hit here: not a client of ours, list it */
		/* a client opening connection after connection gets ascending
		 * numbers, and the proxy accepts them in the order they came:
		 * the next one is most often just above the latest hit */
		int last = out[0], top = e->fds[e->n - 1];
		for (int k = 1; k <= FDT_PROBE_UP && n < max; k++)
			out[n++] = last + k;
		for (int k = 1; k <= FDT_PROBE_UP && n < max && top > last; k++)
			out[n++] = top + k;
		int want = 0, holes = 0;
		for (size_t j = 0; j < e->n && holes < FDT_PROBE_HOLES && n < max; j++) {
			for (; want < e->fds[j] && holes < FDT_PROBE_HOLES && n < max; want++, holes++)
				out[n++] = want;
			want = e->fds[j] + 1;
		}
		break;
	}
	pthread_mutex_unlock(&c->fdt_lock);
	return n;
}

/* Does process `pid` hold a descriptor for `want` ("socket:[N]")?  The
 * whole listing first (getdents64 of /proc/PID/fd: one call per ~340
 * descriptors), then a readlinkat per descriptor on that open directory,
 * in the order above, until one links to want.  With `set`, the whole
 * table is read and its socket inodes collected (for the memo in
 * proc_facts.h); without, the search stops at the first match. */
static bool fd_search(struct gb_identity_ctx *c, int pid, const char *want, size_t wl,
                      struct sockset *set, int *fdno)
{
	char fddir[300];
	snprintf(fddir, sizeof fddir, "%s/%d/fd", c->proc, pid);
	if (set)
		*set = (struct sockset){ 0 };
	int dfd = open(fddir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return false; /* gone, or not ours to read */
	struct ivec cur = { 0 }, ord = { 0 };
	static _Thread_local _Alignas(struct dirent64) char buf[16384];
	bool hit = false, listed = false, ascending = true;
	if (!set) {
		/* A client with thousands of sockets: its new socket is found
		 * by a few readlinks, without listing the table (which costs the
		 * kernel a dentry per descriptor).  A hit is a readlink read now;
		 * a miss proves nothing and the whole table is searched below. */
		int probe[FDT_RECENT + 2 * FDT_PROBE_UP + FDT_PROBE_HOLES];
		size_t np = fdt_probes(c, pid, probe, GB_ARRAY_LEN(probe));
		for (size_t i = 0; i < np && !hit; i++) {
			bool dup = false;
			for (size_t j = 0; j < i && !dup; j++)
				dup = probe[j] == probe[i];
			if (dup || probe[i] < 0)
				continue;
			char name[16], tgt[64];
			snprintf(name, sizeof name, "%d", probe[i]);
			ssize_t l = readlinkat(dfd, name, tgt, sizeof tgt - 1);
			if (l == (ssize_t)wl && memcmp(tgt, want, wl) == 0) {
				hit = true;
				if (fdno)
					*fdno = probe[i];
				fdt_hit(c, pid, probe[i]);
			}
		}
		if (hit)
			goto out;
	}
	for (;;) {
		ssize_t r = getdents64(dfd, buf, sizeof buf);
		if (r < 0)
			goto out; /* unreadable now: as if gone (no memo either) */
		if (r == 0) {
			listed = true;
			break;
		}
		for (ssize_t off = 0; off < r;) {
			const struct dirent64 *d = (const void *)(buf + off);
			off += d->d_reclen;
			if (d->d_name[0] == '.')
				continue;
			int fd = atoi(d->d_name);
			if (cur.n && fd <= cur.v[cur.n - 1])
				ascending = false;
			if (!ivec_push(&cur, fd))
				goto out; /* no memory for the listing: nothing proven (no memo) */
		}
		/* procfs fills the buffer while descriptors remain: a batch that
		 * left room for more was the last one, and the empty read that
		 * would confirm it is skipped. */
		if ((size_t)r < sizeof buf - 512) {
			listed = true;
			break;
		}
	}
	if (!ascending)
		qsort(cur.v, cur.n, sizeof *cur.v, cmp_int);
	/* the order: a large table's from the cache, a small one newest first */
	bool cached = false;
	if (cur.n >= FDT_MIN && c->fdt && (ord.v = malloc(cur.n * sizeof *ord.v))) {
		ord.cap = cur.n;
		pthread_mutex_lock(&c->fdt_lock);
		fdt_order(c, pid, &cur, &ord);
		pthread_mutex_unlock(&c->fdt_lock);
		cached = true;
	}
	bool whole = listed;
	int links = 0;
	for (size_t i = 0; i < cur.n && (!hit || set); i++) {
		int fd = cached ? ord.v[i] : cur.v[cur.n - 1 - i];
		if (fd_budget > 0 && ++links > fd_budget) {
			whole = false; /* not read whole: no memo */
			break;
		}
		char name[16], tgt[64];
		snprintf(name, sizeof name, "%d", fd);
		ssize_t l = readlinkat(dfd, name, tgt, sizeof tgt - 1);
		if (l < 0 && (errno == EACCES || errno == EPERM)) {
			whole = false;
			break; /* the same refusal for every descriptor of it */
		}
		if (l <= 0)
			continue; /* closed meanwhile */
		tgt[l] = '\0';
		if (l == (ssize_t)wl && memcmp(tgt, want, wl) == 0 && !hit) {
			hit = true;
			if (fdno)
				*fdno = fd;
			if (cached)
				fdt_hit(c, pid, fd);
		}
		if (set && !strncmp(tgt, "socket:[", 8)) {
			if (set->n < GB_PROC_MEMO_SOCKETS)
				set->v[set->n] = (uint32_t)strtoul(tgt + 8, NULL, 10);
			if (set->n <= GB_PROC_MEMO_SOCKETS)
				set->n++;
		}
	}
	if (set)
		set->complete = whole;
out:
	free(cur.v);
	free(ord.v);
	close(dfd);
	return hit;
}

/* Does descriptor fdno of pid link to want?  One readlink: the cheap
 * first try when the descriptor number is known (the holder found at
 * accept, re-checked at the head) or likely (a client that closes its
 * connection and opens the next gets the same lowest free number). */
static bool holds_at(const char *proc, int pid, int fdno, const char *want, size_t wl)
{
	if (fdno < 0)
		return false;
	char p[320], tgt[64];
	snprintf(p, sizeof p, "%s/%d/fd/%d", proc, pid, fdno);
	ssize_t l = readlink(p, tgt, sizeof tgt);
	return l == (ssize_t)wl && memcmp(tgt, want, wl) == 0;
}

/* Does pid hold want?  *fdno (may be NULL): on a hit, the descriptor.
 * hint >= 0: that descriptor is tried first (one readlink), the table
 * searched only when it does not link to want. */
static bool holds(struct gb_identity_ctx *c, int pid, const char *want, size_t wl, int hint, int *fdno)
{
	if (holds_at(c->proc, pid, hint, want, wl)) {
		if (fdno)
			*fdno = hint;
		return true;
	}
	return fd_search(c, pid, want, wl, NULL, fdno);
}

/* Descriptor numbers where holders were found during one lookup, so the
 * identity can carry them (gb_ident_buf.fdno / gb_holder.fdno) and the
 * head-time re-check reads one link per holder instead of its table. */
struct fdhits {
	int pid[GB_ID_MAX_OTHERS + 2 * (GB_MAX_ANCESTORS + 2) + 2];
	int fd[GB_ID_MAX_OTHERS + 2 * (GB_MAX_ANCESTORS + 2) + 2];
	int n;
};

static void hit_note(struct fdhits *h, int pid, int fd)
{
	if (h && h->n < (int)GB_ARRAY_LEN(h->pid)) {
		h->pid[h->n] = pid;
		h->fd[h->n++] = fd;
	}
}

static int hit_fd(const struct fdhits *h, int pid)
{
	for (int i = 0; h && i < h->n; i++)
		if (h->pid[i] == pid)
			return h->fd[i];
	return -1;
}

/* Does ancestor `pid` hold the socket too?  Skipped when the memo proves
 * it cannot (proc_facts.h: listed after the holder was alive, without
 * it); otherwise its table is read whole and remembered. */
static bool ancestor_holds(struct gb_identity_ctx *c, int pid, uint64_t pid_seen_ns, uint32_t inode,
                           const char *want, size_t wl, uint64_t holder_seen_ns, struct fdhits *hits)
{
	if (gb_proc_sockets_lacks(c->pc, pid, pid_seen_ns, inode, holder_seen_ns))
		return false;
	struct sockset set;
	uint64_t t = gb_now_ns(CLOCK_MONOTONIC);
	int fd = -1;
	bool hit = fd_search(c, pid, want, wl, &set, &fd);
	if (hit)
		hit_note(hits, pid, fd);
	if (set.complete)
		gb_proc_sockets_note(c->pc, pid, set.v, set.n, t);
	return hit;
}

#define MAX_TREE 65536  /* processes searched below root_pid */
#define MAX_FAMILY 4096 /* descendants of an owner searched for co-holders */

/* Append the pids listed in an open /proc/PID/task/TID/children file,
 * read from its start (pread: a kept descriptor is read again as it is). */
static void add_children_fd(int fd, int *out, int *n, int max)
{
	char buf[4096];
	size_t have = 0;
	off_t off = 0;
	for (;;) {
		ssize_t l = pread(fd, buf + have, sizeof buf - 1 - have, off);
		if (l <= 0)
			break;
		off += l;
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
}

/* Append the pids listed in a /proc/PID/task/TID/children file. */
static void add_children(const char *path, int *out, int *n, int max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return; /* exited meanwhile */
	add_children_fd(fd, out, n, max);
	close(fd);
}

/* The children of a holder, from children files kept open per (process,
 * thread).  A client that opens connection after connection is the same
 * process each time; with eight threads, reading its children cost
 * 8 x (open, read, close) per connection, now one pread each.  An entry
 * belongs to the process the proc cache vouched for (pid and seen_ns: a
 * reused pid is another process, and the descriptor of the old one would
 * read empty); the threads are listed afresh every time, so a new
 * thread's children are read too.  A thread id can be reused inside the
 * same process once the host's pids wrap (an attacker can make them
 * wrap): the kept file of the dead thread would read empty for the new
 * one.  So an entry of a thread other than the leader (whose id lives as
 * long as the process) is used only while the task directory's inode is
 * the one it was opened under — the kernel drops a dead thread's dentries,
 * and the new thread's directory gets a new inode number.  Returns false when nothing was
 * cached for want of a seen_ns (the caller walks as before). */
static bool cached_children(struct gb_identity_ctx *c, int pid, uint64_t seen, int *out, int *n, int max)
{
	if (!seen || !c->kid_slots)
		return false;
	char tdir[300];
	snprintf(tdir, sizeof tdir, "%s/%d/task", c->proc, pid);
	int tids[64], nt = 0;
	uint64_t inos[64];
	struct stat st;
	if (stat(tdir, &st) < 0)
		return true; /* exited meanwhile: no children to search */
	if (st.st_nlink == 3) {
		inos[nt] = 0;
		tids[nt++] = pid; /* one thread: itself (see descendants) */
	} else {
		int dfd = open(tdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return true;
		_Alignas(struct dirent64) char buf[8192];
		ssize_t r;
		bool more = true;
		while (more && (r = getdents64(dfd, buf, sizeof buf)) > 0) {
			for (ssize_t off = 0; off < r;) {
				const struct dirent64 *d = (const void *)(buf + off);
				off += d->d_reclen;
				if (!is_pid(d->d_name))
					continue;
				if (nt == (int)GB_ARRAY_LEN(tids)) {
					close(dfd);
					return false; /* too many threads to keep: walk */
				}
				inos[nt] = d->d_ino;
				tids[nt++] = atoi(d->d_name);
			}
			more = (size_t)r >= sizeof buf - 512; /* a short batch was the last */
		}
		close(dfd);
	}
	int n0 = *n;
	pthread_mutex_lock(&c->kid_lock);
	for (int t = 0; t < nt; t++) {
		struct kid_ent *k = NULL;
		for (unsigned i = 0; i < c->kid_slots && !k; i++)
			if (c->kids[i].fd >= 0 && c->kids[i].pid == pid && c->kids[i].tid == tids[t] &&
			    c->kids[i].seen == seen && (tids[t] == pid || c->kids[i].ino == inos[t]))
				k = &c->kids[i];
		if (!k) {
			char cp[340];
			snprintf(cp, sizeof cp, "%s/%d/children", tdir, tids[t]);
			int fd = open(cp, O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				if (errno == EMFILE || errno == ENFILE) {
					pthread_mutex_unlock(&c->kid_lock);
					*n = n0; /* walk as before (it opens one at a time) */
					return false;
				}
				continue; /* the thread ended meanwhile */
			}
			k = &c->kids[c->kid_next++ % c->kid_slots];
			if (k->fd >= 0)
				close(k->fd);
			*k = (struct kid_ent){ .pid = pid, .tid = tids[t], .seen = seen, .ino = inos[t], .fd = fd };
		}
		add_children_fd(k->fd, out, n, max);
	}
	pthread_mutex_unlock(&c->kid_lock);
	return true;
}

/* root_pid and its descendants, from /proc/PID/task/TID/children (host pid
 * numbers).  root_seen: the proc cache's seen_ns of root, when known (its
 * children files are then kept open: cached_children).  Returns the count
 * (<= max). */
static int descendants(struct gb_identity_ctx *c, int root, uint64_t root_seen, int *out, int max)
{
	const char *proc = c->proc;
	int n = 0;
	out[n++] = root;
	for (int i = 0; i < n; i++) {
		if (i == 0 && cached_children(c, root, root_seen, out, &n, max))
			continue;
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

/* Remember pid as the latest holder found (front of the MRU list), and
 * fd in front of the descriptors it held looked-up sockets at. */
static void mru_push(struct gb_identity_ctx *c, int pid, int fd)
{
	pthread_mutex_lock(&c->cache_lock);
	int i;
	for (i = 0; i < MRU_SLOTS - 1 && c->mru[i] != pid; i++)
		;
	int fds[MRU_FDS], n = 0;
	fds[n++] = fd;
	for (int k = 0; c->mru[i] == pid && k < MRU_FDS && n < MRU_FDS; k++)
		if (c->mru_fd[i][k] >= 0 && c->mru_fd[i][k] != fd)
			fds[n++] = c->mru_fd[i][k];
	for (; n < MRU_FDS; n++)
		fds[n] = -1;
	memmove(c->mru + 1, c->mru, (size_t)i * sizeof c->mru[0]);
	memmove(c->mru_fd + 1, c->mru_fd, (size_t)i * sizeof c->mru_fd[0]);
	c->mru[0] = pid;
	memcpy(c->mru_fd[0], fds, sizeof fds);
	pthread_mutex_unlock(&c->cache_lock);
}

/* Does pid hold want at one of its remembered descriptors (hints[0..MRU_FDS),
 * -1 unused)?  One readlink each: the latest first (a client that closes a
 * connection and opens the next gets that number again), then the others
 * lowest first — a client with several connections open at once (eight
 * threads) gets the lowest free number, which is one its closed
 * connections held, and every remembered number below it is still taken.
 * A hit is a link read now; a miss proves nothing (the caller searches
 * the table), so a stale or planted number can only cost readlinks. */
static bool holds_hinted(struct gb_identity_ctx *c, int pid, const int *hints, const char *want,
                         size_t wl, int *fdno)
{
	int order[MRU_FDS], n = 0;
	for (int k = 1; k < MRU_FDS; k++)
		if (hints[k] >= 0)
			order[n++] = hints[k];
	qsort(order, (size_t)n, sizeof *order, cmp_int);
	for (int k = -1; k < n; k++) {
		int fd = k < 0 ? hints[0] : order[k];
		if (holds_at(c->proc, pid, fd, want, wl)) {
			*fdno = fd;
			return true;
		}
	}
	return false;
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
static int find_holder(struct gb_identity_ctx *c, const char *want, size_t wl, struct fdhits *hits)
{
	int mru[MRU_SLOTS], mfd[MRU_SLOTS][MRU_FDS];
	pthread_mutex_lock(&c->cache_lock);
	memcpy(mru, c->mru, sizeof mru);
	memcpy(mfd, c->mru_fd, sizeof mfd);
	pthread_mutex_unlock(&c->cache_lock);
	for (int i = 0; i < MRU_SLOTS && mru[i] > 0; i++) {
		int fd = -1;
		if (holds_hinted(c, mru[i], mfd[i], want, wl, &fd) ||
		    fd_search(c, mru[i], want, wl, NULL, &fd)) {
			if (i > 0 || fd != mfd[i][0])
				mru_push(c, mru[i], fd);
			hit_note(hits, mru[i], fd);
			return mru[i];
		}
	}
	if (fd_budget > 0)
		return 0; /* quick: the host's other processes are the head-time lookup's */
	int *cand = NULL, k, found = 0;
	if (c->root_pid > 0) {
		/* A sandbox: its processes only — a handful, not the host's
		 * hundreds. */
		cand = malloc(MAX_TREE * sizeof *cand);
		k = cand ? descendants(c, c->root_pid, 0, cand, MAX_TREE) : -ENOMEM;
	} else {
		k = all_pids(c->proc, &cand);
	}
	if (k < 0) {
		free(cand);
		return k;
	}
	qsort(cand, (size_t)k, sizeof *cand, cmp_desc);
	int fd = -1;
	for (int i = 0; i < k && !found; i++)
		if (holds(c, cand[i], want, wl, -1, &fd))
			found = cand[i];
	free(cand);
	if (found) {
		mru_push(c, found, fd);
		hit_note(hits, found, fd);
	}
	return found;
}

/* pid's descendants that also hold the socket (inherited at fork), into
 * out[0..max); returns how many hold it (may exceed max). */
static int descendant_holders(struct gb_identity_ctx *c, int pid, uint64_t seen, const char *want,
                              size_t wl, int *out, int max, struct fdhits *hits)
{
	int *tree = malloc(MAX_FAMILY * sizeof *tree), n = 0;
	if (!tree)
		return 0;
	int k = descendants(c, pid, seen, tree, MAX_FAMILY);
	for (int i = 1; i < k; i++) { /* tree[0] is pid itself */
		int fd = -1;
		if (holds(c, tree[i], want, wl, -1, &fd)) {
			if (n < max)
				out[n] = tree[i];
			n++;
			hit_note(hits, tree[i], fd);
		}
	}
	free(tree);
	return n;
}

/* In a sandbox, every process of it that holds the socket, newest first,
 * into out[0..max); returns how many hold it (may exceed max), or negative
 * errno.  Every process is searched, not only the first holder's family: a
 * descriptor passed over a unix socket lands in any process, and the
 * request may come from any of them.  A sandbox has a handful of
 * processes, so this costs what the first-holder search cost there. */
static int scope_holders(struct gb_identity_ctx *c, const char *want, size_t wl, int *out, int max,
                         struct fdhits *hits)
{
	int *cand = malloc(MAX_TREE * sizeof *cand);
	if (!cand)
		return -ENOMEM;
	int k = descendants(c, c->root_pid, 0, cand, MAX_TREE), n = 0;
	qsort(cand, (size_t)k, sizeof *cand, cmp_desc);
	int first_fd = -1;
	for (int i = 0; i < k; i++) {
		int fd = -1;
		if (holds(c, cand[i], want, wl, -1, &fd)) {
			if (n < max)
				out[n] = cand[i];
			if (!n)
				first_fd = fd;
			n++;
			hit_note(hits, cand[i], fd);
		}
	}
	free(cand);
	if (n)
		mru_push(c, out[0], first_fd);
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

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       ts_eq(a->st_mtim, b->st_mtim) && ts_eq(a->st_ctim, b->st_ctim);
}

/* cache_lock held */
static void cache_put(struct gb_identity_ctx *c, const struct stat *st, const char *hex)
{
	struct hash_ent *h = &c->hashes[c->hash_next++ % HASH_SLOTS];
	*h = (struct hash_ent){ .dev = st->st_dev, .ino = st->st_ino, .size = st->st_size,
		                .mtime = st->st_mtim, .ctime = st->st_ctim, .used = true };
	memcpy(h->hex, hex, 65);
}

static void *hash_thread(void *arg)
{
	struct gb_identity_ctx *c = arg;
	pthread_mutex_lock(&c->cache_lock);
	for (;;) {
		while (!c->hq_n && !c->hstop)
			pthread_cond_wait(&c->hcond, &c->cache_lock);
		if (c->hstop)
			break;
		struct hjob j = c->hq[0];
		memmove(c->hq, c->hq + 1, --c->hq_n * sizeof c->hq[0]);
		c->hbusy = j.st;
		pthread_mutex_unlock(&c->cache_lock);
		char hex[65] = "";
		if (gb_sha256_fd(j.fd, hex) < 0)
			hex[0] = '\0'; /* a failed job: an empty hash, so waiters stop waiting */
		close(j.fd);
		pthread_mutex_lock(&c->cache_lock);
		cache_put(c, &j.st, hex);
		c->hbusy = (struct stat){ 0 };
	}
	pthread_mutex_unlock(&c->cache_lock);
	return NULL;
}

/* Hand fd (of the file st) to the hash thread; takes fd.  0, or negative
 * errno (queue full: the caller hashes itself). */
static int hash_later(struct gb_identity_ctx *c, int fd, const struct stat *st)
{
	int rc = 0;
	pthread_mutex_lock(&c->cache_lock);
	bool queued = c->hbusy.st_ino && same_file(&c->hbusy, st);
	for (size_t i = 0; i < c->hq_n && !queued; i++)
		queued = same_file(&c->hq[i].st, st);
	if (queued) {
		close(fd);
	} else if (c->hq_n == HASH_QUEUE) {
		rc = -EAGAIN;
	} else {
		if (!c->hthread_up && pthread_create(&c->hthread, NULL, hash_thread, c) == 0)
			c->hthread_up = true;
		if (!c->hthread_up) {
			rc = -EAGAIN;
		} else {
			c->hq[c->hq_n++] = (struct hjob){ .fd = fd, .st = *st };
			pthread_cond_signal(&c->hcond);
		}
	}
	pthread_mutex_unlock(&c->cache_lock);
	return rc;
}

/* Trust on first use, per path: sets *mismatch (and prev_hex) when path was
 * first seen with another hash. */
static void tofu(struct gb_identity_ctx *c, const char *path, const char *hex, int *mismatch, char prev_hex[65])
{
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
}

/* The hash of what pid runs, whose exe path (for trust on first use) is
 * `path` ("" or deleted: no TOFU).  With defer (and async_hash), a large
 * unknown file goes to the hash thread: -EINPROGRESS, *key = the file to
 * poll for (gb_identity_hash_poll). */
static int hash_exe(struct gb_identity_ctx *c, int pid, const char *path, bool deleted,
                    char hex[65], int *mismatch, char prev_hex[65], bool defer, struct stat *key)
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
		if (fstat(fd, &st) < 0) {
			rc = -errno;
		} else if (cached_hash(c, &st, hex)) {
			rc = 0;
		} else if (defer && c->async_hash && st.st_size > SYNC_HASH_MAX && hash_later(c, fd, &st) == 0) {
			*key = st;
			return -EINPROGRESS; /* fd is the hash thread's now */
		} else if (!(rc = gb_sha256_fd(fd, hex))) {
			pthread_mutex_lock(&c->cache_lock);
			cache_put(c, &st, hex);
			pthread_mutex_unlock(&c->cache_lock);
		}
		close(fd);
	}
	if (!rc && !hex[0])
		rc = -EIO; /* a failed background hash */
	if (rc || !path[0] || deleted)
		return rc;
	tofu(c, path, hex, mismatch, prev_hex);
	return 0;
}

int gb_identity_hash_poll(struct gb_identity_ctx *c, struct gb_ident_buf *b)
{
	if (!b->hash_pending)
		return 1;
	char hex[65];
	if (!cached_hash(c, &b->hash_key, hex))
		return 0;
	b->hash_pending = false;
	if (!hex[0])
		return -EIO;
	memcpy(b->hash_hex, hex, 65);
	b->id.sha256 = b->hash_hex;
	int mismatch = 0;
	if (b->id.exe[0] && !(b->id.flags & GB_ID_EXE_DELETED))
		tofu(c, b->id.exe, hex, &mismatch, b->prev_sha256);
	if (mismatch)
		b->id.flags |= GB_ID_HASH_MISMATCH;
	return 1;
}

int gb_identity_hash_exe(struct gb_identity_ctx *c, int pid, char hex[65], int *mismatch,
                         char prev_hex[65])
{
	char path[GB_PATH_MAX];
	bool deleted = false;
	if (read_exe(c->proc, pid, path, sizeof path, &deleted) < 0)
		path[0] = '\0';
	return hash_exe(c, pid, path, deleted, hex, mismatch, prev_hex, false, NULL);
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

/* The next step up from below (seen as below_seen) to cur, just read as
 * cur_seen: cur when cur is still below's parent, the parent below has now
 * when it was reparented (its parent exited: the cached PPid named a
 * number that may be anyone's now — an ancestor the policy grants, say),
 * or negative when nothing can vouch for the link (below exited or its
 * entry was evicted: the chain is cut, which can only deny). */
static int step_up(struct gb_identity_ctx *c, int below, uint64_t below_seen, int cur, uint64_t cur_seen)
{
	int ppid = cur;
	int rc = gb_proc_parent_is(c->pc, below, below_seen, cur, cur_seen, &ppid);
	return rc < 0 ? rc : ppid > 0 ? ppid : -ESRCH;
}

/* The ancestor chain of pid (exe paths as the workload sees them), with
 * the boundary rules of gb_identity_lookup, for a holder other than the
 * primary identity. */
static void other_chain(struct gb_identity_ctx *c, int pid, uint64_t seen, const struct gb_pstatus *st,
                        const char *root, size_t rl, struct sbuf *sb, struct gb_holder *h)
{
	char raw[4096], path[4096];
	h->n_ancestors = 0;
	int cur = (st->nspid == 1 || (c->root_pid > 0 && pid == c->root_pid)) ? 0 : st->ppid;
	int below = pid;
	uint64_t below_seen = seen;
	while (cur > 0 && h->n_ancestors < GB_MAX_ANCESTORS) {
		struct gb_pstatus as;
		uint64_t as_seen = 0;
		bool deleted;
		if (gb_proc_facts(c->pc, cur, &as, raw, sizeof raw, &as_seen) < 0)
			break;
		int now = step_up(c, below, below_seen, cur, as_seen);
		if (now < 0)
			break; /* fewer ancestors can only deny */
		if (now != cur) { /* reparented: its parent is now another */
			cur = now;
			continue;
		}
		if (as.nspid == 1 || as.depth < st->depth)
			break;
		below = cur;
		below_seen = as_seen;
		if (raw[0]) {
			exe_clean(raw, path, sizeof path, &deleted);
			exe_as_seen(c->proc, cur, root, rl, path, sizeof path);
			h->ancestors[h->n_ancestors++] = sb_put(sb, path);
		}
		if (c->root_pid > 0 && cur == c->root_pid)
			break;
		cur = as.ppid;
	}
}

int gb_identity_lookup(struct gb_identity_ctx *c, const struct sockaddr *peer,
                       const struct sockaddr *local, struct gb_ident_buf *out)
{
	memset(&out->id, 0, sizeof out->id);
	out->prev_sha256[0] = '\0';
	out->truncated = false;
	out->hash_pending = false;
	out->n_holders = out->n_others = 0;
	out->inode = 0;
	out->fdno = -1;
	struct gb_identity *id = &out->id;
	struct sbuf sb = { .p = out->store, .left = sizeof out->store };
	id->exe = id->sha256 = id->script = "";
	uint32_t inode = 0;
	char want[64], raw[4096], path[GB_PATH_MAX];
	int rc = sock_inode(c, peer, local, &inode);
	int wl = snprintf(want, sizeof want, "socket:[%u]", inode);
	/* Holders besides the first, to be decided too: in a sandbox all of
	 * its processes that hold it; on the host the first holder's family. */
	int more[GB_ID_MAX_OTHERS + 2 * (GB_MAX_ANCESTORS + 2)], n_more = 0, n_scope = 0;
	int found;
	struct fdhits hits = { .n = 0 };
	if (rc < 0) {
		found = rc;
	} else if (c->root_pid > 0) {
		int sc[GB_ID_MAX_OTHERS + 1];
		n_scope = scope_holders(c, want, (size_t)wl, sc, GB_ID_MAX_OTHERS + 1, &hits);
		found = n_scope > 0 ? sc[0] : n_scope;
		for (int i = 1; i < n_scope && i <= GB_ID_MAX_OTHERS; i++)
			more[n_more++] = sc[i];
	} else {
		found = find_holder(c, want, (size_t)wl, &hits);
	}
	struct gb_pstatus st;
	uint64_t seen = 0; /* when the holder was known alive (0: unknown) */
	if (found > 0 && (gb_proc_facts(c->pc, found, &st, raw, sizeof raw, &seen) < 0 || !raw[0]))
		found = -ESRCH; /* exited meanwhile */
	if (found <= 0) {
		id->flags |= GB_ID_LOOKUP_FAILED;
		return found < 0 ? found : -ESRCH;
	}
	out->inode = inode;
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
	int below = found;
	uint64_t below_seen = seen;
	while (cur > 0) {
		struct gb_pstatus as;
		uint64_t as_seen = 0;
		if (gb_proc_facts(c->pc, cur, &as, raw, sizeof raw, &as_seen) < 0)
			break;
		int now = step_up(c, below, below_seen, cur, as_seen);
		if (now < 0) {
			id->flags |= GB_ID_ANCESTORS_CUT;
			break;
		}
		if (now != cur) { /* reparented: its parent is now another */
			cur = now;
			continue;
		}
		if (as.nspid == 1 || as.depth < st.depth)
			break;
		below = cur;
		below_seen = as_seen;
		if (n == GB_MAX_ANCESTORS + 2) {
			id->flags |= GB_ID_ANCESTORS_CUT;
			break;
		}
		if (raw[0]) { /* kernel threads have no exe and are skipped */
			struct link *l = &chain[n++];
			/* in a sandbox the scope search already saw every holder */
			*l = (struct link){ .pid = cur, .uid = as.uid,
				            .holds = c->root_pid > 0
				                             ? false
				                             : ancestor_holds(c, cur, as_seen, inode, want, (size_t)wl,
				                                              seen, &hits) };
			for (int i = 0; i < n_more && !l->holds; i++)
				l->holds = more[i] == cur;
			exe_clean(raw, path, sizeof path, &l->deleted);
			exe_as_seen(c->proc, cur, root, rl, path, sizeof path);
			l->exe = sb_put(&sb, path);
			if (l->holds) {
				top = n - 1;
				if (c->root_pid <= 0)
					holders++;
			}
		}
		if (c->root_pid > 0 && cur == c->root_pid)
			break;
		cur = as.ppid;
	}
	if (c->root_pid > 0) {
		holders = n_scope;
	} else {
		int d[GB_ID_MAX_OTHERS];
		int nd = descendant_holders(c, found, seen, want, (size_t)wl, d, GB_ID_MAX_OTHERS, &hits);
		holders += nd;
		for (int i = 0; i < nd && i < GB_ID_MAX_OTHERS; i++)
			more[n_more++] = d[i];
		for (int i = 1; i < n; i++) /* holders between found and the top */
			if (chain[i].holds && i != top)
				more[n_more++] = chain[i].pid;
	}
	if (top != 0)
		more[n_more++] = found; /* the first holder is not the identity */
	if (holders > 1)
		id->flags |= GB_ID_MULTI_OWNER;
	out->n_holders = (unsigned)holders;
	const struct link *h = &chain[top];
	int pid = h->pid;
	id->pid = pid;
	out->fdno = hit_fd(&hits, pid);
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
	/* Every other holder, with its own exe and chain, for its own decision. */
	for (int i = 0; i < n_more && out->n_others < GB_ID_MAX_OTHERS; i++) {
		bool dup = more[i] == pid;
		for (unsigned j = 0; j < out->n_others && !dup; j++)
			dup = out->others[j].pid == more[i];
		struct gb_pstatus os;
		uint64_t os_seen = 0;
		bool deleted;
		if (dup || gb_proc_facts(c->pc, more[i], &os, raw, sizeof raw, &os_seen) < 0 || !raw[0])
			continue;
		struct gb_holder *o = &out->others[out->n_others++];
		o->pid = more[i];
		o->uid = os.uid;
		o->fdno = hit_fd(&hits, more[i]);
		exe_clean(raw, path, sizeof path, &deleted);
		exe_as_seen(c->proc, more[i], root, rl, path, sizeof path);
		o->exe = sb_put(&sb, path);
		other_chain(c, more[i], os_seen, &os, root, rl, &sb, o);
	}
	char hex[65], prev[65];
	int mismatch = 0;
	int hr = hash_exe(c, pid, h->exe, h->deleted, hex, &mismatch, prev, true, &out->hash_key);
	if (hr == 0)
		id->sha256 = sb_put(&sb, hex);
	else if (hr == -EINPROGRESS)
		out->hash_pending = true; /* the caller polls gb_identity_hash_poll */
	if (mismatch) {
		id->flags |= GB_ID_HASH_MISMATCH;
		memcpy(out->prev_sha256, prev, 65);
	}
	if (interpreter(h->exe)) {
		char script[GB_PATH_MAX];
		script_of(c->proc, pid, script, sizeof script);
		id->flags |= GB_ID_INTERPRETER;
		id->script = sb_put(&sb, script);
	}
	/* Reading maps costs ~5 times a status read (the kernel renders every
	 * mapping): it is read once per process, for as long as the process
	 * cache vouches for the process (same pinned /proc/PID, same exe link). */
	bool foreign = false, known = false;
	if (pid == found && seen) {
		pthread_mutex_lock(&c->cache_lock);
		for (unsigned i = 0; i < FC_SLOTS && !known; i++)
			if (c->fc[i].pid == pid && c->fc[i].seen == seen) {
				known = true;
				foreign = c->fc[i].foreign;
			}
		pthread_mutex_unlock(&c->cache_lock);
	}
	if (!known) {
		foreign = foreign_code(c->proc, pid, h->exe, root, rl);
		if (pid == found && seen) {
			pthread_mutex_lock(&c->cache_lock);
			c->fc[c->fc_next++ % FC_SLOTS] = (struct fc_ent){ .pid = pid, .seen = seen, .foreign = foreign };
			pthread_mutex_unlock(&c->cache_lock);
		}
	}
	if (foreign)
		id->flags |= GB_ID_LD_PRELOAD;
	out->truncated = sb.cut;
	return 0;
}

/* Does pid still hold the socket and run the exe recorded for it?  The
 * descriptor it was found at is read first (one readlink); only when that
 * no longer links to the socket (closed, or dup2'd elsewhere) is the
 * table searched. */
static bool same_holder(struct gb_identity_ctx *c, int pid, int fdno, const char *exe, const char *want,
                        size_t wl)
{
	char raw[4096], path[4096], root[4096];
	struct gb_pstatus st;
	bool deleted;
	if (!holds(c, pid, want, wl, fdno, NULL) || gb_proc_facts(c->pc, pid, &st, raw, sizeof raw, NULL) < 0)
		return false;
	exe_clean(raw, path, sizeof path, &deleted);
	size_t rl = strcmp(path, exe) ? workload_root(c->proc, pid, root, sizeof root) : 0;
	if (rl)
		exe_as_seen(c->proc, pid, root, rl, path, sizeof path);
	return !strcmp(path, exe);
}

int gb_identity_recheck(struct gb_identity_ctx *c, const struct gb_ident_buf *prev)
{
	if (!prev->inode || prev->id.pid <= 0)
		return 0;
	char want[64];
	int wl = snprintf(want, sizeof want, "socket:[%u]", prev->inode);
	if (!same_holder(c, prev->id.pid, prev->fdno, prev->id.exe, want, (size_t)wl))
		return 0;
	for (unsigned i = 0; i < prev->n_others; i++)
		if (!same_holder(c, prev->others[i].pid, prev->others[i].fdno, prev->others[i].exe, want,
		                 (size_t)wl))
			return 0;
	return 1;
}

static const char *rebase(const char *p, const struct gb_ident_buf *from, struct gb_ident_buf *to)
{
	if (p >= from->store && p < from->store + sizeof from->store)
		return to->store + (p - from->store);
	return p; /* a static "" */
}

void gb_ident_copy(struct gb_ident_buf *dst, const struct gb_ident_buf *src)
{
	memcpy(dst, src, sizeof *dst);
	dst->id.exe = rebase(src->id.exe, src, dst);
	dst->id.sha256 = src->id.sha256 == src->hash_hex ? dst->hash_hex : rebase(src->id.sha256, src, dst);
	dst->id.script = rebase(src->id.script, src, dst);
	for (uint32_t i = 0; i < src->id.n_ancestors; i++)
		dst->id.ancestors[i] = rebase(src->id.ancestors[i], src, dst);
	for (unsigned i = 0; i < src->n_others; i++) {
		dst->others[i].exe = rebase(src->others[i].exe, src, dst);
		for (uint32_t j = 0; j < src->others[i].n_ancestors; j++)
			dst->others[i].ancestors[j] = rebase(src->others[i].ancestors[j], src, dst);
	}
}

int gb_identity_lookup_quick(struct gb_identity_ctx *c, const struct sockaddr *peer,
                             const struct sockaddr *local, struct gb_ident_buf *out)
{
	fd_budget = 64;
	int rc = gb_identity_lookup(c, peer, local, out);
	fd_budget = 0;
	return rc;
}
