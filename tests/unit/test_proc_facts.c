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
#include <linux/sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "enforcer/proxy/proc_facts.h"

static void kill_reap(int pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* A child that waits to be killed, optionally as uid 65534; at pid `at`
 * when at > 0 (clone3 set_tid: needs root).  Returns its pid or -errno. */
static int child(pid_t at, int uid)
{
	pid_t tid[1] = { at };
	struct clone_args a = { .exit_signal = SIGCHLD };
	if (at > 0) {
		a.set_tid = (uint64_t)(uintptr_t)tid;
		a.set_tid_size = 1;
	}
	int ready[2];
	if (pipe(ready) < 0)
		return -errno;
	long r = syscall(SYS_clone3, &a, CLONE_ARGS_SIZE_VER1);
	int err = errno;
	if (r == 0) {
		if (uid >= 0 && setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0)
			_exit(1);
		(void)!write(ready[1], "r", 1); /* facts read after this are final */
		for (;;)
			pause();
	}
	close(ready[1]);
	char b;
	ssize_t got = r > 0 ? read(ready[0], &b, 1) : 0;
	close(ready[0]);
	if (r < 0)
		return -err;
	if (got != 1) {
		kill_reap((int)r);
		return -ECHILD;
	}
	return (int)r;
}

static void test_cache_hits_same_process(void **state)
{
	(void)state;
	struct gb_proc_cache *pc;
	assert_int_equal(gb_proc_cache_new("/proc", 8, &pc), 0);
	int pid = child(0, -1);
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
	kill_reap(pid);
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
		int pid = child(0, -1);
		assert_true(pid > 0);
		struct gb_pstatus st;
		char exe[4096], exe2[4096];
		uint64_t s1 = 0, s2 = 0;
		assert_int_equal(gb_proc_facts(pc, pid, &st, exe, sizeof exe, &s1), 0);
		assert_int_equal((int)st.uid, 0);
		kill_reap(pid);
		int again = child(pid, 65534);
		if (again == -EEXIST)
			continue; /* another process got the number first: try another */
		if (again == -EPERM || again == -ENOSYS || again == -EINVAL) {
			gb_proc_cache_free(pc);
			skip(); /* no set_tid here */
			return;
		}
		assert_int_equal(again, pid);
		int rc = gb_proc_facts(pc, pid, &st, exe2, sizeof exe2, &s2);
		kill_reap(again);
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
	int cached = child(0, -1), fresh = child(0, -1);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_hits_same_process),
		cmocka_unit_test(test_reused_pid_is_another_process),
		cmocka_unit_test(test_zombie_is_gone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
