/* common/addr_class.c — destination address classes and the SSRF tier
 * check the proxy applies to every address after the policy allowed: the
 * always-blocked classes are refused whatever the policy says, internal
 * ranges pass only when allowed_ips covers them or the endpoint names the
 * host exactly (docs/policy-engine.md, end of "Decision order").  `policy explain` calls the same function for IP-literal
 * hosts, so both answer alike. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/policy_match.h"

struct v4range {
	uint32_t net;
	uint8_t prefix;
	enum gb_addr_class cls;
};

#define V4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

/* First match wins: always-blocked classes before internal ones. */
static const struct v4range v4_ranges[] = {
	{ V4(127, 0, 0, 0), 8, GB_ADDR_LOOPBACK },
	{ V4(169, 254, 0, 0), 16, GB_ADDR_LINK_LOCAL },
	/* 0/8 "this network": 0.0.0.0 reaches the local host on Linux and
	 * the rest is unroutable; all of it is treated as unspecified. */
	{ V4(0, 0, 0, 0), 8, GB_ADDR_UNSPECIFIED },
	{ V4(224, 0, 0, 0), 4, GB_ADDR_MULTICAST },
	{ V4(255, 255, 255, 255), 32, GB_ADDR_INTERNAL },
	{ V4(10, 0, 0, 0), 8, GB_ADDR_INTERNAL },
	{ V4(172, 16, 0, 0), 12, GB_ADDR_INTERNAL },
	{ V4(192, 168, 0, 0), 16, GB_ADDR_INTERNAL },
	{ V4(100, 64, 0, 0), 10, GB_ADDR_INTERNAL },
	{ V4(192, 0, 0, 0), 24, GB_ADDR_INTERNAL },
	{ V4(192, 0, 2, 0), 24, GB_ADDR_INTERNAL },
	{ V4(198, 51, 100, 0), 24, GB_ADDR_INTERNAL },
	{ V4(203, 0, 113, 0), 24, GB_ADDR_INTERNAL },
	{ V4(198, 18, 0, 0), 15, GB_ADDR_INTERNAL },
	/* 240/4 is reserved (never a public destination). */
	{ V4(240, 0, 0, 0), 4, GB_ADDR_INTERNAL },
};

static enum gb_addr_class classify_v4(uint32_t a)
{
	for (size_t i = 0; i < sizeof v4_ranges / sizeof v4_ranges[0]; i++) {
		uint32_t mask = v4_ranges[i].prefix ? ~0u << (32 - v4_ranges[i].prefix) : 0;
		if ((a & mask) == v4_ranges[i].net)
			return v4_ranges[i].cls;
	}
	return GB_ADDR_PUBLIC;
}

static uint32_t load_v4(const uint8_t *p)
{
	return V4(p[0], p[1], p[2], p[3]);
}

/* IPv6 address that carries an IPv4 one: mapped (::ffff:0:0/96),
 * compatible (::/96 except :: and ::1) and NAT64 (64:ff9b::/96).  */
static bool embedded_v4(const uint8_t *a, uint32_t *v4)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t zero[12];
	if (!memcmp(a, mapped, 12) || !memcmp(a, nat64, 12)) {
		*v4 = load_v4(a + 12);
		return true;
	}
	if (!memcmp(a, zero, 12)) {
		uint32_t v = load_v4(a + 12);
		if (v > 1) { /* :: and ::1 are IPv6's own */
			*v4 = v;
			return true;
		}
	}
	return false;
}

enum gb_addr_class gb_addr_classify(int family, const uint8_t *a)
{
	if (family == AF_INET)
		return classify_v4(load_v4(a));
	if (family != AF_INET6)
		return GB_ADDR_UNSPECIFIED; /* unknown family: never a destination */
	uint32_t v4;
	if (embedded_v4(a, &v4))
		return classify_v4(v4);
	static const uint8_t zero[16];
	if (!memcmp(a, zero, 16))
		return GB_ADDR_UNSPECIFIED;
	if (!memcmp(a, zero, 15) && a[15] == 1)
		return GB_ADDR_LOOPBACK;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return GB_ADDR_LINK_LOCAL;
	if (a[0] == 0xff)
		return GB_ADDR_MULTICAST;
	if ((a[0] & 0xfe) == 0xfc)
		return GB_ADDR_INTERNAL; /* ULA fc00::/7 */
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
		return GB_ADDR_INTERNAL; /* deprecated site-local fec0::/10 */
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
		return GB_ADDR_INTERNAL; /* documentation 2001:db8::/32 (IPv6 TEST-NET) */
	return GB_ADDR_PUBLIC;
}

