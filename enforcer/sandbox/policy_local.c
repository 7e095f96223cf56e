/* enforcer/sandbox/policy_local.c — see policy_local.h.  The file lives
 * where the sandbox may write, so every step distrusts it: each component
 * is opened with O_NOFOLLOW relative to the workdir's fd (a symlinked
 * .glassbox or file is refused, never followed), O_NONBLOCK so a FIFO
 * cannot hang the supervisor, fstat says regular / one link / size before
 * a bounded read, and the text goes through the policy loader (its own
 * depth and size bounds) before anything is recorded. */
#include "enforcer/sandbox/policy_local.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/diag.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/policy.h"
#include "common/record.h"

#define TICK_NS 250000000L
#define BURST 8           /* proposals over HTTP at once... */
#define REFILL_PER_S 2    /* ...and a second after that */

struct gb_policy_local {
	struct gb_sbx_out *ev;
	int wd, tfd;
	/* what was seen last: nothing is recorded twice for one state */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	int last_rc;           /* the last outcome (0 read, -errno refused) */
	char last_sha[65];     /* hash of the last content recorded */
	char *buf;
	/* http://policy.local */
	struct gb_pl_hooks hooks;
	pthread_mutex_t mu;   /* the bucket */
	double tokens;
	uint64_t refilled_ms;
	gb_policy_local_decider decide;
	void *decide_ctx;
	char name[128];
};

int gb_policy_local_read(int dirfd, char *buf, size_t cap, size_t *len, char *err, size_t errlen)
{
	int d = openat(dirfd, GB_POLICY_LOCAL_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d < 0) {
		int e = errno;
		if (e == ENOENT)
			return -ENOENT;
		snprintf(err, errlen, "%s: %s", GB_POLICY_LOCAL_DIR,
		         e == ELOOP || e == ENOTDIR ? "a symlink or not a directory (never followed)"
		                                    : strerror(e));
		return e == ENOTDIR ? -ELOOP : -e;
	}
	int fd = openat(d, GB_POLICY_LOCAL_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	                O_CLOEXEC);
	int e = errno;
	close(d);
	if (fd < 0) {
		if (e == ENOENT)
			return -ENOENT;
		snprintf(err, errlen, "%s: %s", GB_POLICY_LOCAL_FILE,
		         e == ELOOP ? "a symlink (never followed)" : strerror(e));
		return -e;
	}
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", GB_POLICY_LOCAL_FILE, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s: not a regular file", GB_POLICY_LOCAL_FILE);
	} else if (st.st_nlink != 1) {
		/* a hard link could name a file the agent may not read */
		rc = -EMLINK;
		snprintf(err, errlen, "%s: has %lu links (a hard link to another file is refused)",
		         GB_POLICY_LOCAL_FILE, (unsigned long)st.st_nlink);
	} else if (st.st_size > GB_POLICY_LOCAL_MAX || (size_t)st.st_size >= cap) {
		rc = -EFBIG;
		snprintf(err, errlen, "%s: %lld bytes, more than %d", GB_POLICY_LOCAL_FILE,
		         (long long)st.st_size, GB_POLICY_LOCAL_MAX);
	}
	size_t n = 0;
	while (rc == 0 && n < cap - 1) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", GB_POLICY_LOCAL_FILE, strerror(errno));
		}
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (rc == 0 && n > GB_POLICY_LOCAL_MAX) { /* it grew while being read */
		rc = -EFBIG;
		snprintf(err, errlen, "%s: more than %d bytes", GB_POLICY_LOCAL_FILE, GB_POLICY_LOCAL_MAX);
	}
	close(fd);
	if (rc == 0) {
		buf[n] = 0;
		*len = n;
	}
	return rc;
}

