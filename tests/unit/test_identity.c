/* tests/unit/test_identity.c — enforcer/identity.h on real loopback
 * connections and real processes: the holder of the client socket, its
 * exe and ancestors, a socket shared through fork (topmost holder,
 * several-owners flag), the sandbox scope, a tuple nobody holds, an
 * identity too long for its buffer, and an exec after connect. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "enforcer/proxy/identity.h"
#include "paused_child.h"

static int listener(struct sockaddr_in *sa)
{
	*sa = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof *sa;
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(ls >= 0);
	assert_int_equal(bind(ls, (struct sockaddr *)sa, sizeof *sa), 0);
	assert_int_equal(listen(ls, 16), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)sa, &sl), 0);
	return ls;
}

static int dial(const struct sockaddr_in *sa)
{
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c >= 0);
	assert_int_equal(connect(c, (const struct sockaddr *)sa, sizeof *sa), 0);
	return c;
}

/* Accept one connection and look its client up with a fresh context. */
static int accept_lookup(int ls, int root_pid, struct gb_ident_buf *ib)
{
	struct sockaddr_in peer, local;
	socklen_t pl = sizeof peer, ll = sizeof local;
	int s = accept4(ls, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
	assert_true(s >= 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&local, &ll), 0);
	struct gb_identity_ctx *ctx;
	struct gb_identity_opts o = { .proc_root = "/proc", .netns_fd = -1, .root_pid = root_pid };
	assert_int_equal(gb_identity_ctx_new(&o, &ctx), 0);
	int rc = gb_identity_lookup(ctx, (struct sockaddr *)&peer, (struct sockaddr *)&local, ib);
	gb_identity_ctx_free(ctx);
	close(s);
	return rc;
}

static bool inherited_socket(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* A child that (after dialing dial_to, when given, keeping the socket)
 * waits until the parent closes *release.  Returns its pid. */
static pid_t waiter(const struct sockaddr_in *dial_to, int *release)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t kid = fork();
	assert_true(kid >= 0);
	if (kid == 0) {
		int keep = dial_to ? dial(dial_to) : -1;
		/* Drop every other inherited descriptor — other waiters' release
		 * ends above all, or closing one would not end its waiter.  The
		 * sockets the parent holds stay shared: that is what the tests
		 * look at, through the parent's own copies. */
		for (int fd = 3; fd < 256; fd++)
			if (fd != p[0] && fd != keep && !inherited_socket(fd))
				close(fd);
		char b;
		(void)!read(p[0], &b, 1);
		_exit(0);
	}
	close(p[0]);
	*release = p[1];
	return kid;
}

static void release(pid_t kid, int fd)
{
	close(fd);
	waitpid(kid, NULL, 0);
}

static void self_exe(char *out, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", out, len - 1);
	assert_true(n > 0);
	out[n] = '\0';
}

static void test_own_connection(void **state)
{
	(void)state;
	struct sockaddr_in sa;
	int ls = listener(&sa), c = dial(&sa);
	static struct gb_ident_buf ib;
	assert_int_equal(accept_lookup(ls, 0, &ib), 0);
	char exe[4096];
	self_exe(exe, sizeof exe);
	assert_int_equal(ib.id.pid, getpid());
	assert_string_equal(ib.id.exe, exe);
	assert_int_equal(strlen(ib.id.sha256), 64);
	assert_int_equal(ib.id.flags & (GB_ID_MULTI_OWNER | GB_ID_LOOKUP_FAILED), 0);
	assert_int_equal(ib.id.uid, getuid());
	assert_false(ib.truncated);
	if (getppid() > 1) { /* the parent is the first ancestor (unless init) */
		assert_true(ib.id.n_ancestors >= 1);
		assert_int_equal(ib.id.ancestor_pids[0], getppid());
	}
	close(c);
	close(ls);
}

/* A child connects; we (its parent) never held the socket. */
static void test_child_connection(void **state)
{
	(void)state;
	struct sockaddr_in sa;
	int ls = listener(&sa), rel;
	pid_t kid = waiter(&sa, &rel);
	static struct gb_ident_buf ib;
	assert_int_equal(accept_lookup(ls, 0, &ib), 0);
	char exe[4096];
	self_exe(exe, sizeof exe);
	assert_int_equal(ib.id.pid, kid);
	assert_int_equal(ib.id.flags & GB_ID_MULTI_OWNER, 0);
	assert_true(ib.id.n_ancestors >= 1);
	assert_int_equal(ib.id.ancestor_pids[0], getpid());
	assert_string_equal(ib.id.ancestors[0], exe);
	release(kid, rel);
	close(ls);
}

