/* tests/helpers/ring_events.c — a stand-in sandbox for API tests and
 * benchmarks: `ring_events RUNTIME_DIR NAME COUNT [DELAY_US] [--keep]`
 * creates RUNTIME_DIR/NAME/events.ring (as a supervisor does) and publishes
 * COUNT NET_DECISION open records, DELAY_US apart: record i is denied when
 * i is odd (reason binary_not_allowed), allowed otherwise (entry "web");
 * host h<i%3>.test; exe /usr/bin/curl, or /usr/bin/wget when i%4 == 3.
 * With DELAY_US > 0 it prints "<seq> <CLOCK_REALTIME ns>" per record when
 * published (latency measurements).  It then waits (at most 20 s) for the
 * consumer to acknowledge everything and, unless --keep, removes the ring
 * and the directory, as a supervisor does when its sandbox ends. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/record.h"
#include "common/ring.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: ring_events RUNTIME_DIR NAME COUNT [DELAY_US] [--keep]\n");
		return 2;
	}
	unsigned long count = strtoul(argv[3], NULL, 10);
	unsigned long delay = argc > 4 && argv[4][0] != '-' ? strtoul(argv[4], NULL, 10) : 0;
	int keep = !strcmp(argv[argc - 1], "--keep");
	if (count > 10000000) {
		fprintf(stderr, "ring_events: at most 10 000 000 records\n");
		return 2;
	}
	char dir[4096], path[4200];
	snprintf(dir, sizeof dir, "%s/%s", argv[1], argv[2]);
	mkdir(argv[1], 0755);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		perror(dir);
		return 1;
	}
	snprintf(path, sizeof path, "%s/events.ring", dir);
	struct gb_ring *r;
	/* a fresh id per run, as a supervisor's: metadata.uid never repeats */
	char id[80];
	snprintf(id, sizeof id, "%.40s-%d", argv[2], (int)getpid());
	struct gb_ring_opts o = { .size = 16u << 20, .sandbox_id = id };
	int rc = gb_ring_create(path, &o, &r);
	if (rc < 0) {
		fprintf(stderr, "ring_events: %s: %s\n", path, strerror(-rc));
		return 1;
	}
	static unsigned char buf[GB_RECORD_MAX];
	unsigned long dropped = 0;
	for (unsigned long i = 0; i < count; i++) {
		struct gb_record rec = { .type = GB_REC_NET_DECISION };
		struct gb_net_decision *n = &rec.u.net;
		char host[32];
		snprintf(host, sizeof host, "h%lu.test", i % 3);
		int deny = i & 1;
		n->phase = GB_NET_OPEN;
		n->kind = GB_NET_CONNECT;
		n->verdict = deny ? GB_VERDICT_DENY : GB_VERDICT_ALLOW;
		n->reason = deny ? GB_R_BINARY_NOT_ALLOWED : GB_R_NONE;
		n->conn_id = i + 1;
		n->policy_rev = 1;
		n->src = (struct gb_endpoint){ "", "127.0.0.1", 40000 };
		n->dst = (struct gb_endpoint){ host, "198.18.0.10", 443 };
		n->id = (struct gb_identity){ .pid = 100, .uid = 1000, .exe = i % 4 == 3 ? "/usr/bin/wget"
		                                                                         : "/usr/bin/curl",
		                              .sha256 = "", .script = "" };
		n->reason_text = deny ? "binary not allowed" : "";
		n->policy_entry = deny ? "" : "web";
		n->endpoint = deny ? "" : "h0.test:443";
		uint16_t flags = 0;
		int len = gb_rec_encode(&rec, buf, sizeof buf, &flags);
		uint64_t seq = 0;
		if (len < 0 || gb_ring_write(r, rec.type, flags, buf, (size_t)len, 0, 0, &seq) < 0) {
			dropped++;
			continue;
		}
		if (delay) {
			printf("%llu %llu\n", (unsigned long long)seq, (unsigned long long)now_ns());
			fflush(stdout);
			usleep((useconds_t)delay);
		}
	}
	for (int waited = 0; waited < 20000; waited += 5) {
		struct gb_ring_stats s;
		gb_ring_stats(r, &s);
		if (s.read_seq >= s.next_seq)
			break;
		usleep(5000);
	}
	gb_ring_close(r);
	if (!keep) {
		unlink(path);
		rmdir(dir);
	}
	if (dropped)
		fprintf(stderr, "ring_events: %lu records dropped\n", dropped);
	return 0;
}
