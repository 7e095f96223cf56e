/* enforcer/sandbox/sandbox_msg.h — messages on the control socketpair between the
 * supervisor (outside) and the sandbox's init (inside).  SOCK_SEQPACKET, one
 * fixed-size struct per message, so a message is never split or merged.
 *
 *   init -> supervisor  LISTEN_FD (+ the proxy socket, SCM_RIGHTS)
 *                       FINDING   (kind a, severity b, subject, text)
 *                       POSTURE   (layers a, landlock abi b, fs rights u1,
 *                                  scopes u2, rules c, text = rights)
 *                       ERROR     (setup failed: text; init then exits 125)
 *                       READY     (everything applied; waiting for GO)
 *                       PAYLOAD   (from the workload process itself; the
 *                                  kernel attaches its pid as seen from the
 *                                  supervisor, SO_PASSCRED)
 *                       EXEC      (a = 0 exec succeeded, else errno;
 *                                  b = 1 entering the workdir failed,
 *                                  2 execve failed)
 *                       EXIT      (a = exit code or -1, b = signal or 0)
 *   supervisor -> init  GO        (the proxy is listening: start CMD)
 */
#ifndef GB_ENFORCER_SANDBOX_MSG_H
#define GB_ENFORCER_SANDBOX_MSG_H

#include <stdint.h>
#include <sys/types.h>

enum gb_sbx_msg_type {
	GB_MSG_LISTEN_FD = 1,
	GB_MSG_FINDING,
	GB_MSG_POSTURE,
	GB_MSG_ERROR,
	GB_MSG_READY,
	GB_MSG_GO,
	GB_MSG_PAYLOAD,
	GB_MSG_EXEC,
	GB_MSG_EXIT,
};

struct gb_sbx_msg {
	uint32_t type;
	int32_t a, b, c;
	uint64_t u1, u2;
	char subject[512];
	char text[1024];
};

/* Send one message (fd < 0: none).  0 or -errno. */
int gb_sbx_send(int sock, const struct gb_sbx_msg *m, int fd);
/* Receive one message.  1 = message, 0 = peer closed, -errno.  *fd gets a
 * passed descriptor or -1; *pid the sender's pid when the socket has
 * SO_PASSCRED (else 0).  Either may be NULL. */
int gb_sbx_recv(int sock, struct gb_sbx_msg *m, int *fd, pid_t *pid);

#endif