int gb_policy_local_entries(const char *text, size_t len,
                            void (*fn)(void *ctx, const char *key, const char *yaml,
                                       const char *sha256),
                            void *ctx, char *err, size_t errlen)
{
	struct gb_policy *p = NULL, *dflt = NULL;
	struct gb_diags d = { 0 };
	int rc = gb_policy_load_buf(GB_POLICY_LOCAL_FILE, text, len, &p, &d);
	if (rc < 0) {
		if (d.n)
			snprintf(err, errlen, "%s:%d:%d: %s%s%s", GB_POLICY_LOCAL_FILE, d.v[0].line,
			         d.v[0].column, d.v[0].field ? d.v[0].field : "", d.v[0].field ? ": " : "",
			         d.v[0].message);
		else
			snprintf(err, errlen, "%s: not a policy file", GB_POLICY_LOCAL_FILE);
		gb_diags_free(&d);
		return -EINVAL;
	}
	gb_diags_free(&d);
	static const char base[] = "version: 1\nnetwork_policies: {}\n";
	d = (struct gb_diags){ 0 };
	rc = gb_policy_load_buf("default", base, sizeof base - 1, &dflt, &d);
	gb_diags_free(&d);
	if (rc < 0) {
		snprintf(err, errlen, "internal: the default policy does not load");
		gb_policy_free(p);
		return -EINVAL;
	}
	rc = 0;
	if (gb_policy_static_diff(p, dflt, NULL)) {
		snprintf(err, errlen, "%s: only network_policies may be proposed (filesystem, landlock "
		         "and process are fixed at sandbox start)", GB_POLICY_LOCAL_FILE);
		rc = -EINVAL;
	} else if (!p->n_entries) {
		snprintf(err, errlen, "%s: no network_policies entry", GB_POLICY_LOCAL_FILE);
		rc = -EINVAL;
	} else if (p->n_entries > GB_POLICY_LOCAL_ENTRIES) {
		snprintf(err, errlen, "%s: %zu entries, at most %d", GB_POLICY_LOCAL_FILE, p->n_entries,
		         GB_POLICY_LOCAL_ENTRIES);
		rc = -EINVAL;
	}
	for (size_t i = 0; rc == 0 && i < p->n_entries; i++) {
		struct gb_net_entry e = p->entries[i];
		char key[300], sha[65];
		snprintf(key, sizeof key, "agent_%s", e.key);
		e.key = key;
		if (e.name && !strcmp(e.name, p->entries[i].key))
			e.name = key;
		struct gb_buf y = GB_BUF_INIT;
		if (gb_policy_yaml(NULL, &e, 1, &y) < 0 || gb_policy_hash_entries(&e, 1, sha) < 0) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
		} else if (y.len >= GB_STR_MAX) {
			snprintf(err, errlen, "%s: entry %s is %zu bytes as a rule, more than %d",
			         GB_POLICY_LOCAL_FILE, p->entries[i].key, y.len, GB_STR_MAX - 1);
			rc = -EINVAL;
		}
		gb_buf_free(&y);
	}
	/* all or nothing: the entries are handed out only once all passed */
	for (size_t i = 0; rc == 0 && i < p->n_entries; i++) {
		struct gb_net_entry e = p->entries[i];
		char key[300], sha[65];
		snprintf(key, sizeof key, "agent_%s", e.key);
		e.key = key;
		if (e.name && !strcmp(e.name, p->entries[i].key))
			e.name = key;
		struct gb_buf y = GB_BUF_INIT;
		gb_policy_yaml(NULL, &e, 1, &y);
		gb_policy_hash_entries(&e, 1, sha);
		fn(ctx, key, gb_buf_cstr(&y), sha);
		gb_buf_free(&y);
	}
	int n = rc == 0 ? (int)p->n_entries : rc;
	gb_policy_free(dflt);
	gb_policy_free(p);
	return n;
}

