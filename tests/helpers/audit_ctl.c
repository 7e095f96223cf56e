/* tests/helpers/audit_ctl.c — `audit_ctl get` prints whether the kernel
 * audits (0/1/2); `audit_ctl set 0|1` switches it and prints the previous
 * state, so a test can enable auditing for itself and restore it (trap). */
#include <errno.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int xfer(int fd, int type, const void *payload, size_t plen, struct audit_status *st)
{
	char req[NLMSG_SPACE(sizeof(struct audit_status))];
	memset(req, 0, sizeof req);
	struct nlmsghdr *h = (struct nlmsghdr *)req;
	h->nlmsg_len = (unsigned)NLMSG_LENGTH(plen);
	h->nlmsg_type = (unsigned short)type;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = 1;
	if (plen)
		memcpy(NLMSG_DATA(h), payload, plen);
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
	if (sendto(fd, req, h->nlmsg_len, 0, (struct sockaddr *)&k, sizeof k) < 0)
		return -errno;
	for (int i = 0; i < 8; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 2000) <= 0)
			return -ETIMEDOUT;
		char buf[8192];
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < (ssize_t)NLMSG_HDRLEN)
			continue;
		struct nlmsghdr *r = (struct nlmsghdr *)buf;
		if (r->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(r);
			if (e->error || type == AUDIT_SET)
				return e->error;
		} else if (r->nlmsg_type == AUDIT_GET && st) {
			size_t len = r->nlmsg_len - NLMSG_HDRLEN;
			memset(st, 0, sizeof *st);
			memcpy(st, NLMSG_DATA(r), len < sizeof *st ? len : sizeof *st);
			return 0;
		}
	}
	return -ETIMEDOUT;
}

int main(int argc, char **argv)
{
	if (argc < 2 || (strcmp(argv[1], "get") && (strcmp(argv[1], "set") || argc < 3))) {
		fprintf(stderr, "usage: audit_ctl get | set 0|1\n");
		return 2;
	}
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	if (fd < 0) {
		perror("audit_ctl: socket");
		return 1;
	}
	struct audit_status st;
	int rc = xfer(fd, AUDIT_GET, NULL, 0, &st);
	if (rc < 0) {
		fprintf(stderr, "audit_ctl: AUDIT_GET: %s\n", strerror(-rc));
		return 1;
	}
	printf("%u\n", st.enabled);
	if (!strcmp(argv[1], "set")) {
		struct audit_status ns;
		memset(&ns, 0, sizeof ns);
		ns.mask = AUDIT_STATUS_ENABLED;
		ns.enabled = (unsigned)atoi(argv[2]);
		rc = xfer(fd, AUDIT_SET, &ns, sizeof ns, NULL);
		if (rc < 0) {
			fprintf(stderr, "audit_ctl: AUDIT_SET: %s\n", strerror(-rc));
			return 1;
		}
	}
	close(fd);
	return 0;
}
