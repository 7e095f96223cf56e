/* tests/unit/test_proc_facts.c — enforcer/proxy/proc_facts.h against real
 * processes: a cached entry is that process's for exactly as long as it
 * lives.  Attacks: the pid reused by another process with the same exe
 * (clone3 set_tid puts it at the very number; only its uid differs), a
 * process that has exited but is not reaped (a zombie), and the same
 * process read again (the cache must hit, or it is not a cache). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "enforcer/proxy/proc_facts.h"
#include "paused_child.h"

static void test_cache_hits_same_process(void **state)
{
	(void)state;
	struct gb_proc_cache *pc;
	assert_int_equal(gb_proc_cache_new("/proc", 8, &pc), 0);
	int pid = gb_paused_child(0, -1, true);
	assert_true(pid > 0);
	struct gb_pstatus st;
	char exe[4096];
	uint64_t s1 = 0, s2 = 0;
	assert_int_equal(gb_proc_facts(pc, pid, &st, exe, sizeof exe, &s1), 0);
	assert_int_equal(gb_proc_facts(pc, pid, &st, exe, sizeof exe, &s2), 0);
	assert_true(s1 != 0);
	assert_true(s1 == s2); /* the same entry, not read afresh */
	assert_int_equal(st.ppid, getpid());
	assert_true(exe[0] == '/');
	gb_kill_reap(pid);
	gb_proc_cache_free(pc);
}

/* The attack on a cache keyed by pid: its number given to a new process
 * running the same binary.  The facts must be the new process's (uid
 * 65534), never the dead one's (uid 0) from the cache. */
static void test_reused_pid_is_another_process(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	struct gb_proc_cache *pc;
	assert_int_equal(gb_proc_cache_new("/proc", 8, &pc), 0);
	bool done = false;
	for (int attempt = 0; attempt < 20 && !done; attempt++) { /* bounded: the number may be taken */
		int pid = gb_paused_child(0, -1, true);
		assert_true(pid > 0);
		struct gb_pstatus st;
		char exe[4096], exe2[4096];
		uint64_t s1 = 0, s2 = 0;
		assert_int_equal(gb_proc_facts(pc, pid, &st, exe, sizeof exe, &s1), 0);
		assert_int_equal((int)st.uid, 0);
		gb_kill_reap(pid);
		int again = gb_paused_child(pid, 65534, true);
		if (again == -EEXIST)
			continue; /* another process got the number first: try another */
		if (again == -EPERM || again == -ENOSYS || again == -EINVAL) {
			gb_proc_cache_free(pc);
			skip(); /* no set_tid here */
			return;
		}
		assert_int_equal(again, pid);
		int rc = gb_proc_facts(pc, pid, &st, exe2, sizeof exe2, &s2);
		gb_kill_reap(again);
		assert_int_equal(rc, 0);
		assert_string_equal(exe, exe2); /* same binary: only the pin tells them apart */
		assert_int_equal((int)st.uid, 65534);
		assert_true(s2 != s1);
		done = true;
	}
	assert_true(done);
	gb_proc_cache_free(pc);
}

/* Exited, not reaped: gone for the identity (its exe link is gone, its
 * descriptors closed), whether its entry was cached before or not. */
static void test_zombie_is_gone(void **state)
{
	(void)state;
	struct gb_proc_cache *pc;
	assert_int_equal(gb_proc_cache_new("/proc", 8, &pc), 0);
	int cached = gb_paused_child(0, -1, true), fresh = gb_paused_child(0, -1, true);
	assert_true(cached > 0 && fresh > 0);
	struct gb_pstatus st;
	char exe[4096];
	assert_int_equal(gb_proc_facts(pc, cached, &st, exe, sizeof exe, NULL), 0);
	siginfo_t si;
	for (int i = 0; i < 2; i++) {
		int p = i ? fresh : cached;
		kill(p, SIGKILL);
		/* until it is a zombie, without reaping it */
		assert_int_equal(waitid(P_PID, (id_t)p, &si, WEXITED | WNOWAIT), 0);
	}
	assert_int_equal(gb_proc_facts(pc, cached, &st, exe, sizeof exe, NULL), -ESRCH);
	assert_int_equal(gb_proc_facts(pc, fresh, &st, exe, sizeof exe, NULL), -ESRCH);
	assert_int_equal(gb_proc_sockets_lacks(pc, cached, 0, 1, 1), 0); /* no live entry: unknown */
	waitpid(cached, NULL, 0);
	waitpid(fresh, NULL, 0);
	assert_int_equal(gb_proc_facts(pc, cached, &st, exe, sizeof exe, NULL), -ESRCH);
	gb_proc_cache_free(pc);
}