/* We connect, then fork a child that keeps the descriptor: the child is
 * the newest process (found first), but the identity is the topmost
 * holder — us — and the record says several processes hold it. */
static void test_inherited_socket(void **state)
{
	(void)state;
	struct sockaddr_in sa;
	int ls = listener(&sa), c = dial(&sa), rel;
	pid_t kid = waiter(NULL, &rel);
	static struct gb_ident_buf ib;
	assert_int_equal(accept_lookup(ls, 0, &ib), 0);
	assert_int_equal(ib.id.pid, getpid());
	assert_true(ib.id.flags & GB_ID_MULTI_OWNER);
	/* and the same when we are the one found first (scan order aside):
	 * the child is a co-holder below us */
	close(c);
	release(kid, rel);
	close(ls);
}

/* Sandbox scope: only root_pid and its descendants are clients.  Our own
 * connection is outside a child's tree: the lookup fails (→ deny). */
static void test_scope(void **state)
{
	(void)state;
	struct sockaddr_in sa;
	int ls = listener(&sa), rel;
	pid_t kid = waiter(NULL, &rel);
	int c = dial(&sa);
	static struct gb_ident_buf ib;
	assert_true(accept_lookup(ls, kid, &ib) < 0);
	assert_true(ib.id.flags & GB_ID_LOOKUP_FAILED);
	/* with ourselves as the root, the same kind of connection is found */
	int c2 = dial(&sa);
	assert_int_equal(accept_lookup(ls, getpid(), &ib), 0);
	assert_int_equal(ib.id.pid, getpid());
	assert_int_equal(ib.id.n_ancestors, 0); /* nothing above a sandbox's root */
	close(c);
	close(c2);
	release(kid, rel);
	close(ls);
}

/* A child that connects on command: 'c' over cmd → one new connection,
 * acknowledged with a byte on ack; EOF → exit. */
static pid_t dialer(const struct sockaddr_in *sa, int *cmd, int *ack)
{
	int a[2], b[2];
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	pid_t kid = fork();
	assert_true(kid >= 0);
	if (kid == 0) {
		close(a[1]);
		close(b[0]);
		char ch;
		while (read(a[0], &ch, 1) == 1) {
			(void)dial(sa); /* kept open until exit */
			(void)!write(b[1], "k", 1);
		}
		_exit(0);
	}
	close(a[0]);
	close(b[1]);
	*cmd = a[1];
	*ack = b[0];
	return kid;
}

static int lookup_next(struct gb_identity_ctx *ctx, int ls, struct gb_ident_buf *ib)
{
	struct sockaddr_in peer, local;
	socklen_t pl = sizeof peer, ll = sizeof local;
	int s = accept4(ls, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
	assert_true(s >= 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&local, &ll), 0);
	int rc = gb_identity_lookup(ctx, (struct sockaddr *)&peer, (struct sockaddr *)&local, ib);
	close(s);
	return rc;
}

/* One context across lookups, as in the proxy: what it remembers about
 * ancestors (their socket lists) must never hide a socket they share by
 * fork with a process started after they were listed. */
