/* enforcer/proxy/inference.h — `inference.local`: model routing with a
 * credential the sandbox never holds (docs/inference.md).
 *
 * The proxy answers `CONNECT inference.local:443` (TLS terminated with the
 * sandbox CA) and `http://inference.local/...` itself, before any policy
 * evaluation, and calls the configured provider from the host side with the
 * host's credential.  This header is the route table the supervisor holds
 * and changes live (its control socket), and the pure pieces of the
 * protocol (provider patterns, header allowlist, model rewrite) that the
 * serving thread (inference_serve.c) and the unit tests use.
 *
 *   inference_route.c     the route: parse/validate (JSON), the credential
 *                         file (regular, root-owned, 0600, one line), the
 *                         table (a refcounted snapshot behind a mutex), the
 *                         control-socket ops and the host default file
 *   inference_provider.c  the provider types' request patterns, the header
 *                         allowlist, the body's `model` rewrite, token usage
 *   inference_serve.c     the connection: TLS termination, request by
 *                         request, refusals, keep-alive isolation, records
 *   inference_upstream.c  the provider call: resolve, connect, TLS, the
 *                         response relayed chunk by chunk (SSE unbuffered)
 *
 * Ownership: gb_inference_new() makes the table (the supervisor or
 * `glassbox proxy`); the proxy borrows it (gb_proxy_opts.inference) and it
 * is freed after the proxy stopped.  Its functions are thread-safe.  A route
 * from gb_inference_get() is a reference the caller drops with
 * gb_inference_put(); the secret it carries is wiped when the last
 * reference goes.
 */
#ifndef GB_ENFORCER_PROXY_INFERENCE_H
#define GB_ENFORCER_PROXY_INFERENCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GB_INFERENCE_HOST "inference.local"
#define GB_INF_TIMEOUT_DEFAULT_MS 60000
#define GB_INF_IDLE_MS 120000           /* longest gap between streamed chunks */
#define GB_INF_STREAM_CAP (32u << 20)   /* bytes of one response */
#define GB_INF_STREAM_MAX_MS 3600000    /* longest streamed response */
#define GB_INF_BODY_MAX (10u << 20)     /* bytes of one request body */
#define GB_INF_SECRET_MAX 4096

enum gb_inf_type { GB_INF_OPENAI = 1, GB_INF_ANTHROPIC = 2 };

struct gb_inf_route {
	char provider[64];
	enum gb_inf_type type;
	char base_url[512];
	bool tls;            /* https base URL */
	char host[256];      /* of the base URL (brackets removed) */
	uint16_t port;
	char prefix[256];    /* the base URL's path, "" or "/x/y" (no trailing '/') */
	char credential_file[512];
	char model[256];
	int timeout_ms;      /* non-streaming request; streaming: to the response head */
	char origin[16];     /* "default" (the host default) or "sandbox" */
	uint64_t generation; /* counts changes of the table */
	/* private */
	char *secret_;
	size_t secret_len_;
	int refs_;
};

struct gb_inference;

/* true when host names inference.local (any case, an optional final dot). */
bool gb_inference_host(const char *host);
const char *gb_inf_type_name(enum gb_inf_type t);

int gb_inference_new(struct gb_inference **out);
void gb_inference_free(struct gb_inference *inf);

/* The current route (a reference) or NULL when none is configured. */
const struct gb_inf_route *gb_inference_get(struct gb_inference *inf);
void gb_inference_put(struct gb_inference *inf, const struct gb_inf_route *r);
/* The provider's address, remembered for GB_INF_ADDR_TTL_MS per route (a
 * resolver per request cost more than the rest of the call): 1 and *ss, or
 * 0 when none is remembered; _remember stores one. */
#define GB_INF_ADDR_TTL_MS 5000
struct sockaddr_storage;
int gb_inference_addr_recall(struct gb_inference *inf, const struct gb_inf_route *r,
                             struct sockaddr_storage *ss);
void gb_inference_addr_remember(struct gb_inference *inf, const struct gb_inf_route *r,
                                const struct sockaddr_storage *ss);
