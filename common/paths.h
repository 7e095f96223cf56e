/* common/paths.h — every path that more than one program uses, built from
 * the root in one place.
 *
 * `glassbox run`, `glassbox serve` (and later the API and the CLI's control
 * commands) find each other only through the filesystem: the supervisor
 * creates <root>/run/glassbox/sandboxes/NAME/events.ring, the daemon drains
 * it and holds <root>/run/glassbox/serve.lock, which tells the supervisor to
 * wait for the drain.  When two programs derive one of these paths
 * differently they silently stop meeting, so each path has exactly one
 * builder here, and every builder starts from the same root (--root,
 * GLASSBOX_ROOT; NULL, "" and "/" all mean the real root).
 *
 *   <root>/run/glassbox/                       gb_path_runtime
 *     api.sock                                 gb_path_api_sock
 *     serve.lock                               gb_path_serve_lock
 *     metrics.json                             gb_path_metrics
 *     sandboxes/                               gb_path_sandboxes
 *       NAME/                                  gb_path_sandbox
 *         events.ring                          gb_path_ring
 *         control.sock                         gb_path_control_sock
 *         supervisor.pid                       (GB_SUPERVISOR_LOCK)
 *   <root>/var/lib/glassbox/journal/           gb_path_journal
 *   <root>/var/lib/glassbox/cursors/           gb_path_cursors
 *   <root>/var/lib/glassbox/ca/                gb_path_ca
 *   <root>/var/lib/glassbox/advisor.db         gb_path_advisor_db
 *   <root>/var/lib/glassbox/keys/              gb_path_keys
 *   <root>/etc/glassbox/glassbox.yaml          gb_path_config
 *   <root>/etc/glassbox/credentials/           gb_path_credentials
 *
 * Not under the root: the installed read-only data (CMake's install rule
 * puts dashboards/ under DATADIR/glassbox), gb_path_dashboard.
 *
 * Every result is normalised (gb_path_norm: no repeated slash, no "."
 * component, no trailing slash), so two programs given "/tmp/r", "/tmp/r/"
 * or "/tmp//r" build byte-identical paths.  ".." is kept as written:
 * resolving it needs the filesystem (symlinks), which is not this header's
 * business.
 *
 * Every builder writes into a caller buffer (GB_PATH_MAX is always enough
 * for a root shorter than PATH_MAX minus the longest suffix) and returns 0,
 * -ENAMETOOLONG when the result does not fit (buf then holds ""), or
 * -EINVAL for a name that is not one path component.
 *
 * Ownership: nothing is allocated; inputs are only read during the call.
 */
#ifndef GB_COMMON_PATHS_H
#define GB_COMMON_PATHS_H

#include <stddef.h>

/* Room for any path glassbox builds or accepts (PATH_MAX).  A buffer of
 * this size also holds a path plus a short suffix such as ".tmp" when the
 * path itself is at most GB_PATH_MAX - 16 bytes. */
#define GB_PATH_MAX 4096

/* Below the root (no leading slash): also used by --help texts, so what
 * they print is what the code builds. */
#define GB_REL_RUNTIME     "run/glassbox"
#define GB_REL_SANDBOXES   GB_REL_RUNTIME "/sandboxes"
#define GB_REL_STATE       "var/lib/glassbox"
#define GB_REL_JOURNAL     GB_REL_STATE "/journal"
#define GB_REL_CURSORS     GB_REL_STATE "/cursors"
#define GB_REL_CA          GB_REL_STATE "/ca"
#define GB_REL_ADVISOR_DB  GB_REL_STATE "/advisor.db"
#define GB_REL_KEYS        GB_REL_STATE "/keys"
#define GB_REL_CONFIG      "etc/glassbox/glassbox.yaml"
#define GB_REL_CREDENTIALS "etc/glassbox/credentials"

/* File names inside the runtime dir and a sandbox's dir. */
#define GB_SERVE_LOCK      "serve.lock"
#define GB_METRICS_FILE    "metrics.json"
#define GB_API_SOCK        "api.sock"
#define GB_RING_FILE       "events.ring"
#define GB_CONTROL_SOCK    "control.sock"
#define GB_SUPERVISOR_LOCK "supervisor.pid"

/* in normalised into out ("" stays "", "/" stays "/", "a//b/./c/" is
 * "a/b/c").  in and out may be the same buffer. */
int gb_path_norm(char *out, size_t len, const char *in);
/* dir + "/" + rel, normalised.  rel may hold several components. */
int gb_path_join(char *out, size_t len, const char *dir, const char *rel);
/* <root>/rel; root NULL, "" or "/" = the real root. */
int gb_path_under_root(char *out, size_t len, const char *root, const char *rel);

/* Under the runtime dir: what lives only while programs run (tmpfs). */
int gb_path_runtime(char *out, size_t len, const char *root);
int gb_path_sandboxes(char *out, size_t len, const char *root); /* rings appear here */
int gb_path_serve_lock(char *out, size_t len, const char *root); /* flock: serve runs */
int gb_path_metrics(char *out, size_t len, const char *root);
int gb_path_api_sock(char *out, size_t len, const char *root);

/* The names a sandbox may have, the one rule the supervisor, the daemon,
 * the API and the CLI all apply: 1..63 of [A-Za-z0-9._-], not starting
 * with '.' or '-' (so never a path component such as "..", nor an
 * option).  NULL is not a name.  1 valid, 0 not. */
int gb_sandbox_name_valid(const char *name);

/* One sandbox's directory and files.  name must be one component: not
 * empty, ".", "..", nor holding a '/' (otherwise -EINVAL: a name never
 * reaches outside sandboxes/).  Which names a sandbox may have is
 * gb_sandbox_name_valid's rule, stricter than this. */
int gb_path_sandbox(char *out, size_t len, const char *root, const char *name);
int gb_path_ring(char *out, size_t len, const char *root, const char *name);
int gb_path_control_sock(char *out, size_t len, const char *root, const char *name);

/* Under the state dir: what must survive a reboot. */
int gb_path_journal(char *out, size_t len, const char *root);
int gb_path_cursors(char *out, size_t len, const char *root);
int gb_path_ca(char *out, size_t len, const char *root);          /* never inside a sandbox */
int gb_path_advisor_db(char *out, size_t len, const char *root);
int gb_path_keys(char *out, size_t len, const char *root);        /* journal signing key */

/* Under /etc: the operator's. */
int gb_path_config(char *out, size_t len, const char *root);
int gb_path_credentials(char *out, size_t len, const char *root); /* never inside a sandbox */

/* The web dashboard's static files as installed (DATADIR/glassbox/
 * dashboards/web, DATADIR fixed at configure time).  Not under --root:
 * they are the program's files, not this instance's state; `glassbox
 * serve --dashboard-dir DIR` points elsewhere (tests: the source tree). */
#define GB_REL_DASHBOARD "glassbox/dashboards/web"
int gb_path_dashboard(char *out, size_t len);

/* One sink's cursor file in a cursor directory (the configured one, which
 * need not be under the root); sink must be one component. */
int gb_path_cursor(char *out, size_t len, const char *cursor_dir, const char *sink);

/* Do a and b name the same directory?  1 when their normalised spellings
 * are equal or both exist and are the same inode (a symlink, a relative
 * spelling), else 0. */
int gb_path_same(const char *a, const char *b);

#endif
