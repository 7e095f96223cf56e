/* enforcer/proxy/inference_provider.c — what each provider type accepts and
 * what of the caller's request reaches it (see inference.h).
 *
 * Patterns are exact paths (a query is allowed, decided on the path alone):
 * an agent that can name any path of the provider's API with the host's key
 * could reach account, billing or file APIs the route was never meant for.
 * Headers are an allowlist, not a denylist: a header the list does not know
 * (a new auth scheme, a proxy header) is dropped rather than forwarded. */
#include "enforcer/proxy/inference.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct pat {
	enum gb_inf_type type;
	const char *method, *path;
	bool prefix; /* path + "/" + one segment */
};

static const struct pat pats[] = {
	{ GB_INF_OPENAI, "POST", "/v1/chat/completions", false },
	{ GB_INF_OPENAI, "POST", "/v1/completions", false },
	{ GB_INF_OPENAI, "POST", "/v1/responses", false },
	{ GB_INF_OPENAI, "POST", "/v1/embeddings", false },
	{ GB_INF_OPENAI, "GET", "/v1/models", false },
	{ GB_INF_OPENAI, "GET", "/v1/models", true },
	{ GB_INF_ANTHROPIC, "POST", "/v1/messages", false },
};

static bool path_is(const struct pat *p, const char *path)
{
	size_t n = strlen(p->path);
	if (strncmp(path, p->path, n))
		return false;
	if (!p->prefix)
		return path[n] == '\0';
	/* one more segment: /v1/models/ID, no dot segments, no deeper path */
	const char *seg = path + n;
	return seg[0] == '/' && seg[1] && !strchr(seg + 1, '/') && strcmp(seg + 1, ".") &&
	       strcmp(seg + 1, "..") && !strchr(seg + 1, '%');
}

int gb_inf_allowed(enum gb_inf_type t, const char *method, const char *path)
{
	bool known = false;
	for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
		if (!path_is(&pats[i], path))
			continue;
		known = true;
		if (pats[i].type == t && !strcmp(pats[i].method, method))
			return 0;
	}
	return known ? 403 : 404;
}

bool gb_inf_header_forwarded(enum gb_inf_type t, const char *name, size_t n)
{
	static const char *const common[] = { "content-type", "accept", "user-agent",
		                              "x-request-id", "idempotency-key" };
	static const char *const openai[] = { "openai-organization", "openai-project",
		                              "openai-beta", "x-model-id" };
	static const char *const anthropic[] = { "anthropic-version", "anthropic-beta" };
	const char *const *lists[] = { common, t == GB_INF_OPENAI ? openai : anthropic };
	size_t lens[] = { sizeof common / sizeof common[0],
		          t == GB_INF_OPENAI ? sizeof openai / sizeof openai[0]
		                             : sizeof anthropic / sizeof anthropic[0] };
	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < lens[l]; i++)
			if (strlen(lists[l][i]) == n && !strncasecmp(lists[l][i], name, n))
				return true;
	return false;
}

int gb_inf_rewrite_model(const char *body, size_t len, const char *model, char **out,
                         size_t *out_len, char *err, size_t errlen)
{
	*out = NULL;
	*out_len = 0;
	if (len == 0)
		return 0;
	json_error_t je;
	json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!o || !json_is_object(o)) {
		snprintf(err, errlen, "the request body must be a JSON object%s%s",
		         o ? "" : ": ", o ? "" : je.text);
		json_decref(o);
		return -EINVAL;
	}
	json_object_set_new(o, "model", json_string(model));
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*out = s;
	*out_len = strlen(s);
	return 0;
}

static void take_usage(json_t *u, struct gb_inf_usage *r)
{
	if (!json_is_object(u))
		return;
	static const char *const in[] = { "prompt_tokens", "input_tokens" };
	static const char *const outk[] = { "completion_tokens", "output_tokens" };
	for (size_t i = 0; i < 2; i++) {
		json_t *a = json_object_get(u, in[i]), *b = json_object_get(u, outk[i]);
		if (json_is_integer(a))
			r->input_tokens = json_integer_value(a);
		if (json_is_integer(b))
			r->output_tokens = json_integer_value(b);
	}
}

bool gb_inf_usage_wanted(const char *json, size_t len, const struct gb_inf_usage *u)
{
	if (!len || json[0] != '{')
		return false;
	return memmem(json, len, "usage", 5) || (!u->model[0] && memmem(json, len, "\"model\"", 7));
}

void gb_inf_usage_scan(const char *json, size_t len, struct gb_inf_usage *u)
{
	json_t *o = json_loadb(json, len, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return;
	}
	take_usage(json_object_get(o, "usage"), u);
	json_t *m = json_object_get(o, "message"); /* anthropic message_start */
	json_t *src = json_is_object(m) ? m : o;
	if (src != o)
		take_usage(json_object_get(m, "usage"), u);
	json_t *r = json_object_get(o, "response"); /* openai responses stream */
	if (json_is_object(r))
		take_usage(json_object_get(r, "usage"), u);
	const char *model = json_string_value(json_object_get(src, "model"));
	if (model)
		snprintf(u->model, sizeof u->model, "%s", model);
	json_decref(o);
}
