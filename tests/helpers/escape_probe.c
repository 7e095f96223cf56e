/* tests/helpers/escape_probe.c — run inside `glassbox run`; tries one escape
 * vector per line and prints "NAME RESULT" where RESULT is OK (the call
 * succeeded) or the errno name, or KILLED:SIG for a killed subprocess.
 * The integration tests compare the lines with what each layer must give.
 *
 *   escape_probe all        every vector below
 *   escape_probe ids        "uid R E S", "gid R E S", "groups ...", "nnp N", "core SOFT HARD"
 *   escape_probe connect IP PORT
 *   escape_probe write PATH / read PATH
 *
 * It exits with _exit(0): no LeakSanitizer pass (ptrace is refused here). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_BLUETOOTH
#define AF_BLUETOOTH 31
#endif

static const char *ename(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOSYS: return "ENOSYS";
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case EROFS: return "EROFS";
	case ENETUNREACH: return "ENETUNREACH";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case ESRCH: return "ESRCH";
	case EBADF: return "EBADF";
	case EFAULT: return "EFAULT";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EXDEV: return "EXDEV";
	default: {
		static char b[32];
		snprintf(b, sizeof b, "E%d", e);
		return b;
	}
	}
}

static void out(const char *name, long rc)
{
	printf("%s %s\n", name, rc < 0 ? ename(errno) : "OK");
}

static long sock(int dom, int type, int proto)
{
	int s = socket(dom, type, proto);
	if (s >= 0)
		close(s);
	return s;
}

static long tcp_connect(const char *ip, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, ip, &sa.sin_addr);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return -1;
	long rc = connect(s, (struct sockaddr *)&sa, sizeof sa);
	int e = errno;
	close(s);
	errno = e;
	return rc;
}

/* i386 getpid through int 0x80 from a 64-bit process: a foreign arch. */
static void foreign_arch(void)
{
#if defined(__x86_64__)
	pid_t p = fork();
	if (p == 0) {
		long r;
		__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
		_exit(0);
	}
	int st = 0;
	waitpid(p, &st, 0);
	if (WIFSIGNALED(st))
		printf("foreign_arch KILLED:%d\n", WTERMSIG(st));
	else
		printf("foreign_arch OK\n");
#else
	printf("foreign_arch SKIPPED\n");
#endif
}

static void all(void)
{
	out("mount", mount("none", "/tmp", "tmpfs", 0, NULL));
	out("umount", umount2("/proc", MNT_DETACH));
	out("unshare_user", unshare(CLONE_NEWUSER));
	out("unshare_net", unshare(CLONE_NEWNET));
	out("setns", setns(0, 0));
	out("ptrace_attach_1", ptrace(PTRACE_ATTACH, 1, 0, 0));
	out("ptrace_traceme", ptrace(PTRACE_TRACEME, 0, 0, 0));
	union bpf_attr ba;
	memset(&ba, 0, sizeof ba);
	out("bpf", syscall(SYS_bpf, BPF_MAP_CREATE, &ba, sizeof ba));
	struct perf_event_attr pa;
	memset(&pa, 0, sizeof pa);
	pa.size = sizeof pa;
	pa.type = PERF_TYPE_SOFTWARE;
	pa.config = PERF_COUNT_SW_CPU_CLOCK;
	out("perf_event_open", syscall(SYS_perf_event_open, &pa, 0, -1, -1, 0));
	out("memfd_create", syscall(SYS_memfd_create, "x", 0));
	char params[120];
	memset(params, 0, sizeof params);
	out("io_uring_setup", syscall(SYS_io_uring_setup, 4, params));
	out("userfaultfd", syscall(SYS_userfaultfd, 0));
	out("pidfd_open", syscall(SYS_pidfd_open, getpid(), 0));
	char b1[8], b2[8];
	struct iovec l = { b1, sizeof b1 }, r = { b2, sizeof b2 };
	out("process_vm_readv", syscall(SYS_process_vm_readv, getpid(), &l, 1, &r, 1, 0));
	out("keyctl", syscall(SYS_keyctl, 0, 0, 0, 0, 0));
	out("init_module", syscall(SYS_init_module, NULL, 0, ""));
	out("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
	out("clone3", syscall(SYS_clone3, NULL, 0));
	out("execveat_empty_path", syscall(SYS_execveat, 0, "", NULL, NULL, 0x1000));
	out("seccomp_filter", syscall(SYS_seccomp, 1 /* SET_MODE_FILTER */, 0, NULL));
	out("prctl_set_seccomp", prctl(PR_SET_SECCOMP, 2, 0, 0, 0));
	out("setuid0", setuid(0));
	out("chroot", chroot("/"));
	char c = 'x';
	out("tiocsti", ioctl(0, TIOCSTI, &c));
	out("socket_unix", sock(AF_UNIX, SOCK_STREAM, 0));
	out("socket_inet", sock(AF_INET, SOCK_STREAM, 0));
	out("socket_inet6", sock(AF_INET6, SOCK_STREAM, 0));
	out("socket_netlink", sock(AF_NETLINK, SOCK_RAW, 0));
	out("socket_packet", sock(AF_PACKET, SOCK_RAW, 0));
	out("socket_raw", sock(AF_INET, SOCK_RAW, 1));
	out("socket_vsock", sock(AF_VSOCK, SOCK_STREAM, 0));
	out("socket_bluetooth", sock(AF_BLUETOOTH, SOCK_STREAM, 0));
	out("socket_high_bits", syscall(SYS_socket, 0x100000001L, SOCK_STREAM, 0));
	foreign_arch();
}

static void ids(void)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	printf("uid %u %u %u\n", r, e, s);
	printf("gid %u %u %u\n", gr, ge, gs);
	gid_t g[64];
	int n = getgroups(64, g);
	printf("groups");
	for (int i = 0; i < n; i++)
		printf(" %u", g[i]);
	printf("\n");
	printf("nnp %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	struct rlimit rl;
	getrlimit(RLIMIT_CORE, &rl);
	printf("core %llu %llu\n", (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
	printf("dumpable %d\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "all")) {
		all();
	} else if (argc >= 2 && !strcmp(argv[1], "ids")) {
		ids();
	} else if (argc >= 4 && !strcmp(argv[1], "connect")) {
		out("connect", tcp_connect(argv[2], atoi(argv[3])));
	} else if (argc >= 3 && !strcmp(argv[1], "write")) {
		int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		out("write", fd);
		if (fd >= 0)
			close(fd);
	} else if (argc >= 3 && !strcmp(argv[1], "read")) {
		int fd = open(argv[2], O_RDONLY);
		out("read", fd);
		if (fd >= 0)
			close(fd);
	} else {
		fprintf(stderr, "usage: escape_probe all|ids|connect IP PORT|write PATH|read PATH\n");
		_exit(2);
	}
	fflush(stdout);
	_exit(0);
}
