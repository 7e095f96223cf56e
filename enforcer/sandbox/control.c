/* enforcer/sandbox/control.c — see control.h. */
#include "enforcer/sandbox/control.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/record.h"
#include "enforcer/proxy/inference.h"

/* Revisions remembered for `policy get --revision` and `history`; older
 * ones are forgotten (the CONFIG records in the journal keep them all). */
#define MAX_HISTORY 256
#define MAX_AUTHOR 256
#define MAX_PER_SERVE 16

struct rev {
	uint64_t revision;
	uint64_t time_ns;
	char sha256[65];
	char author[MAX_AUTHOR];
	const char *action;  /* "loaded", "set", "update" */
	char *changes;
	char *yaml;
};

struct gb_control {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct gb_sbx_out *ev;
	const struct gb_policy *st;
	struct rev hist[MAX_HISTORY];
	size_t n_hist, first; /* ring of the last MAX_HISTORY revisions */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct rev *hist_at(struct gb_control *c, size_t i)
{
	return &c->hist[(c->first + i) % MAX_HISTORY];
}

static struct rev *hist_push(struct gb_control *c)
{
	struct rev *r;
	if (c->n_hist == MAX_HISTORY) {
		r = hist_at(c, 0);
		free(r->changes);
		free(r->yaml);
		c->first = (c->first + 1) % MAX_HISTORY;
		c->n_hist--;
	}
	r = hist_at(c, c->n_hist++);
	memset(r, 0, sizeof *r);
	return r;
}

/* The revision the store holds now, as YAML and hash. */
static int current(struct gb_control *c, uint64_t *rev, char sha[65], struct gb_buf *yaml)
{
	const struct gb_policy_compiled *pc = gb_policy_store_get(c->ev->store);
	size_t n;
	const struct gb_net_entry *e = gb_policy_compiled_entries(pc, &n);
	*rev = gb_policy_compiled_revision(pc);
	int rc = gb_policy_hash_entries(e, n, sha);
	if (!rc && yaml)
		rc = gb_policy_yaml(c->st, e, n, yaml);
	gb_policy_store_put(c->ev->store, pc);
	return rc;
}

static int record_revision(struct gb_control *c, const char *action, const char *author,
                           const char *changes)
{
	struct gb_buf y = GB_BUF_INIT;
	uint64_t rev;
	char sha[65];
	int rc = current(c, &rev, sha, &y);
	if (rc) {
		gb_buf_free(&y);
		return rc;
	}
	struct rev *r = hist_push(c);
	r->revision = rev;
	r->time_ns = now_ns();
	memcpy(r->sha256, sha, sizeof sha);
	snprintf(r->author, sizeof r->author, "%s", author);
	r->action = action;
	r->changes = strdup(changes ? changes : "");
	r->yaml = strdup(gb_buf_cstr(&y));
	gb_buf_free(&y);
	return 0;
}

int gb_control_open(struct gb_control **out, const struct gb_statedir *sd, struct gb_sbx_out *ev,
                    const struct gb_policy *initial, const char *source)
{
	*out = NULL;
	if (!ev->store)
		return -EINVAL;
	struct gb_control *c = calloc(1, sizeof *c);
	if (!c)
		return -ENOMEM;
	c->fd = -1;
	c->ev = ev;
	c->st = initial;
	int rc = gb_statedir_file(sd, "control.sock", c->path, sizeof c->path);
	if (rc < 0)
		goto fail;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	memcpy(a.sun_path, c->path, strlen(c->path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		rc = -errno;
		goto fail;
	}
	unlink(c->path);
	/* Created 0600 (umask), never briefly wider. */
	mode_t old = umask(077);
	rc = bind(c->fd, (struct sockaddr *)&a, sizeof a) < 0 ? -errno : 0;
	umask(old);
	if (!rc && chmod(c->path, 0600) < 0)
		rc = -errno;
	if (!rc && listen(c->fd, 16) < 0)
		rc = -errno;
	if (rc)
		goto fail;
	char author[MAX_AUTHOR];
	snprintf(author, sizeof author, "file %s", source ? source : "?");
	if ((rc = record_revision(c, "loaded", author, "initial policy")) < 0)
		goto fail;
	*out = c;
	return 0;
fail:
	if (c->fd >= 0) {
		close(c->fd);
		unlink(c->path);
	}
	free(c);
	return rc;
}

int gb_control_fd(const struct gb_control *c)
{
	return c ? c->fd : -1;
}

void gb_control_close(struct gb_control *c)
{
	if (!c)
		return;
	close(c->fd);
	unlink(c->path);
	for (size_t i = 0; i < c->n_hist; i++) {
		free(hist_at(c, i)->changes);
		free(hist_at(c, i)->yaml);
	}
	free(c);
}

/* ---------------- answers ---------------- */

static json_t *fail(const char *kind, const char *detail)
{
	return json_pack("{s:b, s:s, s:s}", "ok", 0, "error", kind, "detail", detail);
}

static json_t *diags_json(const struct gb_diags *d)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < d->n; i++) {
		const struct gb_diag *g = &d->v[i];
		json_t *o = json_pack("{s:s?, s:i, s:i, s:s?, s:s, s:s?, s:s?}", "file", g->file,
		                      "line", g->line, "column", g->column, "field",
		                      g->field && *g->field ? g->field : NULL, "severity",
		                      g->level == GB_DIAG_ERROR ? "error" : "warning", "message",
		                      g->message, "hint", g->hint);
		if (o)
			json_array_append_new(a, o);
	}
	return a;
}

