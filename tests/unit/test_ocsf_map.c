/* Unit tests for the OCSF mapping (exporter/ocsf*.c) and the shorthand
 * renderer: every record type, full and minimal, parsed back with jansson
 * and checked field by field; hostile strings round-trip exactly; bad
 * records are refused without leaving half an event in the buffer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "exporter/ocsf.h"

#define SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define TS 1787313600123456789ull

static const struct gb_ocsf_ctx ctx = { "demo", "sbx-0001", "host1", "9.9.9" };

/* The Kafka key scan finds exactly `want` in the event. */
static void assert_key(const struct gb_buf *b, const char *want)
{
	size_t n = 0;
	const char *k = gb_ocsf_log_name(b->data, b->len, &n);
	assert_non_null(k);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(k, want, n);
}

/* Format rec, parse it, check the envelope every event must have. */
static json_t *fmt(struct gb_record *r, int class_uid, int activity_id)
{
	struct gb_buf b = GB_BUF_INIT;
	json_error_t err;
	if (!r->seq)
		r->seq = 42;
	if (!r->ts_ns)
		r->ts_ns = TS;
	struct gb_ocsf_meta meta;
	memset(&meta, 0xa5, sizeof meta);
	assert_int_equal(gb_ocsf_format(&ctx, r, &b, &meta), 0);
	assert_non_null(b.data);
	assert_null(memchr(b.data, '\n', b.len)); /* one line */
	json_t *ev = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, &err);
	if (!ev)
		fail_msg("not JSON: %s: %.*s", err.text, (int)b.len, b.data);
	/* what the formatter says it wrote is what it wrote (the journal index
	 * and the Kafka key are taken from meta, not from the JSON) */
	assert_int_equal(meta.class_uid, json_integer_value(json_object_get(ev, "class_uid")));
	assert_int_equal(meta.activity_id, json_integer_value(json_object_get(ev, "activity_id")));
	assert_int_equal(meta.severity_id, json_integer_value(json_object_get(ev, "severity_id")));
	assert_string_equal(meta.log_name, "demo");
	assert_key(&b, "demo");
	gb_buf_free(&b);

	assert_int_equal(json_integer_value(json_object_get(ev, "class_uid")), class_uid);
	assert_int_equal(json_integer_value(json_object_get(ev, "activity_id")), activity_id);
	assert_int_equal(json_integer_value(json_object_get(ev, "type_uid")), class_uid * 100 + activity_id);
	assert_int_equal(json_integer_value(json_object_get(ev, "category_uid")), class_uid / 1000);
	for (const char *const *k = (const char *const[]){ "class_name", "category_name", "activity_name",
	                                                     "type_name", "severity", NULL };
	     *k; k++)
		assert_true(json_string_length(json_object_get(ev, *k)) > 0);
	assert_int_equal(json_integer_value(json_object_get(ev, "time")), (json_int_t)(r->ts_ns / 1000000u));
	json_t *md = json_object_get(ev, "metadata");
	assert_string_equal(json_string_value(json_object_get(md, "version")), "1.8.0");
	char uid[64];
	snprintf(uid, sizeof uid, "sbx-0001:%llu", (unsigned long long)r->seq);
	assert_string_equal(json_string_value(json_object_get(md, "uid")), uid);
	assert_int_equal(json_integer_value(json_object_get(md, "sequence")), (json_int_t)r->seq);
	assert_string_equal(json_string_value(json_object_get(md, "log_name")), "demo");
	json_t *prod = json_object_get(md, "product");
	assert_string_equal(json_string_value(json_object_get(prod, "name")), "glassbox");
	assert_string_equal(json_string_value(json_object_get(prod, "vendor_name")), "glassbox");
	assert_string_equal(json_string_value(json_object_get(prod, "version")), "9.9.9");
	assert_true(json_array_size(json_object_get(md, "profiles")) >= 1);
	json_t *dev = json_object_get(ev, "device");
	assert_string_equal(json_string_value(json_object_get(dev, "hostname")), "host1");
	assert_string_equal(json_string_value(json_object_get(json_object_get(dev, "container"), "uid")), "sbx-0001");
	return ev;
}

/* Dotted path lookup: "actor.process.file.hashes.0.value". */
static json_t *get(json_t *o, const char *path)
{
	char key[64];
	while (o && *path) {
		size_t n = strcspn(path, ".");
		assert_true(n < sizeof key);
		memcpy(key, path, n);
		key[n] = 0;
		if (json_is_array(o))
			o = json_array_get(o, (size_t)strtoul(key, NULL, 10));
		else
			o = json_object_get(o, key);
		path += n + (path[n] == '.');
	}
	return o;
}

