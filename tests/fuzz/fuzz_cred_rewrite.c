/* tests/fuzz/fuzz_cred_rewrite.c — libFuzzer harness for the credential
 * placeholder rewrite (enforcer/proxy/cred_rewrite.c) and the credential
 * syntax (common/cred_spec.c): hostile header and body bytes from a
 * sandboxed agent.  The first byte picks the context (header, JSON, form,
 * text), the destination (a bound host, a glob-bound host, an unbound
 * look-alike) and an output bound.  Properties besides memory safety:
 * a refusal writes nothing; nothing is ever written toward the unbound
 * host; a rewrite leaves no placeholder of a known credential behind and
 * its length is exactly what the substitutions say; the output bound
 * holds.  The same bytes go through the Basic credential rewrite (the
 * same properties) and, cut in three, the response mask (length kept, no
 * secret passes).  The store is built in memory (no root-owned files in a
 * fuzzer). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enforcer/proxy/cred_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char secrets[2][64] = { "sk-fuzz-0123456789+/=", "ghp_fuzz~abc" };

static void store(struct gb_creds *c)
{
	memset(c, 0, sizeof *c);
	c->n = 2;
	const char *args[2] = { "openai:OPENAI_API_KEY=/k@api.test", "gh=/k@*.gh.test:8443" };
	char err[300];
	for (size_t i = 0; i < 2; i++) {
		if (gb_cred_spec_parse_arg(args[i], &c->spec[i], err, sizeof err) < 0)
			__builtin_trap();
		c->secret[i] = secrets[i];
		c->secret_len[i] = strlen(secrets[i]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static struct gb_creds c;
	static int ready;
	if (!ready) {
		store(&c);
		ready = 1;
	}
	enum gb_cred_ctx ctx = (enum gb_cred_ctx)(data[0] & 3);
	static const struct { const char *host; uint16_t port; } dst[] = {
		{ "api.test", 443 }, { "x.gh.test", 8443 }, { "api.test.evil", 443 }, { "gh.test", 8443 },
	};
	size_t di = (data[0] >> 2) & 3;
	size_t max_out = (data[0] & 0x80) ? 64 : 0;
	const char *in = (const char *)data + 1;
	size_t len = size - 1;

	struct gb_buf out = GB_BUF_INIT;
	struct gb_cred_result r;
	gb_creds_rewrite(&c, ctx, dst[di].host, dst[di].port, in, len, max_out, &out, &r);
	if (r.status != GB_CRED_OK && out.len)
		__builtin_trap(); /* a refusal wrote something */
	if (r.status == GB_CRED_OK && r.n && (di >= 2))
		__builtin_trap(); /* a secret headed for a host no credential is bound to */
	if (r.status == GB_CRED_OK && r.n) {
		if (max_out && out.len > max_out)
			__builtin_trap();
		if (!out.data || gb_creds_has_placeholder(out.data, out.len)) {
			/* a secret never contains a prefix, so a placeholder left over
			 * would be one the rewrite skipped */
			__builtin_trap();
		}
	}
	if (r.status == GB_CRED_OK && !r.n && out.len)
		__builtin_trap();
	char t[400];
	gb_creds_result_text(&r, dst[di].host, dst[di].port, t, sizeof t);
	for (size_t i = 0; i < 2; i++)
		if (strstr(t, secrets[i]))
			__builtin_trap(); /* an error text with a value in it */
	gb_creds_buf_wipe(&out);

	/* the same bytes as header lines with Basic credentials (cred_basic.c):
	 * the same refusal and binding properties, nothing left to decode */
	gb_creds_rewrite_basic(&c, dst[di].host, dst[di].port, in, len, max_out ? 4096 : 0, &out, &r);
	if (r.status != GB_CRED_OK && out.len)
		__builtin_trap();
	if (r.status == GB_CRED_OK && r.n && di >= 2)
		__builtin_trap();
	if (r.status == GB_CRED_OK && r.n && gb_creds_basic_has_placeholder(out.data, out.len))
		__builtin_trap();
	if (r.status == GB_CRED_OK && !r.n && out.len)
		__builtin_trap();
	gb_creds_buf_wipe(&out);

	/* the same bytes as a response cut in three pieces (cred_mask.c): the
	 * length is kept and no secret passes, whatever the cuts */
	struct gb_cred_mask m;
	gb_cred_mask_init(&m);
	gb_cred_mask_add(&m, secrets[0], strlen(secrets[0]));
	gb_cred_mask_add(&m, secrets[1], strlen(secrets[1]));
	size_t a = len ? (size_t)data[0] * 7 % (len + 1) : 0, b = a + (len - a) / 2;
	if (gb_cred_mask_feed(&m, in, a, &out) || gb_cred_mask_feed(&m, in + a, b - a, &out) ||
	    gb_cred_mask_feed(&m, in + b, len - b, &out) || gb_cred_mask_flush(&m, &out))
		__builtin_trap();
	if (out.len != len)
		__builtin_trap();
	for (size_t i = 0; i < 2 && out.len; i++)
		if (memmem(out.data, out.len, secrets[i], strlen(secrets[i])))
			__builtin_trap();
	gb_buf_free(&out);

	/* the same bytes as a --credential argument and a bound host */
	char *s = malloc(len + 1);
	if (!s)
		return 0;
	memcpy(s, in, len);
	s[len] = 0;
	struct gb_cred_spec sp;
	char err[700];
	if (gb_cred_spec_parse_arg(s, &sp, err, sizeof err) == 0) {
		if (!sp.n_hosts || sp.file[0] != '/' || gb_cred_name_check(sp.name, NULL, 0) < 0 ||
		    gb_cred_env_check(sp.env, NULL, 0) < 0)
			__builtin_trap();
		for (size_t i = 0; i < sp.n_hosts; i++)
			(void)gb_cred_host_match(&sp.hosts[i], s, sp.hosts[i].port);
	}
	free(s);
	return 0;
}
