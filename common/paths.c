/* common/paths.c — see paths.h. */
#include "common/paths.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int gb_path_norm(char *out, size_t len, const char *in)
{
	if (!len)
		return -ENAMETOOLONG;
	size_t o = 0;
	const char *p = in;
	int absolute = *p == '/';
	if (absolute) {
		if (o + 1 >= len)
			goto toolong;
		out[o++] = '/';
	}
	/* Copy component by component; out never runs ahead of in, so in and
	 * out may overlap exactly. */
	while (*p) {
		while (*p == '/')
			p++;
		const char *c = p;
		while (*p && *p != '/')
			p++;
		size_t n = (size_t)(p - c);
		if (n == 0 || (n == 1 && c[0] == '.'))
			continue;
		int sep = o > 0 && out[o - 1] != '/';
		if (o + (size_t)sep + n >= len)
			goto toolong;
		if (sep)
			out[o++] = '/';
		memmove(out + o, c, n);
		o += n;
	}
	if (o == 0 && *in && !absolute) {
		/* "." or "./": the current directory, not "" (which means none) */
		if (len < 2)
			goto toolong;
		out[o++] = '.';
	}
	out[o] = 0;
	return 0;
toolong:
	out[0] = 0;
	return -ENAMETOOLONG;
}

int gb_path_join(char *out, size_t len, const char *dir, const char *rel)
{
	char tmp[GB_PATH_MAX * 2];
	int n = snprintf(tmp, sizeof tmp, "%s/%s", dir, rel);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		if (len)
			out[0] = 0;
		return -ENAMETOOLONG;
	}
	return gb_path_norm(out, len, tmp);
}

int gb_path_under_root(char *out, size_t len, const char *root, const char *rel)
{
	/* "/" + rel and root + "/" + rel normalise alike, so NULL and "" need
	 * no case of their own. */
	return gb_path_join(out, len, root && *root ? root : "/", rel);
}

static int one_component(const char *name)
{
	return name && *name && strcmp(name, ".") && strcmp(name, "..") && !strchr(name, '/');
}

/* The builders of paths right under the root: one line each, so the
 * table in paths.h and this list read the same. */
#define ROOTED(fn, rel)                                                                     \
	int fn(char *out, size_t len, const char *root)                                     \
	{                                                                                   \
		return gb_path_under_root(out, len, root, rel);                             \
	}
ROOTED(gb_path_runtime, GB_REL_RUNTIME)
ROOTED(gb_path_sandboxes, GB_REL_SANDBOXES)
ROOTED(gb_path_serve_lock, GB_REL_RUNTIME "/" GB_SERVE_LOCK)
ROOTED(gb_path_metrics, GB_REL_RUNTIME "/" GB_METRICS_FILE)
ROOTED(gb_path_api_sock, GB_REL_RUNTIME "/" GB_API_SOCK)
ROOTED(gb_path_journal, GB_REL_JOURNAL)
ROOTED(gb_path_cursors, GB_REL_CURSORS)
ROOTED(gb_path_ca, GB_REL_CA)
ROOTED(gb_path_advisor_db, GB_REL_ADVISOR_DB)
ROOTED(gb_path_keys, GB_REL_KEYS)
ROOTED(gb_path_config, GB_REL_CONFIG)
ROOTED(gb_path_credentials, GB_REL_CREDENTIALS)

#ifndef GB_DATADIR
#define GB_DATADIR "/usr/local/share"
#endif
int gb_path_dashboard(char *out, size_t len)
{
	return gb_path_join(out, len, GB_DATADIR, GB_REL_DASHBOARD);
}

/* <root>/run/glassbox/sandboxes/NAME[/file] */
static int sandbox_file(char *out, size_t len, const char *root, const char *name, const char *file)
{
	if (!one_component(name)) {
		if (len)
			out[0] = 0;
		return -EINVAL;
	}
	char rel[GB_PATH_MAX];
	int n = snprintf(rel, sizeof rel, GB_REL_SANDBOXES "/%s%s%s", name, file ? "/" : "",
	                 file ? file : "");
	if (n < 0 || (size_t)n >= sizeof rel) {
		if (len)
			out[0] = 0;
		return -ENAMETOOLONG;
	}
	return gb_path_under_root(out, len, root, rel);
}

int gb_sandbox_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > 63 || name[0] == '.' || name[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int gb_path_sandbox(char *out, size_t len, const char *root, const char *name)
{
	return sandbox_file(out, len, root, name, NULL);
}

int gb_path_ring(char *out, size_t len, const char *root, const char *name)
{
	return sandbox_file(out, len, root, name, GB_RING_FILE);
}

int gb_path_control_sock(char *out, size_t len, const char *root, const char *name)
{
	return sandbox_file(out, len, root, name, GB_CONTROL_SOCK);
}

int gb_path_cursor(char *out, size_t len, const char *cursor_dir, const char *sink)
{
	if (!one_component(sink)) {
		if (len)
			out[0] = 0;
		return -EINVAL;
	}
	return gb_path_join(out, len, cursor_dir, sink);
}

int gb_path_same(const char *a, const char *b)
{
	char na[GB_PATH_MAX], nb[GB_PATH_MAX];
	if (gb_path_norm(na, sizeof na, a) == 0 && gb_path_norm(nb, sizeof nb, b) == 0 &&
	    !strcmp(na, nb))
		return 1;
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}
