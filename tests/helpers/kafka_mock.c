/* tests/helpers/kafka_mock.c — librdkafka's mock cluster as a process of its
 * own, for the Kafka sink test and benchmarks: `kafka_mock TOPIC...`
 * (each with one partition) prints the bootstrap
 * servers on its first line, then reads commands on stdin: "down" (every
 * broker refuses connections), "up", "reject N" (the next N produce
 * requests fail with MESSAGE_TOO_LARGE, an error no retry fixes: the
 * producer reports those messages as failed), "quit" (or EOF).  A real Kafka wire
 * protocol server (librdkafka's own), not a stand-in for our code. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: kafka_mock TOPIC...\n");
		return 2;
	}
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
	if (!rk) {
		fprintf(stderr, "kafka_mock: %s\n", err);
		return 1;
	}
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
	if (!mc) {
		fprintf(stderr, "kafka_mock: cannot create the cluster\n");
		return 1;
	}
	for (int i = 1; i < argc; i++)
		if (rd_kafka_mock_topic_create(mc, argv[i], 1, 1)) {
			fprintf(stderr, "kafka_mock: cannot create topic %s\n", argv[i]);
			return 1;
		}
	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	char line[64];
	while (fgets(line, sizeof line, stdin)) {
		if (!strncmp(line, "down", 4))
			rd_kafka_mock_broker_set_down(mc, 1);
		else if (!strncmp(line, "up", 2))
			rd_kafka_mock_broker_set_up(mc, 1);
		else if (!strncmp(line, "reject ", 7)) {
			size_t n = (size_t)strtoul(line + 7, NULL, 10);
			rd_kafka_resp_err_t errs[64];
			if (n > 64)
				n = 64;
			for (size_t i = 0; i < n; i++)
				errs[i] = RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE;
			rd_kafka_mock_push_request_errors_array(mc, 0 /* Produce */, n, errs);
		}
		else if (!strncmp(line, "quit", 4))
			break;
		printf("ok %s", line);
		fflush(stdout);
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
