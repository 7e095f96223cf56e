/* tests/helpers/kafka_consume.c — a real librdkafka consumer: `kafka_consume
 * BROKERS TOPIC N TIMEOUT_MS` prints "KEY<TAB>VALUE" for each message from
 * the beginning of partition 0 until N messages arrived or TIMEOUT_MS
 * passed without one; exit 0 when N arrived. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: kafka_consume BROKERS TOPIC N TIMEOUT_MS\n");
		return 2;
	}
	long want = atol(argv[3]), timeout = atol(argv[4]), got = 0;
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof err) ||
	    rd_kafka_conf_set(conf, "group.id", "gb-test", err, sizeof err) ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err)) {
		fprintf(stderr, "kafka_consume: %s\n", err);
		return 2;
	}
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
	if (!rk) {
		fprintf(stderr, "kafka_consume: %s\n", err);
		return 2;
	}
	rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(parts, argv[2], 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(rk, parts);
	rd_kafka_topic_partition_list_destroy(parts);
	long idle = 0;
	while (got < want && idle < timeout) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		if (!m) {
			idle += 100;
			continue;
		}
		if (!m->err) {
			printf("%.*s\t%.*s\n", (int)m->key_len, m->key ? (const char *)m->key : "", (int)m->len,
			       (const char *)m->payload);
			got++;
			idle = 0;
		}
		rd_kafka_message_destroy(m);
	}
	fflush(stdout);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return got >= want ? 0 : 1;
}
