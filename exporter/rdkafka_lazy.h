/* exporter/rdkafka_lazy.h — librdkafka, loaded when the first Kafka sink
 * opens (the same reason as curl_lazy.h: every `glassbox run` would pay
 * for loading it and its dependencies — SASL, LZ4, OpenSSL's libssl —
 * about 1.4 ms here, and never produces to Kafka).  The header gives the
 * types; the functions come from dlopen("librdkafka.so.1").
 *
 * Ownership: the table is process-wide, loaded once, never unloaded. */
#ifndef GB_EXPORTER_RDKAFKA_LAZY_H
#define GB_EXPORTER_RDKAFKA_LAZY_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

/* X(field, symbol): every librdkafka function the Kafka sink calls. */
#define GB_RDKAFKA_FUNCS(X)                                                                      \
	X(conf_new, rd_kafka_conf_new)                                                           \
	X(conf_set, rd_kafka_conf_set)                                                           \
	X(conf_destroy, rd_kafka_conf_destroy)                                                   \
	X(conf_set_dr_msg_cb, rd_kafka_conf_set_dr_msg_cb)                                       \
	X(conf_set_opaque, rd_kafka_conf_set_opaque)                                             \
	X(new_, rd_kafka_new)                                                                    \
	X(destroy, rd_kafka_destroy)                                                             \
	X(topic_new, rd_kafka_topic_new)                                                         \
	X(topic_destroy, rd_kafka_topic_destroy)                                                 \
	X(produce, rd_kafka_produce)                                                             \
	X(poll, rd_kafka_poll)                                                                   \
	X(purge, rd_kafka_purge)                                                                 \
	X(last_error, rd_kafka_last_error)                                                       \
	X(err2str, rd_kafka_err2str)                                                             \
	X(fatal_error, rd_kafka_fatal_error)

struct gb_rdkafka_api {
#define GB_RDK_FIELD(field, sym) __typeof__(sym) *field;
	GB_RDKAFKA_FUNCS(GB_RDK_FIELD)
#undef GB_RDK_FIELD
};

/* The loaded API, or NULL with the reason in err. */
const struct gb_rdkafka_api *gb_rdkafka(char *err, size_t errlen);

#endif
