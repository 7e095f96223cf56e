/* cli/cmd_policy.c — `glassbox policy check FILE [--json]` and the dispatch
 * of the other policy subcommands (explain: cli/cmd_policy_explain.c).
 *
 * check: load and validate FILE, print every diagnostic (compiler style on
 * stderr, or one JSON array on stdout with --json); exit 0 when the policy
 * is valid (warnings allowed), 1 when it is not, 2 on usage errors.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "common/jsonw.h"
#include "common/policy.h"

static void check_usage(FILE *f)
{
	fprintf(f, "usage: glassbox policy check FILE [--json]\n"
	           "  validate FILE; print every error and warning with file:line:column and\n"
	           "  the field path; exit 0 when valid, 1 when not.\n"
	           "  --json  print the diagnostics as a JSON array on stdout\n");
}

static void print_json(const struct gb_diags *d)
{
	struct gb_buf b = GB_BUF_INIT;
	struct gb_jsonw w;
	gb_jw_init(&w, &b);
	gb_jw_arr_begin(&w);
	for (size_t i = 0; i < d->n; i++) {
		const struct gb_diag *g = &d->v[i];
		gb_jw_obj_begin(&w);
		gb_jw_kstr(&w, "file", g->file);
		gb_jw_kint(&w, "line", g->line);
		gb_jw_kint(&w, "column", g->column);
		gb_jw_kstr(&w, "path", g->field && *g->field ? g->field : NULL);
		gb_jw_kstr(&w, "severity", g->level == GB_DIAG_ERROR ? "error" : "warning");
		gb_jw_kstr(&w, "message", g->message);
		gb_jw_kstr(&w, "suggestion", g->hint);
		gb_jw_obj_end(&w);
	}
	gb_jw_arr_end(&w);
	fwrite(gb_buf_cstr(&b), 1, b.len, stdout);
	fputc('\n', stdout);
	gb_buf_free(&b);
}

static int policy_check(int argc, char **argv)
{
	const char *file = NULL;
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			check_usage(stdout);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "glassbox policy check: unknown option '%s'\n", argv[i]);
			check_usage(stderr);
			return 2;
		} else if (file) {
			fprintf(stderr, "glassbox policy check: one FILE only\n");
			return 2;
		} else {
			file = argv[i];
		}
	}
	if (!file) {
		check_usage(stderr);
		return 2;
	}
	struct gb_diags d = { 0 };
	struct gb_policy *p = NULL;
	int rc = gb_policy_load_file(file, &p, &d);
	if (json) {
		print_json(&d);
	} else {
		gb_diags_print(&d, stderr);
		if (!rc)
			printf("%s: ok: %zu network polic%s, %zu warning%s, sha256 %s\n", file,
			       p->n_entries, p->n_entries == 1 ? "y" : "ies", d.warnings,
			       d.warnings == 1 ? "" : "s", p->sha256);
		else
			fprintf(stderr, "%s: invalid: %zu error%s, %zu warning%s\n", file, d.errors,
			        d.errors == 1 ? "" : "s", d.warnings, d.warnings == 1 ? "" : "s");
	}
	gb_policy_free(p);
	gb_diags_free(&d);
	return rc ? 1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: glassbox policy check FILE [--json]\n"
	           "       glassbox policy explain FILE --binary PATH --host H --port P [...]\n");
}

int cmd_policy(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "check"))
		return policy_check(argc - 1, argv + 1);
	if (!strcmp(argv[1], "explain"))
		return cmd_policy_explain(argc - 1, argv + 1);
	fprintf(stderr, "glassbox policy: unknown subcommand '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
