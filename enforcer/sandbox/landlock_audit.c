/* enforcer/sandbox/landlock_audit.c — see landlock_audit.h. */
#include "enforcer/sandbox/landlock_audit.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <poll.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

#ifndef AUDIT_SECCOMP
#define AUDIT_SECCOMP 1326
#endif
#ifndef AUDIT_LANDLOCK_ACCESS
#define AUDIT_LANDLOCK_ACCESS 1423
#endif
#ifndef AUDIT_LANDLOCK_DOMAIN
#define AUDIT_LANDLOCK_DOMAIN 1424
#endif

#define MAX_EVENTS 32
#define MAX_ACC 4
#define MAX_DOMAINS 8
#define EVENT_TIMEOUT_NS (300u * 1000000u)

struct access {
	uint64_t domain;
	char path[1024];
	char blockers[128];
};

struct event {
	int used;
	uint64_t serial;
	uint64_t born_ns;
	int n_acc;
	struct access acc[MAX_ACC];
	int has_sys;
	int32_t pid;
	uint32_t uid;
	char exe[1024], comm[64], syscall[16];
};

struct gb_ll_audit {
	int fd;
	pid_t init_pid;
	char pidns[64];  /* readlink of the init's /proc/PID/ns/pid */
	uint32_t own_uid; /* the sandbox's own uid (uidalloc.h), 0 when shared */
	uint64_t domains[MAX_DOMAINS];
	int n_domains;
	int dealloc_seen;
	uint64_t denials;
	unsigned overflowed; /* ENOBUFS seen: records were dropped */
	char mark[40];       /* the end mark's text ("" none sent) */
	int mark_seen;
	struct event ev[MAX_EVENTS];
};

static int query_enabled(int fd)
{
	struct {
		struct nlmsghdr h;
	} req = { { .nlmsg_len = sizeof req, .nlmsg_type = AUDIT_GET, .nlmsg_flags = NLM_F_REQUEST,
		        .nlmsg_seq = 1 } };
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
	if (sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&k, sizeof k) < 0)
		return -errno;
	/* The answer may queue behind multicast records: skip those. */
	for (int i = 0; i < 64; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 1000) <= 0)
			return -ETIMEDOUT;
		char buf[8192];
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < (ssize_t)NLMSG_HDRLEN)
			continue;
		struct nlmsghdr *h = (struct nlmsghdr *)buf;
		if (h->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(h);
			if (e->error)
				return e->error;
			continue;
		}
		if (h->nlmsg_type == AUDIT_GET &&
		    h->nlmsg_len >= NLMSG_LENGTH(offsetof(struct audit_status, enabled) + 4)) {
			struct audit_status st;
			memset(&st, 0, sizeof st);
			size_t len = h->nlmsg_len - NLMSG_HDRLEN;
			memcpy(&st, NLMSG_DATA(h), len < sizeof st ? len : sizeof st);
			return st.enabled ? 1 : 0;
		}
	}
	return -ETIMEDOUT;
}

/* The initial network namespace, opened: kthreadd (pid 2 of the initial pid
 * namespace; audit refuses other pid namespaces anyway) always lives in it,
 * and pid 1 usually does (its ns links may be closed to us). -1 when neither
 * can be opened. */
static int open_init_netns(void)
{
	static const char *const cands[][2] = { { "/proc/2/comm", "/proc/2/ns/net" },
		                                    { NULL, "/proc/1/ns/net" } };
	for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
		if (cands[i][0]) {
			char comm[32] = "";
			FILE *f = fopen(cands[i][0], "re");
			if (!f)
				continue;
			int ok = fgets(comm, sizeof comm, f) && !strcmp(comm, "kthreadd\n");
			fclose(f);
			if (!ok)
				continue;
		}
		int fd = open(cands[i][1], O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			return fd;
	}
	return -1;
}

/* The audit multicast is sent only to the initial network namespace's audit
 * socket: one opened in any other namespace binds, answers AUDIT_GET, and
 * never receives a record.  So when the supervisor was started in another
 * namespace (ip netns exec, a container's), the socket is made in the
 * initial one (this thread enters it for the socket() call and returns; a
 * socket keeps the namespace it was made in).  -EXDEV when we are elsewhere
 * and cannot enter it. */