static const char *gs(json_t *o, const char *path)
{
	json_t *v = get(o, path);
	if (!json_is_string(v))
		fail_msg("%s: not a string", path);
	return json_string_value(v);
}

static json_int_t gi(json_t *o, const char *path)
{
	json_t *v = get(o, path);
	if (!json_is_integer(v))
		fail_msg("%s: not an integer", path);
	return json_integer_value(v);
}

static bool has_profile(json_t *ev, const char *p)
{
	size_t i;
	json_t *v;
	json_array_foreach(get(ev, "metadata.profiles"), i, v)
		if (strcmp(json_string_value(v), p) == 0)
			return true;
	return false;
}

static struct gb_identity ident(void)
{
	struct gb_identity id = { .pid = 4242, .uid = 1000, .flags = GB_ID_INTERPRETER | GB_ID_EXE_DELETED,
	                          .exe = "/usr/bin/python3.11", .sha256 = SHA, .script = "/w/app.py",
	                          .n_ancestors = 3 };
	id.ancestor_pids[0] = 4200, id.ancestors[0] = "/bin/bash";
	id.ancestor_pids[1] = 4100, id.ancestors[1] = "/usr/bin/node";
	id.ancestor_pids[2] = 0, id.ancestors[2] = "/usr/bin/glassbox";
	return id;
}

static struct gb_record net_rec(uint8_t verdict, uint16_t reason)
{
	struct gb_record r = { .type = GB_REC_NET_DECISION };
	r.u.net = (struct gb_net_decision){ .phase = GB_NET_OPEN, .kind = GB_NET_CONNECT, .verdict = verdict,
	                                    .reason = reason, .conn_id = 77, .policy_rev = 5,
	                                    .src = { "", "10.200.0.2", 40000 },
	                                    .dst = { "api.github.com", "198.18.0.10", 443 }, .id = ident(),
	                                    .reason_text = reason ? "why" : "",
	                                    .policy_entry = verdict ? "github" : "",
	                                    .endpoint = verdict ? "api.github.com:443" : "" };
	return r;
}

static void test_net_open_allowed(void **state)
{
	struct gb_record r = net_rec(GB_VERDICT_ALLOW, GB_R_NONE);
	json_t *ev = fmt(&r, 4001, 1);
	assert_string_equal(gs(ev, "activity_name"), "Open");
	assert_string_equal(gs(ev, "type_name"), "Network Activity: Open");
	assert_int_equal(gi(ev, "severity_id"), 1);
	assert_string_equal(gs(ev, "severity"), "Informational");
	assert_string_equal(gs(ev, "status"), "Success");
	assert_int_equal(gi(ev, "action_id"), 1);
	assert_string_equal(gs(ev, "action"), "Allowed");
	assert_string_equal(gs(ev, "disposition"), "Allowed");
	assert_int_equal(gi(ev, "actor.process.pid"), 4242);
	assert_string_equal(gs(ev, "actor.process.name"), "python3.11");
	assert_string_equal(gs(ev, "actor.process.file.path"), "/usr/bin/python3.11");
	assert_string_equal(gs(ev, "actor.process.file.hashes.0.algorithm"), "SHA-256");
	assert_string_equal(gs(ev, "actor.process.file.hashes.0.value"), SHA);
	assert_true(json_is_true(get(ev, "actor.process.file.is_deleted")));
	assert_string_equal(gs(ev, "actor.process.user.uid"), "1000");
	assert_int_equal(gi(ev, "actor.process.parent_process.pid"), 4200);
	assert_string_equal(gs(ev, "actor.process.parent_process.file.path"), "/bin/bash");
	assert_int_equal(gi(ev, "actor.process.parent_process.parent_process.pid"), 4100);
	/* the third ancestor has no pid: not in the chain, but in ancestry */
	assert_null(get(ev, "actor.process.parent_process.parent_process.parent_process"));
	assert_int_equal(json_array_size(get(ev, "actor.process.ancestry")), 3);
	assert_string_equal(gs(ev, "actor.process.ancestry.2.path"), "/usr/bin/glassbox");
	assert_string_equal(gs(ev, "dst_endpoint.hostname"), "api.github.com");
	assert_string_equal(gs(ev, "dst_endpoint.ip"), "198.18.0.10");
	assert_int_equal(gi(ev, "dst_endpoint.port"), 443);
	assert_string_equal(gs(ev, "src_endpoint.ip"), "10.200.0.2");
	assert_string_equal(gs(ev, "connection_info.uid"), "sbx-0001:c77");
	assert_int_equal(gi(ev, "connection_info.protocol_ver_id"), 4);
	assert_string_equal(gs(ev, "firewall_rule.name"), "github");
	assert_string_equal(gs(ev, "firewall_rule.version"), "5");
	assert_string_equal(gs(ev, "firewall_rule.condition"), "api.github.com:443");
	assert_string_equal(gs(ev, "unmapped.script"), "/w/app.py");
	assert_string_equal(gs(ev, "unmapped.identity_flags.0"), "interpreter");
	assert_int_equal(json_array_size(get(ev, "unmapped.identity_flags")), 1); /* exe_deleted is mapped */
	assert_true(has_profile(ev, "security_control") && has_profile(ev, "host") && has_profile(ev, "container"));
	json_decref(ev);
}

