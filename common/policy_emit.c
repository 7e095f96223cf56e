/* common/policy_emit.c — a policy (static sections and a list of network
 * entries) written back as YAML in the policy file's own schema, and the
 * accessors the live-policy code needs on a compiled revision.
 *
 * Why a writer of our own: `glassbox policy get` must hand back a file that
 * `policy set` accepts unchanged, so the output follows the loader's schema
 * (binaries as {path}, rules as {allow: {...}}), not the canonical JSON the
 * hash is taken over.  Every string is a double-quoted scalar written with
 * the JSON escaper: YAML's double-quoted style is a superset of JSON's, so
 * no value can be misread as another type or break the structure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "common/jsonw.h"
#include "common/policy.h"
#include "common/policy_compiled_int.h"

static const char *const proto_names[] = { NULL, "rest", "websocket", "graphql", "mcp",
	                                   "json-rpc", "sql", "tcp" };

static void q(struct gb_buf *b, const char *s)
{
	gb_buf_putc(b, '"');
	gb_json_escape(b, s, strlen(s));
	gb_buf_putc(b, '"');
}

static void ind(struct gb_buf *b, int n)
{
	for (int i = 0; i < n; i++)
		gb_buf_putc(b, ' ');
}

static void str_list(struct gb_buf *b, int in, const char *key, const char **v, size_t n)
{
	ind(b, in);
	gb_buf_printf(b, "%s:", key);
	if (!n) {
		gb_buf_puts(b, " []\n");
		return;
	}
	gb_buf_putc(b, '\n');
	for (size_t i = 0; i < n; i++) {
		ind(b, in + 2);
		gb_buf_puts(b, "- ");
		q(b, v[i]);
		gb_buf_putc(b, '\n');
	}
}

static void matcher(struct gb_buf *b, int in, const struct gb_l7_rule *r)
{
	ind(b, in);
	gb_buf_puts(b, "method: ");
	q(b, r->method ? r->method : "*");
	gb_buf_putc(b, '\n');
	ind(b, in);
	gb_buf_puts(b, "path: ");
	q(b, r->path ? r->path : "**");
	gb_buf_putc(b, '\n');
	if (!r->n_query)
		return;
	ind(b, in);
	gb_buf_puts(b, "query:\n");
	for (size_t i = 0; i < r->n_query; i++) {
		ind(b, in + 2);
		q(b, r->query[i].key);
		/* one glob as a string, several as {any: [...]} (the loader's forms) */
		if (r->query[i].n_globs == 1) {
			gb_buf_puts(b, ": ");
			q(b, r->query[i].globs[0]);
			gb_buf_putc(b, '\n');
			continue;
		}
		gb_buf_puts(b, ": {any: [");
		for (size_t g = 0; g < r->query[i].n_globs; g++) {
			if (g)
				gb_buf_puts(b, ", ");
			q(b, r->query[i].globs[g]);
		}
		gb_buf_puts(b, "]}\n");
	}
}

static void endpoint(struct gb_buf *b, const struct gb_endpoint_spec *s)
{
	const int in = 8;
	ind(b, in - 2);
	gb_buf_puts(b, "- ");
	int first = 1;
#define KEY(k)                              \
	do {                                \
		if (!first)                 \
			ind(b, in);         \
		first = 0;                  \
		gb_buf_puts(b, k ": ");     \
	} while (0)
	if (s->host) {
		KEY("host");
		q(b, s->host);
		gb_buf_putc(b, '\n');
	}
	if (s->n_ports) {
		KEY("ports");
		gb_buf_putc(b, '[');
		for (size_t i = 0; i < s->n_ports; i++)
			gb_buf_printf(b, "%s%u", i ? ", " : "", s->ports[i]);
		gb_buf_puts(b, "]\n");
	}
	if (s->path) {
		KEY("path");
		q(b, s->path);
		gb_buf_putc(b, '\n');
	}
	if (s->protocol != GB_PROTO_NONE) {
		KEY("protocol");
		gb_buf_printf(b, "%s\n", proto_names[s->protocol]);
	}
	if (s->tls == GB_TLS_SKIP) {
		KEY("tls");
		gb_buf_puts(b, "skip\n");
	}
	if (s->enforcement_given) {
		KEY("enforcement");
		gb_buf_puts(b, s->enforcement == GB_MODE_ENFORCE ? "enforce\n" : "audit\n");
	}
	if (s->access) {
		KEY("access");
		gb_buf_printf(b, "%s\n", s->access);
	}
	if (s->n_rules) {
		KEY("rules");
		gb_buf_putc(b, '\n');
		for (size_t i = 0; i < s->n_rules; i++) {
			ind(b, in + 2);
			gb_buf_puts(b, "- allow:\n");
			matcher(b, in + 8, &s->rules[i]);
		}
	}
	if (s->n_deny_rules) {
		KEY("deny_rules");
		gb_buf_putc(b, '\n');
		for (size_t i = 0; i < s->n_deny_rules; i++) {
			ind(b, in + 2);
			gb_buf_puts(b, "-\n");
			matcher(b, in + 4, &s->deny_rules[i]);
		}
	}
	if (s->n_allowed_ips) {
		KEY("allowed_ips");
		gb_buf_putc(b, '[');
		for (size_t i = 0; i < s->n_allowed_ips; i++) {
			const struct gb_cidr *c = &s->allowed_ips[i];
			char a[INET6_ADDRSTRLEN];
			if (!inet_ntop(c->family, c->addr, a, sizeof a))
				strcpy(a, "?");
			gb_buf_printf(b, "%s\"%s/%u\"", i ? ", " : "", a, c->prefix);
		}
		gb_buf_puts(b, "]\n");
	}
	if (s->allow_encoded_slash) {
		KEY("allow_encoded_slash");
		gb_buf_puts(b, "true\n");
	}
	if (s->body_credential_rewrite) {
		KEY("request_body_credential_rewrite");
		gb_buf_puts(b, "true\n");
	}
	if (first) /* nothing at all: keep the item a mapping */
		gb_buf_puts(b, "{}\n");
#undef KEY
}