/* The secret of r (not NUL-terminated), for the serving thread only. */
const char *gb_inf_secret(const struct gb_inf_route *r, size_t *len);

/* Parse a route object ({"provider","type","base_url","credential_file",
 * "model","timeout_ms"?}) and, when load_secret, read its credential file.
 * *out is freed with gb_inf_route_free.  0, or -EINVAL / -EACCES / -errno
 * with a sentence in err (never the secret). */
int gb_inf_route_parse(json_t *o, bool load_secret, struct gb_inf_route **out, char *err,
                       size_t errlen);
void gb_inf_route_free(struct gb_inf_route *r);
/* The route as JSON, credential by reference only (its path). */
json_t *gb_inf_route_json(const struct gb_inf_route *r);
/* Check a credential file the way the supervisor does: regular, not a
 * symlink, owned by root, no group/other permission, one non-empty line
 * without control bytes.  0 or -errno with a sentence. */
int gb_inf_credential_check(const char *path, char *err, size_t errlen);

/* Replace the route (r is taken; NULL clears).  scope_default: only when
 * the current route is absent or itself the default (a sandbox's own route
 * wins over the host default); returns 1 applied, 0 kept, or -errno. */
int gb_inference_set(struct gb_inference *inf, struct gb_inf_route *r, bool scope_default);

/* The control-socket ops (enforcer/sandbox/control.c relays them here):
 *   {"op":"inference_get"}                       -> {"ok":true,"route":{..}|null}
 *   {"op":"inference_set","route":{..},"scope":"sandbox"|"default"}
 *   {"op":"inference_clear","scope":"sandbox"|"default"}
 *                                                -> {"ok":true,"applied":B,"route":..}
 * Failures {"ok":false,"error":"bad_request"|"invalid"|"credential","detail"}. */
json_t *gb_inference_control(struct gb_inference *inf, json_t *req);

/* The CONFIG record's text for a control op and its answer: 1 = a change
 * applied, 0 = refused or kept, -1 = nothing to record (a get).  Names the
 * route and the credential's file, never the secret. */
int gb_inference_describe(json_t *req, json_t *answer, char *out, size_t n);

/* The host default route file: <root>/etc/glassbox/inference.json. */
int gb_inference_default_path(char *out, size_t len, const char *root);
/* Load the host default into inf (a missing file is no route: 0).  A file
 * that cannot be used is a warning and no route: -errno with err. */
int gb_inference_load_default(struct gb_inference *inf, const char *root, char *err, size_t errlen);

/* ---- inference_provider.c ---- */

/* Is METHOD PATH (no query) an API call the type serves?  0 yes, 404 no
 * such inference API, 403 an inference API this provider type does not
 * serve or with another method. */
int gb_inf_allowed(enum gb_inf_type t, const char *method, const char *path);
/* Is the caller's header name forwarded?  Everything else is dropped,
 * credentials and hop-by-hop headers above all. */
bool gb_inf_header_forwarded(enum gb_inf_type t, const char *name, size_t n);
/* Replace "model" in a JSON object body by model into *out (malloc'd).
 * An empty body stays empty.  0, or -EINVAL with a sentence. */
int gb_inf_rewrite_model(const char *body, size_t len, const char *model, char **out,
                         size_t *out_len, char *err, size_t errlen);

struct gb_inf_usage {
	int64_t input_tokens, output_tokens; /* -1 unknown */
	char model[128];                     /* the model the provider says it used */
};
/* Take what a JSON object (a response body or an SSE data payload) says
 * about token usage (OpenAI `usage.prompt_tokens/completion_tokens`,
 * Anthropic `usage.input_tokens/output_tokens`, `message.usage`). */
void gb_inf_usage_scan(const char *json, size_t len, struct gb_inf_usage *u);
/* Whether an SSE data payload is worth gb_inf_usage_scan: it names "usage",
 * or "model" while no model is known yet.  Every OpenAI chunk names the
 * model; parsing each one (jansson, ~7 us of CPU a chunk) told nothing
 * new, so the first model named is the one kept. */
bool gb_inf_usage_wanted(const char *json, size_t len, const struct gb_inf_usage *u);

#endif
