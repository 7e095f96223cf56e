/* enforcer/proxy/proxy_learn.c — learn mode (`glassbox run --learn`): the
 * proxy lets through what a policy rule could allow and records it as an
 * audited would-deny, so the advisor sees every grant the workload needs and
 * `glassbox advisor NAME --export` can write the minimal policy.
 *
 * Only denials that are a missing grant are softened — the reasons the
 * advisor turns into proposals (no policy, no endpoint, binary not listed,
 * no L7 rule permits the request).  Everything the proxy refuses whatever
 * the policy says stays refused: SSRF tiers (loopback, link-local, metadata,
 * control-plane ports), changed binaries, deny rules, bad paths, identity
 * failures, malformed requests.  A learned grant is judged at the resolve
 * step as the proposed rule would be: an exactly named host (or a literal),
 * without allowed_ips. */
#include <arpa/inet.h>
#include <string.h>

#include "enforcer/proxy/proxy_int.h"

static bool is_literal(const char *host)
{
	unsigned char a[16];
	char h[64];
	size_t n = strlen(host);
	if (n >= sizeof h)
		return false;
	if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
		memcpy(h, host + 1, n - 2);
		h[n - 2] = 0;
	} else {
		memcpy(h, host, n + 1);
	}
	return inet_pton(AF_INET, h, a) == 1 || inet_pton(AF_INET6, h, a) == 1;
}

void proxy_learn(const struct gb_proxy_opts *o, struct gb_decision *d, const char *host)
{
	if (!o->learn || d->verdict == GB_VERDICT_ALLOW)
		return;
	switch (d->reason) {
	case GB_R_NO_POLICY:
	case GB_R_NO_ENDPOINT:
		/* the proposal names this host exactly: judge the address so */
		d->host_kind = host && is_literal(host) ? GB_HOST_IP_LITERAL : GB_HOST_EXACT;
		d->allowed_ips = NULL;
		d->n_allowed_ips = 0;
		break;
	case GB_R_BINARY_NOT_ALLOWED: /* the endpoint matched: its own address rules hold */
	case GB_R_L7_NOT_PERMITTED:
		break;
	default:
		return;
	}
	d->verdict = GB_VERDICT_ALLOW;
	d->mode = GB_MODE_AUDIT; /* an inspected endpoint's rules are audited too */
	d->audited = true;
}