static int audit_socket(void)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int init = open_init_netns();
	struct stat ss, is;
	int rc;
	if (self < 0 || init < 0 || fstat(self, &ss) < 0 || fstat(init, &is) < 0) {
		rc = -EXDEV;
		/* Without the initial namespace to compare with, trust a socket
		 * only when we provably are in it (a fixed inode since Linux 6.x). */
		if (self >= 0 && fstat(self, &ss) == 0 && ss.st_ino == 0xEFFFFFF9u)
			rc = 0;
	} else {
		rc = ss.st_dev == is.st_dev && ss.st_ino == is.st_ino ? 0 : 1;
	}
	int fd = -EXDEV;
	if (rc == 0) {
		fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
		fd = fd < 0 ? -errno : fd;
	} else if (rc == 1) {
		if (setns(init, CLONE_NEWNET) < 0) {
			fd = -EXDEV;
		} else {
			fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
			fd = fd < 0 ? -errno : fd;
			if (setns(self, CLONE_NEWNET) < 0) {
				/* cannot happen with the rights that entered; staying
				 * in the wrong namespace would be worse than failing */
				gb_log_error(NULL, "cannot return to the supervisor's network namespace: %s",
				             strerror(errno));
				abort();
			}
		}
	}
	if (self >= 0)
		close(self);
	if (init >= 0)
		close(init);
	return fd;
}

int gb_ll_audit_open(struct gb_ll_audit **out, int *enabled)
{
	*out = NULL;
	*enabled = 0;
	int fd = audit_socket();
	if (fd < 0)
		return fd;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
		                      .nl_groups = 1u << (AUDIT_NLGRP_READLOG - 1) };
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	int en = query_enabled(fd);
	if (en < 0) {
		close(fd);
		return en;
	}
	struct gb_ll_audit *a = calloc(1, sizeof *a);
	if (!a) {
		close(fd);
		return -ENOMEM;
	}
	/* The multicast carries every audit record of the host: a burst from
	 * other processes must not overflow it and cost us our denials.
	 * RCVBUFFORCE passes rmem_max (we are still privileged here); plain
	 * RCVBUF, capped by rmem_max, is the fallback. */
	int big = 8 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	a->fd = fd;
	a->init_pid = -1;
	*enabled = en;
	*out = a;
	return 0;
}

static int pidns_of(pid_t pid, char *out, size_t len)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/ns/pid", (int)pid);
	ssize_t n = readlink(p, out, len - 1);
	if (n <= 0)
		return -1;
	out[n] = 0;
	return 0;
}

void gb_ll_audit_own_uid(struct gb_ll_audit *a, uint32_t uid)
{
	if (a)
		a->own_uid = uid;
}

void gb_ll_audit_watch(struct gb_ll_audit *a, pid_t init_pid)
{
	a->init_pid = init_pid;
	if (pidns_of(init_pid, a->pidns, sizeof a->pidns) < 0)
		a->pidns[0] = 0;
}

