/* enforcer/sandbox_events.c — see sandbox_events.h. */
#include "enforcer/sandbox_events.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int gb_sbx_events_open(struct gb_sbx_events *ev, const struct gb_statedir *sd, const char *name)
{
	memset(ev, 0, sizeof *ev);
	ev->netns_fd = -1;
	ev->name = name;
	(void)sd;
	return 0;
}

void gb_sbx_events_close(struct gb_sbx_events *ev)
{
	(void)ev;
}

void gb_sbx_ev_finding(struct gb_sbx_events *ev, int kind, int severity, const char *subject,
                       const char *detail)
{
	ev->lost++;
}

void gb_sbx_ev_config_loaded(struct gb_sbx_events *ev, const char *path, const char *sha256)
{
	ev->lost++;
}

void gb_sbx_ev_finding_proc(struct gb_sbx_events *ev, int kind, int severity, const char *subject,
                            const char *detail, int32_t pid, uint32_t uid, const char *exe)
{
	ev->lost++;
}

void gb_sbx_ev_lifecycle(struct gb_sbx_events *ev, int activity, uint32_t layers, uint32_t abi,
                         uint32_t uid, uint32_t gid, const char *rights, const char *seccomp,
                         const char *user, const char *workdir)
{
	ev->lost++;
}

void gb_sbx_ev_proc_launch(struct gb_sbx_events *ev, pid_t pid, uint32_t uid, uint32_t gid,
                           const char *exe, const char *sha256, char *const *argv)
{
	ev->lost++;
}

void gb_sbx_ev_proc_exit(struct gb_sbx_events *ev, pid_t pid, uint32_t uid, uint32_t gid,
                         const char *exe, const char *sha256, int32_t code, int32_t sig,
                         uint64_t duration_ns)
{
	ev->lost++;
}
