/* tests/helpers/ocsf_emit.c — print a corpus of OCSF events, one JSON line
 * each, covering every record type and every activity/verdict/reason/kind
 * branch, with full fields, minimal fields and hostile strings.  Used by
 * tests/integration/ocsf_schema.sh (validated against the OCSF schema) and
 * by anyone who wants sample events: `ocsf_emit > events.jsonl`.
 * `ocsf_emit --shorthand` prints the shorthand lines instead.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "exporter/ocsf.h"

static const char hostile[] = "evil\n\"host\"\x1b[31m\x01\xff\xfe\\tab\there\xe2\x80\xa8" "end\x7f\xc2\x85";

static struct gb_ocsf_ctx ctx = { "demo", "sbx-0001", "host1", NULL };
static int shorthand;
static unsigned long seq;
static struct gb_buf out = GB_BUF_INIT, sh = GB_BUF_INIT;

static int emit(struct gb_record *r)
{
	r->seq = ++seq;
	r->ts_ns = 1787313600000000000ull + seq * 1000003ull;
	gb_buf_reset(&out);
	int rc = gb_ocsf_format(&ctx, r, &out);
	if (rc < 0) {
		fprintf(stderr, "ocsf_emit: type %d seq %lu: %s\n", r->type, seq, strerror(-rc));
		return rc;
	}
	if (shorthand) {
		gb_buf_reset(&sh);
		rc = gb_ocsf_shorthand(out.data, out.len, 0, &sh);
		if (rc < 0) {
			fprintf(stderr, "ocsf_emit: shorthand seq %lu: %s\n", seq, strerror(-rc));
			return rc;
		}
		fwrite(sh.data, 1, sh.len, stdout);
	} else {
		fwrite(out.data, 1, out.len, stdout);
	}
	putchar('\n');
	return 0;
}

static struct gb_identity full_id(const char *exe)
{
	struct gb_identity id = { .pid = 4242, .uid = 1000, .flags = GB_ID_INTERPRETER | GB_ID_LD_PRELOAD,
	                          .exe = exe,
	                          .sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	                          .script = "/work/app.py", .n_ancestors = 3 };
	id.ancestor_pids[0] = 4200, id.ancestors[0] = "/bin/bash";
	id.ancestor_pids[1] = 4100, id.ancestors[1] = "/usr/bin/node";
	id.ancestor_pids[2] = 0, id.ancestors[2] = "/usr/bin/glassbox";
	return id;
}

static int net(void)
{
	static const uint16_t reasons[] = { GB_R_NONE, GB_R_NO_POLICY, GB_R_NO_ENDPOINT, GB_R_BINARY_NOT_ALLOWED,
	                                    GB_R_L7_NEEDS_INSPECTION, GB_R_SSRF, GB_R_DNS_FAILED,
	                                    GB_R_UPSTREAM_FAILED, GB_R_IDENTITY_FAILED, GB_R_BINARY_CHANGED,
	                                    GB_R_BAD_REQUEST, GB_R_AUDIT_FAIL_CLOSED, GB_R_LIMIT };
	int rc = 0;
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
		struct gb_record r = { .type = GB_REC_NET_DECISION };
		struct gb_net_decision *n = &r.u.net;
		n->phase = GB_NET_OPEN;
		n->kind = i % 2 ? GB_NET_FORWARD : GB_NET_CONNECT;
		n->verdict = reasons[i] == GB_R_NONE ? GB_VERDICT_ALLOW : GB_VERDICT_DENY;
		n->reason = reasons[i];
		n->ssrf_tier = reasons[i] == GB_R_SSRF ? GB_SSRF_LOOPBACK : GB_SSRF_NONE;
		n->conn_id = 100 + i;
		n->policy_rev = 3;
		n->src = (struct gb_endpoint){ "", "10.200.0.2", 40000 };
		n->dst = (struct gb_endpoint){ "api.github.com", i % 3 ? "198.18.0.10" : "2001:db8::1", 443 };
		n->id = full_id("/usr/bin/python3.11");
		n->reason_text = reasons[i] == GB_R_NONE ? "" : "denied for a reason";
		n->policy_entry = i % 2 ? "github" : "";
		n->endpoint = i % 2 ? "api.github.com:443" : "";
		rc |= emit(&r);
	}
	/* close, minimal, hostile */
	struct gb_record r = { .type = GB_REC_NET_DECISION };
	r.u.net = (struct gb_net_decision){ .phase = GB_NET_CLOSE, .kind = GB_NET_CONNECT, .verdict = GB_VERDICT_ALLOW,
	                                    .conn_id = 100, .bytes_up = 1234, .bytes_down = 987654,
	                                    .duration_ns = 2500000000ull, .dst = { "api.github.com", "198.18.0.10", 443 },
	                                    .id = full_id("/usr/bin/curl"), .policy_entry = "github" };
	rc |= emit(&r);
	r.u.net = (struct gb_net_decision){ .phase = GB_NET_OPEN, .kind = GB_NET_CONNECT, .verdict = GB_VERDICT_DENY,
	                                    .reason = GB_R_IDENTITY_FAILED };
	rc |= emit(&r);
	r.u.net = (struct gb_net_decision){ .phase = GB_NET_OPEN, .kind = GB_NET_CONNECT, .verdict = GB_VERDICT_DENY,
	                                    .reason = GB_R_NO_ENDPOINT, .dst = { hostile, hostile, 8080 },
	                                    .src = { hostile, "", 1 }, .id = full_id(hostile),
	                                    .reason_text = hostile, .policy_entry = hostile, .endpoint = hostile };
	r.u.net.id.sha256 = hostile;
	r.u.net.id.script = hostile;
	r.u.net.id.flags = 0x7f;
	r.flags = GB_RECF_TRUNCATED;
	rc |= emit(&r);
	return rc;
}

