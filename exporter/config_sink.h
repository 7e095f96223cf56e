/* exporter/config_sink.h — can this sink ever work?  The checks the daemon
 * config loader (config.c) runs on each sink after reading its keys, so a
 * sink that could only be retried forever is refused at load, with file,
 * line, column and field (issue 20, defect 7).
 *
 * Always (serve and --check-config): the http url parses as a URL with a
 * host and a port 1-65535 (libcurl's own parser, the one that would send
 * it); every kafka broker is host:port with such a port; every kafka.* key
 * is a property librdkafka knows, with a value it accepts (its own
 * rd_kafka_conf_set).
 *
 * With probe (--check-config only: at start-up a sink that is down now is
 * retried, as it must be): the file sink's file can be created or appended
 * to; auth_file and ca_file are readable files; the http host and at least
 * one kafka broker resolve and accept a TCP connection (2 s each).
 *
 * Ownership: reads the conf and the YAML nodes; reports through the
 * schema context.  Not thread-safe (the schema context is not). */
#ifndef GB_EXPORTER_CONFIG_SINK_H
#define GB_EXPORTER_CONFIG_SINK_H

#include <stdbool.h>

#include "common/schema.h"
#include "exporter/sink.h"

/* m: the sink's YAML map (its keys' nodes are where errors point). */
void gb_sink_conf_check(struct gb_schema *c, const struct gb_ynode *m, const struct gb_sink_conf *k,
                        bool probe);

#endif
