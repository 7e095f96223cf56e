/* common/policy_validate.c — what policy values mean: paths, identities,
 * hosts, CIDRs, binaries, L7 matchers and endpoint field combinations (the
 * rules: docs/policy.md, "Validation rules"), plus the fields glassbox
 * parses but does not enforce yet, which refuse the endpoint instead of
 * weakening it to a plain allow.
 *
 * Every check reports at the offending node under the current field path
 * and never stops the walk, so one run lists every problem.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/array.h"
#include "common/ip_literal.h"
#include "common/policy_parse_int.h"

/* A '[' class must be closed: an unclosed one would match literally in one
 * matcher and fail in another. */
static bool brackets_ok(const char *p)
{
	for (; *p; p++) {
		if (*p != '[')
			continue;
		const char *q = p + 1;
		if (*q == '!' || *q == '^')
			q++;
		if (*q == ']')
			q++; /* a leading ']' is a member */
		while (*q && *q != ']')
			q++;
		if (!*q)
			return false;
		p = q;
	}
	return true;
}

/* ---------------- filesystem and process ---------------- */

static bool has_component(const char *p, const char *comp)
{
	size_t cl = strlen(comp);
	for (const char *s = p; *s;) {
		while (*s == '/')
			s++;
		const char *e = strchr(s, '/');
		size_t l = e ? (size_t)(e - s) : strlen(s);
		if (l == cl && !memcmp(s, comp, cl))
			return true;
		s += l;
	}
	return false;
}

/* Host directories that hold unix sockets: a path listed here (or a parent
 * of one, or a path inside one) puts the D-Bus system bus, systemd-resolved,
 * nscd or docker.sock in the sandbox's root — and Landlock does not mediate
 * connect() on pathname sockets, so they would be a way out that bypasses
 * the proxy. */
static const char *const socket_dirs[] = { "/run", "/var/run", "/tmp/.X11-unix", "/var/lib/docker" };

static bool related(const char *a, const char *b) /* a == b, or one contains the other */
{
	size_t la = strlen(a), lb = strlen(b);
	while (la > 1 && a[la - 1] == '/')
		la--;
	if (la == 1 && a[0] == '/')
		return true;
	size_t l = la < lb ? la : lb;
	return !strncmp(a, b, l) && (la == lb || (la < lb ? b[la] : a[lb]) == '/');
}

static void warn_socket_dir(struct gb_schema *c, const struct gb_ynode *n, const char *path)
{
	/* The sandbox's /tmp, /var/tmp, /dev/shm and /sandbox are private tmpfs,
	 * not the host's: listing them brings no host socket in. */
	static const char *const private_dirs[] = { "/tmp", "/var/tmp", "/dev/shm", "/sandbox" };
	for (size_t i = 0; i < sizeof private_dirs / sizeof private_dirs[0]; i++)
		if (!strcmp(path, private_dirs[i]))
			return;
	for (size_t i = 0; i < sizeof socket_dirs / sizeof socket_dirs[0]; i++)
		if (related(path, socket_dirs[i])) {
			gb_schema_warn(c, n, "list the specific files the program needs instead",
			         "'%.200s' brings the host's socket directory %s into the sandbox: a unix "
			         "socket there (D-Bus, systemd-resolved, nscd, docker.sock) is reachable "
			         "without the proxy", path, socket_dirs[i]);
			return;
		}
}

bool gb_validate_fs_path(struct gb_schema *c, const struct gb_ynode *n, const char *path, bool rw)
{
	size_t len = strlen(path);
	if (len > GB_POLICY_MAX_PATH) {
		gb_schema_err(c, n, NULL, "path is %zu characters long (at most %d)", len, GB_POLICY_MAX_PATH);
		return false;
	}
	if (path[0] != '/') {
		gb_schema_err(c, n, NULL, "'%.200s' is not an absolute path (expected a path starting with /)", path);
		return false;
	}
	if (has_component(path, "..")) {
		gb_schema_err(c, n, NULL, "'%.200s' contains a '..' component (expected a normalised absolute path)", path);
		return false;
	}
	if (rw && path[strspn(path, "/")] == 0) {
		gb_schema_err(c, n, NULL, "read_write '%s' is overly broad: it makes the whole filesystem writable "
		        "(expected specific directories such as /tmp)", path);
		return false;
	}
	warn_socket_dir(c, n, path);
	return true;
}

