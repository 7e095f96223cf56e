/* exporter/serve_sinks.h — the daemon's side of the sinks (internal to
 * glassbox serve): applies journal retention, keeps the table of what it
 * deleted (<cursor_dir>/.retained, one "SEGMENT EVENTS" line per deleted
 * segment, fsync'd, so a sink that was down during the deletion still
 * learns what it missed), and gives the sinks the gb_sink_host calls, each
 * under the daemon's journal lock.
 *
 * Ownership: the journal and its lock stay serve.c's; they must outlive
 * the handle (gb_serve_sinks_stop before gb_journal_close).
 */
#ifndef GB_EXPORTER_SERVE_SINKS_H
#define GB_EXPORTER_SERVE_SINKS_H

#include <pthread.h>

#include "exporter/journal.h"
#include "exporter/sink.h"

struct gb_serve_sinks;

int gb_serve_sinks_start(pthread_mutex_t *jlock, struct gb_journal *j, const char *journal_dir,
                         const char *cursor_dir, const struct gb_sink_conf *confs, size_t n,
                         struct gb_serve_sinks **out, char *err, size_t errlen);
/* Retention, at most once a second; call it from the housekeeping tick
 * without holding the journal lock. */
void gb_serve_sinks_tick(struct gb_serve_sinks *ss);
struct gb_sinks *gb_serve_sinks_running(struct gb_serve_sinks *ss);
void gb_serve_sinks_stop(struct gb_serve_sinks *ss);

#endif