int gb_policy_yaml(const struct gb_policy *st, const struct gb_net_entry *e, size_t n,
                   struct gb_buf *b)
{
	gb_buf_printf(b, "version: %d\n", st && st->version ? st->version : 1);
	if (st) {
		gb_buf_puts(b, "\nfilesystem_policy:\n");
		str_list(b, 2, "read_only", st->read_only, st->n_read_only);
		str_list(b, 2, "read_write", st->read_write, st->n_read_write);
		gb_buf_printf(b, "  include_workdir: %s\n", st->include_workdir ? "true" : "false");
		gb_buf_printf(b, "\nlandlock:\n  compatibility: %s\n",
		              st->landlock == GB_LL_HARD_REQUIREMENT ? "hard_requirement"
		                                                     : "best_effort");
		if (st->run_as_user || st->run_as_group) {
			gb_buf_puts(b, "\nprocess:\n");
			if (st->run_as_user) {
				gb_buf_puts(b, "  run_as_user: ");
				q(b, st->run_as_user);
				gb_buf_putc(b, '\n');
			}
			if (st->run_as_group) {
				gb_buf_puts(b, "  run_as_group: ");
				q(b, st->run_as_group);
				gb_buf_putc(b, '\n');
			}
		}
	}
	gb_buf_puts(b, "\nnetwork_policies:");
	if (!n)
		gb_buf_puts(b, " {}");
	gb_buf_putc(b, '\n');
	for (size_t i = 0; i < n; i++) {
		ind(b, 2);
		q(b, e[i].key);
		gb_buf_puts(b, ":\n");
		if (e[i].name && strcmp(e[i].name, e[i].key)) {
			gb_buf_puts(b, "    name: ");
			q(b, e[i].name);
			gb_buf_putc(b, '\n');
		}
		gb_buf_puts(b, "    endpoints:");
		gb_buf_puts(b, e[i].n_endpoints ? "\n" : " []\n");
		for (size_t k = 0; k < e[i].n_endpoints; k++)
			endpoint(b, &e[i].endpoints[k]);
		gb_buf_puts(b, "    binaries:");
		gb_buf_puts(b, e[i].n_binaries ? "\n" : " []\n");
		for (size_t k = 0; k < e[i].n_binaries; k++) {
			gb_buf_puts(b, "      - path: ");
			q(b, e[i].binaries[k].path);
			gb_buf_putc(b, '\n');
		}
	}
	return b->err;
}

const struct gb_net_entry *gb_policy_compiled_entries(const struct gb_policy_compiled *c,
                                                      size_t *n)
{
	*n = c ? c->n_entries : 0;
	return c ? c->model : NULL;
}

int gb_policy_hash_entries(const struct gb_net_entry *e, size_t n, char out[65])
{
	/* The canonical form reads only the entries. */
	struct gb_policy p = { .entries = (struct gb_net_entry *)(uintptr_t)e, .n_entries = n };
	return gb_policy_hash_network(&p, out);
}