bool gb_validate_identity(struct gb_schema *c, const struct gb_ynode *n, const char *v)
{
	if (!strcmp(v, "sandbox"))
		return true;
	if (!strcmp(v, "root")) {
		gb_schema_err(c, n, NULL, "must not be root (expected 'sandbox' or a numeric id 1-4294967294)");
		return false;
	}
	size_t l = strlen(v);
	if (l == 0 || l > 10 || strspn(v, "0123456789") != l) {
		gb_schema_err(c, n, NULL, "'%.100s' is not allowed (expected 'sandbox' or a numeric id 1-4294967294)", v);
		return false;
	}
	unsigned long long id = strtoull(v, NULL, 10);
	if (id == 0) {
		gb_schema_err(c, n, NULL, "must not be 0 (root) (expected 'sandbox' or a numeric id 1-4294967294)");
		return false;
	}
	if (id >= 4294967295ULL) {
		gb_schema_err(c, n, NULL, "%llu is out of range (expected a numeric id 1-4294967294)", id);
		return false;
	}
	return true;
}

static const char *blocked_overlap(int family, const uint8_t *addr, unsigned prefix);

/* ---------------- hosts ---------------- */

bool gb_validate_host(struct gb_schema *c, const struct gb_ynode *n, const char *host, bool tcp)
{
	size_t len = strlen(host);
	if (!len) {
		gb_schema_err(c, n, NULL, "empty host (expected a DNS name or IP address)");
		return false;
	}
	if (gb_ip_literal(host, NULL)) {
		if (tcp) {
			gb_schema_err(c, n, NULL, "protocol tcp needs a DNS host name, not the IP literal '%s'", host);
			return false;
		}
		uint8_t a[16];
		bool v4 = inet_pton(AF_INET, host, a) == 1;
		if (!v4)
			inet_pton(AF_INET6, host, a);
		const char *w = blocked_overlap(v4 ? AF_INET : AF_INET6, a, v4 ? 32 : 128);
		if (w)
			gb_schema_warn(c, n, NULL, "'%s' is %s, which is always blocked: this endpoint can never "
			         "be reached", host, w);
		return true;
	}
	if (host[0] == '[') {
		gb_schema_err(c, n, NULL, "'%.100s': write IPv6 addresses without brackets", host);
		return false;
	}
	bool dot = host[len - 1] == '.';
	if (dot && tcp) {
		gb_schema_err(c, n, NULL, "protocol tcp does not accept a trailing dot in '%.200s'", host);
		return false;
	}
	size_t l = len - (dot ? 1 : 0);
	if (l == 0 || l > 253) {
		gb_schema_err(c, n, NULL, "host name must be 1-253 characters (got %zu)", l);
		return false;
	}
	/* Wildcard shapes as OpenShell accepts them: the first label may be
	 * `**` or contain `*` (`*`, `*-api`); a later label may only be `*`
	 * as a whole (`*.s3.*.amazonaws.com`). */
	if (!strcmp(host, "*") || !strcmp(host, "**")) {
		gb_schema_err(c, n, NULL, "'%s' alone matches every host (expected a domain such as "
		        "*.example.com)", host);
		return false;
	}
	size_t labels = 0;
	bool wild = false;
	for (size_t i = 0; i < l;) {
		size_t j = i;
		while (j < l && host[j] != '.')
			j++;
		size_t ll = j - i;
		if (ll == 0) {
			gb_schema_err(c, n, NULL, "'%.200s' has an empty label (expected labels separated by single dots)", host);
			return false;
		}
		if (ll > 63) {
			gb_schema_err(c, n, NULL, "'%.200s' has a label longer than 63 characters", host);
			return false;
		}
		bool star = false;
		for (size_t k = i; k < j; k++) {
			unsigned char ch = (unsigned char)host[k];
			if (ch == '*') {
				star = wild = true;
			} else if (!isalnum(ch) && ch != '-' && ch != '_') {
				gb_schema_err(c, n, NULL, "'%.200s' contains the invalid character '%c%s' (expected "
				        "letters, digits, '-', '.' and wildcards)",
				        host, isprint(ch) ? ch : '?', isprint(ch) ? "" : " (non-printable)");
				return false;
			}
		}
		bool has2 = memmem(host + i, ll, "**", 2) != NULL;
		if (labels == 0 && has2 && ll != 2) {
			gb_schema_err(c, n, NULL, "'%.200s': '**' must be the whole first label (e.g. **.example.com)", host);
			return false;
		}
		if (labels > 0 && star && (has2 || ll != 1)) {
			gb_schema_err(c, n, NULL, "'%.200s': a wildcard after the first label must be a whole label "
			        "'*' (e.g. *.s3.*.amazonaws.com)", host);
			return false;
		}
		labels++;
		i = j + 1;
	}
	if ((!strncmp(host, "*.", 2) || !strncmp(host, "**.", 3)) && labels <= 2) {
		gb_schema_err(c, n, NULL, "'%.200s' is a top-level-domain wildcard (expected a subdomain wildcard "
		        "such as *.example.com)", host);
		return false;
	}
	(void)wild;
	return true;
}

