/* api/api_inference.h — inference.local routes from the host: the host
 * default and a running sandbox's own route (docs/inference.md).
 *
 *   scope "default" (name NULL): the route in <root>/etc/glassbox/
 *       inference.json (0600; the credential by its path only), which every
 *       sandbox loads when it starts, pushed at once to every running
 *       sandbox whose route is the default (a sandbox's own route wins)
 *   scope "sandbox" (name given): that running sandbox's route only,
 *       through its supervisor's control socket; it lasts as long as the
 *       sandbox
 * Both reach a running sandbox before the call returns: its next
 * inference.local request uses the new route.  Used by the API
 * (`/v1/inference`, api_inference.c) and by `glassbox inference`.
 *
 * Ownership: *resp is the caller's (json_decref).
 */
#ifndef GB_API_API_INFERENCE_H
#define GB_API_API_INFERENCE_H

#include <jansson.h>
#include <stddef.h>

/* op: "get", "set" (route: the route object) or "clear".  Returns the HTTP
 * status for the answer (200, 400, 404, 422, 502) and *resp: the answer
 * ({"scope","route",...} or {"error","detail"}). */
unsigned gb_inference_apply(const char *root, const char *name, const char *op, json_t *route,
                            json_t **resp);

#endif