/* First error of diags as one line, for the CONFIG record and detail. */
static void first_error(const struct gb_diags *d, char *out, size_t len)
{
	out[0] = 0;
	for (size_t i = 0; i < d->n; i++) {
		const struct gb_diag *g = &d->v[i];
		if (g->level != GB_DIAG_ERROR)
			continue;
		snprintf(out, len, "%s:%d:%d: %s%s%s", g->file ? g->file : "", g->line, g->column,
		         g->field && *g->field ? g->field : "", g->field && *g->field ? ": " : "",
		         g->message ? g->message : "");
		return;
	}
}

static json_t *do_get(struct gb_control *c, json_t *req)
{
	json_t *rv = json_object_get(req, "revision");
	if (rv && !json_is_null(rv)) {
		if (!json_is_integer(rv) || json_integer_value(rv) < 1)
			return fail("bad_request", "revision must be a positive integer");
		uint64_t want = (uint64_t)json_integer_value(rv);
		for (size_t i = 0; i < c->n_hist; i++) {
			struct rev *r = hist_at(c, i);
			if (r->revision == want)
				return json_pack("{s:b, s:I, s:s, s:s}", "ok", 1, "revision",
				                 (json_int_t)r->revision, "sha256", r->sha256, "yaml",
				                 r->yaml ? r->yaml : "");
		}
		char d[160];
		snprintf(d, sizeof d, "revision %llu is not known to this sandbox (kept: the last %d)",
		         (unsigned long long)want, MAX_HISTORY);
		return fail("not_found", d);
	}
	struct gb_buf y = GB_BUF_INIT;
	uint64_t rev;
	char sha[65];
	if (current(c, &rev, sha, &y)) {
		gb_buf_free(&y);
		return fail("internal", "out of memory");
	}
	json_t *o = json_pack("{s:b, s:I, s:s, s:s}", "ok", 1, "revision", (json_int_t)rev, "sha256",
	                      sha, "yaml", gb_buf_cstr(&y));
	gb_buf_free(&y);
	return o;
}

static json_t *do_history(struct gb_control *c)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < c->n_hist; i++) {
		struct rev *r = hist_at(c, i);
		json_array_append_new(a, json_pack("{s:I, s:I, s:s, s:s, s:s, s:s}", "revision",
		                                   (json_int_t)r->revision, "time_ns",
		                                   (json_int_t)r->time_ns, "sha256", r->sha256,
		                                   "author", r->author, "action", r->action,
		                                   "changes", r->changes ? r->changes : ""));
	}
	return json_pack("{s:b, s:o}", "ok", 1, "revisions", a);
}

/* Which entries an operation added, removed or changed, by key and by each
 * entry's own hash. */
