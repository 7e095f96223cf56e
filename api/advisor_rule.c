/* api/advisor_rule.c — see advisor_rule.h. */
#include "api/advisor_rule.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/policy_match.h"

/* Names the proxy treats as the machine itself or a cloud metadata service. */
static const char *const metadata_names[] = {
	"localhost", "metadata", "metadata.google.internal", "metadata.goog",
	"instance-data", "instance-data.ec2.internal", "metadata.azure.com",
};

static enum gb_addr_class classify(const char *s, int *is_ip)
{
	uint8_t a[16];
	*is_ip = 1;
	if (inet_pton(AF_INET, s, a) == 1)
		return gb_addr_classify(AF_INET, a);
	if (inet_pton(AF_INET6, s, a) == 1)
		return gb_addr_classify(AF_INET6, a);
	*is_ip = 0;
	return GB_ADDR_PUBLIC;
}

static int always_blocked(enum gb_addr_class c)
{
	return c == GB_ADDR_LOOPBACK || c == GB_ADDR_LINK_LOCAL || c == GB_ADDR_UNSPECIFIED ||
	       c == GB_ADDR_MULTICAST;
}

static int is_metadata_name(const char *host)
{
	size_t n = strlen(host);
	while (n && host[n - 1] == '.')
		n--;
	for (size_t i = 0; i < sizeof metadata_names / sizeof metadata_names[0]; i++)
		if (strlen(metadata_names[i]) == n && !strncasecmp(host, metadata_names[i], n))
			return 1;
	/* *.localhost resolves to loopback by RFC 6761 */
	return n > 10 && !strncasecmp(host + n - 10, ".localhost", 10);
}

int gb_adv_never_propose(const char *host, const char *ip)
{
	int lit;
	if (!host || !*host)
		return 1;
	if (is_metadata_name(host) || always_blocked(classify(host, &lit)))
		return 1;
	return ip && *ip && always_blocked(classify(ip, &lit));
}

/* ---------------- path shapes ---------------- */

static int all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return n >= 2;
}

static int long_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return n >= 16;
}

