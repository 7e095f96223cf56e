/* exporter/ocsf_actor.c — who did it: gb_identity -> OCSF actor.process
 * (exe as file.path, SHA-256 in file.hashes, pid, user uid, the ancestors as
 * a parent_process chain and as ancestry), endpoints and the connection_info
 * shared by Network and HTTP events.
 */
#include <string.h>

#include "common/array.h"
#include "exporter/ocsf_int.h"

void ocsf_file(struct gb_jsonw *w, const char *path, const char *sha256, bool deleted)
{
	ocsf_key(w, "file");
	gb_jw_obj_begin(w);
	ocsf_kstr(w, "name", ocsf_basename(path));
	ocsf_kstr(w, "path", path);
	ocsf_klit(w, "type_id", "8");
	ocsf_klit(w, "type", "\"Executable File\"");
	if (sha256 && *sha256) {
		ocsf_key(w, "hashes");
		gb_jw_arr_begin(w);
		gb_jw_obj_begin(w);
		ocsf_klit(w, "algorithm_id", "3");
		ocsf_klit(w, "algorithm", "\"SHA-256\"");
		ocsf_kstr(w, "value", sha256);
		gb_jw_obj_end(w);
		gb_jw_arr_end(w);
	}
	if (deleted)
		gb_jw_kbool(w, "is_deleted", true);
	gb_jw_obj_end(w);
}

/* parent_process chain from ancestors[0..n): nested objects, direct parent
 * first.  Stops at the first ancestor we know nothing about. */
static void parents(struct gb_jsonw *w, const struct gb_identity *id, uint32_t n)
{
	uint32_t opened = 0;
	for (uint32_t i = 0; i < n; i++) {
		const char *exe = id->ancestors[i] ? id->ancestors[i] : "";
		int32_t pid = id->ancestor_pids[i];
		/* OCSF process needs a pid (or uid/cpid); an ancestor without
		 * one ends the chain (its path is still in ancestry) rather than
		 * inventing pid 0 as OpenShell does. */
		if (pid <= 0)
			break;
		ocsf_key(w, "parent_process");
		gb_jw_obj_begin(w);
		opened++;
		ocsf_kuint(w, "pid", (uint64_t)pid);
		if (*exe) {
			ocsf_kstr(w, "name", ocsf_basename(exe));
			ocsf_kstr(w, "path", exe);
			ocsf_file(w, exe, NULL, false);
		}
	}
	while (opened--)
		gb_jw_obj_end(w);
}

/* The process object of an identity: {pid, name, path, file, user,
 * sandbox, ancestry, parent_process}. */
static void process_obj(struct gb_jsonw *w, const struct gb_identity *id, const char *sname, uint32_t n)
{
	const char *exe = id->exe ? id->exe : "";

	gb_jw_obj_begin(w);
	ocsf_kuint(w, "pid", id->pid > 0 ? (uint64_t)id->pid : 0);
	if (*exe) {
		ocsf_kstr(w, "name", ocsf_basename(exe));
		ocsf_kstr(w, "path", exe);
		ocsf_file(w, exe, id->sha256, id->flags & GB_ID_EXE_DELETED);
	}
	ocsf_kobj_str_u64(w, "user", "uid", id->uid);
	if (sname && *sname)
		ocsf_kstr(w, "sandbox", sname);
	if (n) {
		/* ancestry (OCSF 1.4+, replaces lineage): direct parent first,
		 * every known ancestor even past a pid we could not read. */
		ocsf_key(w, "ancestry");
		gb_jw_arr_begin(w);
		for (uint32_t i = 0; i < n; i++) {
			const char *a = id->ancestors[i] && *id->ancestors[i] ? id->ancestors[i] : NULL;
			gb_jw_obj_begin(w);
			if (id->ancestor_pids[i] > 0)
				ocsf_kuint(w, "pid", (uint64_t)id->ancestor_pids[i]);
			if (a) {
				ocsf_kstr(w, "name", ocsf_basename(a));
				ocsf_kstr(w, "path", a);
			} else if (id->ancestor_pids[i] <= 0) {
				ocsf_klit(w, "name", "\"unknown\"");
			}
			gb_jw_obj_end(w);
		}
		gb_jw_arr_end(w);
	}
	parents(w, id, n);
	gb_jw_obj_end(w);
}

/* Everything process_obj() writes from, in bytes (the memo's key): the
 * same process seen again (a connection after a connection) is copied,
 * another pid, hash, path, uid or ancestor is another key. */
static void ident_key(struct ocsf_memo_key *k, const struct gb_identity *id, const char *sname, uint32_t n)
{
	int32_t pid = id->pid;
	uint32_t fixed[3] = { id->uid, id->flags & GB_ID_EXE_DELETED, n };
	k->len = 0, k->over = false;
	ocsf_memo_key_bytes(k, &pid, sizeof pid);
	ocsf_memo_key_bytes(k, fixed, sizeof fixed);
	ocsf_memo_key_str(k, id->exe);
	ocsf_memo_key_str(k, id->sha256);
	ocsf_memo_key_str(k, sname);
	for (uint32_t i = 0; i < n; i++) {
		ocsf_memo_key_bytes(k, &id->ancestor_pids[i], sizeof id->ancestor_pids[i]);
		ocsf_memo_key_str(k, id->ancestors[i]);
	}
}

