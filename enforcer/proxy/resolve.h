/* enforcer/proxy/resolve.h — asynchronous name resolution for the proxy (c-ares),
 * with a hosts-file override so tests map names to their test hosts.
 *
 * The proxy's event loop owns one resolver per worker: it polls the fds the
 * resolver asks for and calls gb_resolve_process() when they are ready.  The
 * answer is a list of addresses; the proxy checks every one against the
 * destination tiers and connects only to one that passed — nothing resolves
 * twice between check and connect.
 *
 * Ownership: the resolver is single-threaded (one per worker).  The result
 * passed to the callback is valid only during the callback.
 */
#ifndef GB_ENFORCER_RESOLVE_H
#define GB_ENFORCER_RESOLVE_H

#include <stddef.h>
#include <sys/socket.h>

struct gb_resolver;

struct gb_resolver_opts {
	const char *hosts_file;  /* consulted first; NULL = /etc/hosts */
	const char *resolv_conf; /* NULL = system default */
	int timeout_ms;          /* whole lookup; 0 = 5000 */
};

#define GB_RESOLVE_MAX 16
struct gb_resolve_result {
	int status; /* 0, or negative errno (-ENOENT no such name, -ETIMEDOUT) */
	size_t n;
	struct sockaddr_storage addrs[GB_RESOLVE_MAX]; /* port 0 */
};

typedef void (*gb_resolve_cb)(void *arg, const struct gb_resolve_result *r);

int gb_resolver_new(const struct gb_resolver_opts *o, struct gb_resolver **out);
void gb_resolver_free(struct gb_resolver *r);

/* Start a lookup (A and AAAA).  IP literals answer immediately (callback
 * runs before return).  Returns 0 or negative errno. */
int gb_resolve_start(struct gb_resolver *r, const char *host, gb_resolve_cb cb, void *arg);

/* Event-loop integration: fill up to max (fd, events) pairs the resolver
 * waits on (events are EPOLLIN/EPOLLOUT bits); returns how many, plus the
 * next timeout in ms (-1 none) in *timeout_ms. */
struct gb_resolve_fd { int fd; unsigned events; };
size_t gb_resolver_fds(struct gb_resolver *r, struct gb_resolve_fd *fds, size_t max, int *timeout_ms);
/* Call when fd is readable/writable (or with fd -1 on timeout). */
void gb_resolve_process(struct gb_resolver *r, int fd, unsigned events);

#endif