static int http(void)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS",
	                                       "TRACE", "CONNECT", "PROPFIND", "" };
	int rc = 0;
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		struct gb_record r = { .type = GB_REC_HTTP_DECISION };
		struct gb_http_decision *h = &r.u.http;
		h->verdict = i % 3 == 1 ? GB_VERDICT_DENY : GB_VERDICT_ALLOW;
		h->mode = i % 3 == 2 ? GB_MODE_AUDIT : GB_MODE_ENFORCE;
		h->reason = h->verdict == GB_VERDICT_DENY || h->mode == GB_MODE_AUDIT ? GB_R_L7_NOT_PERMITTED : GB_R_NONE;
		h->status = h->verdict == GB_VERDICT_DENY ? 403 : 200;
		h->conn_id = 100;
		h->policy_rev = 3;
		h->src = (struct gb_endpoint){ "", "10.200.0.2", 40000 };
		h->dst = (struct gb_endpoint){ "api.github.com", "198.18.0.10", (uint16_t)(i % 2 ? 443 : 8443) };
		h->id = full_id("/usr/bin/node");
		h->method = methods[i];
		h->scheme = i % 2 ? "https" : "http";
		h->path = "/repos/x/y/issues";
		h->query = "token=REDACTED&page=2";
		h->rule = "POST /repos/**";
		h->reason_text = h->reason ? "no rule permits it" : "";
		h->policy_entry = "github";
		rc |= emit(&r);
	}
	struct gb_record r = { .type = GB_REC_HTTP_DECISION };
	r.u.http = (struct gb_http_decision){ .verdict = GB_VERDICT_ALLOW };
	rc |= emit(&r);
	r.u.http = (struct gb_http_decision){ .verdict = GB_VERDICT_DENY, .reason = GB_R_L7_BAD_PATH,
	                                      .dst = { hostile, "::1", 80 }, .id = full_id(hostile), .method = hostile,
	                                      .scheme = hostile, .path = hostile, .query = hostile, .rule = hostile,
	                                      .reason_text = hostile, .policy_entry = hostile };
	rc |= emit(&r);
	return rc;
}

static int proc(void)
{
	int rc = 0;
	struct gb_record r = { .type = GB_REC_PROC };
	r.u.proc = (struct gb_proc){ .activity = GB_PROC_LAUNCH, .pid = 4242, .ppid = 4000, .uid = 1000, .gid = 1000,
	                             .exe = "/usr/bin/python3.11",
	                             .sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	                             .argc = 3, .argv = { "python3", "-c", "print(\"hi there\")" } };
	rc |= emit(&r);
	r.u.proc.activity = GB_PROC_PRIV_DROP;
	r.u.proc.detail = "uid 1000 gid 1000 groups []";
	rc |= emit(&r);
	r.u.proc.activity = GB_PROC_EXIT;
	r.u.proc.exit_code = 3;
	r.u.proc.duration_ns = 1500000000ull;
	rc |= emit(&r);
	r.u.proc.exit_code = -1;
	r.u.proc.signal = 9;
	rc |= emit(&r);
	r.u.proc = (struct gb_proc){ .activity = GB_PROC_EXIT };
	rc |= emit(&r);
	r.u.proc = (struct gb_proc){ .activity = GB_PROC_LAUNCH, .pid = 7, .exe = hostile, .sha256 = hostile,
	                             .detail = hostile, .argc = 2, .argv = { hostile, "" } };
	rc |= emit(&r);
	return rc;
}