/* The attack on a cached PPid: the parent exits (the child is reparented
 * to us, a subreaper) and its number goes to another process of the same
 * binary.  The child's cached entry still names the old number; the link
 * must be found broken, and the child's parent now is us. */
static void test_reparented_child(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	struct gb_proc_cache *pc;
	assert_int_equal(gb_proc_cache_new("/proc", 8, &pc), 0);
	bool done = false;
	for (int attempt = 0; attempt < 20 && !done; attempt++) { /* bounded: the number may be taken */
		int p[2];
		assert_int_equal(pipe(p), 0);
		pid_t mid = fork();
		assert_true(mid >= 0);
		if (mid == 0) { /* the parent-to-be-killed: makes the child, tells its pid */
			int kid = gb_paused_child(0, -1, false); /* outlives mid */
			(void)!write(p[1], &kid, sizeof kid);
			for (;;)
				pause();
		}
		close(p[1]);
		int kid = -1;
		assert_int_equal(read(p[0], &kid, sizeof kid), (ssize_t)sizeof kid);
		close(p[0]);
		assert_true(kid > 0);
		struct gb_pstatus st;
		char exe[4096];
		uint64_t ks = 0, ms = 0, qs = 0;
		int now = 0;
		assert_int_equal(gb_proc_facts(pc, kid, &st, exe, sizeof exe, &ks), 0);
		assert_int_equal(st.ppid, mid);
		assert_int_equal(gb_proc_facts(pc, mid, &st, exe, sizeof exe, &ms), 0);
		assert_int_equal(gb_proc_parent_is(pc, kid, ks, mid, ms, &now), 1);
		assert_int_equal(gb_proc_parent_is(pc, kid, ks, mid, ms, &now), 1); /* confirmed, kept */
		gb_kill_reap(mid); /* kid is ours now */
		int q = gb_paused_child(mid, -1, true);
		if (q == -EEXIST) {
			gb_kill_reap(kid);
			continue;
		}
		if (q == -EPERM || q == -ENOSYS || q == -EINVAL) {
			gb_kill_reap(kid);
			gb_proc_cache_free(pc);
			skip();
			return;
		}
		assert_int_equal(q, mid);
		/* the walk as identity.c makes it: the child (cached), then the
		 * number its entry names, read afresh: the impostor */
		assert_int_equal(gb_proc_facts(pc, kid, &st, exe, sizeof exe, &ks), 0);
		int named = st.ppid;
		assert_int_equal(gb_proc_facts(pc, named, &st, exe, sizeof exe, &qs), 0);
		assert_true(qs != ms);
		assert_int_equal(gb_proc_parent_is(pc, kid, ks, named, qs, &now), 0);
		assert_int_equal(now, getpid());
		assert_int_equal(gb_proc_facts(pc, kid, &st, exe, sizeof exe, &ks), 0);
		assert_int_equal(st.ppid, getpid()); /* the entry learnt it */
		/* a child that has exited cannot vouch for any parent */
		kill(kid, SIGKILL);
		siginfo_t si;
		assert_int_equal(waitid(P_PID, (id_t)kid, &si, WEXITED | WNOWAIT), 0);
		assert_true(gb_proc_parent_is(pc, kid, ks, getpid(), 1, &now) < 0);
		waitpid(kid, NULL, 0);
		gb_kill_reap(q);
		done = true;
	}
	assert_true(done);
	gb_proc_cache_free(pc);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_hits_same_process),
		cmocka_unit_test(test_reused_pid_is_another_process),
		cmocka_unit_test(test_zombie_is_gone),
		cmocka_unit_test(test_reparented_child),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
