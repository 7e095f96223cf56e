/* exporter/ocsf.h — binary records -> OCSF 1.8.0 JSON, and OCSF JSON -> the
 * one-line human shorthand.
 *
 * Classes: NET_DECISION -> Network Activity 4001, HTTP_DECISION -> HTTP
 * Activity 4002, PROC -> Process Activity 1007, FINDING -> Detection Finding
 * 2004, CONFIG -> Device Config State Change 5019, LIFECYCLE -> Application
 * Lifecycle 6002, LOSS -> (see docs/ocsf.md).  docs/ocsf.md is the table.
 *
 * The formatter is the exporter's hot path: a streaming writer (jsonw.h),
 * no intermediate tree.  Output is one JSON object with no newline.
 *
 * Ownership: the context is borrowed for the call; output is appended to the
 * caller's gb_buf.
 */
#ifndef GB_EXPORTER_OCSF_H
#define GB_EXPORTER_OCSF_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/record.h"

#define GB_OCSF_VERSION "1.8.0"

struct gb_ocsf_ctx {
	const char *sandbox_name; /* container.name, log_name */
	const char *sandbox_id;   /* container.uid; metadata.uid = sandbox_id:seq */
	const char *hostname;     /* device.hostname */
	const char *product_version;
};

/* What the mapper decided while writing an event: the journal index and
 * the sinks take these from here instead of scanning the JSON again. */
struct gb_ocsf_meta {
	uint32_t class_uid;   /* class_uid, e.g. 4001 */
	uint32_t activity_id; /* activity_id (99 = Other) */
	uint8_t severity_id;  /* severity_id: 0-6, or 99 */
	uint8_t action_id;    /* action_id: 1 allowed, 2 denied, 0 none (the journal index) */
	const char *log_name; /* the event's first log_name: a LOSS's own (the log
	                       * with the gap: the sandbox, else "glassbox"), else
	                       * metadata.log_name (ctx->sandbox_name); NULL when it
	                       * has none.  Borrowed from the context or static. */
};

/* Append the OCSF event for rec (type/seq/ts_ns/flags set) to out, and, if
 * meta is not NULL, describe it there (filled only on success).
 * Returns 0, or -EINVAL for an unknown record type, -ENOMEM. */
int gb_ocsf_format(const struct gb_ocsf_ctx *ctx, const struct gb_record *rec, struct gb_buf *out,
                   struct gb_ocsf_meta *meta);

/* The first log_name of one OCSF event line as the journal stores it (the
 * same as gb_ocsf_meta.log_name; the Kafka sink's message key): a pointer
 * to the string's JSON text inside json, its length in *n, or NULL when the
 * event has none.  A scan, not a parse: it relies on the mapper's layout
 * (keys are written by this code; a hostile value's quotes are escaped, so
 * it cannot spell the key). */
const char *gb_ocsf_log_name(const char *json, size_t len, size_t *n);

/* Render one OCSF JSON event (as stored in the journal) as the shorthand
 * line (no trailing newline).  Hostile strings are escaped so that one event
 * is always one line.  colour: add ANSI colours by severity.
 * Returns 0 or -EBADMSG when the line is not an OCSF event. */
int gb_ocsf_shorthand(const char *json, size_t len, int colour, struct gb_buf *out);

#endif