const char *gb_addr_class_name(enum gb_addr_class c)
{
	switch (c) {
	case GB_ADDR_PUBLIC: return "public";
	case GB_ADDR_INTERNAL: return "internal";
	case GB_ADDR_LOOPBACK: return "loopback";
	case GB_ADDR_LINK_LOCAL: return "link_local";
	case GB_ADDR_UNSPECIFIED: return "unspecified";
	case GB_ADDR_MULTICAST: return "multicast";
	}
	return "unknown";
}

bool gb_port_is_control_plane(uint16_t port)
{
	return port == 2379 || port == 2380 || port == 6443 || port == 10250 || port == 10255;
}

static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	if (memcmp(a, b, full))
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

bool gb_cidr_contains(const struct gb_cidr *c, int family, const uint8_t *addr)
{
	uint8_t v4[4];
	if (family == AF_INET6 && c->family == AF_INET) {
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(addr, mapped, 12))
			return false;
		memcpy(v4, addr + 12, 4);
		addr = v4;
		family = AF_INET;
	}
	if (family != c->family)
		return false;
	unsigned max = family == AF_INET ? 32 : 128;
	return prefix_eq(addr, c->addr, c->prefix > max ? max : c->prefix);
}

int gb_cidr_parse(const char *s, struct gb_cidr *out)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof buf)
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, buf, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, out->addr) == 1)
		out->family = AF_INET6;
	else
		return -EINVAL;
	unsigned max = out->family == AF_INET ? 32 : 128;
	unsigned long pfx = max;
	if (slash) {
		char *end;
		if (!slash[1] || slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		pfx = strtoul(slash + 1, &end, 10);
		if (*end || pfx > max)
			return -EINVAL;
	}
	out->prefix = (uint8_t)pfx;
	return 0;
}

static int tier_of(enum gb_addr_class c)
{
	switch (c) {
	case GB_ADDR_LOOPBACK: return GB_SSRF_LOOPBACK;
	case GB_ADDR_LINK_LOCAL: return GB_SSRF_LINK_LOCAL;
	case GB_ADDR_UNSPECIFIED: return GB_SSRF_UNSPECIFIED;
	case GB_ADDR_MULTICAST: return GB_SSRF_MULTICAST;
	default: return GB_SSRF_NONE;
	}
}

int gb_policy_dest_check(const struct gb_decision *d, const struct sockaddr *sa, uint16_t port)
{
	int family;
	const uint8_t *a;
	if (!sa)
		return GB_SSRF_UNSPECIFIED;
	if (sa->sa_family == AF_INET) {
		family = AF_INET;
		a = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		family = AF_INET6;
		a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
	} else {
		return GB_SSRF_UNSPECIFIED;
	}
	enum gb_addr_class cls = gb_addr_classify(family, a);
	int t = tier_of(cls);
	if (t != GB_SSRF_NONE)
		return t; /* whatever the policy says */
	if (gb_port_is_control_plane(port))
		return GB_SSRF_CONTROL_PLANE_PORT;
	if (d->n_allowed_ips) {
		for (size_t i = 0; i < d->n_allowed_ips; i++)
			if (gb_cidr_contains(&d->allowed_ips[i], family, a))
				return GB_SSRF_NONE;
		return GB_SSRF_NOT_IN_ALLOWED_IPS;
	}
	if (cls == GB_ADDR_INTERNAL &&
	    !(d->host_kind == GB_HOST_EXACT || d->host_kind == GB_HOST_IP_LITERAL))
		return GB_SSRF_INTERNAL;
	return GB_SSRF_NONE;
}

int gb_policy_dest_check_static(const struct gb_decision *d, const char *host, uint16_t port)
{
	if (d->verdict != GB_VERDICT_ALLOW || !host)
		return GB_SSRF_NONE;
	char h[64];
	size_t n = strlen(host);
	if (n < sizeof h) {
		if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
			memcpy(h, host + 1, n - 2);
			h[n - 2] = 0;
		} else {
			memcpy(h, host, n + 1);
		}
		struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
		struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
		if (inet_pton(AF_INET, h, &a4.sin_addr) == 1)
			return gb_policy_dest_check(d, (struct sockaddr *)&a4, port);
		if (inet_pton(AF_INET6, h, &a6.sin6_addr) == 1)
			return gb_policy_dest_check(d, (struct sockaddr *)&a6, port);
	}
	/* a name: what it resolves to is not known yet, its port is */
	return gb_port_is_control_plane(port) ? GB_SSRF_CONTROL_PLANE_PORT : GB_SSRF_NONE;
}