/* ---------------- CIDRs ---------------- */

static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rem = bits % 8;
	if (memcmp(a, b, full))
		return false;
	if (!rem)
		return true;
	uint8_t m = (uint8_t)(0xff << (8 - rem));
	return (a[full] & m) == (b[full] & m);
}

struct range {
	int family;
	uint8_t addr[16];
	unsigned prefix;
	const char *what;
};

static const struct range always_blocked[] = {
	{ AF_INET, { 127 }, 8, "loopback (127.0.0.0/8)" },
	{ AF_INET, { 169, 254 }, 16, "link-local (169.254.0.0/16)" },
	{ AF_INET, { 0 }, 32, "unspecified (0.0.0.0)" },
	{ AF_INET6, { [15] = 1 }, 128, "loopback (::1)" },
	{ AF_INET6, { 0xfe, 0x80 }, 10, "link-local (fe80::/10)" },
	{ AF_INET6, { 0 }, 128, "unspecified (::)" },
};

/* IPv6 prefixes that carry an IPv4 address in their last 32 bits. */
static const uint8_t embed[][12] = {
	{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, /* ::ffff:0:0/96 mapped */
	{ 0 },                                        /* ::/96 compatible */
	{ 0, 0x64, 0xff, 0x9b },                      /* 64:ff9b::/96 NAT64 */
};

static const char *blocked_overlap(int family, const uint8_t *addr, unsigned prefix)
{
	for (size_t i = 0; i < GB_ARRAY_LEN(always_blocked); i++) {
		const struct range *r = &always_blocked[i];
		if (r->family != family)
			continue;
		unsigned p = prefix < r->prefix ? prefix : r->prefix;
		if (prefix_eq(addr, r->addr, p))
			return r->what;
	}
	if (family == AF_INET6)
		for (size_t e = 0; e < GB_ARRAY_LEN(embed); e++) {
			unsigned p = prefix < 96 ? prefix : 96;
			if (!prefix_eq(addr, embed[e], p))
				continue;
			if (prefix < 96)
				return "loopback (an IPv6 range covering IPv4-embedded addresses)";
			const char *w = blocked_overlap(AF_INET, addr + 12, prefix - 96);
			if (w)
				return w;
		}
	return NULL;
}

bool gb_validate_cidr(struct gb_schema *c, const struct gb_ynode *n, const char *s, struct gb_cidr *out)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t al = slash ? (size_t)(slash - s) : strlen(s);
	struct gb_cidr r = { 0 };
	if (al >= sizeof buf)
		goto bad;
	memcpy(buf, s, al);
	buf[al] = 0;
	if (inet_pton(AF_INET, buf, r.addr) == 1)
		r.family = AF_INET;
	else if (inet_pton(AF_INET6, buf, r.addr) == 1)
		r.family = AF_INET6;
	else
		goto bad;
	unsigned maxp = r.family == AF_INET ? 32 : 128;
	r.prefix = (uint8_t)maxp;
	if (slash) {
		const char *p = slash + 1;
		size_t pl = strlen(p);
		if (!pl || pl > 3 || strspn(p, "0123456789") != pl || (unsigned)atoi(p) > maxp) {
			gb_schema_err(c, n, NULL, "'%.100s' has an invalid prefix length (expected /0-/%u)", s, maxp);
			return false;
		}
		r.prefix = (uint8_t)atoi(p);
	}
	/* Normalise: clear host bits so equal networks compare equal. */
	for (unsigned b = r.prefix; b < maxp; b++)
		r.addr[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
	const char *w = blocked_overlap(r.family, r.addr, r.prefix);
	if (w) {
		gb_schema_err(c, n, NULL, "'%.100s' overlaps %s, which is always blocked (expected public or "
		        "private ranges only)", s, w);
		return false;
	}
	if ((r.family == AF_INET && r.prefix < 16) || (r.family == AF_INET6 && r.prefix < 48))
		gb_schema_warn(c, n, NULL, "'%.100s' is broader than /%d: every address in it becomes reachable "
		         "for this endpoint", s, r.family == AF_INET ? 16 : 48);
	*out = r;
	return true;
bad:
	gb_schema_err(c, n, NULL, "'%.100s' is not an IP address or CIDR (expected e.g. 10.0.0.0/8 or fd00::/8)", s);
	return false;
}

/* ---------------- binaries ---------------- */

static const char *const shells[] = { "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "fish",
	                              "csh", "tcsh", "busybox" };
static const char *const launchers[] = { "env", "nohup", "sudo", "doas", "su", "runuser", "xargs",
	                                 "timeout", "nice", "ionice", "setsid", "stdbuf", "chroot",
	                                 "unshare", "nsenter", "strace", "ltrace", "script", "time" };
/* Programs that run what their configuration or input names: git (aliases,
 * hooks, credential helpers, core.sshCommand), make (recipes), npm/npx/
 * yarn/pnpm (package scripts), ssh (ProxyCommand, LocalCommand). */
static const char *const general_launchers[] = { "git", "make", "gmake", "npm", "npx", "yarn", "pnpm",
	                                         "ssh", "cargo", "gradle", "mvn", "rake", "just" };
/* Directories a sandboxed program (or any user) can usually write: a binary
 * there can be replaced, and trust on first use is per sandbox. */
static const char *const writable_dirs[] = { "/tmp/", "/var/tmp/", "/dev/shm/", "/home/", "/root/",
	                                     "/run/user/", "/sandbox/", "/workspace/", "/var/lib/glassbox/" };
static const char *const interp_prefixes[] = { "python", "node", "nodejs", "perl", "ruby", "php",
	                                       "lua", "luajit", "deno", "bun", "tclsh", "pwsh",
	                                       "java", "Rscript", "julia" };

static bool in_list(const char *s, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, v[i]))
			return true;
	return false;
}