static void test_net_denials(void **state)
{
	static const struct { uint16_t reason; int act, sev, disp; const char *rule; } t[] = {
		{ GB_R_NO_ENDPOINT, 5, 3, 2, "default_deny" },
		{ GB_R_BINARY_NOT_ALLOWED, 5, 3, 2, "binary_not_allowed" },
		{ GB_R_SSRF, 5, 3, 2, "ssrf" },
		{ GB_R_DNS_FAILED, 4, 2, 27, "dns_failed" },
		{ GB_R_UPSTREAM_FAILED, 4, 2, 27, "upstream_failed" },
		{ GB_R_BINARY_CHANGED, 5, 4, 2, "binary_changed" },
		{ GB_R_BAD_REQUEST, 5, 2, 25, "bad_request" },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct gb_record r = net_rec(GB_VERDICT_DENY, t[i].reason);
		r.u.net.ssrf_tier = t[i].reason == GB_R_SSRF ? GB_SSRF_LINK_LOCAL : 0;
		json_t *ev = fmt(&r, 4001, t[i].act);
		assert_int_equal(gi(ev, "severity_id"), t[i].sev);
		assert_int_equal(gi(ev, "status_id"), 2);
		assert_string_equal(gs(ev, "status"), "Failure");
		assert_int_equal(gi(ev, "action_id"), 2);
		assert_string_equal(gs(ev, "action"), "Denied");
		assert_int_equal(gi(ev, "disposition_id"), t[i].disp);
		assert_string_equal(gs(ev, "firewall_rule.name"), t[i].rule);
		assert_non_null(strstr(gs(ev, "message"), "denied api.github.com:443: why"));
		if (t[i].reason == GB_R_SSRF)
			assert_string_equal(gs(ev, "unmapped.ssrf_tier"), "link_local");
		json_decref(ev);
	}
}

static void test_net_close(void **state)
{
	struct gb_record r = net_rec(GB_VERDICT_ALLOW, GB_R_NONE);
	r.u.net.phase = GB_NET_CLOSE;
	r.u.net.bytes_up = 100;
	r.u.net.bytes_down = 5000;
	r.u.net.duration_ns = 2500000000ull;
	json_t *ev = fmt(&r, 4001, 2);
	assert_string_equal(gs(ev, "activity_name"), "Close");
	assert_int_equal(gi(ev, "traffic.bytes_out"), 100);
	assert_int_equal(gi(ev, "traffic.bytes_in"), 5000);
	assert_int_equal(gi(ev, "traffic.bytes"), 5100);
	assert_int_equal(gi(ev, "duration"), 2500);
	assert_int_equal(gi(ev, "end_time"), (json_int_t)(TS / 1000000));
	assert_int_equal(gi(ev, "start_time"), (json_int_t)(TS / 1000000 - 2500));
	assert_string_equal(gs(ev, "connection_info.uid"), "sbx-0001:c77");
	assert_null(get(ev, "action_id")); /* the decision was on the OPEN event */
	json_decref(ev);
}

static void test_net_minimal(void **state)
{
	struct gb_record r = { .type = GB_REC_NET_DECISION };
	r.u.net = (struct gb_net_decision){ .phase = GB_NET_OPEN, .kind = GB_NET_FORWARD, .verdict = GB_VERDICT_DENY,
	                                    .reason = GB_R_IDENTITY_FAILED };
	json_t *ev = fmt(&r, 4001, 5);
	assert_null(get(ev, "actor"));
	assert_null(get(ev, "src_endpoint"));
	assert_string_equal(gs(ev, "dst_endpoint.name"), "unknown");
	assert_string_equal(gs(ev, "app_protocol_name"), "http");
	assert_false(has_profile(ev, "linux/linux_users"));
	json_decref(ev);
}