static void describe_changes(const struct gb_net_entry *a, size_t na, const struct gb_net_entry *b,
                             size_t nb, struct gb_buf *out)
{
	struct gb_buf add = GB_BUF_INIT, del = GB_BUF_INIT, chg = GB_BUF_INIT;
	size_t i = 0, k = 0;
	/* Both lists are in key order. */
	while (i < na || k < nb) {
		int cmp = i >= na ? 1 : k >= nb ? -1 : strcmp(a[i].key, b[k].key);
		if (cmp < 0) {
			gb_buf_printf(&del, "%s%s", del.len ? ", " : "", a[i++].key);
		} else if (cmp > 0) {
			gb_buf_printf(&add, "%s%s", add.len ? ", " : "", b[k++].key);
		} else {
			char ha[65], hb[65];
			if (gb_policy_hash_entries(&a[i], 1, ha) || gb_policy_hash_entries(&b[k], 1, hb) ||
			    strcmp(ha, hb))
				gb_buf_printf(&chg, "%s%s", chg.len ? ", " : "", b[k].key);
			i++;
			k++;
		}
	}
	if (add.len)
		gb_buf_printf(out, "added %s", gb_buf_cstr(&add));
	if (del.len)
		gb_buf_printf(out, "%sremoved %s", out->len ? "; " : "", gb_buf_cstr(&del));
	if (chg.len)
		gb_buf_printf(out, "%schanged %s", out->len ? "; " : "", gb_buf_cstr(&chg));
	if (!out->len)
		gb_buf_puts(out, "no change to the network policy");
	gb_buf_free(&add);
	gb_buf_free(&del);
	gb_buf_free(&chg);
}

static json_t *do_change(struct gb_control *c, json_t *req, bool update, const char *author)
{
	const char *op = update ? "update" : "set";
	json_t *y = json_object_get(req, "yaml");
	if (!json_is_string(y))
		return fail("bad_request", "\"yaml\" (the policy file's text) is required");
	const char *file = json_string_value(json_object_get(req, "file"));
	if (!file || !*file)
		file = "policy";
	struct gb_diags d = { 0 };
	struct gb_policy *p = NULL;
	char detail[3000], line[700];
	int rc = gb_policy_load_buf(file, json_string_value(y), json_string_length(y), &p, &d);
	if (rc < 0 || !p) {
		first_error(&d, line, sizeof line);
		snprintf(detail, sizeof detail, "%s by %s refused: %zu error%s, the running policy is "
		         "unchanged; first: %s", op, author, d.errors, d.errors == 1 ? "" : "s", line);
		gb_sbx_ev_config(c->ev, GB_CFG_REFUSED, 0, "", author, detail);
		json_t *o = fail("invalid", detail);
		json_object_set_new(o, "diagnostics", diags_json(&d));
		gb_diags_free(&d);
		return o;
	}
	/* The state before, for the record. */
	const struct gb_policy_compiled *old = gb_policy_store_get(c->ev->store);
	size_t n_old;
	const struct gb_net_entry *e_old = gb_policy_compiled_entries(old, &n_old);
	char old_sha[65] = "";
	gb_policy_hash_entries(e_old, n_old, old_sha);

	struct gb_diags sd = { 0 };
	uint64_t rev = 0;
	rc = update ? gb_policy_store_update(c->ev->store, p, &rev, &sd)
	            : gb_policy_store_set(c->ev->store, p, &rev, &sd);
	json_t *o;
	if (rc < 0) {
		gb_policy_store_put(c->ev->store, old);
		if (rc == -EPERM) {
			struct gb_buf fields = GB_BUF_INIT;
			for (size_t i = 0; i < sd.n; i++)
				gb_buf_printf(&fields, "%s%s", i ? ", " : "", sd.v[i].field);
			snprintf(detail, sizeof detail, "%s by %s refused: static section%s %s cannot "
			         "change while the sandbox runs (only network_policies can; recreate "
			         "the sandbox to change %s)", op, author, sd.n == 1 ? "" : "s",
			         gb_buf_cstr(&fields), sd.n == 1 ? "it" : "them");
			gb_buf_free(&fields);
			for (size_t i = 0; i < sd.n; i++)
				sd.v[i].file = file;
			o = fail("static", detail);
			json_object_set_new(o, "diagnostics", diags_json(&sd));
		} else {
			snprintf(detail, sizeof detail, "%s by %s failed: %s", op, author, strerror(-rc));
			o = fail("internal", detail);
		}
		gb_sbx_ev_config(c->ev, GB_CFG_REFUSED, 0, old_sha, author, detail);
		gb_diags_free(&sd);
		gb_diags_free(&d);
		gb_policy_free(p);
		return o;
	}
	/* Swapped: the next decision reads revision `rev`. */
	const struct gb_policy_compiled *now = gb_policy_store_get(c->ev->store);
	size_t n_new;
	const struct gb_net_entry *e_new = gb_policy_compiled_entries(now, &n_new);
	char new_sha[65] = "";
	gb_policy_hash_entries(e_new, n_new, new_sha);
	struct gb_buf ch = GB_BUF_INIT;
	describe_changes(e_old, n_old, e_new, n_new, &ch);
	gb_policy_store_put(c->ev->store, now);
	gb_policy_store_put(c->ev->store, old);
	snprintf(detail, sizeof detail, "%s by %s: revision %llu, %.12s -> %.12s: %s", op, author,
	         (unsigned long long)rev, old_sha, new_sha, gb_buf_cstr(&ch));
	gb_sbx_ev_config(c->ev, GB_CFG_UPDATED, rev, new_sha, author, detail);
	record_revision(c, op, author, gb_buf_cstr(&ch));
	gb_log_info(NULL, "policy %s", detail);
	o = json_pack("{s:b, s:I, s:s, s:s, s:s, s:o}", "ok", 1, "revision", (json_int_t)rev,
	              "sha256", new_sha, "old_sha256", old_sha, "changes", gb_buf_cstr(&ch),
	              "warnings", diags_json(&d));
	gb_buf_free(&ch);
	gb_diags_free(&sd);
	gb_diags_free(&d);
	gb_policy_free(p);
	return o;
}

