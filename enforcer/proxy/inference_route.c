/* enforcer/proxy/inference_route.c — the inference route table (see
 * inference.h).
 *
 * One route per sandbox.  Readers (the serving threads) take a reference
 * under the mutex and use the route without it; a change swaps the pointer
 * and drops the table's reference, so a request in flight finishes on the
 * route it started with and the next one sees the new route.  The secret
 * is read once, when the route is set (the file is checked: a regular file,
 * not a symlink, owned by root, mode 0600 or stricter — anything readable by
 * another account could have been read by the sandbox user too), and wiped
 * with OPENSSL_cleanse when the last reference goes.  It never leaves this
 * process: routes are shown, stored and answered with the file's path. */
#include "enforcer/proxy/inference.h"
#include "enforcer/proxy/inference_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/paths.h"

struct gb_inference {
	pthread_mutex_t mu;
	struct gb_inf_route *cur;
	uint64_t generation;
	/* the current route's provider address (gb_inference_addr_*) */
	uint64_t addr_gen;
	int64_t addr_until_ms;
	struct sockaddr_storage addr;
	struct inf_pool *pool; /* idle provider connections of cur (inference_pool.c) */
};

bool gb_inference_host(const char *host)
{
	size_t n = strlen(host), k = strlen(GB_INFERENCE_HOST);
	if (n == k + 1 && host[k] == '.')
		n = k;
	return n == k && !strncasecmp(host, GB_INFERENCE_HOST, k);
}

const char *gb_inf_type_name(enum gb_inf_type t)
{
	return t == GB_INF_ANTHROPIC ? "anthropic" : t == GB_INF_OPENAI ? "openai" : "?";
}

int gb_inference_new(struct gb_inference **out)
{
	struct gb_inference *inf = calloc(1, sizeof *inf);
	if (!inf)
		return -ENOMEM;
	if (inf_pool_new(&inf->pool, GB_INF_POOL_MAX, GB_INF_POOL_IDLE_MS) < 0) {
		free(inf);
		return -ENOMEM;
	}
	pthread_mutex_init(&inf->mu, NULL);
	*out = inf;
	return 0;
}

void gb_inf_route_free(struct gb_inf_route *r)
{
	if (!r)
		return;
	if (r->secret_) {
		OPENSSL_cleanse(r->secret_, r->secret_len_);
		free(r->secret_);
	}
	free(r);
}

void gb_inference_free(struct gb_inference *inf)
{
	if (!inf)
		return;
	inf_pool_free(inf->pool);
	gb_inf_route_free(inf->cur); /* the proxy stopped: no reader is left */
	pthread_mutex_destroy(&inf->mu);
	free(inf);
}

const struct gb_inf_route *gb_inference_get(struct gb_inference *inf)
{
	if (!inf)
		return NULL;
	pthread_mutex_lock(&inf->mu);
	struct gb_inf_route *r = inf->cur;
	if (r)
		r->refs_++;
	pthread_mutex_unlock(&inf->mu);
	return r;
}