static struct gb_record http_rec(const char *method, uint8_t verdict, uint8_t mode, uint16_t reason)
{
	struct gb_record r = { .type = GB_REC_HTTP_DECISION };
	r.u.http = (struct gb_http_decision){ .verdict = verdict, .mode = mode, .reason = reason, .status = 201,
	                                      .conn_id = 77, .policy_rev = 5, .dst = { "api.github.com", "198.18.0.10", 443 },
	                                      .id = ident(), .method = method, .scheme = "https", .path = "/repos/a",
	                                      .query = "page=REDACTED", .rule = "POST /repos/**",
	                                      .policy_entry = "github" };
	return r;
}

static void test_http(void **state)
{
	struct gb_record r = http_rec("POST", GB_VERDICT_ALLOW, GB_MODE_ENFORCE, GB_R_NONE);
	json_t *ev = fmt(&r, 4002, 6);
	assert_string_equal(gs(ev, "activity_name"), "Post");
	assert_string_equal(gs(ev, "http_request.http_method"), "POST");
	assert_string_equal(gs(ev, "http_request.url.url_string"), "https://api.github.com/repos/a?page=REDACTED");
	assert_string_equal(gs(ev, "http_request.url.path"), "/repos/a");
	assert_int_equal(gi(ev, "http_response.code"), 201);
	/* tied to its connection and process */
	assert_string_equal(gs(ev, "connection_info.uid"), "sbx-0001:c77");
	assert_int_equal(gi(ev, "actor.process.pid"), 4242);
	assert_string_equal(gs(ev, "firewall_rule.condition"), "POST /repos/**");
	assert_string_equal(gs(ev, "disposition"), "Allowed");
	json_decref(ev);

	r = http_rec("DELETE", GB_VERDICT_ALLOW, GB_MODE_AUDIT, GB_R_L7_NOT_PERMITTED);
	ev = fmt(&r, 4002, 2);
	assert_int_equal(gi(ev, "severity_id"), 2);
	assert_string_equal(gs(ev, "action"), "Allowed");
	assert_string_equal(gs(ev, "disposition"), "Detected");
	assert_string_equal(gs(ev, "unmapped.mode"), "audit");
	assert_string_equal(gs(ev, "status_detail"), "l7_not_permitted");
	json_decref(ev);

	r = http_rec("PROPFIND", GB_VERDICT_DENY, GB_MODE_ENFORCE, GB_R_L7_DENY_RULE);
	r.u.http.dst.port = 8443;
	ev = fmt(&r, 4002, 99);
	assert_string_equal(gs(ev, "activity_name"), "Other");
	assert_null(get(ev, "http_request.http_method"));
	assert_string_equal(gs(ev, "unmapped.http_method"), "PROPFIND");
	assert_string_equal(gs(ev, "http_request.url.url_string"), "https://api.github.com:8443/repos/a?page=REDACTED");
	assert_string_equal(gs(ev, "action"), "Denied");
	assert_string_equal(gs(ev, "disposition"), "Blocked");
	json_decref(ev);

	r = (struct gb_record){ .type = GB_REC_HTTP_DECISION };
	r.u.http.verdict = GB_VERDICT_ALLOW;
	ev = fmt(&r, 4002, 99);
	assert_string_equal(gs(ev, "http_request.url.url_string"), "http://unknown/");
	assert_null(get(ev, "actor"));
	json_decref(ev);
}

