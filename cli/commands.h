/* cli/commands.h — the subcommands of the one `glassbox` binary.
 *
 * Each subcommand lives in cli/cmd_NAME.c and is a thin shell over library
 * code that tests reach directly.  A command returns the process exit status
 * (0 ok, 1 failure the user should read about, 2 usage error).  argv[0] is
 * the subcommand name.
 */
#ifndef GB_CLI_COMMANDS_H
#define GB_CLI_COMMANDS_H

struct gb_command {
	const char *name;
	const char *summary;  /* one line for `glassbox --help` */
	int (*run)(int argc, char **argv);
};

/* Global options parsed by main() before the subcommand. */
struct gb_globals {
	const char *root;     /* --root DIR / GLASSBOX_ROOT: prefix for every path, or NULL */
};
extern struct gb_globals gb_globals;

int cmd_policy(int argc, char **argv);
int cmd_policy_explain(int argc, char **argv); /* argv[0] = "explain" */
/* argv[0] = "get", "set", "update" or "history" (cmd_policy_live.c) */
int cmd_policy_live(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_proxy(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_journal(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_advisor(int argc, char **argv);
int cmd_dashboard(int argc, char **argv);
int cmd_journal_key(int argc, char **argv); /* argv[0] = "key" */
/* After the chain check: what the signed checkpoints prove (cmd_journal_sign.c).
 * keyfile NULL = <root>/var/lib/glassbox/keys/journal.pub.  Exit status. */
#include <stdint.h>
int journal_verify_signed(const char *journal, const char *keyfile, int64_t since_ms);
/* The proven / unproven / broken lines of a checkpoint result. */
struct gb_ckpt_result;
void journal_print_proof(const struct gb_ckpt_result *res, int problems);
int cmd_evidence(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_inference(int argc, char **argv); /* cmd_inference.c */
/* "10m" ago, epoch ms or RFC 3339 (2026-11-24T10:00:00.5+01:00) -> epoch ms
 * (cli/when.c); shared by logs, journal verify, evidence and report. */
int gb_cli_parse_when(const char *s, int64_t *out);


#endif
