/* enforcer/sandbox/control.h — the supervisor's control socket,
 * <state dir>/control.sock: live network-policy revisions from the CLI and
 * the API (api/control_client.h is the client).
 *
 * Access: the socket is 0600 root in the root-only state directory, and
 * every connection's peer is checked with SO_PEERCRED (uid 0 only), so the
 * sandbox user cannot reach it even where the path is visible.
 *
 * Wire protocol (one request per connection): the client writes one JSON
 * object and shuts down its write side; the supervisor answers one JSON
 * object and closes.  Requests:
 *   {"op":"get", "revision":N?}             -> {"ok":true,"revision","sha256","yaml"}
 *   {"op":"history"}                        -> {"ok":true,"revisions":[{revision,time_ns,
 *                                               sha256,author,action,changes}...]}
 *   {"op":"set"|"update", "yaml":TEXT, "file":NAME?, "who":TEXT?}
 *                                           -> {"ok":true,"revision","sha256","old_sha256",
 *                                               "changes"}
 *   {"op":"inference_get"|"inference_set"|"inference_clear", ...}
 *                                           -> the inference.local route
 *                                              (enforcer/proxy/inference.h
 *                                              gb_inference_control; a
 *                                              CONFIG record per change)
 * Failures: {"ok":false,"error":KIND,"detail":TEXT,"diagnostics":[...]?},
 * KIND one of bad_request, invalid (every line:col error in diagnostics),
 * static (a fixed section differs), not_found (no such revision),
 * too_large, internal.  A set/update is validated completely before the
 * store is touched; the answer is written only after the new revision is
 * the one the next decision reads.  Every accepted revision and every
 * refusal is a CONFIG record (who, old and new hash, what changed).
 *
 * Requests are served one at a time on the supervisor's thread, each
 * bounded in size (GB_CONTROL_MAX_REQ) and time (a slow client is cut off
 * after a second).
 *
 * Ownership: gb_control_open keeps pointers to ev (its store and ring) and
 * to the static policy; both outlive the control.  gb_control_close
 * removes the socket file.
 */
#ifndef GB_ENFORCER_CONTROL_H
#define GB_ENFORCER_CONTROL_H

#include "common/policy.h"
#include "enforcer/sandbox/sandbox_out.h"
#include "enforcer/sandbox/statedir.h"

#define GB_CONTROL_MAX_REQ (4u << 20)

struct gb_control;

/* Listen on sd/control.sock.  initial is the policy the store started
 * with (revision 1), source the file it came from. */
int gb_control_open(struct gb_control **out, const struct gb_statedir *sd, struct gb_sbx_out *ev,
                    const struct gb_policy *initial, const char *source);
/* The listening descriptor, for the supervisor's poll loop (-1 if NULL). */
int gb_control_fd(const struct gb_control *c);
/* Accept and answer the pending connections (non-blocking accept). */
void gb_control_serve(struct gb_control *c);
void gb_control_close(struct gb_control *c);

#endif