static void test_proc(void **state)
{
	struct gb_record r = { .type = GB_REC_PROC };
	r.u.proc = (struct gb_proc){ .activity = GB_PROC_LAUNCH, .pid = 10, .ppid = 9, .uid = 1000, .gid = 1001,
	                             .exe = "/usr/bin/env", .sha256 = SHA, .argc = 3,
	                             .argv = { "env", "a b", "q\"uote" } };
	json_t *ev = fmt(&r, 1007, 1);
	assert_int_equal(gi(ev, "process.pid"), 10);
	assert_string_equal(gs(ev, "process.file.hashes.0.value"), SHA);
	assert_string_equal(gs(ev, "process.cmd_line"), "env \"a b\" \"q\\\"uote\"");
	assert_string_equal(gs(ev, "process.user.uid"), "1000");
	assert_string_equal(gs(ev, "process.group.uid"), "1001");
	assert_int_equal(gi(ev, "process.parent_process.pid"), 9);
	assert_int_equal(gi(ev, "actor.process.pid"), 9);
	assert_string_equal(gs(ev, "launch_type"), "Spawn");
	assert_true(has_profile(ev, "linux/linux_users"));
	json_decref(ev);

	r.u.proc.activity = GB_PROC_EXIT;
	r.u.proc.exit_code = -1;
	r.u.proc.signal = 9;
	r.u.proc.duration_ns = 3000000000ull;
	ev = fmt(&r, 1007, 2);
	assert_string_equal(gs(ev, "activity_name"), "Terminate");
	assert_int_equal(gi(ev, "exit_code"), -1);
	assert_int_equal(gi(ev, "severity_id"), 2);
	assert_string_equal(gs(ev, "unmapped.signal_name"), "SIGKILL");
	assert_int_equal(gi(ev, "duration"), 3000);
	assert_int_equal(gi(ev, "process.terminated_time"), (json_int_t)(TS / 1000000));
	assert_non_null(strstr(gs(ev, "message"), "killed by SIGKILL"));
	json_decref(ev);

	r.u.proc.activity = GB_PROC_PRIV_DROP;
	r.u.proc.detail = "uid 1000 gid 1001";
	ev = fmt(&r, 1007, 5);
	assert_string_equal(gs(ev, "activity_name"), "Set User ID");
	assert_non_null(strstr(gs(ev, "message"), "uid 1000 gid 1001"));
	json_decref(ev);

	r = (struct gb_record){ .type = GB_REC_PROC };
	r.u.proc.activity = GB_PROC_EXIT;
	ev = fmt(&r, 1007, 2);
	assert_int_equal(gi(ev, "process.pid"), 0);
	assert_string_equal(gs(ev, "actor.app_name"), "glassbox");
	json_decref(ev);
}

static void test_finding(void **state)
{
	struct gb_record r = { .type = GB_REC_FINDING };
	r.u.finding = (struct gb_finding){ .kind = GB_F_BINARY_CHANGED, .severity = GB_SEV_HIGH, .has_identity = 1,
	                                   .id = ident(), .title = "Binary changed", .detail = "hash differs",
	                                   .subject = "/usr/bin/python3.11" };
	r.seq = 7;
	json_t *ev = fmt(&r, 2004, 1);
	assert_string_equal(gs(ev, "finding_info.uid"), "sbx-0001:7");
	assert_string_equal(gs(ev, "finding_info.title"), "Binary changed");
	assert_string_equal(gs(ev, "finding_info.desc"), "hash differs");
	assert_string_equal(gs(ev, "finding_info.types.0"), "binary_changed");
	assert_int_equal(gi(ev, "severity_id"), 4);
	assert_true(json_is_true(get(ev, "is_alert")));
	assert_string_equal(gs(ev, "status"), "New");
	assert_string_equal(gs(ev, "disposition"), "Blocked");
	assert_int_equal(gi(ev, "evidences.0.process.pid"), 4242);
	assert_string_equal(gs(ev, "evidences.0.data.subject"), "/usr/bin/python3.11");
	json_decref(ev);

	r.u.finding = (struct gb_finding){ .kind = GB_F_LANDLOCK_DENIED, .severity = GB_SEV_MEDIUM, .subject = "/etc/shadow" };
	ev = fmt(&r, 2004, 1);
	assert_string_equal(gs(ev, "evidences.0.file.path"), "/etc/shadow");
	assert_null(get(ev, "actor"));
	json_decref(ev);

	r.u.finding = (struct gb_finding){ .kind = GB_F_LANDLOCK_UNAVAILABLE, .severity = GB_SEV_LOW };
	ev = fmt(&r, 2004, 1);
	assert_string_equal(gs(ev, "action"), "Observed");
	assert_string_equal(gs(ev, "disposition"), "Detected");
	assert_false(json_is_true(get(ev, "is_alert")));
	assert_null(get(ev, "evidences"));
	assert_string_equal(gs(ev, "finding_info.title"), "landlock_unavailable");
	json_decref(ev);
}

