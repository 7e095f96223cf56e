/* exporter/sink_kafka.c — the Kafka sink (librdkafka).  The producer is
 * idempotent with acks=all and zstd; operators add or override any
 * librdkafka property through `kafka.*` keys.
 *
 * Acknowledgement is per event and sending is pipelined: events are
 * produced from the journal while up to a window of them (the sink's
 * `batch`, default 65 536) await their delivery reports, and the cursor
 * moves to the end of the highest *contiguous* acknowledged event — saved
 * at most every 100 ms, and at stop.  An event whose report is an error
 * (librdkafka gives up only on permanent errors: message.timeout.ms is 0)
 * is read again from the journal and re-sent alone, with backoff; the
 * events after it go on, but the cursor waits for it, so a restart re-sends
 * from there (duplicates carry the same metadata.uid).  A fatal producer
 * error (the idempotence guarantee broken) rebuilds the producer and
 * re-sends from the cursor.
 *
 * Payloads are copied into the sink's own slabs (1 MiB each, reused) and
 * handed to librdkafka without RD_KAFKA_MSG_F_COPY: a slab is free again
 * when every event in it has its report.  With F_COPY every event was a
 * ~1.5 KB malloc in this thread freed by librdkafka's broker thread, and the
 * arena's top grew and was trimmed over and over (sysmalloc, page faults and
 * mprotect were a third of this thread's CPU following a busy journal). */
#include "exporter/sink_int.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/array.h"
#include "common/clock.h"
#include "common/log.h"
#include "exporter/rdkafka_lazy.h"
#include "exporter/ocsf.h"

#define WINDOW_DEFAULT 65536u
#define WINDOW_MAX (1u << 20)
#define SAVE_EVERY_MS 100
#define SLAB_SIZE (1u << 20)
#define SLABS_IDLE_MAX 2 /* empty slabs kept for reuse; more are freed */

enum { F_PENDING, F_ACKED, F_FAILED };

/* One produced event until it is acknowledged. */
struct flight {
	struct gb_jpos start, end;
	int32_t slab; /* whose bytes librdkafka holds until the report, or -1 */
	uint8_t state;
};

/* Payload bytes lent to librdkafka: refs events in it await their report. */
struct slab {
	char *data;
	size_t used;
	uint32_t refs;
};

struct kafka_state {
	const struct gb_rdkafka_api *rd; /* librdkafka, loaded by kafka_open */
	rd_kafka_t *rk;
	rd_kafka_topic_t *topic;
	struct sink *s;
	/* The window: events [head, tail) by sequence number, in w[seq & mask].
	 * Reports arrive in this thread (rd_kafka_poll), in any order. */
	struct flight *w;
	uint64_t mask, cap, head, tail;
	uint64_t *redo; /* failed sequence numbers waiting to be re-sent */
	size_t n_redo;
	struct slab *slabs;
	size_t n_slabs;
	int32_t cur_slab; /* the one being filled, or -1 */
	rd_kafka_resp_err_t last_err;
};

/* librdkafka is done with an event's payload (its report came). */
static void slab_release(struct kafka_state *k, int32_t i)
{
	if (i < 0 || (size_t)i >= k->n_slabs || !k->slabs[i].refs)
		return;
	struct slab *sl = &k->slabs[i];
	if (--sl->refs || i == k->cur_slab)
		return;
	sl->used = 0;
	size_t idle = 0;
	for (size_t j = 0; j < k->n_slabs; j++)
		idle += k->slabs[j].data && !k->slabs[j].refs && (int32_t)j != k->cur_slab;
	if (idle > SLABS_IDLE_MAX) { /* after a burst: give the memory back */
		free(sl->data);
		sl->data = NULL;
	}
}

/* Room for len payload bytes in a slab: where, and the slab's number in
 * *slab; NULL (*slab -1) when the event is to be copied by librdkafka (too
 * large, or out of memory). */
static char *slab_take(struct kafka_state *k, size_t len, int32_t *slab)
{
	*slab = -1;
	if (len > SLAB_SIZE)
		return NULL;
	struct slab *c = k->cur_slab >= 0 ? &k->slabs[k->cur_slab] : NULL;
	if (!c || SLAB_SIZE - c->used < len) {
		if (c && !c->refs)
			c->used = 0; /* everything in it reported: reuse it at once */
		else {
			int32_t pick = -1, empty = -1;
			for (size_t j = 0; j < k->n_slabs && pick < 0; j++) {
				if ((int32_t)j == k->cur_slab || k->slabs[j].refs)
					continue;
				if (k->slabs[j].data)
					pick = (int32_t)j;
				else if (empty < 0)
					empty = (int32_t)j;
			}
			if (pick < 0) {
				if (empty < 0) {
					struct slab *nv = realloc(k->slabs, (k->n_slabs + 1) * sizeof *nv);
					if (!nv)
						return NULL;
					k->slabs = nv;
					empty = (int32_t)k->n_slabs++;
					k->slabs[empty] = (struct slab){ NULL, 0, 0 };
				}
				if (!(k->slabs[empty].data = malloc(SLAB_SIZE)))
					return NULL;
				pick = empty;
			}
			k->cur_slab = pick;
			k->slabs[pick].used = 0;
		}
		c = &k->slabs[k->cur_slab];
	}
	char *p = c->data + c->used;
	c->used += len;
	*slab = k->cur_slab;
	return p;
}