void gb_inference_put(struct gb_inference *inf, const struct gb_inf_route *cr)
{
	if (!cr)
		return;
	struct gb_inf_route *r = (struct gb_inf_route *)cr;
	pthread_mutex_lock(&inf->mu);
	bool last = --r->refs_ == 0;
	pthread_mutex_unlock(&inf->mu);
	if (last)
		gb_inf_route_free(r);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int gb_inference_addr_recall(struct gb_inference *inf, const struct gb_inf_route *r,
                             struct sockaddr_storage *ss)
{
	pthread_mutex_lock(&inf->mu);
	int ok = inf->addr_gen == r->generation && r->generation && mono_ms() < inf->addr_until_ms;
	if (ok)
		*ss = inf->addr;
	pthread_mutex_unlock(&inf->mu);
	return ok;
}

void gb_inference_addr_remember(struct gb_inference *inf, const struct gb_inf_route *r,
                                const struct sockaddr_storage *ss)
{
	pthread_mutex_lock(&inf->mu);
	inf->addr = *ss;
	inf->addr_gen = r->generation;
	inf->addr_until_ms = mono_ms() + GB_INF_ADDR_TTL_MS;
	pthread_mutex_unlock(&inf->mu);
}

struct inf_pool *gb_inference_pool(struct gb_inference *inf)
{
	return inf ? inf->pool : NULL;
}

const char *gb_inf_secret(const struct gb_inf_route *r, size_t *len)
{
	*len = r->secret_len_;
	return r->secret_;
}

int gb_inference_set(struct gb_inference *inf, struct gb_inf_route *r, bool scope_default)
{
	pthread_mutex_lock(&inf->mu);
	struct gb_inf_route *old = inf->cur;
	if (scope_default && old && strcmp(old->origin, "default") != 0) {
		pthread_mutex_unlock(&inf->mu);
		gb_inf_route_free(r);
		return 0; /* the sandbox's own route stays */
	}
	if (r) {
		r->refs_ = 1;
		snprintf(r->origin, sizeof r->origin, "%s", scope_default ? "default" : "sandbox");
		r->generation = ++inf->generation;
	} else {
		inf->generation++;
	}
	inf->cur = r;
	/* the old route's provider connections go with it (a request still in
	 * flight on one closes it when it ends: its generation is not kept);
	 * under mu, so two changes reset in the order they swapped */
	inf_pool_reset(inf->pool, r ? r->generation : 0);
	bool last = old && --old->refs_ == 0;
	pthread_mutex_unlock(&inf->mu);
	if (last)
		gb_inf_route_free(old);
	return 1;
}

/* ---- parsing ---- */

static int parse_base_url(const char *u, struct gb_inf_route *r, char *err, size_t errlen)
{
	const char *a;
	if (!strncasecmp(u, "https://", 8)) {
		r->tls = true;
		a = u + 8;
	} else if (!strncasecmp(u, "http://", 7)) {
		r->tls = false;
		a = u + 7;
	} else {
		snprintf(err, errlen, "base_url must start with http:// or https://");
		return -EINVAL;
	}
	const char *slash = strchr(a, '/');
	const char *aend = slash ? slash : a + strlen(a);
	const char *hs = a, *he, *colon = NULL;
	if (memchr(a, '@', (size_t)(aend - a)) || memchr(a, '?', (size_t)(aend - a)) ||
	    strchr(a, '#') || strchr(a, '?')) {
		snprintf(err, errlen, "base_url must not carry userinfo, a query or a fragment");
		return -EINVAL;
	}
	if (*a == '[') {
		const char *rb = memchr(a, ']', (size_t)(aend - a));
		if (!rb) {
			snprintf(err, errlen, "base_url: unterminated [IPv6] host");
			return -EINVAL;
		}
		hs = a + 1;
		he = rb;
		if (rb + 1 < aend) {
			if (rb[1] != ':') {
				snprintf(err, errlen, "base_url: bad authority");
				return -EINVAL;
			}
			colon = rb + 1;
		}
	} else {
		colon = memchr(a, ':', (size_t)(aend - a));
		he = colon ? colon : aend;
		for (const char *p = hs; p < he; p++)
			if (!isalnum((unsigned char)*p) && !strchr(".-_", *p)) {
				snprintf(err, errlen, "base_url: invalid host");
				return -EINVAL;
			}
	}
	size_t hl = (size_t)(he - hs);
	if (hl == 0 || hl >= sizeof r->host) {
		snprintf(err, errlen, "base_url: missing or too long host");
		return -EINVAL;
	}
	memcpy(r->host, hs, hl);
	r->host[hl] = '\0';
	if (gb_inference_host(r->host)) {
		snprintf(err, errlen, "base_url cannot be inference.local itself");
		return -EINVAL;
	}
	long port = r->tls ? 443 : 80;
	if (colon) {
		char *end;
		port = strtol(colon + 1, &end, 10);
		if (end != aend || colon + 1 == aend || port < 1 || port > 65535) {
			snprintf(err, errlen, "base_url: invalid port");
			return -EINVAL;
		}
	}
	r->port = (uint16_t)port;
	size_t pl = slash ? strlen(slash) : 0;
	while (pl && slash[pl - 1] == '/')
		pl--;
	if (pl >= sizeof r->prefix) {
		snprintf(err, errlen, "base_url: path too long");
		return -EINVAL;
	}
	for (size_t i = 0; i < pl; i++)
		if ((unsigned char)slash[i] <= 0x20 || (unsigned char)slash[i] >= 0x7f) {
			snprintf(err, errlen, "base_url: invalid byte in path");
			return -EINVAL;
		}
	/* The OpenAI convention is a base URL ending in /v1; the requests already
	 * carry /v1, so a trailing /v1 is not doubled. */
	if (pl >= 3 && !strncmp(slash + pl - 3, "/v1", 3))
		pl -= 3;
	if (pl)
		memcpy(r->prefix, slash, pl);
	r->prefix[pl] = '\0';
	return 0;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return false;
	return true;
}

static int read_secret(const char *path, char **out, size_t *out_len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "credential file %s: %s%s", path, strerror(e),
		         e == ELOOP ? " (a symlink is not accepted)" : "");
		return -e;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "credential file %s is not a regular file", path);
		return -EINVAL;
	}
	if (st.st_uid != 0 || (st.st_mode & 077)) {
		close(fd);
		snprintf(err, errlen,
		         "credential file %s must be owned by root with mode 0600 (it is uid %u, mode %04o)",
		         path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return -EACCES;
	}
	char *b = malloc(GB_INF_SECRET_MAX + 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	size_t n = 0;
	for (;;) {
		ssize_t k = read(fd, b + n, GB_INF_SECRET_MAX + 1 - n);
		if (k < 0) {
			int e = errno;
			close(fd);
			OPENSSL_cleanse(b, n);
			free(b);
			snprintf(err, errlen, "credential file %s: %s", path, strerror(e));
			return -e;
		}
		if (k == 0 || (n += (size_t)k) > GB_INF_SECRET_MAX)
			break;
	}
	close(fd);
	while (n && (b[n - 1] == '\n' || b[n - 1] == '\r' || b[n - 1] == ' ' || b[n - 1] == '\t'))
		n--;
	size_t lead = 0;
	while (lead < n && (b[lead] == ' ' || b[lead] == '\t'))
		lead++;
	bool ok = n > lead && n <= GB_INF_SECRET_MAX;
	/* the secret goes into a header line: a control byte could split it
	 * into headers of its own */
	for (size_t i = lead; ok && i < n; i++)
		if ((unsigned char)b[i] < 0x20 || (unsigned char)b[i] == 0x7f)
			ok = false;
	if (!ok) {
		OPENSSL_cleanse(b, GB_INF_SECRET_MAX + 1);
		free(b);
		snprintf(err, errlen, "credential file %s must hold one non-empty line of at most %d "
		         "printable bytes", path, GB_INF_SECRET_MAX);
		return -EINVAL;
	}
	memmove(b, b + lead, n - lead);
	n -= lead;
	b[n] = '\0';
	*out = b;
	*out_len = n;
	return 0;
}

int gb_inf_credential_check(const char *path, char *err, size_t errlen)
{
	char *s = NULL;
	size_t n = 0;
	int rc = read_secret(path, &s, &n, err, errlen);
	if (rc == 0) {
		OPENSSL_cleanse(s, n);
		free(s);
	}
	return rc;
}

static int get_str(json_t *o, const char *k, char *out, size_t n, bool required, char *err,
                   size_t errlen)
{
	json_t *v = json_object_get(o, k);
	if (!v) {
		if (!required)
			return 0;
		snprintf(err, errlen, "\"%s\" is required", k);
		return -EINVAL;
	}
	const char *s = json_string_value(v);
	if (!s || !*s || strlen(s) >= n || !printable(s)) {
		snprintf(err, errlen, "\"%s\" must be a non-empty printable string of less than %zu bytes",
		         k, n);
		return -EINVAL;
	}
	snprintf(out, n, "%s", s);
	return 0;
}

int gb_inf_route_parse(json_t *o, bool load_secret, struct gb_inf_route **out, char *err,
                       size_t errlen)
{
	if (!json_is_object(o)) {
		snprintf(err, errlen, "the route must be a JSON object");
		return -EINVAL;
	}
	static const char *const known[] = { "provider", "type", "base_url", "credential_file",
		                             "model", "timeout_ms", "origin", "generation" };
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		bool ok = false;
		for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
			ok = ok || !strcmp(k, known[i]);
		if (!ok) {
			snprintf(err, errlen, "unknown route field \"%.64s\"", k);
			return -EINVAL;
		}
	}
	struct gb_inf_route *r = calloc(1, sizeof *r);
	if (!r)
		return -ENOMEM;
	char type[16];
	int rc;
	if ((rc = get_str(o, "provider", r->provider, sizeof r->provider, true, err, errlen)) < 0 ||
	    (rc = get_str(o, "type", type, sizeof type, true, err, errlen)) < 0 ||
	    (rc = get_str(o, "base_url", r->base_url, sizeof r->base_url, true, err, errlen)) < 0 ||
	    (rc = get_str(o, "credential_file", r->credential_file, sizeof r->credential_file, true,
	                  err, errlen)) < 0 ||
	    (rc = get_str(o, "model", r->model, sizeof r->model, true, err, errlen)) < 0)
		goto bad;
	if (!strcmp(type, "openai"))
		r->type = GB_INF_OPENAI;
	else if (!strcmp(type, "anthropic"))
		r->type = GB_INF_ANTHROPIC;
	else {
		snprintf(err, errlen, "\"type\" must be openai or anthropic");
		rc = -EINVAL;
		goto bad;
	}
	if (r->credential_file[0] != '/') {
		snprintf(err, errlen, "\"credential_file\" must be an absolute path");
		rc = -EINVAL;
		goto bad;
	}
	if ((rc = parse_base_url(r->base_url, r, err, errlen)) < 0)
		goto bad;
	r->timeout_ms = GB_INF_TIMEOUT_DEFAULT_MS;
	json_t *t = json_object_get(o, "timeout_ms");
	if (t) {
		json_int_t ms = json_integer_value(t);
		if (!json_is_integer(t) || ms < 100 || ms > 3600000) {
			snprintf(err, errlen, "\"timeout_ms\" must be an integer from 100 to 3600000");
			rc = -EINVAL;
			goto bad;
		}
		r->timeout_ms = (int)ms;
	}
	if (load_secret &&
	    (rc = read_secret(r->credential_file, &r->secret_, &r->secret_len_, err, errlen)) < 0)
		goto bad;
	*out = r;
	return 0;
bad:
	gb_inf_route_free(r);
	return rc;
}

