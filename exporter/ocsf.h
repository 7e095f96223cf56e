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

#include "common/buf.h"
#include "common/record.h"

#define GB_OCSF_VERSION "1.8.0"

struct gb_ocsf_ctx {
	const char *sandbox_name; /* container.name, log_name */
	const char *sandbox_id;   /* container.uid; metadata.uid = sandbox_id:seq */
	const char *hostname;     /* device.hostname */
	const char *product_version;
};

/* Append the OCSF event for rec (type/seq/ts_ns/flags set) to out.
 * Returns 0, or -EINVAL for an unknown record type, -ENOMEM. */
int gb_ocsf_format(const struct gb_ocsf_ctx *ctx, const struct gb_record *rec, struct gb_buf *out);

/* Render one OCSF JSON event (as stored in the journal) as the shorthand
 * line (no trailing newline).  Hostile strings are escaped so that one event
 * is always one line.  colour: add ANSI colours by severity.
 * Returns 0 or -EBADMSG when the line is not an OCSF event. */
int gb_ocsf_shorthand(const char *json, size_t len, int colour, struct gb_buf *out);

#endif
