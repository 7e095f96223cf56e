/* tests/helpers/ocsf_emit.c — print a corpus of OCSF events, one JSON line
 * each, covering every record type and every activity/verdict/reason/kind
 * branch, with full fields, minimal fields and hostile strings.  Used by
 * tests/integration/ocsf_schema.sh (validated against the OCSF schema) and
 * by anyone who wants sample events: `ocsf_emit > events.jsonl`.
 * `ocsf_emit --shorthand` prints the shorthand lines instead;
 * `ocsf_emit --random N SEED` prints N events from random (valid-typed)
 * records with random and hostile strings, reproducible by seed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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
	int rc = gb_ocsf_format(&ctx, r, &out, NULL);
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

#define SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static struct gb_identity full_id(const char *exe)
{
	struct gb_identity id = { .pid = 4242, .uid = 1000, .flags = GB_ID_INTERPRETER | GB_ID_LD_PRELOAD,
	                          .exe = exe,
	                          .sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	                          .script = "/srv/app.py", .n_ancestors = 3 };
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
		if (i % 2) { /* inside a terminated tunnel: sizes, latency, TLS facts */
			h->bytes_req = 310 + i;
			h->bytes_resp = i % 3 == 1 ? 0 : 5120;
			h->latency_ns = 1234567 * (i + 1);
			h->tls = GB_HTTP_TLS_TERMINATED;
			h->sni = i % 4 == 1 ? "api.github.com" : "";
			h->tls_version = i % 4 == 3 ? "" : "TLSv1.3";
			h->credentials = i % 4 == 1 ? "openai,gh" : ""; /* placeholders rewritten */
		}
		rc |= emit(&r);
	}
	/* inference.local requests (API Activity 6003), also with a method outside
	 * OCSF's http_method enum or none at all: such a method goes to unmapped */
	static const char *const ai_methods[] = { "POST", "GET", "PROPFIND", "" };
	for (size_t i = 0; i < sizeof ai_methods / sizeof ai_methods[0]; i++) {
		struct gb_record r = { .type = GB_REC_HTTP_DECISION };
		struct gb_http_decision *h = &r.u.http;
		h->verdict = i < 2 ? GB_VERDICT_ALLOW : GB_VERDICT_DENY;
		h->reason = i < 2 ? GB_R_NONE : GB_R_L7_NOT_PERMITTED;
		h->status = i < 2 ? 200 : 404;
		h->dst = (struct gb_endpoint){ "inference.local", "", 443 };
		h->id = full_id("/usr/bin/python3");
		h->method = ai_methods[i];
		h->scheme = "https";
		h->path = "/v1/chat/completions";
		h->ai_provider = "openai-test";
		h->ai_type = "openai";
		h->ai_model = "model-x";
		/* the counts are the provider's: the largest must sum without overflow */
		h->ai_tokens_in = i == 0 ? INT64_MAX : i == 1 ? 12 : -1;
		h->ai_tokens_out = i == 0 ? INT64_MAX : i == 1 ? 34 : -1;
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

/* --- random records (--random N SEED) ----------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: deterministic per seed, so a failure can be replayed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static unsigned rn(unsigned n) { return (unsigned)(rnd() % n); }

/* A random string: empty, plausible, or hostile bytes (controls, quotes,
 * invalid UTF-8, U+2028), into one of a few static slots. */
static const char *rstr(void)
{
	static char slots[16][96];
	static unsigned next;
	static const char *const plain[] = { "", "api.github.com", "/usr/bin/curl", "198.18.0.7", "::1",
	                                     "GET", "x y", "github", "/etc/passwd" };
	static const char alphabet[] = "aZ09/.:-_ \"'[]{}%\n\t\x1b\x7f\xff\xc3\xa9\xe2\x80\xa8";
	if (rn(3)) {
		return plain[rn(sizeof plain / sizeof plain[0])];
	}
	char *b = slots[next++ % 16];
	unsigned len = rn(90);
	for (unsigned i = 0; i < len; i++)
		b[i] = rn(4) ? alphabet[rn(sizeof alphabet - 1)] : (char)(1 + rn(255));
	b[len] = 0;
	return b;
}

static struct gb_identity rident(void)
{
	struct gb_identity id = { .pid = (int32_t)rn(70000) - 5, .uid = (uint32_t)rnd(), .flags = (uint32_t)rn(128),
	                          .exe = rstr(), .sha256 = rn(2) ? SHA : rstr(), .script = rstr(),
	                          .n_ancestors = rn(GB_MAX_ANCESTORS + 1) };
	for (uint32_t i = 0; i < id.n_ancestors; i++) {
		id.ancestor_pids[i] = (int32_t)rn(5000) - 2;
		id.ancestors[i] = rstr();
	}
	return id;
}

static struct gb_endpoint rep(void)
{
	return (struct gb_endpoint){ rstr(), rstr(), (uint16_t)rnd() };
}

static int random_records(unsigned long n)
{
	int rc = 0;
	for (unsigned long i = 0; i < n; i++) {
		struct gb_record r = { .type = (uint16_t)(1 + rn(GB_REC_TYPE_MAX)), .flags = (uint16_t)rn(2) };
		switch (r.type) {
		case GB_REC_NET_DECISION:
			r.u.net = (struct gb_net_decision){ .phase = (uint8_t)(1 + rn(2)), .kind = (uint8_t)(1 + rn(2)),
			                                    .verdict = (uint8_t)rn(2), .ssrf_tier = (uint8_t)rn(8),
			                                    .inspected = (uint8_t)rn(2), .reason = (uint16_t)rn(16),
			                                    .conn_id = rnd(), .policy_rev = rnd(), .bytes_up = rnd() >> 8,
			                                    .bytes_down = rnd() >> 8, .duration_ns = rnd() >> 8,
			                                    .src = rep(), .dst = rep(), .id = rident(),
			                                    .reason_text = rstr(), .policy_entry = rstr(), .endpoint = rstr() };
			break;
		case GB_REC_HTTP_DECISION:
			r.u.http = (struct gb_http_decision){ .verdict = (uint8_t)rn(2), .mode = (uint8_t)rn(2),
			                                      .reason = (uint16_t)rn(16), .status = (uint16_t)rn(600),
			                                      .conn_id = rnd(), .policy_rev = rnd(), .src = rep(), .dst = rep(),
			                                      .id = rident(), .method = rstr(), .scheme = rstr(),
			                                      .path = rstr(), .query = rstr(), .rule = rstr(),
			                                      .reason_text = rstr(), .policy_entry = rstr(),
			                                      .bytes_req = rnd() >> 8, .bytes_resp = rnd() >> 8,
			                                      .latency_ns = rnd() >> 8, .tls = (uint8_t)rn(2),
			                                      .sni = rstr(), .tls_version = rstr(),
			                                      .credentials = rstr() };
			break;
		case GB_REC_PROC:
			r.u.proc = (struct gb_proc){ .activity = (uint8_t)(1 + rn(3)), .pid = (int32_t)rn(99999) - 5,
			                             .ppid = (int32_t)rn(99999) - 5, .uid = (uint32_t)rnd(), .gid = (uint32_t)rnd(),
			                             .exit_code = (int32_t)rn(300) - 1, .signal = (int32_t)rn(70),
			                             .duration_ns = rnd() >> 8, .exe = rstr(), .sha256 = rstr(),
			                             .detail = rstr(), .argc = rn(GB_MAX_ARGV + 1) };
			for (uint32_t k = 0; k < r.u.proc.argc; k++)
				r.u.proc.argv[k] = rstr();
			break;
		case GB_REC_FINDING: {
			static const uint16_t kinds[] = { 1, 2, 3, 4, 5, 6, 7, 8, 99 };
			r.u.finding = (struct gb_finding){ .kind = kinds[rn(9)], .severity = (uint8_t)(1 + rn(5)),
			                                   .has_identity = (uint8_t)rn(2), .id = rident(), .title = rstr(),
			                                   .detail = rstr(), .subject = rstr() };
			break;
		}
		case GB_REC_CONFIG:
			r.u.config = (struct gb_config){ .action = (uint8_t)(1 + rn(6)), .revision = rnd(), .sha256 = rstr(),
			                                 .source = rstr(), .detail = rstr() };
			break;
		case GB_REC_LIFECYCLE:
			r.u.lifecycle = (struct gb_lifecycle){ .activity = (uint8_t)(1 + rn(3)), .layers = rn(32),
			                                       .landlock_abi = rn(8), .uid = (uint32_t)rnd(), .gid = (uint32_t)rnd(),
			                                       .sandbox_name = rstr(), .landlock_rights = rstr(),
			                                       .seccomp_mode = rstr(), .detail = rstr() };
			break;
		default:
			r.u.loss = (struct gb_loss){ .cause = (uint8_t)(1 + rn(4)), .count = rnd() >> rn(64),
			                             .first_seq = rnd() >> rn(64), .last_seq = rnd() >> rn(64), .detail = rstr() };
			break;
		}
		rc |= emit(&r);
	}
	return rc;
}

int main(int argc, char **argv)
{
	unsigned long n_random = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--shorthand") == 0) {
			shorthand = 1;
		} else if (strcmp(argv[i], "--random") == 0 && i + 2 < argc) {
			n_random = strtoul(argv[i + 1], NULL, 10);
			rng_state = strtoull(argv[i + 2], NULL, 10) | 1;
			i += 2;
		} else {
			fprintf(stderr, "usage: ocsf_emit [--shorthand] [--random N SEED]\n");
			return 2;
		}
	}
	if (n_random > 1000000) {
		fprintf(stderr, "ocsf_emit: at most 1000000 random records\n");
		return 2;
	}
	int rc;
	if (n_random) {
		rc = random_records(n_random);
	} else {
		rc = net() | http() | proc() | finding() | config() | lifecycle() | loss();
		/* Without a sandbox name/id: the envelope must still be valid. */
		ctx = (struct gb_ocsf_ctx){ NULL, NULL, NULL, NULL };
		rc |= lifecycle() | loss();
	}
	gb_buf_free(&out);
	gb_buf_free(&sh);
	if (fflush(stdout) != 0)
		return 1;
	return rc ? 1 : 0;
}
