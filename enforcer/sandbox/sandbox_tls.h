/* enforcer/sandbox/sandbox_tls.h — the sandbox's CA for HTTPS inspection
 * (enforcer/proxy/tls.h), made at sandbox start.
 *
 * The certificates a client needs (ca.pem, ca-bundle.pem = system CAs + the
 * CA) go to <root>/run/glassbox/ca/NAME/, world-readable; the key goes into
 * the sandbox's state directory (0700, root) as ca.key (0600) and is never
 * visible inside.  Two steps, so that making the CA (key, certificate, a
 * copy of the system bundle: ~3 ms) overlaps the sandbox's own setup:
 * prepare makes the directory and points the child's trust variables at the
 * files-to-be (env.h gb_env_set_trust); the supervisor binds the directory
 * read-only into the private root (rootfs.h extra_ro), so the files written
 * into it afterwards appear inside; start then makes the CA, before the
 * workload may run.
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

/* The directory (ev->tls_dir) and the trust variables.  0 or negative
 * errno with a sentence in err (termination is then off: the proxy
 * refuses what it would have had to inspect). */
int gb_sbx_tls_prepare(struct gb_sbx_out *ev, const char *root, const char *name, struct gb_env *env,
                       char *err, size_t errlen);
/* The CA, into the prepared directory.  0 or negative errno with a
 * sentence in err (termination off; both files are then copies of the
 * system bundle, which the trust variables name as they would with no CA). */
int gb_sbx_tls_start(struct gb_sbx_out *ev, const struct gb_statedir *sd, const char *upstream_ca,
                     char *err, size_t errlen);
void gb_sbx_tls_stop(struct gb_sbx_out *ev);

#endif