json_t *gb_inf_route_json(const struct gb_inf_route *r)
{
	if (!r)
		return json_null();
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "provider", r->provider, "type",
	                      gb_inf_type_name(r->type), "base_url", r->base_url, "credential_file",
	                      r->credential_file, "model", r->model, "timeout_ms", r->timeout_ms);
	if (o && r->origin[0])
		json_object_set_new(o, "origin", json_string(r->origin));
	if (o && r->generation)
		json_object_set_new(o, "generation", json_integer((json_int_t)r->generation));
	return o ? o : json_null();
}

/* ---- control ---- */

static json_t *fail(const char *kind, const char *detail)
{
	return json_pack("{s:b, s:s, s:s}", "ok", 0, "error", kind, "detail", detail);
}

static json_t *answer(struct gb_inference *inf, int applied)
{
	const struct gb_inf_route *cur = gb_inference_get(inf);
	json_t *o = json_pack("{s:b, s:o}", "ok", 1, "route", gb_inf_route_json(cur));
	gb_inference_put(inf, cur);
	if (o && applied >= 0)
		json_object_set_new(o, "applied", json_boolean(applied));
	return o;
}

json_t *gb_inference_control(struct gb_inference *inf, json_t *req)
{
	const char *op = json_string_value(json_object_get(req, "op"));
	const char *scope = json_string_value(json_object_get(req, "scope"));
	if (!inf)
		return fail("internal", "this sandbox has no inference table");
	if (scope && strcmp(scope, "sandbox") && strcmp(scope, "default"))
		return fail("bad_request", "\"scope\" must be sandbox or default");
	bool dflt = scope && !strcmp(scope, "default");
	if (!op)
		return fail("bad_request", "\"op\" is required");
	if (!strcmp(op, "inference_get"))
		return answer(inf, -1);
	if (!strcmp(op, "inference_clear"))
		return answer(inf, gb_inference_set(inf, NULL, dflt));
	if (!strcmp(op, "inference_set")) {
		char err[600];
		struct gb_inf_route *r = NULL;
		int rc = gb_inf_route_parse(json_object_get(req, "route"), true, &r, err, sizeof err);
		if (rc < 0)
			return fail(rc == -EINVAL ? "invalid" : "credential", err);
		return answer(inf, gb_inference_set(inf, r, dflt));
	}
	return fail("bad_request", "unknown inference op (inference_get, inference_set, inference_clear)");
}

