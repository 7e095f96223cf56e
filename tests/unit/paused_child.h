/* tests/unit/paused_child.h — a child process that waits to be killed,
 * optionally at a chosen pid (clone3 set_tid: the pid-reuse attacks on the
 * identity's caches put a new process at the very number an old one had).
 *
 * Ownership: the caller kills and reaps the child (gb_kill_reap).
 */
#ifndef GB_TESTS_PAUSED_CHILD_H
#define GB_TESTS_PAUSED_CHILD_H

#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static inline void gb_kill_reap(int pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* A child that pauses until killed, as uid `uid` when uid >= 0; at pid
 * `at` when at > 0 (needs root in the pid namespace; -EEXIST when the
 * number is taken); killed when its parent exits if die_with_parent (a
 * test's own children; not a child that must outlive its parent to be
 * reparented).  Returns once the child runs (its facts are final):
 * its pid, or -errno. */
static inline int gb_paused_child(pid_t at, int uid, bool die_with_parent)
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
		/* (after setresuid, which clears it) a failed assertion leaves the
		 * test without killing it: die with the test, or the inherited
		 * stdout keeps ctest waiting until its timeout */
		if (die_with_parent && prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
			_exit(1);
		(void)!write(ready[1], "r", 1);
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
		gb_kill_reap((int)r);
		return -ECHILD;
	}
	return (int)r;
}

#endif
