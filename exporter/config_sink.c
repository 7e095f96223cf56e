/* exporter/config_sink.c — see config_sink.h. */
#include "exporter/config_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exporter/curl_lazy.h"
#include "exporter/rdkafka_lazy.h"

#define PROBE_MS 2000

/* An error at the node of key `key` of map m (the map itself when the key
 * is absent), under the field path sinks[i].key. */
static void err_at(struct gb_schema *c, const struct gb_ynode *m, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void err_at(struct gb_schema *c, const struct gb_ynode *m, const char *key, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	const struct gb_ynode *v = gb_ymap_get(m, key);
	size_t mark = gb_schema_field(c, key);
	gb_schema_err(c, v ? v : m, NULL, "%s", msg);
	gb_schema_pop(c, mark);
}

/* A TCP connection to host:port within PROBE_MS: 0, or the reason in why. */
static int reach(const char *host, const char *port, char *why, size_t wl)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	int g = getaddrinfo(host, port, &hints, &res);
	if (g) {
		snprintf(why, wl, "%s does not resolve (%s)", host, gai_strerror(g));
		return -1;
	}
	int e = ECONNREFUSED;
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		int rc = connect(fd, a->ai_addr, a->ai_addrlen);
		if (rc < 0 && errno == EINPROGRESS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			socklen_t l = sizeof e;
			if (poll(&p, 1, PROBE_MS) <= 0)
				e = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0)
				e = errno;
			rc = e ? -1 : 0;
		} else if (rc < 0) {
			e = errno;
		}
		close(fd);
		if (rc == 0) {
			freeaddrinfo(res);
			return 0;
		}
	}
	freeaddrinfo(res);
	snprintf(why, wl, "cannot connect to %s port %s: %s", host, port, strerror(e));
	return -1;
}

static void check_url(struct gb_schema *c, const struct gb_ynode *m, const struct gb_sink_conf *k,
                      bool probe)
{
	char err[256];
	const struct gb_curl_api *cu = gb_curl(err, sizeof err);
	if (!cu) {
		err_at(c, m, "url", "libcurl cannot be loaded (%s): an http sink cannot work", err);
		return;
	}
	CURLU *u = cu->url();
	if (!u) {
		err_at(c, m, "url", "out of memory");
		return;
	}
	char *host = NULL, *port = NULL;
	CURLUcode rc = cu->url_set(u, CURLUPART_URL, k->url, 0);
	if (rc == CURLUE_OK)
		rc = cu->url_get(u, CURLUPART_HOST, &host, 0);
	if (rc == CURLUE_OK)
		rc = cu->url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
	if (rc != CURLUE_OK || !host || !*host) {
		err_at(c, m, "url", "'%s' cannot be sent to: %s", k->url,
		       rc != CURLUE_OK ? cu->url_strerror(rc) : "no host");
	} else if (probe) {
		char why[512];
		/* a bracketed IPv6 literal resolves without its brackets */
		size_t hl = strlen(host);
		if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
			memmove(host, host + 1, hl - 2);
			host[hl - 2] = '\0';
		}
		if (reach(host, port, why, sizeof why) < 0)
			err_at(c, m, "url", "%s: %s (the sink could only retry)", k->url, why);
	}
	cu->free(host);
	cu->free(port);
	cu->url_cleanup(u);
}

/* "host:port[,host:port]", each optionally "proto://host:port" (librdkafka
 * reads that too; without a port it would try 9092, which we do not guess). */