int gb_policy_local_open(struct gb_policy_local **out, struct gb_sbx_out *ev, const char *workdir)
{
	struct gb_policy_local *pl = calloc(1, sizeof *pl);
	if (!pl || !(pl->buf = malloc(GB_POLICY_LOCAL_MAX + 2))) {
		free(pl);
		return -ENOMEM;
	}
	pl->ev = ev;
	pl->last_rc = -ENOENT;
	pthread_mutex_init(&pl->mu, NULL);
	pl->tokens = BURST;
	pl->wd = pl->tfd = -1;
	pl->wd = open(workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	pl->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	struct itimerspec it = { .it_interval = { 0, TICK_NS }, .it_value = { 0, TICK_NS } };
	if (pl->wd < 0 || pl->tfd < 0 || timerfd_settime(pl->tfd, 0, &it, NULL) < 0) {
		int e = errno;
		gb_policy_local_close(pl);
		return -e;
	}
	*out = pl;
	return 0;
}

int gb_policy_local_fd(const struct gb_policy_local *pl)
{
	return pl ? pl->tfd : -1;
}

static void emit_entry(void *ctx, const char *key, const char *yaml, const char *sha)
{
	struct gb_policy_local *pl = ctx;
	(void)key;
	gb_sbx_ev_config(pl->ev, GB_CFG_VALIDATED, 0, sha, GB_POLICY_LOCAL_SOURCE, yaml);
}

void gb_policy_local_check(struct gb_policy_local *pl)
{
	uint64_t ticks;
	if (!pl || read(pl->tfd, &ticks, sizeof ticks) < 0)
		return;
	struct stat st;
	char path[64];
	snprintf(path, sizeof path, "%s/%s", GB_POLICY_LOCAL_DIR, GB_POLICY_LOCAL_FILE);
	/* the cheap look first: unchanged inode, size and mtime = nothing to do */
	if (fstatat(pl->wd, path, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (pl->last_rc != -ENOENT && st.st_dev == pl->dev && st.st_ino == pl->ino &&
		    st.st_size == pl->size && st.st_mtim.tv_sec == pl->mtime.tv_sec &&
		    st.st_mtim.tv_nsec == pl->mtime.tv_nsec)
			return;
		pl->dev = st.st_dev, pl->ino = st.st_ino, pl->size = st.st_size, pl->mtime = st.st_mtim;
	} else if (errno == ENOENT || errno == ENOTDIR) {
		pl->last_rc = -ENOENT;
		return;
	}
	char err[512] = "";
	size_t len = 0;
	int rc = gb_policy_local_read(pl->wd, pl->buf, GB_POLICY_LOCAL_MAX + 2, &len, err, sizeof err);
	if (rc == -ENOENT) {
		pl->last_rc = rc;
		return;
	}
	if (rc == 0) {
		unsigned char md[32];
		char sha[65];
		/* the same content again (touched, rewritten alike): nothing new */
		if (EVP_Digest(pl->buf, len, md, NULL, EVP_sha256(), NULL) != 1)
			return;
		gb_hex(md, sizeof md, sha);
		if (pl->last_rc == 0 && !strcmp(sha, pl->last_sha))
			return;
		snprintf(pl->last_sha, sizeof pl->last_sha, "%s", sha);
		pl->last_rc = 0;
		rc = gb_policy_local_entries(pl->buf, len, emit_entry, pl, err, sizeof err);
		if (rc > 0) {
			gb_log_info(NULL, "policy.local: %d proposed entr%s recorded for review", rc,
			            rc == 1 ? "y" : "ies");
			return;
		}
	} else {
		pl->last_rc = rc;
	}
	/* Bounded: the stat gate above lets one refusal through per change of
	 * the file, at most one per tick. */
	char detail[700];
	snprintf(detail, sizeof detail, "policy.local refused: %s", err);
	gb_log_warn(NULL, "%s", detail);
	gb_sbx_ev_config(pl->ev, GB_CFG_REFUSED, 0, "", GB_POLICY_LOCAL_SOURCE, detail);
}

void gb_policy_local_close(struct gb_policy_local *pl)
{
	if (!pl)
		return;
	if (pl->wd >= 0)
		close(pl->wd);
	if (pl->tfd >= 0)
		close(pl->tfd);
	free(pl->buf);
	pthread_mutex_destroy(&pl->mu);
	free(pl);
}

/* ---- http://policy.local ---- */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool take_token(struct gb_policy_local *pl)
{
	pthread_mutex_lock(&pl->mu);
	uint64_t now = now_ms();
	if (pl->refilled_ms)
		pl->tokens += (double)(now - pl->refilled_ms) * REFILL_PER_S / 1000.0;
	if (pl->tokens > BURST)
		pl->tokens = BURST;
	pl->refilled_ms = now;
	bool ok = pl->tokens >= 1.0;
	if (ok)
		pl->tokens -= 1.0;
	pthread_mutex_unlock(&pl->mu);
	return ok;
}

struct one_entry {
	int n;
	char key[300], sha[65];
	char *yaml;
};

static void collect(void *ctx, const char *key, const char *yaml, const char *sha)
{
	struct one_entry *o = ctx;
	if (o->n++ == 0) {
		snprintf(o->key, sizeof o->key, "%s", key);
		snprintf(o->sha, sizeof o->sha, "%s", sha);
		o->yaml = strdup(yaml);
	}
}

/* An entry named key runs already: 1 with the same content, -1 other, 0 none. */
static int running_has(struct gb_policy_local *pl, const char *key, const char *sha)
{
	if (!pl->ev || !pl->ev->store)
		return 0;
	const struct gb_policy_compiled *pc = gb_policy_store_get(pl->ev->store);
	size_t n = 0;
	const struct gb_net_entry *e = gb_policy_compiled_entries(pc, &n);
	int rc = 0;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(e[i].key, key)) {
			char s[65];
			rc = gb_policy_hash_entries(&e[i], 1, s) == 0 && !strcmp(s, sha) ? 1 : -1;
			break;
		}
	gb_policy_store_put(pl->ev->store, pc);
	return rc;
}

int gb_policy_local_propose(struct gb_policy_local *pl, const char *text, size_t len, char *key,
                            size_t keyn, char **yaml, char sha[65], char *err, size_t errlen)
{
	*yaml = NULL;
	if (!take_token(pl)) {
		snprintf(err, errlen, "at most %d proposals at once and %d a second after that",
		         BURST, REFILL_PER_S);
		return -EAGAIN;
	}
	struct one_entry o = { 0 };
	char why[512] = "";
	int rc = gb_policy_local_entries(text, len, collect, &o, why, sizeof why);
	if (rc >= 0 && (o.n != 1 || !o.yaml)) {
		snprintf(why, sizeof why, "%s: %d entries: a proposal is exactly one network_policies "
		         "entry", GB_POLICY_LOCAL_FILE, o.n);
		rc = o.yaml ? -EINVAL : -ENOMEM;
	}
	if (rc >= 0 && running_has(pl, o.key, o.sha) < 0) {
		snprintf(why, sizeof why, "an entry named %s runs already with other content; propose "
		         "under another ruleName (a proposal never replaces a running entry)", o.key);
		rc = -EEXIST;
	}
	if (rc < 0) {
		free(o.yaml);
		snprintf(err, errlen, "%s", why);
		char detail[700];
		snprintf(detail, sizeof detail, "policy.local (http) refused: %s", why);
		gb_sbx_ev_config(pl->ev, GB_CFG_REFUSED, 0, "", GB_POLICY_LOCAL_SOURCE, detail);
		return rc == -EEXIST ? -EEXIST : -EINVAL;
	}
	gb_sbx_ev_config(pl->ev, GB_CFG_VALIDATED, 0, o.sha, GB_POLICY_LOCAL_SOURCE, o.yaml);
	gb_log_info(NULL, "policy.local: entry %s proposed over http, recorded for review", o.key);
	snprintf(key, keyn, "%s", o.key);
	memcpy(sha, o.sha, 65);
	*yaml = o.yaml;
	return 0;
}

static int hook_propose(void *ctx, const char *text, size_t len, char *key, size_t keyn,
                        char **yaml, char sha[65], char *err, size_t errlen)
{
	return gb_policy_local_propose(ctx, text, len, key, keyn, yaml, sha, err, errlen);
}

struct ask {
	struct gb_policy_local *pl;
	const char *key, *yaml;
	char *status, *reason;
	size_t sn, rn;
	long long *id;
	int rc;
};

static void *ask_main(void *arg)
{
	struct ask *a = arg;
	a->rc = a->pl->decide(a->pl->decide_ctx, a->pl->name, a->key, a->yaml, a->status, a->sn,
	                      a->reason, a->rn, a->id);
	return NULL;
}

/* The proxy calls this from a connection's thread, whose stack is small
 * (l7.h); the API client reads answers into a 64 KiB stack buffer, so the
 * question is asked on a thread of the default stack size. */
static int hook_decision(void *ctx, const char *key, const char *yaml, char *status, size_t sn,
                         char *reason, size_t rn, long long *id)
{
	struct gb_policy_local *pl = ctx;
	if (!pl->decide)
		return -ENOSYS;
	struct ask a = { pl, key, yaml, status, reason, sn, rn, id, -EIO };
	pthread_t th;
	if (pthread_create(&th, NULL, ask_main, &a) != 0)
		return -EAGAIN;
	pthread_join(th, NULL);
	return a.rc;
}

void gb_policy_local_set_decider(struct gb_policy_local *pl, gb_policy_local_decider fn,
                                 void *ctx, const char *sandbox)
{
	pl->decide = fn;
	pl->decide_ctx = ctx;
	snprintf(pl->name, sizeof pl->name, "%s", sandbox ? sandbox : "");
}

const struct gb_pl_hooks *gb_policy_local_hooks(struct gb_policy_local *pl)
{
	if (!pl)
		return NULL;
	pl->hooks.ctx = pl;
	pl->hooks.propose = hook_propose;
	pl->hooks.decision = hook_decision;
	return &pl->hooks;
}