static void test_memo_and_inheritance(void **state)
{
	(void)state;
	struct sockaddr_in sa;
	int ls = listener(&sa), cmd, ack;
	struct gb_identity_ctx *ctx;
	struct gb_identity_opts o = { .proc_root = "/proc", .netns_fd = -1 };
	assert_int_equal(gb_identity_ctx_new(&o, &ctx), 0);
	static struct gb_ident_buf ib;
	pid_t d = dialer(&sa, &cmd, &ack);
	char ch;
	for (int i = 0; i < 3; i++) { /* the same child again and again: us listed, then remembered */
		assert_int_equal(write(cmd, "c", 1), 1);
		assert_int_equal(read(ack, &ch, 1), 1);
		assert_int_equal(lookup_next(ctx, ls, &ib), 0);
		assert_int_equal(ib.id.pid, d);
		assert_int_equal(ib.id.flags & GB_ID_MULTI_OWNER, 0);
		assert_int_equal(ib.id.ancestor_pids[0], getpid());
	}
	/* now we connect and fork a child that inherits it: we are listed in
	 * the memo without this socket, but the child is newer than that
	 * listing, so we are searched again and found */
	int c = dial(&sa), rel;
	pid_t kid = waiter(NULL, &rel);
	close(c); /* only the child holds it now */
	assert_int_equal(lookup_next(ctx, ls, &ib), 0);
	assert_int_equal(ib.id.pid, kid);
	assert_int_equal(ib.id.flags & GB_ID_MULTI_OWNER, 0);
	c = dial(&sa); /* and once more, this time keeping our copy */
	int rel2;
	pid_t kid2 = waiter(NULL, &rel2);
	assert_int_equal(lookup_next(ctx, ls, &ib), 0);
	assert_int_equal(ib.id.pid, getpid());
	assert_true(ib.id.flags & GB_ID_MULTI_OWNER);
	close(c);

	close(cmd);
	close(ack);
	release(kid, rel);
	release(kid2, rel2);
	waitpid(d, NULL, 0);
	gb_identity_ctx_free(ctx);
	close(ls);
}

/* The proxy's workers share one context: lookups from several threads at
 * once (each on its own connections) must all be right — and, under the
 * TSan build, free of races on the holder list, the process cache and the
 * ancestor memo. */
struct par {
	struct gb_identity_ctx *ctx;
	int ok;
};

