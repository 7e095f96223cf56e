/* exporter/serve_hook.c — see serve_hook.h.  A pair under a lock would
 * make every drain thread contend; fn and ctx are set together before
 * serve's drain threads matter (gb_api_start) and read as one snapshot. */
#include "exporter/serve_hook.h"

#include <pthread.h>
#include <stddef.h>

static pthread_rwlock_t hook_lock = PTHREAD_RWLOCK_INITIALIZER;
static gb_serve_hook_fn hook_fn;
static void *hook_ctx;

void gb_serve_hook_set(gb_serve_hook_fn fn, void *ctx)
{
	pthread_rwlock_wrlock(&hook_lock);
	hook_fn = fn;
	hook_ctx = ctx;
	pthread_rwlock_unlock(&hook_lock);
}

void gb_serve_hook_call(const char *sandbox, const struct gb_record *rec)
{
	/* a reader lock: drain threads never wait for each other, and a
	 * clearing gb_serve_hook_set waits for calls in flight */
	pthread_rwlock_rdlock(&hook_lock);
	if (hook_fn)
		hook_fn(hook_ctx, sandbox, rec);
	pthread_rwlock_unlock(&hook_lock);
}