static void check_brokers(struct gb_schema *c, const struct gb_ynode *m, const char *brokers,
                          bool probe)
{
	char list[sizeof ((struct gb_sink_conf *)0)->brokers];
	snprintf(list, sizeof list, "%s", brokers);
	int reached = 0, tried = 0;
	char why[512] = "";
	for (char *save = NULL, *b = strtok_r(list, ",", &save); b; b = strtok_r(NULL, ",", &save)) {
		while (*b == ' ')
			b++;
		char *proto = strstr(b, "://");
		char *hp = proto ? proto + 3 : b;
		char *colon = strrchr(hp, ':');
		char *end = NULL;
		long port = colon ? strtol(colon + 1, &end, 10) : 0;
		size_t hl = colon ? (size_t)(colon - hp) : 0;
		if (!colon || !hl || end == colon + 1 || *end || port < 1 || port > 65535) {
			err_at(c, m, "brokers", "'%s' is not host:port with a port 1-65535", b);
			return;
		}
		if (!probe)
			continue;
		*colon = '\0';
		if (hl > 2 && hp[0] == '[' && hp[hl - 1] == ']') {
			hp[hl - 1] = '\0';
			hp++;
		}
		tried++;
		if (reach(hp, colon + 1, why, sizeof why) == 0)
			reached++;
	}
	if (probe && tried && !reached)
		err_at(c, m, "brokers", "no broker is reachable (%s): the sink could only retry", why);
}

/* librdkafka is the judge of its own properties: an unknown name or a bad
 * value would only fail when the sink starts, and then forever. */
static void check_props(struct gb_schema *c, const struct gb_ynode *m, const struct gb_sink_conf *k)
{
	if (!k->n_props)
		return;
	char err[512];
	const struct gb_rdkafka_api *rk = gb_rdkafka(err, sizeof err);
	if (!rk) {
		err_at(c, m, "brokers", "librdkafka cannot be loaded (%s): a kafka sink cannot work", err);
		return;
	}
	rd_kafka_conf_t *conf = rk->conf_new();
	if (!conf)
		return;
	for (size_t i = 0; i < k->n_props; i++) {
		if (rk->conf_set(conf, k->props[i].key, k->props[i].value, err, sizeof err) == RD_KAFKA_CONF_OK)
			continue;
		/* the error goes to the kafka.NAME key's own line */
		char key[160];
		snprintf(key, sizeof key, "kafka.%s", k->props[i].key);
		const struct gb_ynode *kn = NULL;
		for (size_t j = 0; j < m->n && !kn; j++)
			if (m->keys[j]->str && !strcmp(m->keys[j]->str, key))
				kn = m->keys[j];
		size_t mark = gb_schema_field(c, key);
		gb_schema_err(c, kn ? kn : m, NULL, "librdkafka refuses it: %s", err);
		gb_schema_pop(c, mark);
	}
	rk->conf_destroy(conf);
}

/* The file sink's file: appendable if it exists, creatable in its
 * directory otherwise.  access() as root passes most DAC checks, so the
 * open itself is the test (O_APPEND, never truncating; a file made here is
 * removed again). */
static void probe_file(struct gb_schema *c, const struct gb_ynode *m, const char *path)
{
	struct stat st;
	int existed = stat(path, &st) == 0;
	if (existed && !S_ISREG(st.st_mode)) {
		err_at(c, m, "path", "%s is not a regular file", path);
		return;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0) {
		err_at(c, m, "path", "%s cannot be written: %s", path, strerror(errno));
		return;
	}
	close(fd);
	if (!existed)
		unlink(path);
}

static void probe_readable(struct gb_schema *c, const struct gb_ynode *m, const char *key, const char *path)
{
	if (!path[0])
		return;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err_at(c, m, key, "%s cannot be read: %s", path, fd < 0 ? strerror(errno) : "not a regular file");
	}
	if (fd >= 0)
		close(fd);
}

void gb_sink_conf_check(struct gb_schema *c, const struct gb_ynode *m, const struct gb_sink_conf *k,
                        bool probe)
{
	switch (k->kind) {
	case GB_SINK_HTTP:
		if (k->url[0])
			check_url(c, m, k, probe);
		if (probe) {
			probe_readable(c, m, "auth_file", k->auth_file);
			probe_readable(c, m, "ca_file", k->ca_file);
		}
		break;
	case GB_SINK_KAFKA:
		if (k->brokers[0])
			check_brokers(c, m, k->brokers, probe);
		check_props(c, m, k);
		break;
	case GB_SINK_FILE:
		if (probe && k->path[0])
			probe_file(c, m, k->path);
		break;
	default:
		break;
	}
}