/* "python3.11" -> interpreter "python": prefix followed by digits/dots only. */
static bool is_interpreter(const char *base)
{
	for (size_t i = 0; i < GB_ARRAY_LEN(interp_prefixes); i++) {
		size_t l = strlen(interp_prefixes[i]);
		if (!strncmp(base, interp_prefixes[i], l) && strspn(base + l, "0123456789.") == strlen(base + l))
			return true;
	}
	return false;
}

bool gb_validate_binary(struct gb_schema *c, const struct gb_ynode *n, const char *path)
{
	size_t len = strlen(path);
	if (len > GB_POLICY_MAX_PATH) {
		gb_schema_err(c, n, NULL, "path is %zu characters long (at most %d)", len, GB_POLICY_MAX_PATH);
		return false;
	}
	if (path[0] != '/') {
		gb_schema_err(c, n, NULL, "'%.200s' is not absolute (expected the executable's absolute path, "
		        "or a glob starting with /)", path);
		return false;
	}
	if (has_component(path, "..") || has_component(path, ".")) {
		gb_schema_err(c, n, NULL, "'%.200s' contains a '.' or '..' component (expected the resolved path)", path);
		return false;
	}
	if (!brackets_ok(path)) {
		gb_schema_err(c, n, NULL, "'%.200s' has an unclosed '[' character class", path);
		return false;
	}
	const char *star = strchr(path, '*');
	if (star && strstr(path, "**")) {
		size_t slashes = 0;
		for (const char *s = path; s < star; s++)
			slashes += *s == '/';
		if (slashes <= 2)
			gb_schema_warn(c, n, "list the executables instead",
			         "very broad binary glob '%.200s': it matches every executable below %.*s "
			         "and every process they start", path, (int)(star - path), path);
	}
	const char *base = strrchr(path, '/') + 1;
	char b[256];
	size_t bl = strcspn(base, "*?[");
	if (bl >= sizeof b)
		return true;
	memcpy(b, base, bl);
	b[bl] = 0;
	bool glob = base[bl] != 0;
	const char *kind = NULL;
	if (!glob && in_list(b, shells, GB_ARRAY_LEN(shells)))
		kind = "a shell";
	else if (!glob && in_list(b, launchers, GB_ARRAY_LEN(launchers)))
		kind = "a program launcher";
	else if (bl && (is_interpreter(b) || (glob && is_interpreter(b))))
		kind = "an interpreter";
	else if (!glob && in_list(b, general_launchers, GB_ARRAY_LEN(general_launchers)))
		kind = "a general launcher (it runs configured commands: aliases, hooks, scripts, "
		       "recipes, ProxyCommand)";
	if (kind)
		gb_schema_warn(c, n, "list the programs that need the network instead",
		         "'%.200s' is %s: entries match the executable or any ancestor, so every process "
		         "it starts (and their descendants) inherits this entry", path, kind);
	for (size_t i = 0; i < GB_ARRAY_LEN(writable_dirs); i++)
		if (!strncmp(path, writable_dirs[i], strlen(writable_dirs[i]))) {
			gb_schema_warn(c, n, "install the binary under a read-only path such as /usr/local/bin",
			         "'%.200s' is under %s, which is usually writable: the file can be replaced, "
			         "and its first-use hash is only remembered per sandbox", path, writable_dirs[i]);
			break;
		}
	return true;
}

