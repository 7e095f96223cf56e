/* exporter/ocsf_proc.c — PROC -> Process Activity 1007.
 *
 *   LAUNCH    -> 1 Launch       the sandboxed command started
 *   EXIT      -> 2 Terminate    exit_code, signal, duration, terminated_time
 *   PRIV_DROP -> 5 Set User ID  the drop to the unprivileged uid/gid
 * The actor (required in 1.8.0, missing from every OpenShell process event)
 * is the parent that launched or reaped the process: the supervisor.  The
 * process object is the real one (pid, exe, hash, argv) on exit too, not a
 * placeholder.
 */
#include <errno.h>
#include <string.h>

#include "exporter/ocsf_int.h"

static const char *signame(int sig)
{
	const char *s = sigabbrev_np(sig);
	return s ? s : "unknown";
}

/* cmd_line: argv joined by spaces; an argument containing a space, quote or
 * backslash is double-quoted with \ and " escaped, so the line is unambiguous. */
static void cmd_line(struct gb_jsonw *w, const struct gb_proc *p, uint32_t argc)
{
	ocsf_sbegin(w, "cmd_line");
	for (uint32_t i = 0; i < argc; i++) {
		const char *a = p->argv[i] ? p->argv[i] : "";
		if (i)
			ocsf_sadd(w, " ");
		if (*a && !strpbrk(a, " \t\"\\'")) {
			ocsf_sadd(w, a);
			continue;
		}
		ocsf_sadd(w, "\"");
		for (const char *c = a; *c;) {
			size_t run = strcspn(c, "\"\\");
			ocsf_saddn(w, c, run);
			c += run;
			if (*c) {
				ocsf_sadd(w, "\\");
				ocsf_saddn(w, c++, 1);
			}
		}
		ocsf_sadd(w, "\"");
	}
	ocsf_send(w);
}

int ocsf_proc(struct ocsf_ev *ev)
{
	const struct gb_proc *p = &ev->rec->u.proc;
	struct gb_jsonw *w = &ev->w;
	const char *exe = p->exe ? p->exe : "";
	const char *sname = ev->ctx->sandbox_name;
	uint32_t argc = p->argc < GB_MAX_ARGV ? p->argc : GB_MAX_ARGV;
	uint64_t t_ms = ev->rec->ts_ns / 1000000u, dur_ms = p->duration_ns / 1000000u;
	int act, sev = GB_SEV_INFO;

	switch (p->activity) {
	case GB_PROC_LAUNCH: act = 1; break;
	case GB_PROC_EXIT:
		act = 2;
		/* A non-zero exit or a signal is worth a look, not an alarm. */
		if (p->exit_code != 0 || p->signal != 0)
			sev = GB_SEV_LOW;
		break;
	case GB_PROC_PRIV_DROP: act = 5; break;
	default: return -EINVAL;
	}
	ocsf_envelope(ev, OCSF_PROC, act, sev, OCSF_STATUS_SUCCESS);

	ocsf_sbegin(w, "message");
	ocsf_sadd(w, act == 1 ? "Process launched " : act == 2 ? "Process exited " : "Privileges dropped ");
	ocsf_sadd(w, *exe ? exe : "?");
	ocsf_sadd(w, " (pid ");
	ocsf_sadd_u64(w, p->pid > 0 ? (uint64_t)p->pid : 0);
	ocsf_sadd(w, ")");
	if (act == 2) {
		if (p->signal > 0) {
			ocsf_sadd(w, " killed by SIG");
			ocsf_sadd(w, signame(p->signal));
		} else {
			ocsf_sadd(w, " with code ");
			if (p->exit_code < 0)
				ocsf_sadd(w, "-"); /* only -1 in practice */
			ocsf_sadd_u64(w, (uint64_t)(p->exit_code < 0 ? -(int64_t)p->exit_code : p->exit_code));
		}
	}
	ocsf_sadd_opt(w, ": ", p->detail);
	ocsf_send(w);

	/* Who did it: the supervisor that launched / reaped it (records from
	 * before supervisor_pid had it in ppid). */
	ocsf_glassbox_actor(ev, p->supervisor_pid > 0 ? p->supervisor_pid : p->ppid);

	ocsf_key(w, "process");
	gb_jw_obj_begin(w);
	ocsf_kuint(w, "pid", p->pid > 0 ? (uint64_t)p->pid : 0);
	if (*exe) {
		ocsf_kstr(w, "name", ocsf_basename(exe));
		ocsf_kstr(w, "path", exe);
		ocsf_file(w, exe, p->sha256, false);
	}
	if (argc)
		cmd_line(w, p, argc);
	ocsf_kobj_str_u64(w, "user", "uid", p->uid);
	ocsf_kobj_str_u64(w, "group", "uid", p->gid);
	ev->profiles |= OCSF_P_LINUX_USERS;
	if (sname && *sname)
		ocsf_kstr(w, "sandbox", sname);
	if (act == 2) {
		if (dur_ms && t_ms >= dur_ms)
			ocsf_kuint(w, "created_time", t_ms - dur_ms);
		ocsf_kuint(w, "terminated_time", t_ms);
	} else if (act == 1) {
		ocsf_kuint(w, "created_time", t_ms);
	}
	if (p->ppid > 0)
		ocsf_kpid(w, "parent_process", (uint64_t)p->ppid);
	gb_jw_obj_end(w);

	if (act == 1) {
		ocsf_kuint(w, "launch_type_id", 1);
		ocsf_kstr(w, "launch_type", "Spawn");
	}
	if (act == 2) {
		gb_jw_kint(w, "exit_code", p->exit_code);
		if (dur_ms)
			ocsf_kuint(w, "duration", dur_ms);
		if (p->signal > 0) {
			ocsf_key(w, "unmapped");
			gb_jw_obj_begin(w);
			gb_jw_kint(w, "signal", p->signal);
			ocsf_sbegin(w, "signal_name");
			ocsf_sadd(w, "SIG");
			ocsf_sadd(w, signame(p->signal));
			ocsf_send(w);
			gb_jw_obj_end(w);
		}
	}
	return ocsf_finish(ev);
}
