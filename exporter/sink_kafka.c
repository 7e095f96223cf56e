/* exporter/sink_kafka.c — the Kafka sink (librdkafka) (contract: sink.h).
 *
 * Producer settings first: enable.idempotence=true, acks=all,
 * compression.codec=zstd, message.timeout.ms=30000 (so a dead cluster
 * turns into a failed delivery the sink retries, rather than a batch held
 * for librdkafka's 5 minutes); then every kafka.* key of the config,
 * verbatim, so an operator can set bootstrap.servers, security.protocol,
 * SASL, ... or override the defaults.  A refused key is reported with its
 * config line.
 *
 * A batch is produced whole, then the sink waits for every delivery report.
 * The acknowledged count is the longest prefix whose reports all succeeded:
 * the cursor never passes an event Kafka did not confirm, and a later event
 * confirmed before an earlier failed one is sent again (at least once; the
 * idempotent producer already removes the duplicates of its own retries).
 * Key: the configured one, or the event's metadata.log_name (the sandbox).
 */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporter/sink.h"

#define WAIT_SLICE_MS 100

struct ksink {
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	char key[256];
	/* per batch: one status per event, written by the delivery callback
	 * (called from rd_kafka_poll/flush in the sink's own thread) */
	signed char *st; /* 0 pending, 1 ok, -1 failed */
	size_t cap, pending;
	char lasterr[256];
};

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct ksink *k = opaque;
	size_t i = (size_t)(uintptr_t)m->_private;
	if (i >= k->cap)
		return;
	k->st[i] = m->err ? -1 : 1;
	if (m->err)
		snprintf(k->lasterr, sizeof k->lasterr, "%s", rd_kafka_err2str(m->err));
	if (k->pending)
		k->pending--;
}

static void ks_close(void *state)
{
	struct ksink *k = state;
	if (!k)
		return;
	if (k->rk)
		rd_kafka_flush(k->rk, 2000);
	if (k->rkt)
		rd_kafka_topic_destroy(k->rkt);
	if (k->rk)
		rd_kafka_destroy(k->rk);
	free(k->st);
	free(k);
}

static int ks_open(const struct gb_sink_conf *c, void **state, char *err, size_t errlen)
{
	struct ksink *k = calloc(1, sizeof *k);
	if (!k)
		return -ENOMEM;
	snprintf(k->key, sizeof k->key, "%s", c->kafka.key);
	if (!c->kafka.topic[0]) {
		snprintf(err, errlen, "no topic");
		free(k);
		return -EINVAL;
	}
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char e[512];
	static const char *const defaults[][2] = {
		{ "enable.idempotence", "true" },
		{ "acks", "all" },
		{ "compression.codec", "zstd" },
		{ "message.timeout.ms", "30000" },
		{ "linger.ms", "5" },
	};
	for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
		if (rd_kafka_conf_set(conf, defaults[i][0], defaults[i][1], e, sizeof e) != RD_KAFKA_CONF_OK) {
			snprintf(err, errlen, "librdkafka: %s=%s: %s", defaults[i][0], defaults[i][1], e);
			rd_kafka_conf_destroy(conf);
			free(k);
			return -EINVAL;
		}
	for (size_t i = 0; i < c->kafka.nprops; i++) {
		const struct gb_sink_prop *p = &c->kafka.props[i];
		if (rd_kafka_conf_set(conf, p->key, p->value, e, sizeof e) != RD_KAFKA_CONF_OK) {
			snprintf(err, errlen, "line %d:%d: kafka.%s: %s", p->line, p->column, p->key, e);
			rd_kafka_conf_destroy(conf);
			free(k);
			return -EINVAL;
		}
	}
	rd_kafka_conf_set_opaque(conf, k);
	rd_kafka_conf_set_dr_msg_cb(conf, on_dr);
	if (!(k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e))) {
		snprintf(err, errlen, "librdkafka: %s", e);
		rd_kafka_conf_destroy(conf);
		free(k);
		return -EINVAL;
	}
	if (!(k->rkt = rd_kafka_topic_new(k->rk, c->kafka.topic, NULL))) {
		snprintf(err, errlen, "topic %s: %s", c->kafka.topic, rd_kafka_err2str(rd_kafka_last_error()));
		ks_close(k);
		return -EINVAL;
	}
	*state = k;
	return 0;
}

static long ks_deliver(void *state, const struct gb_sink_event *ev, size_t n, int *retry_after_ms,
                       char *err, size_t errlen)
{
	struct ksink *k = state;
	if (n > k->cap) {
		signed char *v = realloc(k->st, n);
		if (!v)
			return -ENOMEM;
		k->st = v;
		k->cap = n;
	}
	memset(k->st, 0, n);
	k->pending = 0;
	k->lasterr[0] = 0;
	size_t produced = 0;
	for (; produced < n; produced++) {
		const struct gb_sink_event *e = &ev[produced];
		char sb[256];
		const char *key = k->key;
		if (!key[0]) {
			struct gb_jmeta m;
			key = gb_jmeta_parse(e->line, e->len, &m, sb, sizeof sb) == 0 && m.sandbox && *m.sandbox
			              ? m.sandbox
			              : "glassbox";
		}
		for (;;) {
			int rc = rd_kafka_produce(k->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
			                          (void *)e->line, e->len, key, strlen(key),
			                          (void *)(uintptr_t)produced);
			if (rc == 0)
				break;
			rd_kafka_resp_err_t re = rd_kafka_last_error();
			if (re != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
				snprintf(err, errlen, "produce: %s", rd_kafka_err2str(re));
				goto wait; /* what was produced is still waited for */
			}
			rd_kafka_poll(k->rk, WAIT_SLICE_MS);
		}
		k->pending++;
		rd_kafka_poll(k->rk, 0);
	}
wait:
	/* Every produced message gets a report within message.timeout.ms. */
	while (k->pending)
		rd_kafka_flush(k->rk, WAIT_SLICE_MS);
	size_t ok = 0;
	while (ok < produced && k->st[ok] == 1)
		ok++;
	if (ok < n && !err[0])
		snprintf(err, errlen, "delivery: %s", k->lasterr[0] ? k->lasterr : "not confirmed");
	return ok ? (long)ok : -EIO;
}

const struct gb_sink_driver gb_sink_kafka_driver = { ks_open, ks_deliver, ks_close };
