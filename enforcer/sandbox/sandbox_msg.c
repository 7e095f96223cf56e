/* enforcer/sandbox/sandbox_msg.c — see sandbox_msg.h. */
#include "enforcer/sandbox/sandbox_msg.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "enforcer/sandbox/netns.h"

int gb_sbx_send(int sock, const struct gb_sbx_msg *m, int fd)
{
	ssize_t n = gb_fd_send(sock, fd, m, sizeof *m);
	if (n < 0)
		return (int)n;
	return n == (ssize_t)sizeof *m ? 0 : -EIO;
}

int gb_sbx_recv(int sock, struct gb_sbx_msg *m, int *fd, pid_t *pid)
{
	union {
		char buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = m, .iov_len = sizeof *m };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
	                     .msg_controllen = sizeof u.buf };
	int got_fd = -1;
	pid_t got_pid = 0;
	ssize_t n;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_RIGHTS && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
			int nfd = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			for (int i = 0; i < nfd; i++) {
				int f;
				memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
				if (got_fd < 0)
					got_fd = f;
				else
					close(f);
			}
		} else if (c->cmsg_type == SCM_CREDENTIALS &&
		           c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
			struct ucred uc;
			memcpy(&uc, CMSG_DATA(c), sizeof uc);
			got_pid = uc.pid;
		}
	}
	if (n == 0) {
		if (got_fd >= 0)
			close(got_fd);
		return 0;
	}
	if ((size_t)n != sizeof *m || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (got_fd >= 0)
			close(got_fd);
		return -EBADMSG;
	}
	m->subject[sizeof m->subject - 1] = 0;
	m->text[sizeof m->text - 1] = 0;
	if (fd)
		*fd = got_fd;
	else if (got_fd >= 0)
		close(got_fd);
	if (pid)
		*pid = got_pid;
	return 1;
}