static int finding(void)
{
	static const uint16_t kinds[] = { GB_F_LANDLOCK_UNAVAILABLE, GB_F_LANDLOCK_DEGRADED, GB_F_LANDLOCK_DENIED,
	                                  GB_F_BINARY_CHANGED, GB_F_BYPASS_ATTEMPT, GB_F_SECCOMP_DENIED,
	                                  GB_F_SSRF_BLOCKED, GB_F_POLICY_WARNING, GB_F_OTHER };
	static const char *const subjects[] = { "", "/opt/missing", "/etc/shadow", "/usr/bin/curl", "198.18.0.99",
	                                        "ptrace", "127.0.0.1", "network_policies.x", "" };
	int rc = 0;
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		struct gb_record r = { .type = GB_REC_FINDING };
		struct gb_finding *f = &r.u.finding;
		f->kind = kinds[i];
		f->severity = (uint8_t)(1 + i % 5);
		f->has_identity = i % 2 == 0;
		f->id = full_id("/usr/bin/curl");
		f->title = "A finding";
		f->detail = "something was seen";
		f->subject = subjects[i];
		rc |= emit(&r);
	}
	struct gb_record r = { .type = GB_REC_FINDING };
	r.u.finding = (struct gb_finding){ .kind = GB_F_OTHER, .severity = GB_SEV_INFO };
	rc |= emit(&r);
	r.u.finding = (struct gb_finding){ .kind = GB_F_LANDLOCK_DENIED, .severity = GB_SEV_HIGH, .has_identity = 1,
	                                   .id = full_id(hostile), .title = hostile, .detail = hostile,
	                                   .subject = hostile };
	rc |= emit(&r);
	return rc;
}

static int config(void)
{
	int rc = 0;
	for (int a = GB_CFG_LOADED; a <= GB_CFG_REFUSED; a++) {
		struct gb_record r = { .type = GB_REC_CONFIG };
		r.u.config = (struct gb_config){ .action = (uint8_t)a, .revision = (uint64_t)a,
		                                 .sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		                                 .source = "/etc/glassbox/policy.yaml", .detail = a == GB_CFG_REFUSED ? "line 3:5: bad field" : "" };
		rc |= emit(&r);
	}
	struct gb_record r = { .type = GB_REC_CONFIG };
	r.u.config = (struct gb_config){ .action = GB_CFG_LOADED };
	rc |= emit(&r);
	r.u.config = (struct gb_config){ .action = GB_CFG_REFUSED, .sha256 = hostile, .source = hostile, .detail = hostile };
	rc |= emit(&r);
	return rc;
}

static int lifecycle(void)
{
	int rc = 0;
	for (int a = GB_LC_CREATED; a <= GB_LC_STOPPED; a++) {
		struct gb_record r = { .type = GB_REC_LIFECYCLE };
		r.u.lifecycle = (struct gb_lifecycle){ .activity = (uint8_t)a, .layers = 0x1f, .landlock_abi = 5,
		                                       .uid = 1000, .gid = 1000, .sandbox_name = "demo",
		                                       .landlock_rights = "execute,read_file,write_file",
		                                       .seccomp_mode = "filter (runtime list v1)", .detail = "" };
		rc |= emit(&r);
	}
	struct gb_record r = { .type = GB_REC_LIFECYCLE };
	r.u.lifecycle = (struct gb_lifecycle){ .activity = GB_LC_STARTED };
	rc |= emit(&r);
	r.u.lifecycle = (struct gb_lifecycle){ .activity = GB_LC_STOPPED, .layers = GB_LAYER_LANDLOCK,
	                                       .sandbox_name = hostile, .landlock_rights = hostile,
	                                       .seccomp_mode = hostile, .detail = hostile };
	rc |= emit(&r);
	return rc;
}

static int loss(void)
{
	int rc = 0;
	for (int c = GB_LOSS_RING_FULL; c <= GB_LOSS_GENERATION; c++) {
		struct gb_record r = { .type = GB_REC_LOSS };
		r.u.loss = (struct gb_loss){ .cause = (uint8_t)c, .count = 17, .first_seq = 100, .last_seq = 116,
		                             .detail = "consumer behind" };
		rc |= emit(&r);
	}
	struct gb_record r = { .type = GB_REC_LOSS };
	r.u.loss = (struct gb_loss){ .cause = GB_LOSS_RING_FULL, .count = 1 };
	rc |= emit(&r);
	r.u.loss = (struct gb_loss){ .cause = GB_LOSS_RETENTION, .count = 3, .first_seq = 5, .last_seq = 7, .detail = hostile };
	rc |= emit(&r);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--shorthand") == 0)
		shorthand = 1;
	else if (argc > 1) {
		fprintf(stderr, "usage: ocsf_emit [--shorthand]\n");
		return 2;
	}
	int rc = net() | http() | proc() | finding() | config() | lifecycle() | loss();
	/* Without a sandbox name/id: the envelope must still be valid. */
	ctx = (struct gb_ocsf_ctx){ NULL, NULL, NULL, NULL };
	rc |= lifecycle() | loss();
	gb_buf_free(&out);
	gb_buf_free(&sh);
	if (fflush(stdout) != 0)
		return 1;
	return rc ? 1 : 0;
}
