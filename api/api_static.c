/* api/api_static.c — the web dashboard's files (dashboards/web) at / and
 * every other path outside /v1/ and /metrics (api_int.h).
 *
 * The files are public (HTML, CSS, ES modules): they carry no secret, so
 * they need no token — the browser fetches the page before it has one; the
 * page then sends the token as a header on every API call.  What must not
 * happen is a path that reaches outside the directory, so a path is
 * accepted only when it is lexically clean (components of A-Z a-z 0-9 . _ -,
 * none empty or starting with '.', which rules out "..", hidden files and
 * the 0x7f that api_server.c's decoder makes of %00), and is then opened
 * with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) below the directory,
 * so a symlink planted inside it is refused by the kernel too.  Only known
 * extensions are served, each with its one content type, nosniff, and a
 * Content-Security-Policy that allows nothing but this origin (the
 * appliance runs offline: no CDN, font or script from elsewhere). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "api/api_int.h"

#define MAX_ASSET (8u << 20) /* the largest file served: a guard, not a budget */
#define MAX_URL 256

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".json", "application/json" },
	{ ".txt", "text/plain; charset=utf-8" },
};

static const char CSP[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
                          "form-action 'none'; frame-ancestors 'none'";

int api_static_path(const char *url)
{
	return strncmp(url, "/v1/", 4) && strcmp(url, "/v1") && strcmp(url, "/metrics");
}

/* rel (no leading '/') is a clean relative path: 1 yes, 0 no. */
static int clean(const char *rel)
{
	size_t n = strlen(rel);
	if (!n || n >= MAX_URL)
		return 0;
	const char *c = rel;
	for (;;) {
		const char *end = strchr(c, '/');
		size_t len = end ? (size_t)(end - c) : strlen(c);
		if (!len || c[0] == '.')
			return 0;
		for (size_t i = 0; i < len; i++) {
			char ch = c[i];
			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
				return 0;
		}
		if (!end)
			return 1;
		c = end + 1;
	}
}

static const char *type_of(const char *rel)
{
	const char *dot = strrchr(rel, '.');
	if (!dot || strchr(dot, '/'))
		return NULL;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return NULL;
}

/* rel below dir, never leaving it and never through a symlink. */
static int open_beneath(const char *dir, const char *rel)
{
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW,
		                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
		                           RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof how);
	if (fd < 0 && errno == ENOSYS) {
		/* before Linux 5.6: the lexical check above already keeps the
		 * path below dir; O_NOFOLLOW refuses a symlinked file. */
		fd = openat(dfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	int e = errno;
	close(dfd);
	return fd < 0 ? -e : fd;
}

static enum MHD_Result answer(struct api_req *r, unsigned status, char *body, size_t len,
                              const char *type)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	/* revalidate every time: an upgrade must not leave an old module
	 * next to a new page */
	MHD_add_response_header(resp, "Cache-Control", "no-cache");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Content-Security-Policy", CSP);
	atomic_fetch_add(&r->api->requests[status / 100 - 2], 1);
	enum MHD_Result rc = MHD_queue_response(r->c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

enum MHD_Result api_static(struct api_req *r, const char *url)
{
	if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD"))
		return api_error(r, 405, "method_not_allowed", "the dashboard's files: GET only");
	const char *rel = url[0] == '/' ? url + 1 : url;
	if (!*rel)
		rel = "index.html";
	const char *type = type_of(rel);
	if (!clean(rel) || !type)
		return api_error(r, 404, "not_found", "no such file (the dashboard serves the files "
		                 "of its directory only)");
	int fd = open_beneath(r->api->dashboard_dir, rel);
	if (fd == -ENOENT && !strcmp(rel, "index.html"))
		return api_error(r, 404, "not_found", "the web dashboard is not installed here (%s: "
		                 "no index.html; see glassbox serve --dashboard-dir)",
		                 r->api->dashboard_dir);
	if (fd < 0)
		return api_error(r, 404, "not_found", "no such file");
	struct stat sb;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > MAX_ASSET) {
		close(fd);
		return api_error(r, 404, "not_found", "not a file that is served");
	}
	size_t n = (size_t)sb.st_size, got = 0;
	char *body = malloc(n ? n : 1);
	if (!body) {
		close(fd);
		return api_error(r, 503, "no_memory", "out of memory");
	}
	while (got < n) {
		ssize_t k = read(fd, body + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	close(fd);
	return answer(r, 200, body, got, type);
}
