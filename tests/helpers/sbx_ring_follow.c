/* tests/helpers/sbx_ring_follow.c — `sbx_ring_follow RING TIMEOUT_MS`:
 * waits for the ring file to appear, follows it as its consumer and prints
 * one line per record until a LIFECYCLE stopped record (or the timeout):
 *   LIFECYCLE <activity> layers=<hex> abi=<n> uid=<n> rights=<..> seccomp=<..> name=<..>
 *   PROC launch pid=<n> uid=<n> exe=<..> sha256=<..> argv=<a b c>
 *   PROC exit pid=<n> code=<n> signal=<n> duration_ns=<n>[ reason=<..>]
 *   FINDING kind=<n> sev=<n> subject=<..> pid=<n> uid=<n> exe=<..> detail=<..>
 *   NET <open|close> <connect|forward> verdict=<allow|deny> reason=<..> tier=<..>
 *       host=<..> ip=<..> port=<n> entry=<..> conn=<n> up=<n> down=<n>
 *       pid=<n> uid=<n> exe=<..> ancestors=<exe,exe,..> apids=<n,n,..>  (one line)
 *   HTTP verdict=<..> reason=<..> method=<..> path=<..> conn=<n> pid=<n> exe=<..> scheme=<..>
 *        status=<n> tls=<0|1>
 *   CONFIG action=<n> rev=<n> sha256=<..> source=<..> detail=<..>
 *   LOSS count=<n>
 * With OCSF_FILE (a third argument), each record's OCSF event is written
 * there too, one per line.
 * Exit 0 when the stopped record was seen, 1 otherwise. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/record.h"
#include "common/ring.h"
#include "exporter/ocsf.h"

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: sbx_ring_follow RING TIMEOUT_MS [OCSF_FILE]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	long long end = gb_now_ms(CLOCK_MONOTONIC) + atoll(argv[2]);
	struct gb_ring *r = NULL;
	while (gb_ring_open_consumer(argv[1], &r) < 0) {
		if (gb_now_ms(CLOCK_MONOTONIC) > end) {
			fprintf(stderr, "sbx_ring_follow: %s never appeared\n", argv[1]);
			return 1;
		}
		usleep(2000);
	}
	FILE *ocsf = argc > 3 ? fopen(argv[3], "w") : NULL;
	struct gb_ocsf_ctx octx = { "sbx_ring_follow", "sbx", "localhost", NULL };
	struct gb_buf ob = GB_BUF_INIT;
	int stopped = 0;
	while (!stopped && gb_now_ms(CLOCK_MONOTONIC) < end) {
		struct gb_ring_entry e;
		int rc = gb_ring_next(r, &e, 50);
		if (rc < 0) {
			fprintf(stderr, "sbx_ring_follow: %s\n", strerror(-rc));
			break;
		}
		if (rc == 0)
			continue;
		if (e.is_loss) {
			printf("LOSS count=%llu\n", (unsigned long long)e.count);
			gb_ring_consume(r);
			continue;
		}
		struct gb_record rec;
		memset(&rec, 0, sizeof rec);
		if (gb_rec_decode(e.type, e.data, e.len, &rec) < 0) {
			printf("BAD type=%u\n", e.type);
			gb_ring_consume(r);
			continue;
		}
		if (ocsf) {
			rec.seq = e.seq;
			rec.ts_ns = e.ts_ns;
			rec.flags = e.flags;
			gb_buf_reset(&ob);
			if (gb_ocsf_format(&octx, &rec, &ob, NULL) == 0)
				fprintf(ocsf, "%.*s\n", (int)ob.len, ob.data);
			else
				fprintf(ocsf, "{\"error\": \"format failed\"}\n");
			fflush(ocsf);
		}
		switch (e.type) {
		case GB_REC_LIFECYCLE: {
			const struct gb_lifecycle *l = &rec.u.lifecycle;
			static const char *const act[] = { "?", "created", "started", "stopped" };
			printf("LIFECYCLE %s layers=%x abi=%u uid=%u rights=%s seccomp=%s name=%s\n",
			       act[l->activity <= 3 ? l->activity : 0], l->layers, l->landlock_abi, l->uid,
			       l->landlock_rights, l->seccomp_mode, l->sandbox_name);
			stopped = l->activity == GB_LC_STOPPED;
			break;
		}
		case GB_REC_PROC: {
			const struct gb_proc *p = &rec.u.proc;
			if (p->activity == GB_PROC_LAUNCH) {
				printf("PROC launch pid=%d uid=%u exe=%s sha256=%s argv=", p->pid, p->uid, p->exe,
				       p->sha256);
				for (uint32_t i = 0; i < p->argc; i++)
					printf("%s%s", i ? " " : "", p->argv[i]);
				printf("\n");
			} else {
				printf("PROC exit pid=%d code=%d signal=%d duration_ns=%llu%s%s\n", p->pid,
				       p->exit_code, p->signal, (unsigned long long)p->duration_ns,
				       p->detail && *p->detail ? " reason=" : "", p->detail ? p->detail : "");
			}
			break;
		}
		case GB_REC_FINDING: {
			const struct gb_finding *f = &rec.u.finding;
			printf("FINDING kind=%u sev=%u subject=%s pid=%d uid=%u exe=%s detail=%s\n", f->kind,
			       f->severity, f->subject, f->has_identity ? f->id.pid : 0,
			       f->has_identity ? f->id.uid : 0, f->has_identity ? f->id.exe : "", f->detail);
			break;
		}
		case GB_REC_CONFIG: {
			const struct gb_config *c = &rec.u.config;
			printf("CONFIG action=%u rev=%llu sha256=%s source=%s detail=%s\n", c->action,
			       (unsigned long long)c->revision, c->sha256, c->source, c->detail);
			break;
		}
		case GB_REC_NET_DECISION: {
			const struct gb_net_decision *n = &rec.u.net;
			printf("NET %s %s verdict=%s reason=%s tier=%s host=%s ip=%s port=%u entry=%s "
			       "conn=%llu up=%llu down=%llu pid=%d uid=%u exe=%s ancestors=",
			       n->phase == GB_NET_OPEN ? "open" : "close",
			       n->kind == GB_NET_CONNECT ? "connect" : "forward",
			       n->verdict == GB_VERDICT_ALLOW ? "allow" : "deny", gb_reason_name(n->reason),
			       gb_ssrf_tier_name(n->ssrf_tier), n->dst.host, n->dst.ip, n->dst.port,
			       n->policy_entry, (unsigned long long)n->conn_id,
			       (unsigned long long)n->bytes_up, (unsigned long long)n->bytes_down, n->id.pid,
			       n->id.uid, n->id.exe);
			for (uint32_t i = 0; i < n->id.n_ancestors; i++)
				printf("%s%s", i ? "," : "", n->id.ancestors[i]);
			printf(" apids=");
			for (uint32_t i = 0; i < n->id.n_ancestors; i++)
				printf("%s%d", i ? "," : "", n->id.ancestor_pids[i]);
			printf("\n");
			break;
		}
		case GB_REC_HTTP_DECISION: {
			const struct gb_http_decision *h = &rec.u.http;
			printf("HTTP verdict=%s reason=%s method=%s path=%s conn=%llu pid=%d exe=%s scheme=%s "
			       "status=%u tls=%u\n",
			       h->verdict == GB_VERDICT_ALLOW ? "allow" : "deny", gb_reason_name(h->reason),
			       h->method, h->path, (unsigned long long)h->conn_id, h->id.pid, h->id.exe,
			       h->scheme, h->status, h->tls);
			break;
		}
		default:
			printf("%s\n", gb_rec_type_name(e.type) ? gb_rec_type_name(e.type) : "?");
		}
		gb_ring_consume(r);
	}
	gb_ring_close(r);
	if (ocsf)
		fclose(ocsf);
	gb_buf_free(&ob);
	return stopped ? 0 : 1;
}
