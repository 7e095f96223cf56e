/* exporter/serve_hook.h — one observer of what `glassbox serve` journals.
 *
 * The policy advisor (api/advisor.h) learns of denials from the daemon's
 * drain threads without the exporter knowing it exists: it registers a
 * function here, and every drain thread calls it once per record after
 * the record's event went into the journal batch.  The hook runs on the
 * drain thread, so it must be quick (copy what it needs and return) and
 * thread-safe; it never fails the drain.
 *
 * Ownership: rec and sandbox are valid only during the call.  ctx is the
 * registrant's and must outlive the registration (clear it with NULL
 * before freeing ctx; drain threads may still be inside the old hook for
 * the length of one call, so stop serve first).
 */
#ifndef GB_EXPORTER_SERVE_HOOK_H
#define GB_EXPORTER_SERVE_HOOK_H

struct gb_record;

typedef void (*gb_serve_hook_fn)(void *ctx, const char *sandbox, const struct gb_record *rec);

/* Set (or clear, fn NULL) the one hook. */
void gb_serve_hook_set(gb_serve_hook_fn fn, void *ctx);
/* Called by serve.c's drain threads. */
void gb_serve_hook_call(const char *sandbox, const struct gb_record *rec);

#endif
