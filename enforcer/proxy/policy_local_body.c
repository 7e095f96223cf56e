/* enforcer/proxy/policy_local_body.c — a POST /v1/proposals body into the
 * policy file the supervisor validates (policy_local_http.h).  JSON is read
 * strictly (duplicate keys, unknown keys, more than one operation and any
 * operation but addRule are refused) and re-written by jansson, whose
 * output is valid YAML, so no byte of the agent's reaches the policy
 * loader except inside a quoted scalar that jansson escaped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "common/buf.h"
#include "enforcer/proxy/policy_local_http.h"

static bool is_json(const char *body, size_t n, const char *ctype)
{
	if (ctype && *ctype)
		return strcasestr(ctype, "json") != NULL;
	for (size_t i = 0; i < n; i++)
		if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r' && body[i] != '\n')
			return body[i] == '{';
	return false;
}

static int fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -EINVAL;
}

int gb_pl_body_policy(const char *body, size_t n, const char *ctype, struct gb_buf *out,
                      char *err, size_t errlen)
{
	if (!n)
		return fail(err, errlen, "empty body: send {\"operations\":[{\"addRule\":{\"ruleName\","
		            "\"rule\"}}]} or a policy file with one network_policies entry");
	if (!is_json(body, n, ctype)) {
		if (memchr(body, '\0', n))
			return fail(err, errlen, "the body holds a NUL byte");
		gb_buf_append(out, body, n);
		return out->err ? -ENOMEM : 0;
	}
	json_error_t je;
	json_t *j = json_loadb(body, n, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		snprintf(err, errlen, "body: JSON %d:%d: %s", je.line, je.column, je.text);
		return -EINVAL;
	}
	int rc = -EINVAL;
	const char *k;
	json_t *v, *ops = json_object_get(j, "operations");
	if (!json_is_object(j)) {
		fail(err, errlen, "body: a JSON object is expected");
		goto out;
	}
	json_object_foreach(j, k, v) {
		if (strcmp(k, "operations") && strcmp(k, "intent_summary")) {
			snprintf(err, errlen, "body: unknown field '%.100s' (operations, intent_summary)", k);
			goto out;
		}
	}
	v = json_object_get(j, "intent_summary");
	if (v && !json_is_string(v)) {
		fail(err, errlen, "body: intent_summary must be a string");
		goto out;
	}
	if (!json_is_array(ops) || json_array_size(ops) != 1) {
		fail(err, errlen, "body: operations must hold exactly one {\"addRule\": ...}");
		goto out;
	}
	json_t *op = json_array_get(ops, 0), *add = json_object_get(op, "addRule");
	if (!json_is_object(op) || json_object_size(op) != 1 || !json_is_object(add)) {
		fail(err, errlen, "body: the operation must be {\"addRule\": {\"ruleName\", \"rule\"}} "
		     "(only addRule is accepted)");
		goto out;
	}
	json_object_foreach(add, k, v) {
		if (strcmp(k, "ruleName") && strcmp(k, "rule")) {
			snprintf(err, errlen, "body: addRule: unknown field '%.100s' (ruleName, rule)", k);
			goto out;
		}
	}
	json_t *name = json_object_get(add, "ruleName"), *rule = json_object_get(add, "rule");
	if (!json_is_string(name) || !json_string_length(name) || json_string_length(name) > 200) {
		fail(err, errlen, "body: addRule.ruleName must be a string of 1 to 200 bytes");
		goto out;
	}
	if (!json_is_object(rule)) {
		fail(err, errlen, "body: addRule.rule must be an object (endpoints, binaries)");
		goto out;
	}
	json_t *doc = json_pack("{s:i, s:{s:O}}", "version", 1, "network_policies",
	                        json_string_value(name), rule);
	char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	json_decref(doc);
	if (!s) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	gb_buf_puts(out, s);
	free(s);
	rc = out->err ? -ENOMEM : 0;
out:
	json_decref(j);
	return rc;
}
