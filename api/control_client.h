/* api/control_client.h — the client side of a supervisor's control socket
 * (enforcer/sandbox/control.h has the protocol): one JSON request, one JSON
 * answer.  Used by the API's policy routes and by the CLI.
 *
 * Ownership: *resp is the caller's (json_decref).
 */
#ifndef GB_API_CONTROL_CLIENT_H
#define GB_API_CONTROL_CLIENT_H

#include <jansson.h>
#include <stddef.h>


/* <root>/run/glassbox/sandboxes/NAME (root NULL = "/"); -ENAMETOOLONG or
 * -EINVAL for an invalid name. */
int gb_ctl_sandbox_dir(const char *root, const char *name, char *buf, size_t len);

/* Send req to NAME's control socket and read the answer (at most 16 MiB,
 * 10 s).  0 and *resp, or -ENOENT (no such sandbox running), -EACCES (not
 * root), other -errno; err gets a sentence either way on failure. */
int gb_ctl_call(const char *root, const char *name, json_t *req, json_t **resp, char *err,
                size_t errlen);

#endif