/* No cmocka asserts in here: they may only fail on the main thread. */
static void *par_thread(void *arg)
{
	struct par *pa = arg;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sa;
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 16) < 0 ||
	    getsockname(ls, (struct sockaddr *)&sa, &sl) < 0)
		return NULL;
	static _Thread_local struct gb_ident_buf ib;
	for (int i = 0; i < 100; i++) {
		int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof sa) < 0)
			break;
		struct sockaddr_in peer, local;
		socklen_t pl = sizeof peer, ll = sizeof local;
		int s = accept4(ls, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
		if (s >= 0 && getsockname(s, (struct sockaddr *)&local, &ll) == 0 &&
		    gb_identity_lookup(pa->ctx, (struct sockaddr *)&peer, (struct sockaddr *)&local, &ib) == 0 &&
		    ib.id.pid == getpid() && !(ib.id.flags & GB_ID_MULTI_OWNER))
			pa->ok++;
		if (s >= 0)
			close(s);
		close(c);
	}
	close(ls);
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	struct gb_identity_ctx *ctx;
	struct gb_identity_opts o = { .proc_root = "/proc", .netns_fd = -1 };
	assert_int_equal(gb_identity_ctx_new(&o, &ctx), 0);
	struct par pa[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		pa[i] = (struct par){ ctx, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, par_thread, &pa[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(pa[i].ok, 100);
	}
	gb_identity_ctx_free(ctx);
}

/* Sandbox scope with a wide tree: 1 000 children make the root's
 * children file longer than one read; the client is the last of them. */
static void test_many_children(void **state)
{
	(void)state;
	enum { KIDS = 1000 };
	static pid_t kids[KIDS];
	for (int i = 0; i < KIDS; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (kids[i] == 0) {
			pause();
			_exit(0);
		}
	}
	struct sockaddr_in sa;
	int ls = listener(&sa), rel;
	pid_t d = waiter(&sa, &rel);
	static struct gb_ident_buf ib;
	assert_int_equal(accept_lookup(ls, getpid(), &ib), 0);
	assert_int_equal(ib.id.pid, d);
	release(d, rel);
	for (int i = 0; i < KIDS; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	close(ls);
}

/* A 4-tuple that no socket has. */
/* Exec after connect, with one context across the accept-time and the
 * head-time lookups (so every cache and memo of the first is there for the
 * second): a child connects (the socket O_CLOEXEC at a high fd), is looked
 * up, then dup2()s the socket to fd 1 and execs /usr/bin/sleep.  The
 * recheck must see the change and the fresh lookup must name the new
 * binary under the same pid; once the child is gone, nobody holds the
 * socket and the lookup fails (the proxy then decides on the accept view). */
static void test_exec_after_connect(void **state)
{
	(void)state;
	struct sockaddr_in sa;
	int ls = listener(&sa);
	int go[2], ready[2];
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(ready), 0);
	pid_t kid = fork();
	assert_true(kid >= 0);
	if (kid == 0) {
		close(go[1]);
		close(ready[0]);
		int s = dial(&sa);
		char b = 0;
		if (write(ready[1], &b, 1) != 1 || read(go[0], &b, 1) != 1 || dup2(s, 1) < 0)
			_exit(1);
		execl("/usr/bin/sleep", "sleep", "20", (char *)NULL);
		_exit(1);
	}
	close(go[0]);
	close(ready[1]);
	char b;
	assert_int_equal(read(ready[0], &b, 1), 1);
	struct sockaddr_in peer, local;
	socklen_t pl = sizeof peer, ll = sizeof local;
	int s = accept4(ls, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
	assert_true(s >= 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&local, &ll), 0);
	struct gb_identity_ctx *ctx;
	struct gb_identity_opts o = { .proc_root = "/proc", .netns_fd = -1 };
	assert_int_equal(gb_identity_ctx_new(&o, &ctx), 0);
	static struct gb_ident_buf at_accept, at_head;
	char me[4096];
	self_exe(me, sizeof me);
	/* the first, full lookup fills the MRU list, the process cache and
	 * the memo; the quick one is what the proxy does at accept */
	assert_int_equal(gb_identity_lookup(ctx, (struct sockaddr *)&peer, (struct sockaddr *)&local, &at_head), 0);
	assert_int_equal(gb_identity_lookup_quick(ctx, (struct sockaddr *)&peer, (struct sockaddr *)&local,
	                                          &at_accept), 0);
	assert_int_equal(at_accept.id.pid, kid);
	assert_string_equal(at_accept.id.exe, me);
	assert_int_equal(write(go[1], "g", 1), 1);
	/* wait (bounded: 10 s) until the exec is done: the exe link names sleep */
	char lp[64], tgt[4096] = "";
	snprintf(lp, sizeof lp, "/proc/%d/exe", (int)kid);
	for (int i = 0; i < 1000; i++) {
		ssize_t n = readlink(lp, tgt, sizeof tgt - 1);
		tgt[n > 0 ? n : 0] = '\0';
		if (strstr(tgt, "sleep"))
			break;
		usleep(10000);
	}
	assert_non_null(strstr(tgt, "sleep"));
	assert_int_equal(gb_identity_recheck(ctx, &at_accept), 0);
	assert_int_equal(gb_identity_lookup(ctx, (struct sockaddr *)&peer, (struct sockaddr *)&local, &at_head), 0);
	assert_int_equal(at_head.id.pid, kid);
	assert_string_equal(at_head.id.exe, tgt);
	kill(kid, SIGKILL);
	assert_int_equal(waitpid(kid, NULL, 0), kid);
	assert_true(gb_identity_lookup(ctx, (struct sockaddr *)&peer, (struct sockaddr *)&local, &at_head) < 0);
	assert_true(at_head.id.flags & GB_ID_LOOKUP_FAILED);
	gb_identity_ctx_free(ctx);
	close(go[1]);
	close(ready[0]);
	close(s);
	close(ls);
}

/* The descriptor number is only a hint: the re-check reads the descriptor
 * the holder was found at first, and must neither be fooled by another
 * socket put at that number (the client closed ours and opened a new one:
 * it no longer holds the connection) nor lose a holder that moved the
 * socket to another number (dup2, then close of the original).  A lookup
 * whose MRU hint names a descriptor that now holds another socket must
 * still find the right holder. */
static void test_fd_hint_is_only_a_hint(void **state)
{
	(void)state;
	struct sockaddr_in sa, peer, local;
	int ls = listener(&sa), c = dial(&sa);
	socklen_t pl = sizeof peer, ll = sizeof local;
	int s = accept4(ls, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
	assert_true(s >= 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&local, &ll), 0);
	struct gb_identity_ctx *ctx;
	struct gb_identity_opts o = { .proc_root = "/proc", .netns_fd = -1 };
	assert_int_equal(gb_identity_ctx_new(&o, &ctx), 0);
	static struct gb_ident_buf ib;
	assert_int_equal(gb_identity_lookup(ctx, (struct sockaddr *)&peer, (struct sockaddr *)&local, &ib), 0);
	assert_int_equal(ib.id.pid, getpid());
	assert_int_equal(ib.fdno, c);
	assert_int_equal(gb_identity_recheck(ctx, &ib), 1);
	/* moved: still held, at another number */
	int moved = fcntl(c, F_DUPFD_CLOEXEC, 200);
	assert_true(moved >= 200);
	close(c);
	assert_int_equal(gb_identity_recheck(ctx, &ib), 1);
	/* replaced: a fresh socket at the old number, ours closed */
	int other = dial(&sa);
	if (other != c) {
		assert_true(dup2(other, c) == c);
		close(other);
	}
	close(moved);
	assert_int_equal(gb_identity_recheck(ctx, &ib), 0);
	/* the MRU hint (this pid, descriptor c) now names the new socket;
	 * a connection of ours at another number is still found */
	int s2 = accept4(ls, NULL, NULL, SOCK_CLOEXEC); /* the fresh socket's server side */
	assert_true(s2 >= 0);
	int c3 = dial(&sa);
	pl = sizeof peer;
	int s3 = accept4(ls, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
	assert_true(s3 >= 0);
	ll = sizeof local;
	assert_int_equal(getsockname(s3, (struct sockaddr *)&local, &ll), 0);
	assert_int_equal(gb_identity_lookup(ctx, (struct sockaddr *)&peer, (struct sockaddr *)&local, &ib), 0);
	assert_int_equal(ib.id.pid, getpid());
	assert_int_equal(ib.fdno, c3);
	gb_identity_ctx_free(ctx);
	close(c3);
	close(s3);
	close(s2);
	close(c);
	close(s);
	close(ls);
}

/* The children of a holder are read from files kept open between lookups
 * (one per thread).  Attack that cache: after a lookup has opened them, a
 * thread that already existed forks a child that inherits the next
 * connection's socket — the next lookup on the same context must find that
 * child as a co-holder (the kept descriptor is read afresh, not
 * remembered), and so must a lookup after a thread that did not exist at
 * the first lookup forks one. */
struct forker {
	int go[2], done[2], end[2];
	pid_t kid;
	int release;
};

static void *fork_when_told(void *arg)
{
	struct forker *f = arg;
	char b;
	if (read(f->go[0], &b, 1) != 1)
		return NULL;
	f->kid = waiter(NULL, &f->release);
	(void)!write(f->done[1], "x", 1);
	(void)!read(f->end[0], &b, 1); /* alive until the lookup is done */
	return NULL;
}

static int lookup_on(struct gb_identity_ctx *ctx, int ls, struct gb_ident_buf *ib)
{
	struct sockaddr_in peer, local;
	socklen_t pl = sizeof peer, ll = sizeof local;
	int s = accept4(ls, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
	assert_true(s >= 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&local, &ll), 0);
	int rc = gb_identity_lookup(ctx, (struct sockaddr *)&peer, (struct sockaddr *)&local, ib);
	close(s);
	return rc;
}

static bool other_is(const struct gb_ident_buf *ib, pid_t pid)
{
	for (unsigned i = 0; i < ib->n_others; i++)
		if (ib->others[i].pid == pid)
			return true;
	return false;
}

/* Several connections open at once (a client with eight threads): the
 * numbers its sockets were found at are remembered and read first, one
 * readlink each.  Attack the hints: a new socket at a number a closed one
 * had (found there), a hinted number now holding a socket nobody looks up
 * (not taken for the one looked up: found where it really is), and the
 * next connection made by another process while every hint names a live
 * socket of ours (the other process is the holder, alone). */
static void test_several_hints_are_only_hints(void **state)
{
	(void)state;
	struct sockaddr_in sa, sb;
	int ls = listener(&sa), other_ls = listener(&sb);
	struct gb_identity_ctx *ctx;
	struct gb_identity_opts o = { .proc_root = "/proc", .netns_fd = -1 };
	assert_int_equal(gb_identity_ctx_new(&o, &ctx), 0);
	static struct gb_ident_buf ib;
	int c[4];
	for (int i = 0; i < 4; i++) {
		c[i] = dial(&sa);
		assert_int_equal(lookup_on(ctx, ls, &ib), 0);
		assert_int_equal(ib.id.pid, getpid());
		assert_int_equal(ib.fdno, c[i]);
	}
	/* reused number: the lowest free one, a closed connection's */
	close(c[1]);
	c[1] = dial(&sa);
	assert_int_equal(lookup_on(ctx, ls, &ib), 0);
	assert_int_equal(ib.id.pid, getpid());
	assert_int_equal(ib.fdno, c[1]);
	/* planted: a hinted number now links to a socket not looked up */
	int planted = dial(&sb);
	assert_true(dup2(planted, c[2]) == c[2]);
	close(planted);
	int t = dial(&sa);
	int n = fcntl(t, F_DUPFD_CLOEXEC, 300); /* far from every hint */
	assert_true(n >= 300);
	close(t);
	assert_int_equal(lookup_on(ctx, ls, &ib), 0);
	assert_int_equal(ib.id.pid, getpid());
	assert_int_equal(ib.fdno, n);
	/* another process's connection: every hint of ours misses */
	int rel;
	pid_t q = waiter(&sa, &rel);
	assert_int_equal(lookup_on(ctx, ls, &ib), 0);
	assert_int_equal(ib.id.pid, q);
	assert_int_equal(ib.n_holders, 1);
	assert_false(ib.id.flags & GB_ID_MULTI_OWNER);
	release(q, rel);
	gb_identity_ctx_free(ctx);
	for (int i = 0; i < 4; i++)
		close(c[i]);
	for (int fd = 300; fd < 310; fd++)
		close(fd);
	close(other_ls);
	close(ls);
}

static void test_kept_children_files(void **state)
{
	(void)state;
	struct sockaddr_in sa;
	int ls = listener(&sa);
	struct gb_identity_ctx *ctx;
	struct gb_identity_opts o = { .proc_root = "/proc", .netns_fd = -1 };
	assert_int_equal(gb_identity_ctx_new(&o, &ctx), 0);
	static struct gb_ident_buf ib;
	for (int round = 0; round < 2; round++) {
		struct forker f = { .kid = -1 };
		assert_int_equal(pipe(f.go), 0);
		assert_int_equal(pipe(f.done), 0);
		assert_int_equal(pipe(f.end), 0);
		pthread_t t;
		/* round 0: the thread exists before the first lookup (its
		 * children file is kept by it); round 1: it is new */
		if (round == 0)
			assert_int_equal(pthread_create(&t, NULL, fork_when_told, &f), 0);
		int c1 = dial(&sa);
		assert_int_equal(lookup_on(ctx, ls, &ib), 0);
		assert_int_equal(ib.id.pid, getpid());
		assert_int_equal(ib.n_holders, 1);
		if (round == 1)
			assert_int_equal(pthread_create(&t, NULL, fork_when_told, &f), 0);
		int c2 = dial(&sa); /* inherited by the thread's child */
		char b;
		assert_int_equal(write(f.go[1], "x", 1), 1);
		assert_int_equal(read(f.done[0], &b, 1), 1);
		assert_true(f.kid > 0);
		assert_int_equal(lookup_on(ctx, ls, &ib), 0);
		assert_int_equal(ib.id.pid, getpid()); /* the topmost holder */
		assert_int_equal(ib.n_holders, 2);
		assert_true(ib.id.flags & GB_ID_MULTI_OWNER);
		assert_true(other_is(&ib, f.kid));
		assert_int_equal(write(f.end[1], "x", 1), 1);
		pthread_join(t, NULL);
		release(f.kid, f.release);
		close(c1);
		close(c2);
		for (int i = 0; i < 2; i++) {
			close(f.go[i]);
			close(f.done[i]);
			close(f.end[i]);
		}
	}
	gb_identity_ctx_free(ctx);
	close(ls);
}

static void test_nobody(void **state)
{
	(void)state;
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(1),
		                    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in local = peer;
	local.sin_port = htons(2);
	struct gb_identity_ctx *ctx;
	struct gb_identity_opts o = { .proc_root = "/proc", .netns_fd = -1 };
	assert_int_equal(gb_identity_ctx_new(&o, &ctx), 0);
	static struct gb_ident_buf ib;
	assert_true(gb_identity_lookup(ctx, (struct sockaddr *)&peer, (struct sockaddr *)&local, &ib) < 0);
	assert_true(ib.id.flags & GB_ID_LOOKUP_FAILED);
	gb_identity_ctx_free(ctx);
}

/* The identity's strings share one 8 KiB store.  Three bash processes
 * started from a ~3 KiB path (the holder and two ancestors) do not fit:
 * the one that is cut reads "", and the buffer says so, so records made
 * from it carry GB_RECF_TRUNCATED instead of passing an empty path off as
 * a real one. */
#define DEEP 15
static void test_store_full_is_marked(void **state)
{
	(void)state;
	static char dir[4096], bash[4200], script[16384];
	snprintf(dir, sizeof dir, "/tmp/gb-id-XXXXXX");
	assert_non_null(mkdtemp(dir));
	char seg[202];
	memset(seg, 'd', 200);
	seg[0] = '/';
	seg[200] = '\0';
	for (int i = 0; i < DEEP; i++) {
		strcat(dir, seg);
		assert_int_equal(mkdir(dir, 0700), 0);
	}
	snprintf(bash, sizeof bash, "%s/bash", dir);
	FILE *in = fopen("/bin/bash", "rb"), *out = fopen(bash, "wb");
	assert_non_null(in);
	assert_non_null(out);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(chmod(bash, 0700), 0);

	struct sockaddr_in sa;
	int ls = listener(&sa);
	/* "; true" after each command keeps bash from exec'ing it in place */
	snprintf(script, sizeof script,
	         "%s -c '%s -c \"exec 3<>/dev/tcp/127.0.0.1/%d; sleep 5; true\"; true'; true", bash, bash,
	         ntohs(sa.sin_port));
	pid_t kid = fork();
	assert_true(kid >= 0);
	if (kid == 0) {
		setpgid(0, 0);
		execl(bash, bash, "-c", script, (char *)NULL);
		_exit(127);
	}
	static struct gb_ident_buf ib;
	assert_int_equal(accept_lookup(ls, 0, &ib), 0);
	kill(-kid, SIGKILL);
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	close(ls);
	assert_true(ib.truncated);
	bool empty = !ib.id.exe[0];
	for (uint32_t i = 0; i < ib.id.n_ancestors; i++)
		empty |= !ib.id.ancestors[i][0];
	assert_true(empty);

	unlink(bash);
	for (int i = 0; i < DEEP; i++) {
		rmdir(dir);
		*strrchr(dir, '/') = '\0';
	}
	rmdir(dir);
}

/* A large descriptor table is searched in an order remembered between
 * lookups (recent hits, numbers new since the last listing, probes without
 * a listing).  Attack that memory: after lookups have taught it where our
 * sockets are, the next socket is moved to an old number the cache lists as
 * something else, and a child inherits it — both holders must still be
 * found, in the sandbox scope (every process searched) and on the host. */
static void test_large_table_order_hides_no_holder(void **state)
{
	(void)state;
	struct sockaddr_in sa;
	int ls = listener(&sa);
	int filler[180]; /* all below 256: waiter() closes only those */
	for (int i = 0; i < 180; i++) {
		filler[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		assert_true(filler[i] >= 0);
	}
	for (int scope = 0; scope < 2; scope++) {
		struct gb_identity_ctx *ctx;
		struct gb_identity_opts o = { .proc_root = "/proc", .netns_fd = -1,
			                      .root_pid = scope ? getpid() : 0 };
		assert_int_equal(gb_identity_ctx_new(&o, &ctx), 0);
		static struct gb_ident_buf ib;
		int warm[4];
		for (int i = 0; i < 4; i++) { /* teach it: hits at new numbers */
			warm[i] = dial(&sa);
			assert_int_equal(lookup_next(ctx, ls, &ib), 0);
			assert_int_equal(ib.id.pid, getpid());
			assert_int_equal(ib.fdno, warm[i]);
		}
		/* the next socket, at an old number listed as /dev/null */
		int c = dial(&sa), old = filler[60 + scope];
		assert_int_equal(dup2(c, old), old);
		close(c);
		assert_int_equal(lookup_next(ctx, ls, &ib), 0);
		assert_int_equal(ib.id.pid, getpid());
		assert_int_equal(ib.fdno, old);
		assert_int_equal(ib.n_holders, 1);
		/* and again, shared with a child made after the listing */
		c = dial(&sa);
		int rel;
		pid_t kid = waiter(NULL, &rel);
		old = filler[120 + scope];
		assert_int_equal(dup2(c, old), old);
		close(c);
		assert_int_equal(lookup_next(ctx, ls, &ib), 0);
		assert_int_equal(ib.n_holders, 2);
		assert_true(ib.id.flags & GB_ID_MULTI_OWNER);
		bool us = ib.id.pid == getpid() || other_is(&ib, getpid());
		bool child = ib.id.pid == kid || other_is(&ib, kid);
		assert_true(us);
		assert_true(child);
		release(kid, rel);
		for (int i = 0; i < 4; i++)
			close(warm[i]);
		gb_identity_ctx_free(ctx);
	}
	for (int i = 0; i < 180; i++)
		close(filler[i]);
	close(ls);
}

/* The attack on a remembered parent: a dialer's parent exits (the dialer
 * is reparented to us, a subreaper) and the parent's number is given to
 * another process — here one of the same binary; in a sandbox, one running
 * a binary the policy grants to its descendants.  The next connection's
 * chain must go through the dialer's parent now (us), never through the
 * number its remembered parent had. */
static void test_reparented_dialer(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	struct sockaddr_in sa;
	int ls = listener(&sa);
	struct gb_identity_ctx *ctx;
	struct gb_identity_opts o = { .proc_root = "/proc", .netns_fd = -1 };
	assert_int_equal(gb_identity_ctx_new(&o, &ctx), 0);
	static struct gb_ident_buf ib;
	bool done = false;
	for (int attempt = 0; attempt < 20 && !done; attempt++) { /* bounded: the number may be taken */
		int cmd[2], ack[2], tell[2];
		assert_int_equal(pipe(cmd), 0);
		assert_int_equal(pipe(ack), 0);
		assert_int_equal(pipe(tell), 0);
		pid_t mid = fork();
		assert_true(mid >= 0);
		if (mid == 0) {
			(void)prctl(PR_SET_PDEATHSIG, SIGKILL); /* killed with a failed test */
			pid_t d = fork();
			if (d == 0) { /* the dialer: one connection per byte, kept */
				close(cmd[1]); /* or its own copy would hold off the EOF that ends it */
				char ch;
				while (read(cmd[0], &ch, 1) == 1) {
					(void)dial(&sa);
					(void)!write(ack[1], "k", 1);
				}
				_exit(0);
			}
			(void)!write(tell[1], &d, sizeof d);
			for (;;)
				pause();
		}
		close(cmd[0]);
		close(ack[1]);
		close(tell[1]);
		pid_t d = -1;
		char ch;
		assert_int_equal(read(tell[0], &d, sizeof d), (ssize_t)sizeof d);
		close(tell[0]);
		assert_int_equal(write(cmd[1], "c", 1), 1);
		assert_int_equal(read(ack[0], &ch, 1), 1);
		assert_int_equal(lookup_next(ctx, ls, &ib), 0);
		assert_int_equal(ib.id.pid, d);
		assert_int_equal(ib.id.ancestor_pids[0], mid);
		gb_kill_reap(mid);
		int q = gb_paused_child(mid, -1, true);
		bool unusable = q == -EPERM || q == -ENOSYS || q == -EINVAL;
		if (q == mid) {
			assert_int_equal(write(cmd[1], "c", 1), 1);
			assert_int_equal(read(ack[0], &ch, 1), 1);
			assert_int_equal(lookup_next(ctx, ls, &ib), 0);
			assert_int_equal(ib.id.pid, d);
			assert_true(ib.id.n_ancestors >= 1);
			assert_int_equal(ib.id.ancestor_pids[0], getpid());
			for (uint32_t i = 0; i < ib.id.n_ancestors; i++)
				assert_int_not_equal(ib.id.ancestor_pids[i], q);
			gb_kill_reap(q);
			done = true;
		} else {
			assert_true(q == -EEXIST || unusable);
		}
		close(cmd[1]); /* the dialer ends */
		close(ack[0]);
		waitpid(d, NULL, 0);
		if (unusable) {
			gb_identity_ctx_free(ctx);
			close(ls);
			skip();
			return;
		}
	}
	assert_true(done);
	gb_identity_ctx_free(ctx);
	close(ls);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_connection),   cmocka_unit_test(test_child_connection),
		cmocka_unit_test(test_inherited_socket), cmocka_unit_test(test_scope),
		cmocka_unit_test(test_memo_and_inheritance), cmocka_unit_test(test_threads),
		cmocka_unit_test(test_many_children), cmocka_unit_test(test_nobody),
		cmocka_unit_test(test_store_full_is_marked), cmocka_unit_test(test_exec_after_connect),
		cmocka_unit_test(test_fd_hint_is_only_a_hint), cmocka_unit_test(test_kept_children_files),
		cmocka_unit_test(test_large_table_order_hides_no_holder),
		cmocka_unit_test(test_several_hints_are_only_hints),
		cmocka_unit_test(test_reparented_dialer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
