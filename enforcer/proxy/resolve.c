/* enforcer/proxy/resolve.c — asynchronous resolution for the proxy (contract:
 * resolve.h).
 *
 * The hosts file is read here, at a configurable path, before anything goes
 * to DNS: c-ares 1.18 (Debian 12) only reads its compiled-in /etc/hosts (or
 * a process-wide environment variable), and tests need a per-proxy file.
 * Parsing "ADDRESS NAME [ALIAS...]" lines is a few lines of code; everything
 * that talks DNS is c-ares, driven by the proxy's epoll loop.
 */
#include "enforcer/proxy/resolve.h"

#include <ares.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>

struct host_ent {
	char *name;
	struct sockaddr_storage addr;
};

struct gb_resolver {
	ares_channel ch;
	struct host_ent *hosts;
	size_t n_hosts;
};

struct pending {
	gb_resolve_cb cb;
	void *arg;
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_rc;
static void lib_init(void)
{
	lib_rc = ares_library_init(ARES_LIB_INIT_ALL);
}

/* A literal address (v4, v6, [v6]) into ss; 0 or -EINVAL. */
static int parse_literal(const char *s, struct sockaddr_storage *ss)
{
	char buf[64];
	size_t n = strlen(s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		if (n - 2 >= sizeof buf)
			return -EINVAL;
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = '\0';
		s = buf;
	}
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

static int load_hosts(struct gb_resolver *r, const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	char line[1024];
	size_t cap = 0;
	while (fgets(line, sizeof line, f)) {
		char *h = strchr(line, '#');
		if (h)
			*h = '\0';
		char *save = NULL, *tok = strtok_r(line, " \t\r\n", &save);
		struct sockaddr_storage ss;
		if (!tok || parse_literal(tok, &ss) < 0)
			continue; /* blank, comment or malformed line: ignored, as libc does */
		while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
			if (r->n_hosts == cap) {
				cap = cap ? cap * 2 : 32;
				struct host_ent *n = realloc(r->hosts, cap * sizeof *n);
				if (!n) {
					fclose(f);
					return -ENOMEM;
				}
				r->hosts = n;
			}
			r->hosts[r->n_hosts].name = strdup(tok);
			r->hosts[r->n_hosts].addr = ss;
			if (r->hosts[r->n_hosts].name)
				r->n_hosts++;
		}
	}
	fclose(f);
	return 0;
}

int gb_resolver_new(const struct gb_resolver_opts *o, struct gb_resolver **out)
{
	pthread_once(&lib_once, lib_init);
	if (lib_rc != ARES_SUCCESS)
		return -EIO;
	struct gb_resolver *r = calloc(1, sizeof *r);
	if (!r)
		return -ENOMEM;
	int rc = load_hosts(r, o && o->hosts_file ? o->hosts_file : "/etc/hosts");
	if (rc < 0) {
		gb_resolver_free(r);
		return rc;
	}
	struct ares_options ao;
	memset(&ao, 0, sizeof ao);
	int mask = ARES_OPT_LOOKUPS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
	ao.lookups = (char *)"b"; /* DNS only: the hosts file was handled above */
	ao.timeout = o && o->timeout_ms > 0 ? o->timeout_ms / 2 : 2500;
	ao.tries = 2;
	if (o && o->resolv_conf) {
		mask |= ARES_OPT_RESOLVCONF;
		ao.resolvconf_path = (char *)o->resolv_conf;
	}
	if (ares_init_options(&r->ch, &ao, mask) != ARES_SUCCESS) {
		r->ch = NULL;
		gb_resolver_free(r);
		return -EIO;
	}
	*out = r;
	return 0;
}

void gb_resolver_free(struct gb_resolver *r)
{
	if (!r)
		return;
	if (r->ch)
		ares_destroy(r->ch); /* pending callbacks run with ARES_EDESTRUCTION */
	for (size_t i = 0; i < r->n_hosts; i++)
		free(r->hosts[i].name);
	free(r->hosts);
	free(r);
}

static void ai_cb(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	(void)timeouts;
	struct pending *p = arg;
	struct gb_resolve_result out;
	memset(&out, 0, sizeof out);
	if (status == ARES_SUCCESS && res) {
		for (struct ares_addrinfo_node *n = res->nodes; n && out.n < GB_RESOLVE_MAX; n = n->ai_next) {
			if (n->ai_family != AF_INET && n->ai_family != AF_INET6)
				continue;
			memcpy(&out.addrs[out.n], n->ai_addr,
			       n->ai_addrlen <= sizeof out.addrs[0] ? n->ai_addrlen : sizeof out.addrs[0]);
			((struct sockaddr_in *)&out.addrs[out.n])->sin_port = 0;
			out.n++;
		}
		out.status = out.n ? 0 : -ENOENT;
	} else {
		out.status = status == ARES_ETIMEOUT ? -ETIMEDOUT
		             : status == ARES_ENOTFOUND || status == ARES_ENODATA ? -ENOENT
		             : status == ARES_EDESTRUCTION || status == ARES_ECANCELLED ? -ECANCELED
		                                                                         : -EHOSTUNREACH;
	}
	if (res)
		ares_freeaddrinfo(res);
	p->cb(p->arg, &out);
	free(p);
}

int gb_resolve_start(struct gb_resolver *r, const char *host, gb_resolve_cb cb, void *arg)
{
	struct gb_resolve_result out;
	memset(&out, 0, sizeof out);
	if (parse_literal(host, &out.addrs[0]) == 0) {
		out.n = 1;
		cb(arg, &out);
		return 0;
	}
	/* hosts file: case-insensitive, one trailing dot ignored */
	size_t hl = strlen(host);
	if (hl && host[hl - 1] == '.')
		hl--;
	for (size_t i = 0; i < r->n_hosts && out.n < GB_RESOLVE_MAX; i++)
		if (strlen(r->hosts[i].name) == hl && !strncasecmp(r->hosts[i].name, host, hl))
			out.addrs[out.n++] = r->hosts[i].addr;
	if (out.n) {
		cb(arg, &out);
		return 0;
	}
	struct pending *p = malloc(sizeof *p);
	if (!p)
		return -ENOMEM;
	p->cb = cb;
	p->arg = arg;
	struct ares_addrinfo_hints hints;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = ARES_AI_NOSORT;
	ares_getaddrinfo(r->ch, host, NULL, &hints, ai_cb, p);
	return 0;
}

size_t gb_resolver_fds(struct gb_resolver *r, struct gb_resolve_fd *fds, size_t max, int *timeout_ms)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	/* ares' READABLE/WRITABLE macros shift a signed 1 by up to 31, which
	 * UBSan rightly flags; test the same bits on an unsigned copy. */
	unsigned bits = (unsigned)ares_getsock(r->ch, socks, ARES_GETSOCK_MAXNUM);
	size_t n = 0;
	for (unsigned i = 0; i < ARES_GETSOCK_MAXNUM && n < max; i++) {
		unsigned ev = 0;
		if ((bits >> i) & 1u)
			ev |= EPOLLIN;
		if ((bits >> (i + ARES_GETSOCK_MAXNUM)) & 1u)
			ev |= EPOLLOUT;
		if (ev) {
			fds[n].fd = socks[i];
			fds[n].events = ev;
			n++;
		}
	}
	struct timeval tv, *tvp = ares_timeout(r->ch, NULL, &tv);
	*timeout_ms = tvp ? (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000) : -1;
	return n;
}

void gb_resolve_process(struct gb_resolver *r, int fd, unsigned events)
{
	ares_socket_t rd = ARES_SOCKET_BAD, wr = ARES_SOCKET_BAD;
	if (fd >= 0 && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		rd = fd;
	if (fd >= 0 && (events & EPOLLOUT))
		wr = fd;
	ares_process_fd(r->ch, rd, wr);
}
