/* cli/cmd_ls.c — `glassbox ls [--json]`: the sandboxes and their state,
 * from the daemon's API (/v1/sandboxes), or, when no daemon runs, from the
 * runtime directory and each supervisor's control socket. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "api/api_client.h"
#include "api/control_client.h"
#include "cli/commands.h"
#include "common/log.h"
#include "common/paths.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: glassbox ls [--json]\n"
	           "  the sandboxes of this root: name, state (running, or stale: a supervisor that\n"
	           "  died), supervisor pid, policy revision and hash\n");
}

/* What the API answers, built locally. */
static json_t *local_list(void)
{
	char dir[4096];
	if (gb_path_sandboxes(dir, sizeof dir, gb_globals.root) < 0)
		return json_array();
	json_t *arr = json_array();
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (!gb_sandbox_name_valid(e->d_name))
			continue;
		char p[4400];
		snprintf(p, sizeof p, "%s/%s/" GB_SUPERVISOR_LOCK, dir, e->d_name);
		int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		int alive = fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
		char b[32] = "";
		ssize_t n = fd >= 0 ? pread(fd, b, sizeof b - 1, 0) : -1;
		if (n > 0)
			b[n] = 0;
		if (fd >= 0)
			close(fd);
		json_t *s = json_pack("{s:s, s:s, s:I}", "name", e->d_name, "state",
		                      alive ? "running" : "stale", "supervisor_pid",
		                      (json_int_t)strtol(b, NULL, 10));
		json_t *req = json_pack("{s:s}", "op", "get"), *resp = NULL;
		char err[256];
		if (alive && gb_ctl_call(gb_globals.root, e->d_name, req, &resp, err, sizeof err) == 0 &&
		    json_is_true(json_object_get(resp, "ok")))
			json_object_set_new(s, "policy", json_pack("{s:O, s:O}", "revision",
			                                           json_object_get(resp, "revision"),
			                                           "sha256", json_object_get(resp, "sha256")));
		json_decref(req);
		json_decref(resp);
		json_array_append_new(arr, s);
	}
	if (d)
		closedir(d);
	return json_pack("{s:o}", "sandboxes", arr);
}

int cmd_ls(int argc, char **argv)
{
	int json = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			gb_log_error("ls", "unknown argument '%s'", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	long http = 0;
	char *body = NULL, err[512];
	json_t *o = NULL;
	int rc = gb_apic_request(gb_globals.root, "GET", "/v1/sandboxes", NULL, 0, &http, &body, err,
	                         sizeof err);
	if (rc == 0 && http == 200) {
		o = json_loads(body, 0, NULL);
	} else if (rc == -ENOENT || rc == -ECONNREFUSED) {
		char dir[4096] = "";
		gb_path_sandboxes(dir, sizeof dir, gb_globals.root);
		gb_log_error("ls", "the daemon is not running (start it with `glassbox "
		                "serve`); listing %s directly", dir);
		o = local_list();
	} else {
		gb_log_error("ls", "%s", rc < 0 ? err : "the daemon's answer was an error");
	}
	free(body);
	if (!o)
		return 1;
	json_t *arr = json_object_get(o, "sandboxes");
	if (json) {
		char *s = json_dumps(o, JSON_INDENT(2));
		if (s)
			puts(s);
		free(s);
	} else {
		printf("%-24s %-8s %-10s %-8s %s\n", "NAME", "STATE", "SUPERVISOR", "REVISION", "SHA256");
		size_t i;
		json_t *s;
		json_array_foreach(arr, i, s) {
			json_t *p = json_object_get(s, "policy");
			char rev[24] = "-";
			if (json_is_object(p))
				snprintf(rev, sizeof rev, "%lld",
				         (long long)json_integer_value(json_object_get(p, "revision")));
			printf("%-24s %-8s %-10lld %-8s %.12s\n", json_string_value(json_object_get(s, "name")),
			       json_string_value(json_object_get(s, "state")),
			       (long long)json_integer_value(json_object_get(s, "supervisor_pid")), rev,
			       json_is_object(p) ? json_string_value(json_object_get(p, "sha256")) : "-");
		}
		if (!json_array_size(arr))
			printf("(no sandboxes)\n");
	}
	json_decref(o);
	return 0;
}