static void test_config(void **state)
{
	struct gb_record r = { .type = GB_REC_CONFIG };
	r.u.config = (struct gb_config){ .action = GB_CFG_UPDATED, .revision = 12, .sha256 = SHA, .source = "api" };
	json_t *ev = fmt(&r, 5019, 1);
	assert_string_equal(gs(ev, "activity_name"), "Log");
	assert_string_equal(gs(ev, "status_detail"), "updated");
	assert_string_equal(gs(ev, "policy.version"), "12");
	assert_string_equal(gs(ev, "policy.uid"), "sha256:" SHA);
	assert_string_equal(gs(ev, "policy.data.source"), "api");
	assert_true(json_is_true(get(ev, "policy.is_applied")));
	assert_string_equal(gs(ev, "status"), "Success");
	json_decref(ev);

	r.u.config = (struct gb_config){ .action = GB_CFG_REFUSED, .detail = "3:5: unknown field" };
	ev = fmt(&r, 5019, 1);
	assert_string_equal(gs(ev, "status"), "Failure");
	assert_int_equal(gi(ev, "severity_id"), 3);
	assert_false(json_is_true(get(ev, "policy.is_applied")));
	assert_null(get(ev, "policy.uid"));
	json_decref(ev);
}

static void test_lifecycle(void **state)
{
	struct gb_record r = { .type = GB_REC_LIFECYCLE };
	r.u.lifecycle = (struct gb_lifecycle){ .activity = GB_LC_STARTED, .layers = GB_LAYER_NETNS | GB_LAYER_LANDLOCK,
	                                       .landlock_abi = 4, .sandbox_name = "demo",
	                                       .seccomp_mode = "filter" };
	json_t *ev = fmt(&r, 6002, 3);
	assert_string_equal(gs(ev, "activity_name"), "Start");
	assert_string_equal(gs(ev, "app.name"), "demo");
	assert_string_equal(gs(ev, "app.uid"), "sbx-0001");
	assert_string_equal(gs(ev, "unmapped.posture.layers.0"), "netns");
	assert_string_equal(gs(ev, "unmapped.posture.layers.1"), "landlock");
	assert_int_equal(gi(ev, "unmapped.posture.landlock_abi"), 4);
	json_decref(ev);
	r.u.lifecycle = (struct gb_lifecycle){ .activity = GB_LC_CREATED };
	json_decref(fmt(&r, 6002, 1));
	r.u.lifecycle.activity = GB_LC_STOPPED;
	json_decref(fmt(&r, 6002, 4));
}

static void test_loss(void **state)
{
	struct gb_record r = { .type = GB_REC_LOSS };
	r.u.loss = (struct gb_loss){ .cause = GB_LOSS_RING_FULL, .count = 5, .first_seq = 10, .last_seq = 14 };
	json_t *ev = fmt(&r, 1008, 99);
	assert_string_equal(gs(ev, "activity_name"), "Drop");
	assert_string_equal(gs(ev, "type_name"), "Event Log Activity: Other");
	assert_int_equal(gi(ev, "count"), 5);
	assert_int_equal(gi(ev, "unmapped.first_seq"), 10);
	assert_int_equal(gi(ev, "unmapped.last_seq"), 14);
	assert_string_equal(gs(ev, "status_detail"), "ring_full");
	assert_string_equal(gs(ev, "log_name"), "demo");
	assert_non_null(strstr(gs(ev, "message"), "5 events lost (seq 10-14)"));
	json_decref(ev);

	/* beyond what a signed 64-bit consumer can hold: clamped, not wrapped */
	r.u.loss = (struct gb_loss){ .cause = GB_LOSS_ABANDONED, .count = UINT64_MAX };
	ev = fmt(&r, 1008, 99);
	assert_int_equal(gi(ev, "count"), INT64_MAX);
	json_decref(ev);

	r.u.loss = (struct gb_loss){ .cause = GB_LOSS_RETENTION, .count = 3 }; /* range unknown */
	ev = fmt(&r, 1008, 2);
	assert_string_equal(gs(ev, "activity_name"), "Delete");
	assert_null(get(ev, "unmapped.first_seq"));
	json_decref(ev);
}

/* Events with no sandbox: the daemon's own retention LOSS names the
 * "glassbox" log as the one with the gap (its Event Log Activity log_name,
 * which the Kafka key has always been); any other event has no log_name at
 * all, and meta and the key scan say so rather than take another field. */
