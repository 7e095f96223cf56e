/* enforcer/sandbox/sandbox_out.c — see sandbox_out.h. */
#include "enforcer/sandbox/sandbox_out.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/record.h"
#include "common/ring.h"

int gb_sbx_out_open(struct gb_sbx_out *ev, const char *root, const struct gb_statedir *sd,
                    const char *name)
{
	memset(ev, 0, sizeof *ev);
	ev->netns_fd = -1;
	ev->pending.listen_fd = -1;
	ev->name = name;
	ev->sd = sd;
	char path[GB_PATH_MAX];
	int rc = gb_statedir_file(sd, GB_RING_FILE, path, sizeof path);
	/* the lock glassbox serve holds, built as serve builds it (paths.h) */
	if (rc == 0)
		rc = gb_path_serve_lock(ev->daemon_lock, sizeof ev->daemon_lock, root);
	if (rc < 0)
		return rc;
	/* A fresh id per run: the name is reused, but metadata.uid (id:seq)
	 * must never repeat, or a SIEM deduplicating on it drops real events. */
	unsigned char rnd[8];
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
		uint64_t v = gb_now_ns(CLOCK_REALTIME) ^ ((uint64_t)getpid() << 40);
		memcpy(rnd, &v, sizeof rnd);
	}
	gb_hex(rnd, sizeof rnd, ev->id);
	struct gb_ring_opts o = { .size = 0, .sandbox_id = ev->id };
	rc = gb_ring_create(path, &o, &ev->ring);
	if (rc < 0) {
		gb_log_error(NULL, "event ring %s: %s", path, strerror(-rc));
		ev->ring = NULL;
		return rc;
	}
	return 0;
}

