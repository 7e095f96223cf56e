/* exporter/report.h — the audit report: `glassbox report`.
 *
 * gb_report_collect reads the journal over a period (optionally one
 * sandbox) into a model, a jansson object whose shape is the JSON format
 * ("glassbox-report/1", docs/compliance.md):
 *   sandboxes     each run: created/started/stopped, enforcement posture
 *                 (layers, Landlock ABI, seccomp mode, uid) from LIFECYCLE
 *   policies      every CONFIG event: time, sandbox, action (loaded,
 *                 updated, approved, rejected, refused), revision, SHA-256,
 *                 source, author (actor.user.name when recorded)
 *   destinations  per sandbox, binary and destination: allowed and denied
 *                 connections (NET opens, not closes) and HTTP requests
 *   top_denied, timeline (allowed/denied per bucket), totals
 *   findings      by type, and the list (binary hash changes, SSRF blocks,
 *                 Landlock denials, ...; OOM kills from PROC events)
 *   loss          every LOSS event, or none
 *   integrity     the chain check and the signed checkpoints
 * gb_report_render writes it as json, md or html (inline SVG charts, no
 * external resource, print CSS).
 *
 * Ownership: the model is the caller's (json_decref).
 */
#ifndef GB_EXPORTER_REPORT_H
#define GB_EXPORTER_REPORT_H

#include <jansson.h>
#include <stdint.h>

#include "common/buf.h"

#define GB_REPORT_FORMAT "glassbox-report/1"

struct gb_report_opts {
	const char *journal_dir;
	const char *pub_path; /* checkpoint key for the integrity section; NULL = not checked */
	int64_t since_ms;     /* 0 = from the first event */
	int64_t until_ms;     /* 0 = now */
	const char *sandbox;  /* NULL = all */
	const char *hostname;
};

enum gb_report_format { GB_REPORT_JSON, GB_REPORT_MD, GB_REPORT_HTML };

/* 0 or -errno with err. */
int gb_report_collect(const struct gb_report_opts *o, json_t **model, char *err, size_t errlen);
/* Appends the rendering to out; 0 or -ENOMEM. */
int gb_report_render(json_t *model, enum gb_report_format f, struct gb_buf *out);

#endif