static const char *js(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

int gb_inference_describe(json_t *req, json_t *answer, char *out, size_t n)
{
	const char *op = json_string_value(json_object_get(req, "op"));
	const char *scope = json_string_value(json_object_get(req, "scope"));
	if (!op || !strcmp(op, "inference_get"))
		return -1;
	bool set = !strcmp(op, "inference_set");
	const char *sc = scope ? scope : "sandbox";
	if (!json_is_true(json_object_get(answer, "ok"))) {
		snprintf(out, n, "inference route %s (%s) refused: %s", set ? "set" : "clear", sc,
		         js(answer, "detail"));
		return 0;
	}
	if (!json_is_true(json_object_get(answer, "applied"))) {
		snprintf(out, n, "inference route %s (default) not applied: the sandbox has its own route",
		         set ? "set" : "clear");
		return 0;
	}
	json_t *r = json_object_get(answer, "route");
	if (!json_is_object(r)) {
		snprintf(out, n, "inference route cleared (%s): inference.local answers 503", sc);
		return 1;
	}
	snprintf(out, n, "inference route set (%s): provider %s (%s) %s model %s, credential file %s",
	         sc, js(r, "provider"),
	         js(r, "type"),
	         js(r, "base_url"),
	         js(r, "model"),
	         js(r, "credential_file"));
	return 1;
}

int gb_inference_default_path(char *out, size_t len, const char *root)
{
	return gb_path_under_root(out, len, root, "etc/glassbox/inference.json");
}

int gb_inference_load_default(struct gb_inference *inf, const char *root, char *err, size_t errlen)
{
	char path[4096];
	int rc = gb_inference_default_path(path, sizeof path, root);
	if (rc < 0)
		return rc;
	json_error_t je;
	json_t *o = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!o) {
		if (access(path, F_OK) != 0)
			return 0; /* no default route */
		snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
		return -EINVAL;
	}
	struct gb_inf_route *r = NULL;
	char e2[600];
	rc = gb_inf_route_parse(o, true, &r, e2, sizeof e2);
	json_decref(o);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, e2);
		return rc;
	}
	gb_inference_set(inf, r, true);
	return 0;
}