/* Is glassbox serve running for this root?  It holds serve.lock. */
static int daemon_alive(const char *lock)
{
	int fd = open(lock, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int alive = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return alive;
}

/* Give the consumer a moment to read the last records before the directory
 * (and the ring) is removed: the daemon, which may not even have attached
 * yet when the command was short, or any other follower that has started
 * reading. */
static void wait_consumer(struct gb_ring *r, int max_ms)
{
	struct gb_ring_stats s;
	gb_ring_stats(r, &s);
	if (s.read_seq == 0 && max_ms < 5000)
		return; /* nobody is reading this ring: it is kept for the next serve */
	for (int waited = 0; waited < max_ms; waited += 5) {
		gb_ring_stats(r, &s);
		if (s.read_seq >= s.next_seq)
			return;
		struct timespec ts = { 0, 5000000 };
		nanosleep(&ts, NULL);
	}
}

void gb_sbx_out_close(struct gb_sbx_out *ev)
{
	if (!ev->ring)
		return;
	wait_consumer(ev->ring, daemon_alive(ev->daemon_lock) ? 5000 : 1000);
	struct gb_ring_stats st;
	gb_ring_stats(ev->ring, &st);
	gb_ring_close(ev->ring);
	ev->ring = NULL;
	if (st.read_seq >= st.next_seq || !ev->sd)
		return; /* all journaled: the directory (and ring) may go */
	char kept[GB_PATH_MAX];
	int rc = gb_statedir_keep_ring(ev->sd, GB_RING_FILE, ev->id, kept, sizeof kept);
	unsigned long long n = (unsigned long long)(st.next_seq - st.read_seq);
	if (rc < 0)
		gb_log_error(NULL, "sandbox '%s': %llu events not journaled and the ring cannot be kept: %s",
		             ev->name, n, strerror(-rc));
	else
		gb_log_warn(NULL, "sandbox '%s': %llu events not journaled yet (glassbox serve is not "
		            "draining this root); kept in %s for the next glassbox serve", ev->name, n, kept);
}

static void emit(struct gb_sbx_out *ev, struct gb_record *rec)
{
	if (!ev->ring) {
		ev->lost++;
		return;
	}
	static __thread unsigned char buf[GB_RECORD_MAX];
	uint16_t flags = 0;
	int n = gb_rec_encode(rec, buf, sizeof buf, &flags);
	if (n < 0 || gb_ring_write(ev->ring, rec->type, flags, buf, (size_t)n, 0, 0, NULL) < 0)
		ev->lost++;
}

void gb_sbx_ev_config_loaded(struct gb_sbx_out *ev, const char *path, const char *sha256)
{
	struct gb_record rec = { .type = GB_REC_CONFIG };
	rec.u.config.action = GB_CFG_LOADED;
	rec.u.config.revision = 1;
	rec.u.config.sha256 = sha256;
	rec.u.config.source = path;
	rec.u.config.detail = "policy applied at sandbox start";
	emit(ev, &rec);
}

void gb_sbx_ev_config(struct gb_sbx_out *ev, int action, uint64_t revision, const char *sha256,
                      const char *source, const char *detail)
{
	struct gb_record rec = { .type = GB_REC_CONFIG };
	rec.u.config.action = (uint8_t)action;
	rec.u.config.revision = revision;
	rec.u.config.sha256 = sha256 ? sha256 : "";
	rec.u.config.source = source ? source : "";
	rec.u.config.detail = detail ? detail : "";
	emit(ev, &rec);
}

void gb_sbx_ev_finding(struct gb_sbx_out *ev, int kind, int severity, const char *subject,
                       const char *detail)
{
	gb_sbx_ev_finding_proc(ev, kind, severity, subject, detail, 0, 0, NULL);
}

static const char *finding_title(int kind)
{
	switch (kind) {
	case GB_F_LANDLOCK_UNAVAILABLE: return "Landlock unavailable";
	case GB_F_LANDLOCK_DEGRADED: return "Landlock degraded";
	case GB_F_LANDLOCK_DENIED: return "Landlock denied access";
	case GB_F_SECCOMP_DENIED: return "seccomp denied a system call";
	case GB_F_CONTAINMENT_DEGRADED: return "Containment degraded";
	case GB_F_RESOURCE_LIMIT: return "Resource limit reached";
	default: return "sandbox";
	}
}

void gb_sbx_ev_finding_proc(struct gb_sbx_out *ev, int kind, int severity, const char *subject,
                            const char *detail, int32_t pid, uint32_t uid, const char *exe)
{
	struct gb_record rec = { .type = GB_REC_FINDING };
	struct gb_finding *f = &rec.u.finding;
	f->kind = (uint16_t)kind;
	f->severity = (uint8_t)severity;
	f->title = finding_title(kind);
	f->detail = detail;
	f->subject = subject;
	if (pid > 0 || (exe && *exe)) {
		f->has_identity = 1;
		f->id.pid = pid;
		f->id.uid = uid;
		f->id.exe = exe ? exe : "";
		f->id.sha256 = "";
		f->id.script = "";
	}
	emit(ev, &rec);
}

void gb_sbx_ev_lifecycle(struct gb_sbx_out *ev, int activity, uint32_t layers, uint32_t abi,
                         uint32_t uid, uint32_t gid, const char *rights, const char *seccomp,
                         const char *user, const char *workdir)
{
	struct gb_record rec = { .type = GB_REC_LIFECYCLE };
	struct gb_lifecycle *l = &rec.u.lifecycle;
	char detail[1200];
	snprintf(detail, sizeof detail, "user %s, workdir %s", user ? user : "",
	         workdir ? workdir : "");
	l->activity = (uint8_t)activity;
	l->layers = layers | (ev->proxy || ev->pending.listen_fd >= 0 ? GB_LAYER_PROXY : 0);
	l->landlock_abi = abi;
	l->uid = uid;
	l->gid = gid;
	l->sandbox_name = ev->name;
	l->landlock_rights = rights;
	l->seccomp_mode = seccomp;
	l->detail = detail;
	l->memory_max = ev->limits.memory_max;
	l->pids_max = ev->limits.pids_max;
	l->nofile = ev->limits.nofile;
	l->cpu_milli = ev->limits.cpu_milli;
	emit(ev, &rec);
}

static void proc_common(struct gb_proc *p, pid_t pid, pid_t ppid, uint32_t uid, uint32_t gid,
                        const char *exe, const char *sha256, char *const *argv)
{
	p->pid = pid;
	p->ppid = ppid;
	p->supervisor_pid = (int32_t)getpid();
	p->uid = uid;
	p->gid = gid;
	p->exe = exe;
	p->sha256 = sha256;
	for (p->argc = 0; argv && argv[p->argc] && p->argc < GB_MAX_ARGV; p->argc++)
		p->argv[p->argc] = argv[p->argc];
}

void gb_sbx_ev_proc_launch(struct gb_sbx_out *ev, pid_t pid, pid_t ppid, uint32_t uid, uint32_t gid,
                           const char *exe, const char *sha256, char *const *argv)
{
	struct gb_record rec = { .type = GB_REC_PROC };
	struct gb_proc *p = &rec.u.proc;
	proc_common(p, pid, ppid, uid, gid, exe, sha256, argv);
	p->activity = GB_PROC_LAUNCH;
	char d[128];
	snprintf(d, sizeof d, "privileges dropped to uid %u gid %u", uid, gid);
	p->detail = d;
	emit(ev, &rec);
}

void gb_sbx_ev_proc_exit(struct gb_sbx_out *ev, pid_t pid, pid_t ppid, uint32_t uid, uint32_t gid,
                         const char *exe, const char *sha256, char *const *argv, int32_t code, int32_t sig,
                         uint64_t duration_ns, const char *reason)
{
	struct gb_record rec = { .type = GB_REC_PROC };
	struct gb_proc *p = &rec.u.proc;
	proc_common(p, pid, ppid, uid, gid, exe, sha256, argv);
	p->activity = GB_PROC_EXIT;
	p->exit_code = sig ? -1 : code;
	p->signal = sig;
	p->duration_ns = duration_ns;
	p->detail = reason ? reason : "";
	emit(ev, &rec);
}