int gb_ll_audit_fd(const struct gb_ll_audit *a)
{
	return a->fd;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Value of key=... in an audit record: "quoted", hex-encoded (how the kernel
 * writes untrusted strings with odd bytes) when hex_ok, or a bare token. */
static int field(const char *rec, const char *key, char *out, size_t len, int hex_ok)
{
	size_t kl = strlen(key);
	const char *p = rec;
	out[0] = 0;
	while ((p = strstr(p, key))) {
		if ((p == rec || p[-1] == ' ') && p[kl] == '=')
			break;
		p += kl;
	}
	if (!p)
		return 0;
	p += kl + 1;
	size_t o = 0;
	if (*p == '"') {
		p++;
		while (*p && *p != '"' && o + 1 < len)
			out[o++] = *p++;
		out[o] = 0;
		return 1;
	}
	const char *end = p + strcspn(p, " \n");
	size_t vl = (size_t)(end - p);
	int is_hex = hex_ok && vl && vl % 2 == 0;
	for (size_t i = 0; is_hex && i < vl; i++)
		is_hex = hexval(p[i]) >= 0;
	if (is_hex) {
		for (size_t i = 0; i + 1 < vl && o + 1 < len; i += 2) {
			char c = (char)(hexval(p[i]) * 16 + hexval(p[i + 1]));
			out[o++] = c ? c : ' ';
		}
	} else {
		while (p < end && o + 1 < len)
			out[o++] = *p++;
	}
	out[o] = 0;
	return 1;
}

static uint64_t field_u64(const char *rec, const char *key, int base)
{
	char v[32];
	if (!field(rec, key, v, sizeof v, 0))
		return 0;
	return strtoull(v, NULL, base);
}

static int ours(const struct gb_ll_audit *a, uint64_t domain)
{
	for (int i = 0; i < a->n_domains; i++)
		if (a->domains[i] == domain)
			return 1;
	return 0;
}

static void report(struct gb_ll_audit *a, struct event *e, gb_ll_denial_fn fn, void *ctx)
{
	for (int i = 0; i < e->n_acc; i++) {
		if (!ours(a, e->acc[i].domain))
			continue;
		struct gb_ll_denial d = {
			.domain = e->acc[i].domain,
			.pid = e->has_sys ? e->pid : 0,
			.uid = e->has_sys ? e->uid : 0,
			.exe = e->has_sys ? e->exe : "",
			.comm = e->has_sys ? e->comm : "",
			.path = e->acc[i].path,
			.blockers = e->acc[i].blockers,
			.syscall = e->has_sys ? e->syscall : "",
			.syscall_name = e->has_sys ? e->syscall : "",
		};
		a->denials++;
		if (fn)
			fn(ctx, &d);
	}
	e->used = 0;
}

static struct event *event_for(struct gb_ll_audit *a, uint64_t serial, gb_ll_denial_fn fn,
                               void *ctx)
{
	struct event *oldest = NULL, *fresh = NULL;
	for (int i = 0; i < MAX_EVENTS; i++) {
		struct event *e = &a->ev[i];
		if (e->used && e->serial == serial)
			return e;
		if (!e->used && !fresh)
			fresh = e;
		if (e->used && (!oldest || e->born_ns < oldest->born_ns))
			oldest = e;
	}
	if (!fresh) {
		report(a, oldest, fn, ctx);
		fresh = oldest;
	}
	memset(fresh, 0, sizeof *fresh);
	fresh->used = 1;
	fresh->serial = serial;
	fresh->born_ns = gb_now_ns(CLOCK_MONOTONIC);
	return fresh;
}

static void handle(struct gb_ll_audit *a, int type, const char *rec, gb_ll_denial_fn fn,
                   void *ctx)
{
	/* "audit(1795556800.830:11): ..." */
	const char *c = strchr(rec, ':');
	if (strncmp(rec, "audit(", 6) || !c)
		return;
	uint64_t serial = strtoull(c + 1, NULL, 10);
	if (type == AUDIT_USER && a->mark[0] && strstr(rec, a->mark)) {
		a->mark_seen = 1;
		return;
	}
	if (a->init_pid <= 0)
		return;
	if (type == AUDIT_SECCOMP) {
		/* Ours if it ran as the sandbox's own uid (no other process has it,
		 * and the record holds even when the process is already gone), or
		 * if the process is in our pid namespace (look now: it may go). */
		pid_t pid = (pid_t)field_u64(rec, "pid", 10);
		char ns[64], exe[1024], comm[64], sc[16];
		int by_uid = a->own_uid && field_u64(rec, "uid", 10) == a->own_uid;
		if (!by_uid &&
		    (!a->pidns[0] || pidns_of(pid, ns, sizeof ns) < 0 || strcmp(ns, a->pidns)))
			return;
		field(rec, "exe", exe, sizeof exe, 1);
		field(rec, "comm", comm, sizeof comm, 1);
		field(rec, "syscall", sc, sizeof sc, 0);
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, atoi(sc));
		struct gb_ll_denial d = {
			.seccomp = 1, .pid = pid, .uid = (uint32_t)field_u64(rec, "uid", 10),
			.exe = exe, .comm = comm, .path = "", .blockers = "", .syscall = sc,
			.syscall_name = name ? name : sc,
		};
		a->denials++;
		if (fn)
			fn(ctx, &d);
		free(name);
		return;
	}
	if (type == AUDIT_LANDLOCK_DOMAIN) {
		char st[32];
		field(rec, "status", st, sizeof st, 0);
		uint64_t dom = field_u64(rec, "domain", 16);
		if (!strcmp(st, "allocated") && (pid_t)field_u64(rec, "pid", 10) == a->init_pid &&
		    !ours(a, dom) && a->n_domains < MAX_DOMAINS)
			a->domains[a->n_domains++] = dom;
		else if (!strcmp(st, "deallocated") && ours(a, dom))
			a->dealloc_seen = 1;
		return;
	}
	if (type != AUDIT_LANDLOCK_ACCESS && type != AUDIT_SYSCALL && type != AUDIT_EOE)
		return;
	/* Only events that carry a Landlock record are kept. */
	struct event *e = NULL;
	for (int i = 0; i < MAX_EVENTS && !e; i++)
		if (a->ev[i].used && a->ev[i].serial == serial)
			e = &a->ev[i];
	if (type == AUDIT_LANDLOCK_ACCESS) {
		if (!e)
			e = event_for(a, serial, fn, ctx);
		if (e->n_acc < MAX_ACC) {
			struct access *x = &e->acc[e->n_acc++];
			x->domain = field_u64(rec, "domain", 16);
			field(rec, "path", x->path, sizeof x->path, 1);
			field(rec, "blockers", x->blockers, sizeof x->blockers, 0);
		}
	} else if (type == AUDIT_SYSCALL && e) {
		e->has_sys = 1;
		e->pid = (int32_t)field_u64(rec, "pid", 10);
		e->uid = (uint32_t)field_u64(rec, "uid", 10);
		field(rec, "exe", e->exe, sizeof e->exe, 1);
		field(rec, "comm", e->comm, sizeof e->comm, 1);
		field(rec, "syscall", e->syscall, sizeof e->syscall, 0);
	} else if (type == AUDIT_EOE && e) {
		report(a, e, fn, ctx);
	}
}