/* ---------------- L7 ---------------- */

bool gb_validate_method(struct gb_schema *c, const struct gb_ynode *n, const char *m)
{
	size_t l = strlen(m);
	bool ok = l > 0 && l <= 32;
	if (ok && strcmp(m, "*"))
		for (const char *s = m; *s && ok; s++)
			ok = isalnum((unsigned char)*s) || strchr("!#$%&'+.^_`|~-", *s);
	if (!ok)
		gb_schema_err(c, n, NULL, "'%.100s' is not an HTTP method (expected e.g. GET, POST, or * for any)", m);
	return ok;
}

bool gb_validate_rule_path(struct gb_schema *c, const struct gb_ynode *n, const char *p)
{
	size_t l = strlen(p);
	if (l > GB_POLICY_MAX_PATH) {
		gb_schema_err(c, n, NULL, "path glob is %zu characters long (at most %d)", l, GB_POLICY_MAX_PATH);
		return false;
	}
	if (strcmp(p, "**") && strcmp(p, "*") && p[0] != '/') {
		gb_schema_err(c, n, NULL, "'%.200s' must start with / (or be ** for any path)", p);
		return false;
	}
	if (!brackets_ok(p)) {
		gb_schema_err(c, n, NULL, "'%.200s' has an unclosed '[' character class", p);
		return false;
	}
	for (const char *s = p; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f || *s == '#') {
			gb_schema_err(c, n, NULL, "'%.200s' contains '%s' (a path glob has no spaces, control "
			        "characters or '#' fragment)", p, *s == '#' ? "#" : "a space or control character");
			return false;
		}
	/* '?' is one character of a segment (OpenShell's glob); written before
	 * a '=' it was most likely meant as a query, which a path never holds
	 * (the request's query is matched by 'query' only). */
	const char *q = strchr(p, '?');
	if (q && strchr(q, '='))
		gb_schema_warn(c, n, "use 'query' for parameters",
		               "'%.200s': '?' matches one character of the path, not a query string", p);
	return true;
}