static void test_meta_without_sandbox(void **state)
{
	(void)state;
	struct gb_ocsf_ctx c = { .sandbox_id = "retention-k", .hostname = "h" };
	struct gb_record r = { .type = GB_REC_LOSS, .seq = 3, .ts_ns = TS };
	r.u.loss = (struct gb_loss){ .cause = GB_LOSS_RETENTION, .count = 2, .detail = "\"log_name\":\"x" };
	struct gb_buf b = GB_BUF_INIT;
	struct gb_ocsf_meta m;
	assert_int_equal(gb_ocsf_format(&c, &r, &b, &m), 0);
	assert_int_equal(m.class_uid, 1008);
	assert_string_equal(m.log_name, "glassbox");
	assert_key(&b, "glassbox");
	size_t n = 0;

	r = (struct gb_record){ .type = GB_REC_LIFECYCLE, .seq = 4, .ts_ns = TS };
	r.u.lifecycle = (struct gb_lifecycle){ .activity = GB_LC_STARTED, .sandbox_name = "log_name" };
	gb_buf_reset(&b);
	assert_int_equal(gb_ocsf_format(&c, &r, &b, &m), 0);
	assert_int_equal(m.class_uid, 6002);
	assert_null(m.log_name);
	assert_null(gb_ocsf_log_name(b.data, b.len, &n));
	/* and a line cut inside the value is not read past its end */
	static const char cut[] = "{\"metadata\":{\"log_name\":\"dem";
	assert_null(gb_ocsf_log_name(cut, sizeof cut - 1, &n));
	gb_buf_free(&b);
}

static void test_refused(void **state)
{
	struct gb_buf b = GB_BUF_INIT;
	gb_buf_puts(&b, "keep");
	struct gb_record r = { .type = 99 };
	assert_int_equal(gb_ocsf_format(&ctx, &r, &b, NULL), -EINVAL);
	r = net_rec(GB_VERDICT_ALLOW, 0);
	r.u.net.phase = 9;
	assert_int_equal(gb_ocsf_format(&ctx, &r, &b, NULL), -EINVAL);
	r = (struct gb_record){ .type = GB_REC_FINDING };
	r.u.finding.kind = GB_F_OTHER;
	r.u.finding.severity = 9;
	assert_int_equal(gb_ocsf_format(&ctx, &r, &b, NULL), -EINVAL);
	r = (struct gb_record){ .type = GB_REC_LOSS };
	assert_int_equal(gb_ocsf_format(&ctx, &r, &b, NULL), -EINVAL);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "keep", 4);
	assert_int_equal(gb_ocsf_format(NULL, &r, &b, NULL), -EINVAL);
	gb_buf_free(&b);
}

static const char hostile[] = "a\nb\r\"c\\d\x1b[31m\x01\x7f\t\xe2\x80\xa8\xc2\x85/\xf0\x9f\x98\x80";

static void test_hostile_round_trip(void **state)
{
	struct gb_record r = net_rec(GB_VERDICT_DENY, GB_R_NO_ENDPOINT);
	r.u.net.dst.host = hostile;
	r.u.net.id.exe = hostile;
	r.u.net.policy_entry = hostile;
	r.u.net.reason_text = hostile;
	json_t *ev = fmt(&r, 4001, 5);
	assert_string_equal(gs(ev, "dst_endpoint.hostname"), hostile);
	assert_string_equal(gs(ev, "actor.process.file.path"), hostile);
	assert_string_equal(gs(ev, "firewall_rule.name"), hostile);
	const char *m = gs(ev, "message");
	assert_non_null(strstr(m, hostile));

	assert_null(get(ev, "metadata.is_truncated"));
	json_decref(ev);

	/* a record cut by the producer says so */
	r.flags = GB_RECF_TRUNCATED;
	ev = fmt(&r, 4001, 5);
	assert_true(json_is_true(get(ev, "metadata.is_truncated")));
	json_decref(ev);
	r.flags = 0;

	/* a value that spells the key cannot become the Kafka key (fmt checks
	 * that gb_ocsf_log_name still finds "demo"): its quotes are escaped */
	r.u.net.dst.host = "\"log_name\":\"evil\"";
	r.u.net.id.exe = "x\\\"log_name\":\"evil";
	ev = fmt(&r, 4001, 5);
	assert_string_equal(gs(ev, "dst_endpoint.hostname"), "\"log_name\":\"evil\"");
	json_decref(ev);
	r.u.net.id.exe = hostile;

	/* invalid UTF-8 becomes U+FFFD, the event stays valid JSON */
	r.u.net.dst.host = "x\xff\xfey";
	ev = fmt(&r, 4001, 5);
	assert_string_equal(gs(ev, "dst_endpoint.hostname"), "x\xef\xbf\xbd\xef\xbf\xbdy");
	json_decref(ev);
}