/* ---------------- one connection ---------------- */

static void clean_text(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			*s = '?';
}

static json_t *dispatch(struct gb_control *c, const char *body, size_t len, const struct ucred *cr)
{
	json_error_t je;
	json_t *req = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!req || !json_is_object(req)) {
		json_decref(req);
		return fail("bad_request", "the request is not a JSON object");
	}
	const char *op = json_string_value(json_object_get(req, "op"));
	const char *who = json_string_value(json_object_get(req, "who"));
	/* The kernel's word for who is asking, plus what the client says
	 * about itself (e.g. the API's authenticated caller). */
	char author[MAX_AUTHOR];
	snprintf(author, sizeof author, "uid %u pid %d%s%.160s%s", (unsigned)cr->uid, (int)cr->pid,
	         who && *who ? " (" : "", who ? who : "", who && *who ? ")" : "");
	clean_text(author);
	json_t *o;
	if (!op)
		o = fail("bad_request", "\"op\" is required (get, history, set, update)");
	else if (!strcmp(op, "get"))
		o = do_get(c, req);
	else if (!strcmp(op, "history"))
		o = do_history(c);
	else if (!strcmp(op, "set") || !strcmp(op, "update"))
		o = do_change(c, req, op[0] == 'u', author);
	else if (!strncmp(op, "inference_", 10)) { /* the route of inference.local */
		o = gb_inference_control(c->ev->inference, req);
		char d[1500];
		int ch = gb_inference_describe(req, o, d, sizeof d);
		if (ch >= 0)
			gb_sbx_ev_config(c->ev, ch ? GB_CFG_UPDATED : GB_CFG_REFUSED, 0, "", author, d);
	}
	else
		o = fail("bad_request", "unknown op (get, history, set, update)");
	json_decref(req);
	return o;
}

static void answer(int fd, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	const char *p = s ? s : "{\"ok\":false,\"error\":\"internal\",\"detail\":\"out of memory\"}";
	size_t len = strlen(p);
	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		if (w <= 0)
			break;
		p += w;
		len -= (size_t)w;
	}
	free(s);
	json_decref(o);
}

static void serve_one(struct gb_control *c, int fd)
{
	struct ucred cr;
	socklen_t cl = sizeof cr;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 || cr.uid != 0) {
		answer(fd, fail("forbidden", "the control socket answers root only"));
		return;
	}
	struct timeval tv = { 1, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	size_t cap = 64 * 1024, len = 0;
	char *buf = malloc(cap);
	if (!buf) {
		answer(fd, fail("internal", "out of memory"));
		return;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= GB_CONTROL_MAX_REQ) {
				free(buf);
				answer(fd, fail("too_large", "request larger than 4 MiB"));
				return;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				answer(fd, fail("internal", "out of memory"));
				return;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n = recv(fd, buf + len, cap - len, 0);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			answer(fd, fail("bad_request", errno == EAGAIN ? "request not finished within 1 s"
			                                                 : "read error"));
			return;
		}
		len += (size_t)n;
	}
	answer(fd, dispatch(c, buf, len, &cr));
	free(buf);
}

void gb_control_serve(struct gb_control *c)
{
	if (!c)
		return;
	for (int i = 0; i < MAX_PER_SERVE; i++) {
		int fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return;
		serve_one(c, fd);
		close(fd);
	}
}
