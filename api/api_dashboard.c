/* api/api_dashboard.c — POST /v1/dashboard: what `glassbox dashboard`
 * asks the daemon for (api_int.h).
 *
 * Only on the unix socket (root only): it mints a credential.  It starts
 * the TCP listener on a loopback address when none runs (body
 * {"listen":"127.0.0.1:PORT"}, default 127.0.0.1:0, a port the kernel
 * picks) or reuses the one that runs (then "listen" is ignored: the URL
 * names the listener's own address), and answers a fresh random token for
 * it: {"url","port","token","reused"}.  Each call mints a new token (one per
 * `glassbox dashboard`), valid until the daemon stops; at most
 * MAX_TOKENS live at once, the oldest forgotten first.  Only SHA-256
 * digests are kept, compared like the configured token (CRYPTO_memcmp).
 *
 * Threads: the table and the listener start are under one mutex; token
 * checks come from the TCP listener's connection threads. */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"

#define MAX_TOKENS 16

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned char toks[MAX_TOKENS][32];
static int used[MAX_TOKENS];
static unsigned next_slot;

int api_dashboard_token_ok(const char *t)
{
	unsigned char md[32];
	unsigned mdlen = 0;
	if (!EVP_Digest(t, strlen(t), md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return 0;
	int ok = 0;
	pthread_mutex_lock(&mu);
	for (unsigned i = 0; i < MAX_TOKENS; i++) /* every slot: no early exit */
		ok |= used[i] & (CRYPTO_memcmp(md, toks[i], 32) == 0);
	pthread_mutex_unlock(&mu);
	return ok;
}

void api_dashboard_stop(struct gb_api *a)
{
	(void)a;
	pthread_mutex_lock(&mu); /* waits for a start in progress */
	OPENSSL_cleanse(toks, sizeof toks);
	memset(used, 0, sizeof used);
	next_slot = 0;
	pthread_mutex_unlock(&mu);
}

/* HOST:PORT with HOST a loopback address: the dashboard is for this host. */
static int loopback(const char *spec)
{
	char host[64];
	const char *colon = strrchr(spec, ':');
	if (!colon || (size_t)(colon - spec) >= sizeof host)
		return 0;
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = 0;
	struct in_addr v4;
	if (inet_pton(AF_INET, host, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	return !strcmp(host, "[::1]");
}

enum MHD_Result api_dashboard(struct api_req *r)
{
	if (strcmp(r->method, "POST"))
		return api_error(r, 405, "method_not_allowed", "POST only");
	if (r->on_tcp)
		return api_error(r, 403, "forbidden", "dashboard tokens are minted on the unix "
		                 "socket only (glassbox dashboard)");
	const char *listen = "127.0.0.1:0";
	json_t *body = NULL;
	if (r->body_len) {
		json_error_t je;
		body = json_loadb(r->body, r->body_len, 0, &je);
		if (!json_is_object(body)) {
			json_decref(body);
			return api_error(r, 400, "bad_request", "body: a JSON object {\"listen\": "
			                 "\"127.0.0.1:PORT\"} or nothing");
		}
		const char *l = json_string_value(json_object_get(body, "listen"));
		if (l)
			listen = l;
	}
	if (!loopback(listen)) {
		enum MHD_Result rc = api_error(r, 400, "bad_request", "listen '%s': the dashboard "
		                               "listens on a loopback address only (127.0.0.1:PORT)",
		                               listen);
		json_decref(body);
		return rc;
	}
	unsigned char raw[32];
	char hex[65];
	if (RAND_bytes(raw, sizeof raw) != 1) {
		json_decref(body);
		return api_error(r, 500, "internal", "no random bytes for a token");
	}
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	OPENSSL_cleanse(raw, sizeof raw);

	pthread_mutex_lock(&mu);
	char err[512] = "";
	int reused = 0, rc = 0;
	if (atomic_load(&r->api->stopping))
		rc = -ESHUTDOWN;
	else if ((rc = api_tcp_start(r->api, listen, err, sizeof err)) == 1)
		reused = 1, rc = 0;
	char host[INET6_ADDRSTRLEN + 2];
	unsigned port = rc ? 0 : api_tcp_addr(r->api, host, sizeof host);
	if (!rc) {
		unsigned mdlen = 0;
		unsigned s = next_slot++ % MAX_TOKENS;
		EVP_Digest(hex, 64, toks[s], &mdlen, EVP_sha256(), NULL);
		used[s] = mdlen == 32;
	}
	pthread_mutex_unlock(&mu);
	json_decref(body);
	if (rc == -ESHUTDOWN)
		return api_error(r, 503, "stopping", "the daemon is shutting down");
	if (rc)
		return api_error(r, 409, "listen_failed", "%s", err);
	char url[96];
	snprintf(url, sizeof url, "http://%s:%u/", host, port);
	enum MHD_Result qr = api_json(r, 200, json_pack("{s:s, s:I, s:s, s:b}", "url", url, "port",
	                                                (json_int_t)port, "token", hex, "reused",
	                                                reused));
	OPENSSL_cleanse(hex, sizeof hex);
	return qr;
}
