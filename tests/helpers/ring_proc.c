/* tests/helpers/ring_proc.c — ring producer and consumer processes for the
 * crash test (tests/integration/ring_crash.sh).
 *
 *   ring_proc create PATH SIZE
 *   ring_proc produce PATH ID COUNT DELAY_US
 *       COUNT records (ID, index, check), DELAY_US apart; never waits for
 *       space (drops are counted); prints "written W dropped D" at the end.
 *   ring_proc die-reserved PATH
 *       reserves a record and SIGKILLs itself before publishing it.
 *   ring_proc consume PATH OUT IDLE_MS
 *       appends "R seq id index" per record and "L first last count cause"
 *       per loss to OUT, then acknowledges it; exits after IDLE_MS without
 *       anything new.  On start it reads OUT and skips what it already
 *       wrote (a restarted consumer killed between its write and its
 *       acknowledgement sees that entry again: at least once, deduplicated
 *       here by sequence as a SIEM would by metadata.uid).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/ring.h"

struct msg {
	uint32_t id, index;
	uint64_t check;
};

static uint64_t check_of(uint32_t id, uint32_t i)
{
	return ((uint64_t)id << 32 | i) * 0x9e3779b97f4a7c15ull;
}

static int die(const char *what, int rc)
{
	fprintf(stderr, "ring_proc: %s: %s\n", what, strerror(-rc));
	return 1;
}

static int produce(const char *path, uint32_t id, uint32_t count, long delay_us)
{
	struct gb_ring *r;
	int rc = gb_ring_open_producer(path, &r);
	if (rc < 0)
		return die(path, rc);
	unsigned long written = 0, dropped = 0;
	for (uint32_t i = 0; i < count; i++) {
		struct msg m = { id, i, check_of(id, i) };
		rc = gb_ring_write(r, 1, 0, &m, sizeof m, 0, 0, NULL);
		if (rc == 0)
			written++;
		else if (rc == -ENOBUFS)
			dropped++;
		else
			return die("write", rc);
		if (delay_us) {
			struct timespec ts = { 0, delay_us * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	printf("written %lu dropped %lu\n", written, dropped);
	gb_ring_close(r);
	return 0;
}

static int die_reserved(const char *path)
{
	struct gb_ring *r;
	struct gb_ring_slot s;
	int rc = gb_ring_open_producer(path, &r);
	if (rc < 0)
		return die(path, rc);
	/* The ring may be full for a moment (the consumer was just restarted,
	 * and on a loaded machine it catches up slowly): a full ring drops the
	 * claim, so try again, bounded, until a slot is really reserved. */
	for (int tries = 0; (rc = gb_ring_reserve(r, 1, 0, sizeof(struct msg), 0, 0, &s)) == -ENOBUFS &&
	                    tries < 1000; tries++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (rc < 0) {
		gb_ring_close(r);
		return die(path, rc);
	}
	printf("reserved %llu\n", (unsigned long long)s.seq);
	fflush(stdout);
	raise(SIGKILL);
	return 1;
}

static int consume(const char *path, const char *out, int idle_ms)
{
	/* what an earlier run already wrote */
	long long last = -1;
	FILE *f = fopen(out, "r");
	if (f) {
		char kind;
		unsigned long long a, b;
		while (fscanf(f, " %c %llu %llu %*[^\n]", &kind, &a, &b) >= 2) {
			long long hi = kind == 'L' ? (long long)b : (long long)a;
			if (hi > last)
				last = hi;
		}
		fclose(f);
	}
	int fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return die(out, -errno);
	struct gb_ring *r;
	int rc = gb_ring_open_consumer(path, &r);
	if (rc < 0)
		return die(path, rc);
	gb_ring_consumer_set(r, &(struct gb_ring_consumer_opts){ .abandon_ms = 100 });
	long long idle_since = gb_now_ms(CLOCK_MONOTONIC);
	for (;;) {
		struct gb_ring_entry e;
		rc = gb_ring_next(r, &e, 100);
		if (rc < 0)
			return die("next", rc);
		if (rc == 0) {
			if (gb_now_ms(CLOCK_MONOTONIC) - idle_since >= idle_ms)
				break;
			continue;
		}
		idle_since = gb_now_ms(CLOCK_MONOTONIC);
		char line[128];
		int n;
		long long hi = e.is_loss ? (long long)e.last_seq : (long long)e.seq;
		if (hi <= last) { /* written before a restart: acknowledge only */
			gb_ring_consume(r);
			continue;
		}
		if (e.is_loss) {
			n = snprintf(line, sizeof line, "L %llu %llu %llu %u\n", (unsigned long long)e.first_seq,
			             (unsigned long long)e.last_seq, (unsigned long long)e.count, e.loss_cause);
		} else {
			struct msg m;
			if (e.len != sizeof m)
				return die("record length", -EBADMSG);
			memcpy(&m, e.data, sizeof m);
			if (m.check != check_of(m.id, m.index))
				return die("record payload", -EBADMSG);
			n = snprintf(line, sizeof line, "R %llu %u %u\n", (unsigned long long)e.seq, m.id, m.index);
		}
		if (write(fd, line, (size_t)n) != n)
			return die("write", -errno);
		gb_ring_consume(r);
		last = hi;
	}
	close(fd);
	gb_ring_close(r);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "create")) {
		struct gb_ring_opts o = { .size = strtoull(argv[3], NULL, 10), .sandbox_id = "crash" };
		struct gb_ring *r;
		int rc = gb_ring_create(argv[2], &o, &r);
		if (rc < 0)
			return die(argv[2], rc);
		gb_ring_close(r);
		return 0;
	}
	if (argc == 6 && !strcmp(argv[1], "produce"))
		return produce(argv[2], (uint32_t)atoi(argv[3]), (uint32_t)atoi(argv[4]), atol(argv[5]));
	if (argc == 3 && !strcmp(argv[1], "die-reserved"))
		return die_reserved(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "consume"))
		return consume(argv[2], argv[3], atoi(argv[4]));
	fprintf(stderr, "usage: ring_proc create PATH SIZE | produce PATH ID COUNT DELAY_US |\n"
	                "       die-reserved PATH | consume PATH OUT IDLE_MS\n");
	return 2;
}