static void shorthand_of(struct gb_record *r, struct gb_buf *line)
{
	struct gb_buf b = GB_BUF_INIT;
	r->seq = 1;
	r->ts_ns = TS;
	assert_int_equal(gb_ocsf_format(&ctx, r, &b, NULL), 0);
	gb_buf_reset(line);
	assert_int_equal(gb_ocsf_shorthand(b.data, b.len, 0, line), 0);
	gb_buf_free(&b);
	for (size_t i = 0; i < line->len; i++) {
		unsigned char c = (unsigned char)line->data[i];
		if (c < 0x20 || c == 0x7f)
			fail_msg("control byte 0x%02x in shorthand: %s", c, gb_buf_cstr(line));
	}
	assert_null(strstr(gb_buf_cstr(line), "\xe2\x80\xa8"));
	assert_null(strstr(gb_buf_cstr(line), "\xc2\x85"));
}

static void test_shorthand(void **state)
{
	struct gb_buf line = GB_BUF_INIT;
	struct gb_record r = net_rec(GB_VERDICT_DENY, GB_R_NO_ENDPOINT);
	shorthand_of(&r, &line);
	assert_string_equal(gb_buf_cstr(&line),
	                    "2026-08-21T12:00:00.123Z OCSF NET:REFUSE [MED] DENIED python3.11(4242) -> "
	                    "api.github.com:443/tcp [policy:default_deny rev:5 conn:sbx-0001:c77] [reason:no_endpoint why]");

	r = http_rec("GET", GB_VERDICT_ALLOW, GB_MODE_ENFORCE, GB_R_NONE);
	shorthand_of(&r, &line);
	assert_non_null(strstr(gb_buf_cstr(&line), " OCSF HTTP:GET [INFO] ALLOWED python3.11(4242) -> GET https://api.github.com/repos/a?page=REDACTED [policy:github"));

	r = net_rec(GB_VERDICT_DENY, GB_R_NO_ENDPOINT);
	r.u.net.dst.host = hostile;
	r.u.net.id.exe = hostile;
	r.u.net.reason_text = hostile;
	shorthand_of(&r, &line);
	assert_non_null(strstr(gb_buf_cstr(&line), "a\\nb\\r\"c\\\\d\\x1b\\[31m\\x01\\x7f\\t\\u{2028}\\x85/\xf0\x9f\x98\x80"));

	r = (struct gb_record){ .type = GB_REC_FINDING };
	r.u.finding = (struct gb_finding){ .kind = GB_F_OTHER, .severity = GB_SEV_CRITICAL, .title = hostile };
	shorthand_of(&r, &line);
	assert_non_null(strstr(gb_buf_cstr(&line), "FINDING:DETECTED [CRIT] \"a\\nb\\r\\\"c"));

	/* colour only when asked, and only on the severity tag */
	struct gb_buf b = GB_BUF_INIT;
	r.seq = 1;
	gb_ocsf_format(&ctx, &r, &b, NULL);
	gb_buf_reset(&line);
	assert_int_equal(gb_ocsf_shorthand(b.data, b.len, 1, &line), 0);
	assert_non_null(strstr(gb_buf_cstr(&line), "\x1b[1;31m[CRIT]\x1b[0m"));
	gb_buf_free(&b);

	static const char *const bad[] = { "", "not json", "[]", "{}", "{\"class_uid\":\"4001\"}", "{\"class_uid\":4001" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		gb_buf_reset(&line);
		assert_int_equal(gb_ocsf_shorthand(bad[i], strlen(bad[i]), 0, &line), -EBADMSG);
		assert_int_equal(line.len, 0);
	}
	gb_buf_free(&line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_net_open_allowed), cmocka_unit_test(test_net_denials),
		cmocka_unit_test(test_net_close),        cmocka_unit_test(test_net_minimal),
		cmocka_unit_test(test_http),             cmocka_unit_test(test_proc),
		cmocka_unit_test(test_finding),          cmocka_unit_test(test_config),
		cmocka_unit_test(test_lifecycle),        cmocka_unit_test(test_loss),
		cmocka_unit_test(test_refused),          cmocka_unit_test(test_meta_without_sandbox),          cmocka_unit_test(test_hostile_round_trip),
		cmocka_unit_test(test_shorthand),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
