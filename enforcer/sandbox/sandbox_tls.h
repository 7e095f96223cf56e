/* enforcer/sandbox/sandbox_tls.h — the sandbox's CA for HTTPS inspection
 * (enforcer/proxy/tls.h), made at sandbox start.
 *
 * The certificates a client needs (ca.pem, ca-bundle.pem = system CAs + the
 * CA) go to <root>/run/glassbox/ca/NAME/, world-readable; the key goes into
 * the sandbox's state directory (0700, root) as ca.key (0600) and is never
 * visible inside.  The child's trust variables are pointed at the files
 * (env.h gb_env_set_trust); the supervisor binds both files read-only into
 * the private root at the same paths (rootfs.h extra_ro).
 *
 * Ownership: ev->tls (sandbox_out.h) is made by start and freed by stop,
 * which also removes the certificate directory; the proxy borrows it and is
 * stopped first.
 */
#ifndef GB_ENFORCER_SANDBOX_TLS_H
#define GB_ENFORCER_SANDBOX_TLS_H

#include "enforcer/sandbox/env.h"
#include "enforcer/sandbox/sandbox_out.h"
#include "enforcer/sandbox/statedir.h"

/* 0 or negative errno with a sentence in err (termination is then off: the
 * proxy refuses what it would have had to inspect). */
int gb_sbx_tls_start(struct gb_sbx_out *ev, const char *root, const struct gb_statedir *sd,
                     const char *name, const char *upstream_ca, struct gb_env *env, char *err,
                     size_t errlen);
void gb_sbx_tls_stop(struct gb_sbx_out *ev);

#endif