/* The producer is gone: nothing it held is referenced any more. */
static void slabs_reset(struct kafka_state *k)
{
	for (size_t j = 0; j < k->n_slabs; j++) {
		k->slabs[j].refs = 0;
		k->slabs[j].used = 0;
	}
	k->cur_slab = -1;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	struct kafka_state *k = opaque;
	uint64_t seq = (uint64_t)(uintptr_t)m->_private;
	if (seq < k->head || seq >= k->tail)
		return; /* from before a producer rebuild: already re-queued */
	struct flight *f = &k->w[seq & k->mask];
	slab_release(k, f->slab);
	f->slab = -1;
	if (m->err) {
		if (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
			f->state = F_FAILED; /* stopping: the cursor stays before it */
			return;
		}
		f->state = F_FAILED;
		k->last_err = m->err;
		k->redo[k->n_redo++] = seq;
		atomic_fetch_add(&k->s->failed, 1);
	} else {
		f->state = F_ACKED;
		atomic_fetch_add(&k->s->sent, 1);
	}
}

/* The producer (the window is the run loop's). */
static int kafka_open(struct sink *s)
{
	struct kafka_state *k = s->priv;
	if (k->rk)
		return 0;
	if (!k->rd && !(k->rd = gb_rdkafka(s->err, sizeof s->err)))
		return -ENOSYS;
	char errstr[512];
	rd_kafka_conf_t *conf = k->rd->conf_new();
	struct { const char *k, *v; } base[] = {
		{ "bootstrap.servers", s->c.brokers }, { "enable.idempotence", "true" },
		{ "acks", "all" }, { "compression.codec", "zstd" },
		{ "message.timeout.ms", "0" }, /* never give up on an event: the journal holds it */
		/* sends are pipelined: messages wait for a batch to fill at most
		 * this long */
		{ "linger.ms", "5" },
	};
	for (size_t i = 0; i < GB_ARRAY_LEN(base); i++)
		if (k->rd->conf_set(conf, base[i].k, base[i].v, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
			snprintf(s->err, sizeof s->err, "%s: %s", base[i].k, errstr);
			k->rd->conf_destroy(conf);
			return -EINVAL;
		}
	for (size_t i = 0; i < s->c.n_props; i++)
		if (k->rd->conf_set(conf, s->c.props[i].key, s->c.props[i].value, errstr, sizeof errstr) !=
		    RD_KAFKA_CONF_OK) {
			snprintf(s->err, sizeof s->err, "kafka.%s: %s", s->c.props[i].key, errstr);
			k->rd->conf_destroy(conf);
			return -EINVAL;
		}
	k->rd->conf_set_dr_msg_cb(conf, on_delivery);
	k->rd->conf_set_opaque(conf, k);
	k->rk = k->rd->new_(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
	if (!k->rk) {
		snprintf(s->err, sizeof s->err, "kafka producer: %s", errstr);
		return -EINVAL;
	}
	k->topic = k->rd->topic_new(k->rk, s->c.topic, NULL);
	if (!k->topic) {
		snprintf(s->err, sizeof s->err, "kafka topic %s: %s", s->c.topic,
		         k->rd->err2str(k->rd->last_error()));
		k->rd->destroy(k->rk);
		k->rk = NULL;
		return -EINVAL;
	}
	return 0;
}

static void kafka_close(struct sink *s)
{
	struct kafka_state *k = s->priv;
	if (!k)
		return;
	if (k->topic)
		k->rd->topic_destroy(k->topic);
	if (k->rk)
		k->rd->destroy(k->rk);
	free(k->w);
	free(k->redo);
	for (size_t j = 0; j < k->n_slabs; j++)
		free(k->slabs[j].data);
	free(k->slabs);
	free(k);
	s->priv = NULL;
}

/* Hand one event to librdkafka, waiting for queue room (polling, which also
 * serves reports).  0, -EINTR when stopping, or -EIO (s->err says why).
 * lend: the payload goes into a slab (f->slab says which) instead of
 * librdkafka's own copy. */
static int produce(struct sink *s, struct kafka_state *k, const char *line, size_t len, uint64_t seq,
                   bool lend)
{
	size_t klen = 0; /* the message key: the sandbox name */
	const char *key = gb_ocsf_log_name(line, len, &klen);
	struct flight *f = &k->w[seq & k->mask];
	f->slab = -1;
	char *own = lend ? slab_take(k, len, &f->slab) : NULL;
	if (own) {
		memcpy(own, line, len);
		if (key)
			key = own + (key - line);
		line = own;
	}
	for (;;) {
		if (k->rd->produce(k->topic, RD_KAFKA_PARTITION_UA, own ? 0 : RD_KAFKA_MSG_F_COPY, (void *)line,
		                   len, key, klen, (void *)(uintptr_t)seq) == 0) {
			if (own)
				k->slabs[f->slab].refs++;
			return 0;
		}
		rd_kafka_resp_err_t e = k->rd->last_error();
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			snprintf(s->err, sizeof s->err, "produce: %s", k->rd->err2str(e));
			f->slab = -1; /* its bytes in the slab are simply not used */
			return -EIO;
		}
		k->rd->poll(k->rk, 10); /* make room */
		if (atomic_load(s->stop)) {
			f->slab = -1;
			return -EINTR;
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static bool pos_before(struct gb_jpos a, struct gb_jpos b)
{
	return a.segment < b.segment || (a.segment == b.segment && a.offset < b.offset);
}

/* Re-send the events whose reports failed, read again from the journal in
 * one forward pass (sequence order is journal order): a broker refusing
 * everything (an ACL, say) costs one read of the window per round, not one
 * reader per event. */
static void resend(struct sink *s, struct kafka_state *k)
{
	size_t n = k->n_redo, m = 0;
	uint64_t *v = malloc(n * sizeof *v);
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		if (k->redo[i] >= k->head && k->redo[i] < k->tail)
			v[m++] = k->redo[i];
	k->n_redo = 0;
	qsort(v, m, sizeof *v, cmp_u64);
	struct gb_jreader *r = NULL;
	if (m && gb_jreader_open(s->journal_dir, NULL, &k->w[v[0] & k->mask].start, &r) < 0)
		r = NULL;
	const char *line = NULL;
	size_t len = 0;
	struct gb_jpos at = { 0, 0 };
	int rc = r ? gb_jreader_next(r, &line, &len, &at) : -EIO;
	for (size_t i = 0; i < m; i++) {
		uint64_t seq = v[i];
		struct flight *f = &k->w[seq & k->mask];
		while (rc >= 1 && pos_before(at, f->start))
			rc = gb_jreader_next(r, &line, &len, &at);
		/* rc 2: a LOSS event for damage, at the same position as before */
		if (rc >= 1 && at.segment == f->start.segment && at.offset == f->start.offset) {
			f->state = F_PENDING;
			if (produce(s, k, line, len, seq, false) == 0)
				atomic_fetch_add(&s->retried, 1);
			else
				f->state = F_FAILED, k->redo[k->n_redo++] = seq;
			rc = gb_jreader_next(r, &line, &len, &at);
		} else if (rc == 1 || rc == -EBADMSG) {
			/* not there any more (retention removed it, or it no longer
			 * decodes): the daemon's LOSS event counts it, as the cursor
			 * was before it; nothing left to send */
			f->state = F_ACKED;
		} else {
			k->redo[k->n_redo++] = seq; /* the journal is unreadable now: next round */
		}
	}
	if (r)
		gb_jreader_close(r);
	free(v);
}

/* Move the cursor over the contiguous acknowledged events at the head of
 * the window.  Returns true when it moved. */
static bool advance_acked(struct kafka_state *k, struct gb_jpos *cur)
{
	bool moved = false;
	while (k->head < k->tail && k->w[k->head & k->mask].state == F_ACKED) {
		*cur = k->w[k->head & k->mask].end;
		k->head++;
		moved = true;
	}
	return moved;
}

void sink_kafka_run(struct sink *s, const struct gb_jpos *from)
{
	struct kafka_state *k = calloc(1, sizeof *k);
	uint64_t cap = s->c.batch_max ? s->c.batch_max : WINDOW_DEFAULT;
	if (cap > WINDOW_MAX)
		cap = WINDOW_MAX;
	uint64_t size = 1;
	while (size < cap)
		size <<= 1;
	if (!k || !(k->w = calloc(size, sizeof *k->w)) || !(k->redo = calloc(size, sizeof *k->redo))) {
		gb_log_error("serve", "sink %s: out of memory", s->c.name);
		if (k)
			free(k->w);
		free(k);
		return;
	}
	k->s = s;
	k->cur_slab = -1;
	k->cap = cap;
	k->mask = size - 1;
	s->priv = k;
	struct gb_jpos cur = from ? *from : (struct gb_jpos){ 0, 0 }, fill = cur;
	bool have = from != NULL, moved = false;
	struct gb_jreader *r = NULL;
	uint64_t saved_at = 0, retry_at = 0;
	long backoff = 0;
	time_t lag_at = 0;
	while (!atomic_load(s->stop)) {
		if (!sink_open(s, kafka_open))
			continue;
		if (!r && gb_jreader_open(s->journal_dir, NULL, have ? &fill : NULL, &r) < 0) {
			sink_sleep_ms(1000, s->stop);
			continue;
		}
		/* 1. produce while the window has room */
		bool at_end = false;
		unsigned produced = 0;
		while (k->tail - k->head < k->cap && !atomic_load(s->stop)) {
			const char *line;
			size_t len;
			struct gb_jpos pos;
			int rc = gb_jreader_next(r, &line, &len, &pos);
			if (rc == 0) {
				at_end = true;
				break;
			}
			if (rc < 0) {
				gb_log_error("serve", "sink %s: reading the journal: %s", s->c.name, strerror(-rc));
				gb_jreader_close(r);
				r = NULL;
				break;
			}
			if (rc == 2)
				sink_damage(s, line, len);
			uint64_t seq = k->tail;
			struct flight *f = &k->w[seq & k->mask];
			*f = (struct flight){ pos, gb_jreader_tell(r), -1, F_PENDING };
			k->tail++;
			fill = f->end;
			have = true;
			int p = produce(s, k, line, len, seq, true);
			if (p == -EINTR)
				break;
			if (p < 0) { /* refused before sending: the same path as a failed report */
				f->state = F_FAILED;
				k->redo[k->n_redo++] = seq;
				atomic_fetch_add(&s->failed, 1);
			}
			if ((++produced & 1023) == 0)
				k->rd->poll(k->rk, 0);
		}
		if (!r)
			continue;
		/* 2. reports: wait a little only when there is nothing to send */
		bool full = k->tail - k->head >= k->cap;
		k->rd->poll(k->rk, produced && !full ? 0 : (k->tail > k->head ? 20 : 0));
		char fatal[256];
		if (k->rd->fatal_error(k->rk, fatal, sizeof fatal)) {
			/* idempotence broken: a new producer, everything not yet
			 * acknowledged again from the cursor */
			gb_log_error("serve", "sink %s: fatal producer error: %s; re-sending from the cursor", s->c.name,
			             fatal);
			k->rd->purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
			k->rd->topic_destroy(k->topic);
			k->rd->destroy(k->rk);
			k->rk = NULL;
			k->topic = NULL;
			slabs_reset(k);
			k->head = k->tail; /* reports of the old producer are ignored */
			k->n_redo = 0;
			fill = cur;
			gb_jreader_close(r);
			r = NULL;
			atomic_fetch_add(&s->failed, 1);
			continue;
		}
		/* 3. the cursor: the highest contiguous acknowledged event, saved
		 * at most every SAVE_EVERY_MS (a save is two fsyncs; a sink
		 * following a busy journal drains its window many times a second,
		 * and saving at each drain was a save every few ms) */
		moved |= advance_acked(k, &cur);
		uint64_t now = (uint64_t)gb_now_ms(CLOCK_MONOTONIC);
		if (moved && now - saved_at >= SAVE_EVERY_MS) {
			sink_save_cursor(s, &cur);
			saved_at = now;
			moved = false;
		}
		/* 4. failed events: again, after a backoff */
		if (k->n_redo) {
			if (!retry_at) {
				retry_at = now + (uint64_t)sink_jitter(sink_backoff(s, &backoff));
				gb_log_warn("serve", "sink %s: %zu events refused: %s; retry in %llu ms", s->c.name,
				            k->n_redo, k->rd->err2str(k->last_err), (unsigned long long)(retry_at - now));
			} else if (now >= retry_at) {
				retry_at = 0;
				resend(s, k);
			}
		} else if (k->head == k->tail) {
			backoff = 0;
		}
		sink_update_lag(s, &cur, &lag_at);
		if (k->head == k->tail) {
			atomic_store(&s->lag_segments, 0);
			atomic_store(&s->lag_bytes, 0);
		}
		/* 5. caught up: sleep until the journal grows, or until a save
		 * held back above is due (an idle sink's cursor is never older
		 * than SAVE_EVERY_MS) */
		if (at_end && k->head == k->tail)
			gb_jreader_wait(r, moved ? (int)(saved_at + SAVE_EVERY_MS - now) : 500);
	}
	/* stopping: what is acknowledged is kept, the rest is sent again by
	 * the next start */
	if (k->rk) {
		k->rd->purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		k->rd->poll(k->rk, 0);
		moved |= advance_acked(k, &cur);
	}
	if (moved)
		sink_save_cursor(s, &cur);
	gb_jreader_close(r);
	kafka_close(s);
}