void gb_ll_audit_read(struct gb_ll_audit *a, gb_ll_denial_fn fn, void *ctx)
{
	char buf[16384];
	for (;;) {
		ssize_t n = recv(a->fd, buf, sizeof buf - 1, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			/* the socket overflowed: records were dropped by the kernel;
			 * say so once, and go on reading what is queued */
			if (!a->overflowed++)
				gb_log_warn(NULL, "kernel audit records were lost (receive queue overflow); "
				            "some denials may be missing");
			continue;
		}
		if (n <= 0)
			break;
		/* One record per datagram; its text is not NUL-terminated. */
		struct nlmsghdr *h = (struct nlmsghdr *)buf;
		if ((size_t)n < NLMSG_HDRLEN || h->nlmsg_len > (size_t)n)
			continue;
		char *text = (char *)NLMSG_DATA(h);
		size_t tl = h->nlmsg_len - NLMSG_HDRLEN;
		text[tl] = 0;
		handle(a, h->nlmsg_type, text, fn, ctx);
	}
	/* Events that never got an end marker (no syscall context). */
	uint64_t now = gb_now_ns(CLOCK_MONOTONIC);
	for (int i = 0; i < MAX_EVENTS; i++)
		if (a->ev[i].used && now - a->ev[i].born_ns > EVENT_TIMEOUT_NS)
			report(a, &a->ev[i], fn, ctx);
}

int gb_ll_audit_mark(struct gb_ll_audit *a, const char *name)
{
	uint64_t nonce = gb_now_ns(CLOCK_MONOTONIC) ^ ((uint64_t)getpid() << 40);
	snprintf(a->mark, sizeof a->mark, "glassbox-end-%016llx", (unsigned long long)nonce);
	a->mark_seen = 0;
	struct {
		struct nlmsghdr h;
		char text[200];
	} req;
	memset(&req, 0, sizeof req);
	int n = snprintf(req.text, sizeof req.text, "op=sandbox-end sandbox=%.63s mark=%s", name, a->mark);
	req.h.nlmsg_len = (uint32_t)NLMSG_LENGTH((size_t)n + 1);
	req.h.nlmsg_type = AUDIT_USER;
	req.h.nlmsg_flags = NLM_F_REQUEST;
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
	if (sendto(a->fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&k, sizeof k) < 0) {
		int e = errno;
		a->mark[0] = 0;
		return -e;
	}
	return 0;
}

int gb_ll_audit_mark_seen(const struct gb_ll_audit *a)
{
	return a->mark_seen;
}

void gb_ll_audit_flush(struct gb_ll_audit *a, gb_ll_denial_fn fn, void *ctx)
{
	for (int i = 0; i < MAX_EVENTS; i++)
		if (a->ev[i].used)
			report(a, &a->ev[i], fn, ctx);
}

int gb_ll_audit_domain_state(const struct gb_ll_audit *a)
{
	if (!a->n_domains)
		return -1;
	return a->dealloc_seen ? 1 : 0;
}

uint64_t gb_ll_audit_denials(const struct gb_ll_audit *a)
{
	return a->denials;
}

void gb_ll_audit_close(struct gb_ll_audit *a)
{
	if (!a)
		return;
	close(a->fd);
	free(a);
}
