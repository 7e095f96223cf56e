/* exporter/evidence_verify.c — checking a bundle on any machine (contract:
 * evidence.h).  The members are unpacked into a private temporary
 * directory (mkdtemp, 0700; names already restricted by tar.h, each file
 * created O_EXCL so a repeated name cannot overwrite), checked against the
 * manifest, and the journal part is handed to gb_ckpt_verify as if it were
 * a journal directory.  The directory is removed before returning. */
#include "exporter/evidence.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/paths.h"
#include "exporter/tar.h"

#define MAX_MEMBER (1ull << 30)
#define MAX_MEMBERS 100000

struct ectx {
	void (*report)(void *arg, const char *text);
	void *arg;
	int problems;
};

__attribute__((format(printf, 2, 3))) static void problem(struct ectx *e, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	e->problems++;
	if (e->report)
		e->report(e->arg, buf);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

static int store(const char *root, const char *name, const char *data, size_t len)
{
	char p[GB_PATH_MAX];
	if (gb_path_join(p, sizeof p, root, name) < 0)
		return -ENAMETOOLONG;
	char *slash = strrchr(p, '/');
	*slash = 0;
	int rc = gb_mkdir_p(p, 0700, 0700);
	*slash = '/';
	if (rc < 0)
		return rc;
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	rc = gb_write_all(fd, data, len);
	close(fd);
	return rc;
}

static void when(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Every manifest member present, of its size and hash; nothing else. */
static void check_members(struct ectx *e, const char *root, json_t *members, char **names, size_t n)
{
	size_t i;
	json_t *m;
	json_array_foreach(members, i, m) {
		const char *name = json_string_value(json_object_get(m, "name"));
		const char *want = json_string_value(json_object_get(m, "sha256"));
		if (!name || !want) {
			problem(e, "manifest: member %zu has no name or sha256", i);
			continue;
		}
		char p[GB_PATH_MAX], sha[65] = "";
		bool have = false;
		for (size_t k = 0; k < n && !have; k++)
			have = !strcmp(names[k], name);
		if (!have || gb_path_join(p, sizeof p, root, name) < 0 || gb_sha256_file(p, sha) < 0) {
			problem(e, "%s: missing from the bundle", name);
			continue;
		}
		if (!strcmp(sha, want))
			continue;
		json_t *seg = json_object_get(m, "segment");
		if (json_is_integer(seg)) {
			char a[32] = "?", b[32] = "?";
			json_int_t f = json_integer_value(json_object_get(m, "first_ms"));
			json_int_t l = json_integer_value(json_object_get(m, "last_ms"));
			if (f)
				when(f, a);
			if (l)
				when(l, b);
			problem(e, "%s: differs from the manifest (SHA-256 %.16s..., exported %.16s...): segment %"
			        JSON_INTEGER_FORMAT ", events 1-%" JSON_INTEGER_FORMAT " (%s to %s) are not as exported",
			        name, sha, want, json_integer_value(seg),
			        json_integer_value(json_object_get(m, "events")), a, b);
		} else
			problem(e, "%s: differs from the manifest (SHA-256 %.16s..., exported %.16s...)", name,
			        sha, want);
	}
	for (size_t k = 0; k < n; k++) {
		bool listed = !strcmp(names[k], "manifest.json");
		json_array_foreach(members, i, m) {
			const char *name = json_string_value(json_object_get(m, "name"));
			if (name && !strcmp(name, names[k]))
				listed = true;
		}
		if (!listed)
			problem(e, "%s: in the bundle but not in the manifest (added)", names[k]);
	}
}

int gb_evidence_verify(const char *tar_path, const char *key_path,
                       void (*report)(void *arg, const char *text), void *arg,
                       struct gb_ckpt_result *res, char *key_id, char *err, size_t errlen)
{
	struct ectx e = { report, arg, 0 };
	memset(res, 0, sizeof *res);
	err[0] = 0;
	FILE *f = fopen(tar_path, "re");
	if (!f) {
		int rc = -errno;
		snprintf(err, errlen, "%s: %s", tar_path, strerror(-rc));
		return rc;
	}
	const char *tmpbase = getenv("TMPDIR");
	char root[GB_PATH_MAX];
	snprintf(root, sizeof root, "%s/gb-evidence-XXXXXX", tmpbase && *tmpbase ? tmpbase : "/tmp");
	if (!mkdtemp(root)) {
		int rc = -errno;
		fclose(f);
		snprintf(err, errlen, "temporary directory: %s", strerror(-rc));
		return rc;
	}
	char **names = NULL;
	size_t n = 0;
	json_t *man = NULL;
	int rc;
	for (;;) {
		char name[100], *data;
		size_t len;
		rc = gb_tar_next(f, name, &data, &len, MAX_MEMBER);
		if (rc <= 0)
			break;
		if (n == MAX_MEMBERS) {
			free(data);
			rc = -E2BIG;
			break;
		}
		if (!strcmp(name, "manifest.json")) {
			json_decref(man);
			man = json_loadb(data, len, 0, NULL);
		}
		int src = store(root, name, data, len);
		free(data);
		if (src == -EEXIST) {
			problem(&e, "%s: appears twice in the bundle", name);
			continue;
		}
		char **nn = realloc(names, (n + 1) * sizeof *names);
		if (src < 0 || !nn || !(nn[n] = strdup(name))) {
			if (nn)
				names = nn;
			rc = src < 0 ? src : -ENOMEM;
			break;
		}
		names = nn;
		n++;
	}
	fclose(f);
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", tar_path,
		         rc == -EBADMSG ? "not a glassbox bundle (malformed or truncated tar)" : strerror(-rc));
	const char *fmt = json_string_value(json_object_get(man, "format"));
	if (rc == 0 && (!fmt || strcmp(fmt, GB_EVIDENCE_FORMAT))) {
		snprintf(err, errlen, "%s: no %s manifest", tar_path, GB_EVIDENCE_FORMAT);
		rc = -EBADMSG;
	}
	if (rc == 0)
		check_members(&e, root, json_object_get(man, "members"), names, n);
	EVP_PKEY *k = NULL;
	if (rc == 0) {
		char p[GB_PATH_MAX];
		gb_path_join(p, sizeof p, root, "journal.pub");
		rc = gb_ckpt_pub_load(key_path ? key_path : p, &k, err, errlen);
	}
	if (rc == 0) {
		gb_ckpt_key_id(k, key_id);
		const char *mid = json_string_value(json_object_get(man, "key_id"));
		if (!mid || strcmp(mid, key_id))
			problem(&e, "the bundle was exported under key %s, not %s", mid ? mid : "(none)", key_id);
		char jd[GB_PATH_MAX];
		gb_path_join(jd, sizeof jd, root, "journal");
		gb_mkdir_p(jd, 0700, 0700); /* a bundle of no segments is still checked */
		int v = gb_ckpt_verify(jd, k, 0, report, arg, res);
		if (v < 0) {
			rc = v;
			snprintf(err, errlen, "reading the bundled journal: %s", strerror(-v));
		} else
			e.problems += v;
	}
	EVP_PKEY_free(k);
	json_decref(man);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc < 0 ? rc : e.problems;
}