static int uuid_like(const char *s, size_t n)
{
	if (n != 36)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

void gb_adv_path_shape(const char *path, char *out, size_t len)
{
	struct gb_buf b = GB_BUF_INIT;
	size_t plen = strcspn(path, "?#");
	int seg_no = 0, repos_at = -100;
	const char *p = path, *end = path + plen;
	if (p < end && *p == '/')
		p++;
	while (p <= end) {
		const char *q = memchr(p, '/', (size_t)(end - p));
		if (!q)
			q = end;
		size_t n = (size_t)(q - p);
		gb_buf_putc(&b, '/');
		/* forge shape: the two segments after "repos" name an owner and a repository */
		int forge = seg_no == repos_at + 1 || seg_no == repos_at + 2;
		if (forge || all_digits(p, n) || long_hex(p, n) || uuid_like(p, n))
			gb_buf_putc(&b, '*');
		else
			gb_buf_append(&b, p, n);
		if (n == 5 && !memcmp(p, "repos", 5))
			repos_at = seg_no;
		seg_no++;
		if (q == end)
			break;
		p = q + 1;
	}
	snprintf(out, len, "%s", b.len ? gb_buf_cstr(&b) : "/");
	gb_buf_free(&b);
}

json_t *gb_adv_path_rules(json_t *paths)
{
	json_t *shapes = json_object(); /* shape -> number of distinct paths */
	json_t *out = json_array();
	size_t i;
	json_t *v;
	char sh[1024];
	json_array_foreach(paths, i, v) {
		gb_adv_path_shape(json_string_value(v), sh, sizeof sh);
		json_object_set_new(shapes, sh,
		                    json_integer(json_integer_value(json_object_get(shapes, sh)) + 1));
	}
	json_t *seen = json_object();
	json_array_foreach(paths, i, v) {
		const char *p = json_string_value(v);
		gb_adv_path_shape(p, sh, sizeof sh);
		char exact[1024];
		snprintf(exact, sizeof exact, "%.*s", (int)strcspn(p, "?#"), p);
		const char *rule = json_integer_value(json_object_get(shapes, sh)) >= 2 ? sh : exact;
		if (!json_object_get(seen, rule)) {
			json_object_set_new(seen, rule, json_true());
			json_array_append_new(out, json_string(rule));
		}
	}
	json_decref(seen);
	json_decref(shapes);
	return out;
}

void gb_adv_rule_name(const char *host, unsigned port, const char *method, char *out, size_t len)
{
	struct gb_buf b = GB_BUF_INIT;
	gb_buf_puts(&b, "allow_");
	for (const char *p = host; *p; p++)
		gb_buf_putc(&b, isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_');
	gb_buf_printf(&b, "_%u", port);
	if (method && *method) {
		gb_buf_putc(&b, '_');
		for (const char *p = method; *p; p++)
			gb_buf_putc(&b, isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_');
	}
	snprintf(out, len, "%s", gb_buf_cstr(&b));
	gb_buf_free(&b);
}

/* A YAML double-quoted scalar: every string we write comes from the network
 * or a path, so none is trusted to be plain. */
static void yq(struct gb_buf *b, const char *s)
{
	gb_buf_putc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			gb_buf_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			gb_buf_printf(b, "\\x%02x", c);
		else
			gb_buf_putc(b, (char)c);
	}
	gb_buf_putc(b, '"');
}

void gb_adv_rule_yaml(struct gb_buf *out, const char *name, const char *host, unsigned port,
                      json_t *binaries, const char *method, json_t *path_rules)
{
	size_t i;
	json_t *v;
	gb_buf_printf(out, "version: 1\nnetwork_policies:\n  %s:\n    endpoints:\n      - host: ", name);
	yq(out, host);
	gb_buf_printf(out, "\n        port: %u\n", port);
	if (method && *method) {
		gb_buf_puts(out, "        protocol: rest\n        enforcement: enforce\n        rules:\n");
		json_array_foreach(path_rules, i, v) {
			gb_buf_puts(out, "          - allow:\n              method: ");
			yq(out, method);
			gb_buf_puts(out, "\n              path: ");
			yq(out, json_string_value(v));
			gb_buf_putc(out, '\n');
		}
	}
	gb_buf_puts(out, "    binaries:\n");
	json_array_foreach(binaries, i, v) {
		gb_buf_puts(out, "      - path: ");
		yq(out, json_string_value(v));
		gb_buf_putc(out, '\n');
	}
}

/* ---------------- risk findings ---------------- */

static const char *const launchers[] = {
	"sh", "bash", "dash", "zsh", "ksh", "fish", "busybox", "env", "python", "node", "nodejs",
	"deno", "bun", "perl", "ruby", "php", "lua", "java", "git", "ssh", "xargs", "nohup",
	"sudo", "su", "timeout", "nice", "strace",
};
static const unsigned db_ports[] = { 5432, 3306, 6379, 27017, 9200, 11211, 5672, 1433, 1521, 9042 };
static const char *const cred_words[] = {
	"token", "oauth", "login", "auth", "credential", "secret", "password", "sts.", "iam.",
	"/keys", "session",
};

static void add(json_t *a, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add(json_t *a, const char *kind, const char *fmt, ...)
{
	char reason[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	json_array_append_new(a, json_pack("{s:s, s:s}", "kind", kind, "reason", reason));
}

static int is_launcher(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (size_t i = 0; i < sizeof launchers / sizeof launchers[0]; i++) {
		size_t n = strlen(launchers[i]);
		/* python3, python3.11, node18: the name followed by a version */
		if (!strncmp(base, launchers[i], n) &&
		    (!base[n] || isdigit((unsigned char)base[n])))
			return 1;
	}
	return 0;
}

static int has_cred_word(const char *s)
{
	char low[1024];
	size_t i = 0;
	for (; s[i] && i < sizeof low - 1; i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	low[i] = 0;
	for (size_t k = 0; k < sizeof cred_words / sizeof cred_words[0]; k++)
		if (strstr(low, cred_words[k]))
			return 1;
	return 0;
}

/* Does the running policy (emitted YAML) have an inspected endpoint on
 * host:port?  The emitter writes one key per line, so a line scan over the
 * endpoint blocks is enough: host line, then port, then protocol. */
static int running_inspects(const char *running, const char *host, unsigned port)
{
	if (!running)
		return 0;
	const char *p = running;
	char hq[512], pq[32];
	snprintf(hq, sizeof hq, "host: \"%s\"", host);
	snprintf(pq, sizeof pq, "port: %u", port);
	while ((p = strstr(p, "host:"))) {
		const char *next = strstr(p + 5, "host:");
		size_t n = next ? (size_t)(next - p) : strlen(p);
		char blk[4096];
		snprintf(blk, sizeof blk, "%.*s", (int)(n < sizeof blk ? n : sizeof blk - 1), p);
		char hp[512];
		snprintf(hp, sizeof hp, "host: %s\n", host);
		if ((strstr(blk, hq) || !strncmp(blk, hp, strlen(hp))) && strstr(blk, pq) &&
		    strstr(blk, "protocol:"))
			return 1;
		p += 5;
	}
	return 0;
}

json_t *gb_adv_findings(const char *host, const char *ip, unsigned port, json_t *binaries,
                        const char *method, json_t *path_rules, const char *running_yaml)
{
	json_t *a = json_array();
	int lit;
	enum gb_addr_class hc = classify(host, &lit), ic = GB_ADDR_PUBLIC;
	if (ip && *ip)
		ic = classify(ip, &lit);
	if (is_metadata_name(host))
		add(a, "metadata_reach", "%s names a metadata service or the machine itself", host);
	if (hc == GB_ADDR_INTERNAL || ic == GB_ADDR_INTERNAL)
		add(a, "internal_reach", "%s is an internal address: the grant reaches the private "
		    "network", hc == GB_ADDR_INTERNAL ? host : ip);
	if (strchr(host, '*'))
		add(a, "wildcard_host", "%s is a wildcard: it allows every matching name", host);
	size_t i;
	json_t *v;
	json_array_foreach(binaries, i, v) {
		const char *b = json_string_value(v);
		if (strpbrk(b, "*?["))
			add(a, "broad_binary", "binary %s is a glob: any program matching it gets the "
			    "grant", b);
		else if (is_launcher(b))
			add(a, "launcher", "binary %s is an interpreter or launcher: whatever it runs gets "
			    "the grant", b);
	}
	if ((!method || !*method) && running_inspects(running_yaml, host, port))
		add(a, "l7_bypass", "an L4 grant to %s:%u bypasses the inspected endpoint the running "
		    "policy has there", host, port);
	int cred = has_cred_word(host);
	json_array_foreach(path_rules, i, v)
		cred |= has_cred_word(json_string_value(v));
	if (cred)
		add(a, "credential_endpoint", "%s looks like an endpoint that issues or carries "
		    "credentials", host);
	for (i = 0; i < sizeof db_ports / sizeof db_ports[0]; i++)
		if (port == db_ports[i])
			add(a, "database_port", "port %u is a database or message-broker port", port);
	if (port > 49152)
		add(a, "high_port", "port %u is in the ephemeral range: rarely a service", port);
	return a;
}

void gb_adv_diff(struct gb_buf *out, const char *name, const char *yaml, const char *running_yaml)
{
	char key[300], qkey[300];
	snprintf(key, sizeof key, "\n  %s:", name);
	snprintf(qkey, sizeof qkey, "\n  \"%s\":", name);
	int replaces = running_yaml && (strstr(running_yaml, key) || strstr(running_yaml, qkey));
	gb_buf_puts(out, "--- running\n+++ candidate\n@@ network_policies @@\n");
	if (replaces)
		gb_buf_printf(out, "# replaces the running entry '%s'\n", name);
	/* the entry: every line after "network_policies:" */
	const char *p = strstr(yaml, "network_policies:\n");
	p = p ? p + strlen("network_policies:\n") : yaml;
	while (*p) {
		size_t n = strcspn(p, "\n");
		gb_buf_printf(out, "+%.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

void gb_adv_token(int64_t id, const char *running_sha, const char *yaml, char *out)
{
	unsigned char md[32];
	unsigned mdlen = 0;
	char idb[32];
	snprintf(idb, sizeof idb, "%lld\n", (long long)id);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1) {
		EVP_DigestUpdate(c, idb, strlen(idb));
		EVP_DigestUpdate(c, running_sha, strlen(running_sha));
		EVP_DigestUpdate(c, "\n", 1);
		EVP_DigestUpdate(c, yaml, strlen(yaml));
		EVP_DigestFinal_ex(c, md, &mdlen);
	}
	EVP_MD_CTX_free(c);
	for (unsigned i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", i < mdlen ? md[i] : 0);
	out[64] = 0;
}