/* ---------------- endpoint combinations ---------------- */

static void err_field(struct gb_schema *c, const struct gb_ynode *at, const char *field,
                      const char *hint, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void err_field(struct gb_schema *c, const struct gb_ynode *at, const char *field,
                      const char *hint, const char *fmt, ...)
{
	size_t m = gb_schema_push(c, ".%s", field);
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	gb_schema_err(c, at, hint, "%s", msg);
	gb_schema_pop(c, m);
}

static bool truthy(const struct gb_ynode *v)
{
	return v && v->kind == GB_Y_SCALAR && v->plain &&
	       (!strcmp(v->str, "true") || !strcmp(v->str, "True") || !strcmp(v->str, "TRUE"));
}

static const char *const proto_names[] = { "", "rest", "websocket", "graphql", "mcp", "json-rpc",
	                                   "sql", "tcp" };

/* Fields of the schema glassbox does not enforce yet.  bool_only: refused
 * only when set to true (false is the default, strict behaviour). */
static const struct {
	const char *key;
	bool bool_only;
} unenforced[] = {
	{ "websocket_credential_rewrite", true },
	{ "allow_uninspected_credentials", true },
	{ "credential_signing", false },
	{ "signing_service", false },
	{ "signing_region", false },
	{ "credential_binding", false },
	{ "persisted_queries", false },
	{ "graphql_persisted_queries", false },
	{ "graphql_max_body_bytes", false },
	{ "mcp", false },
	{ "json_rpc", false },
};

void gb_validate_endpoint(struct gb_schema *c, const struct gb_ynode *ep, const struct gb_endpoint_spec *s)
{
	const struct gb_ynode *hostn = gb_ymap_get(ep, "host"), *ips = gb_ymap_get(ep, "allowed_ips");
	const struct gb_ynode *access = gb_ymap_key(ep, "access"), *rules = gb_ymap_key(ep, "rules"),
	                      *deny = gb_ymap_key(ep, "deny_rules"), *path = gb_ymap_key(ep, "path"),
	                      *aes = gb_ymap_key(ep, "allow_encoded_slash"),
	                      *enf = gb_ymap_key(ep, "enforcement"), *proto = gb_ymap_get(ep, "protocol");
	enum gb_l7_protocol pr = s->protocol;

	if (!hostn && !ips)
		err_field(c, ep, "host", NULL, "missing required key 'host' (a DNS name or IP address; it "
		          "may be omitted only when 'allowed_ips' is given)");

	if (pr == GB_PROTO_NONE) {
		/* L7 fields on an L4 endpoint would never be checked: refuse. */
		const struct gb_ynode *l7[] = { access, rules, deny, path, aes };
		const char *names[] = { "access", "rules", "deny_rules", "path", "allow_encoded_slash" };
		for (size_t i = 0; i < GB_ARRAY_LEN(l7); i++)
			if (l7[i] && !(i == 4 && !truthy(gb_ymap_get(ep, "allow_encoded_slash"))))
				err_field(c, l7[i], names[i], "add 'protocol: rest'",
				          "'%s' needs 'protocol' (without it the endpoint is an L4 passthrough "
				          "and HTTP requests are never inspected)", names[i]);
		if (enf)
			gb_schema_warn(c, enf, NULL, "'enforcement' has no effect on an endpoint without 'protocol'");
	} else if (pr == GB_PROTO_TCP) {
		const struct gb_ynode *l7[] = { access, rules, deny, path, aes, enf };
		const char *names[] = { "access", "rules", "deny_rules", "path", "allow_encoded_slash",
			                "enforcement" };
		for (size_t i = 0; i < GB_ARRAY_LEN(l7); i++)
			if (l7[i])
				err_field(c, l7[i], names[i], NULL,
				          "protocol tcp does not inspect payloads; '%s' is not allowed", names[i]);
		if (!hostn)
			err_field(c, ep, "host", NULL, "protocol tcp needs a DNS host name");
	} else {
		if (access && rules)
			err_field(c, access, "access", "keep one of them",
			          "'access' and 'rules' are mutually exclusive");
		if (access && (pr == GB_PROTO_MCP || pr == GB_PROTO_JSON_RPC))
			err_field(c, access, "access", "write explicit 'rules'",
			          "access presets are not accepted for protocol %s", proto_names[pr]);
		if (!access && !rules)
			err_field(c, ep, "rules", "add 'access: read-only' or 'rules: [{allow: {...}}]'",
			          "an endpoint with protocol %s needs 'access' or 'rules' (at least one "
			          "allow)", proto_names[pr]);
		if (deny && !access && !rules)
			err_field(c, deny, "deny_rules", NULL,
			          "'deny_rules' need a base allow set ('rules' or 'access')");
		if (s->tls == GB_TLS_SKIP)
			gb_schema_warn(c, gb_ymap_key(ep, "tls"), NULL,
			         "'tls: skip' with protocol %s: HTTPS on this endpoint cannot be inspected, "
			         "so its rules apply to plain HTTP only (an enforce-mode CONNECT is refused)",
			         proto_names[pr]);
		if (!s->enforcement_given && !enf)
			gb_schema_warn(c, ep, "add 'enforcement: enforce' to block violations",
			         "no 'enforcement': this L7 endpoint runs in audit mode, so requests its "
			         "rules deny are logged but let through");
	}

	/* Bodies are read only on inspected endpoints (enforcer/proxy/cred.h). */
	if ((pr == GB_PROTO_NONE || pr == GB_PROTO_TCP) &&
	    truthy(gb_ymap_get(ep, "request_body_credential_rewrite")))
		err_field(c, gb_ymap_key(ep, "request_body_credential_rewrite"),
		          "request_body_credential_rewrite", "add 'protocol: rest'",
		          "'request_body_credential_rewrite' needs an inspected endpoint: the bodies "
		          "of an L4 passthrough are never read");

	/* credential_signing needs signing_service and excludes
	 * request_body_credential_rewrite (OpenShell's rule). */
	const struct gb_ynode *cs = gb_ymap_key(ep, "credential_signing");
	if (cs && !gb_ymap_get(ep, "signing_service"))
		err_field(c, cs, "credential_signing", "add 'signing_service'",
		          "'credential_signing' needs 'signing_service'");
	if (cs && truthy(gb_ymap_get(ep, "request_body_credential_rewrite")))
		err_field(c, cs, "credential_signing", NULL,
		          "'credential_signing' and 'request_body_credential_rewrite' are mutually exclusive");

	/* Refuse what glassbox cannot enforce yet, naming the field.  rest and
	 * websocket are inspected (TLS terminated, each request decided; after a
	 * websocket upgrade the frames relay uninspected, so read-only — which
	 * forbids client messages — would be weakened); tcp is authorised like
	 * an L4 endpoint. */
	if (pr == GB_PROTO_WEBSOCKET && s->access && !strcmp(s->access, "read-only"))
		err_field(c, access, "access", "use 'access: read-write' or explicit 'rules'",
		          "websocket 'read-only' forbids client messages, which glassbox does not "
		          "inspect yet; the endpoint is refused rather than weakened");
	if (pr != GB_PROTO_NONE && pr != GB_PROTO_REST && pr != GB_PROTO_WEBSOCKET && pr != GB_PROTO_TCP)
		err_field(c, proto, "protocol", "use 'protocol: rest', or no protocol for an L4 allow",
		          "protocol '%s' is not enforced by glassbox yet; the endpoint is refused "
		          "rather than weakened", proto_names[pr]);
	for (size_t i = 0; i < GB_ARRAY_LEN(unenforced); i++) {
		const struct gb_ynode *k = gb_ymap_key(ep, unenforced[i].key);
		if (!k || (unenforced[i].bool_only && !truthy(gb_ymap_get(ep, unenforced[i].key))))
			continue;
		err_field(c, k, unenforced[i].key, NULL,
		          "'%s' is not enforced by glassbox yet; the endpoint is refused rather than "
		          "weakened", unenforced[i].key);
	}
}