void ocsf_identity_process(struct ocsf_ev *ev, const char *key, const struct gb_identity *id)
{
	struct gb_jsonw *w = &ev->w;
	const char *sname = ev->ctx->sandbox_name;
	uint32_t n = id->n_ancestors < GB_MAX_ANCESTORS ? id->n_ancestors : GB_MAX_ANCESTORS;
	struct ocsf_memo_key k;
	size_t vn;

	ocsf_key(w, key);
	ident_key(&k, id, sname, n);
	const char *v = ocsf_memo_get(OCSF_MEMO_IDENT, &k, &vn);
	if (v) {
		gb_jw_raw(w, v, vn);
		return;
	}
	size_t start = w->b->len, depth = (size_t)w->depth;
	process_obj(w, id, sname, n);
	if (!w->b->err && !w->overflow && (size_t)w->depth == depth && w->b->len > start)
		ocsf_memo_put(OCSF_MEMO_IDENT, &k, w->b->data + start, w->b->len - start);
}

static bool has_process(const struct gb_identity *id)
{
	return id->pid > 0 || (id->exe && *id->exe);
}

void ocsf_actor(struct ocsf_ev *ev, const struct gb_identity *id, bool required)
{
	struct gb_jsonw *w = &ev->w;
	if (!id || !has_process(id)) {
		if (!required)
			return;
		/* Nobody identifiable: the actor is glassbox itself. */
		ocsf_glassbox_actor(ev, 0);
		return;
	}
	ocsf_key(w, "actor");
	gb_jw_obj_begin(w);
	ocsf_identity_process(ev, "process", id);
	gb_jw_obj_end(w);
	ev->profiles |= OCSF_P_HOST;
}

/* Flags with a place in OCSF (EXE_DELETED -> file.is_deleted) are not
 * repeated; the others go to unmapped.identity_flags. */
uint32_t ocsf_identity_unmapped_flags(const struct gb_identity *id)
{
	return id->flags & ~GB_ID_EXE_DELETED;
}

void ocsf_identity_flags(struct gb_jsonw *w, uint32_t flags)
{
	static const struct { uint32_t f; const char *name; } t[] = {
		{ GB_ID_INTERPRETER, "interpreter" },   { GB_ID_LD_PRELOAD, "ld_preload" },
		{ GB_ID_EXE_DELETED, "exe_deleted" },   { GB_ID_MULTI_OWNER, "multi_owner" },
		{ GB_ID_LOOKUP_FAILED, "lookup_failed" }, { GB_ID_HASH_MISMATCH, "hash_mismatch" },
		{ GB_ID_ANCESTORS_CUT, "ancestors_cut" },
	};
	gb_jw_arr_begin(w);
	for (size_t i = 0; i < GB_ARRAY_LEN(t); i++)
		if (flags & t[i].f)
			gb_jw_str(w, t[i].name);
	gb_jw_arr_end(w);
}

void ocsf_endpoint(struct gb_jsonw *w, const char *key, const struct gb_endpoint *ep, bool always)
{
	const char *host = ep->host ? ep->host : "", *ip = ep->ip ? ep->ip : "";
	bool host_is_ip = gb_ip_literal(host, NULL), ip_ok = gb_ip_literal(ip, NULL);

	if (!always && !*host && !*ip && !ep->port)
		return;

	ocsf_key(w, key);
	gb_jw_obj_begin(w);
	if (*host && !host_is_ip)
		ocsf_kstr(w, "hostname", host);
	if (ip_ok)
		ocsf_kstr(w, "ip", ip);
	else if (host_is_ip)
		ocsf_kstr(w, "ip", host);
	if (!ip_ok && *ip) /* not an address: keep it, but not as ip_t */
		ocsf_kstr(w, "name", ip);
	else if (!*host && !ip_ok && !host_is_ip)
		ocsf_klit(w, "name", "\"unknown\""); /* network_endpoint needs one of ip/hostname/name */
	ocsf_kuint(w, "port", ep->port);
	gb_jw_obj_end(w);
}

void ocsf_connection_info(struct ocsf_ev *ev, uint64_t conn_id, const struct gb_endpoint *dst)
{
	struct gb_jsonw *w = &ev->w;
	int fam = 0;
	const char *sid = ev->ctx->sandbox_id && *ev->ctx->sandbox_id ? ev->ctx->sandbox_id : "-";

	ocsf_key(w, "connection_info");
	gb_jw_obj_begin(w);
	/* The same uid on the OPEN, CLOSE and every HTTP event of the
	 * connection: the join key OpenShell's events lack. */
	ocsf_sbegin(w, "uid");
	ocsf_sadd(w, sid);
	ocsf_sadd(w, ":c");
	ocsf_sadd_u64(w, conn_id);
	ocsf_send(w);
	ocsf_klit(w, "direction_id", "2");
	ocsf_klit(w, "direction", "\"Outbound\"");
	ocsf_klit(w, "protocol_name", "\"tcp\"");
	ocsf_klit(w, "protocol_num", "6");
	if (gb_ip_literal(dst->ip, &fam) || gb_ip_literal(dst->host, &fam)) {
		ocsf_kuint(w, "protocol_ver_id", (uint64_t)fam);
		ocsf_kstr(w, "protocol_ver", fam == 4 ? "Internet Protocol version 4 (IPv4)"
		                                       : "Internet Protocol version 6 (IPv6)");
	}
	gb_jw_obj_end(w);
}
