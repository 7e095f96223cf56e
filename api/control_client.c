/* api/control_client.c — see control_client.h. */
#include "api/control_client.h"

#include "common/paths.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_RESP (16u << 20)
#define TIMEOUT_MS 10000

int gb_ctl_sandbox_dir(const char *root, const char *name, char *buf, size_t len)
{
	if (!gb_sandbox_name_valid(name))
		return -EINVAL;
	return gb_path_sandbox(buf, len, root, name);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd to be ready for ev until the deadline; 0, or -ETIMEDOUT. */
static int wait_fd(int fd, short ev, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = { .fd = fd, .events = ev };
		int n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

int gb_ctl_call(const char *root, const char *name, json_t *req, json_t **resp, char *err,
                size_t errlen)
{
	*resp = NULL;
	char dir[4096];
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int rc = gb_ctl_sandbox_dir(root, name, dir, sizeof dir);
	if (rc < 0) {
		snprintf(err, errlen, "invalid sandbox name '%s' (1-63 of A-Z a-z 0-9 . _ -, not "
		         "starting with . or -)", name ? name : "");
		return rc;
	}
	if (gb_path_control_sock(a.sun_path, sizeof a.sun_path, root, name) < 0) {
		snprintf(err, errlen, "%s/" GB_CONTROL_SOCK ": path too long for a unix socket", dir);
		return -ENAMETOOLONG;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	int64_t deadline = now_ms() + TIMEOUT_MS;
	char *body = json_dumps(req, JSON_COMPACT);
	char *in = NULL;
	size_t cap = 0, len = 0;
	if (!body) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS &&
	    errno != EAGAIN) {
		rc = -errno;
		if (rc == -ENOENT || rc == -ECONNREFUSED) {
			rc = -ENOENT;
			snprintf(err, errlen, "no sandbox named '%s' is running", name);
		} else if (rc == -EACCES || rc == -EPERM) {
			rc = -EACCES;
			snprintf(err, errlen, "sandbox '%s': permission denied (the control socket is "
			         "root only)", name);
		} else {
			snprintf(err, errlen, "%s: %s", a.sun_path, strerror(-rc));
		}
		goto out;
	}
	for (size_t off = 0, n = strlen(body); off < n;) {
		if ((rc = wait_fd(fd, POLLOUT, deadline)) < 0)
			goto io_err;
		ssize_t w = send(fd, body + off, n - off, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (w < 0) {
			rc = -errno;
			goto io_err;
		}
		off += (size_t)w;
	}
	shutdown(fd, SHUT_WR);
	for (;;) {
		if (len + 1 >= cap) {
			if (cap >= MAX_RESP) {
				rc = -EMSGSIZE;
				goto io_err;
			}
			size_t nc = cap ? cap * 2 : 65536;
			char *nb = realloc(in, nc);
			if (!nb) {
				rc = -ENOMEM;
				goto io_err;
			}
			in = nb;
			cap = nc;
		}
		if ((rc = wait_fd(fd, POLLIN, deadline)) < 0)
			goto io_err;
		ssize_t n = recv(fd, in + len, cap - len - 1, 0);
		if (n == 0)
			break;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			rc = -errno;
			goto io_err;
		}
		len += (size_t)n;
	}
	json_error_t je;
	*resp = json_loadb(in ? in : "", len, 0, &je);
	if (!*resp || !json_is_object(*resp)) {
		json_decref(*resp);
		*resp = NULL;
		rc = -EPROTO;
		snprintf(err, errlen, "sandbox '%s': unreadable answer from the supervisor", name);
		goto out;
	}
	rc = 0;
	goto out;
io_err:
	snprintf(err, errlen, "sandbox '%s': control socket: %s", name, strerror(-rc));
out:
	free(body);
	free(in);
	close(fd);
	return rc;
}
