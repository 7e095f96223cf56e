/* exporter/ocsf_memo.c — the mapper's memo of serialised fragments that
 * are the same for many events: the device/metadata head of a context and
 * the actor.process object of an identity (see ocsf_int.h).
 *
 * Why: a sandbox's events differ in a few fields; its device, container,
 * product and the process that made the connection are the same event
 * after event, and serialising them (escape scan, separators, numbers) was
 * half of the writer's time (docs/performance.md).
 *
 * Correctness: an entry is found by the exact bytes of everything its
 * fragment depends on (the key the caller builds from the values, never
 * from pointers: the record decoder reuses its storage), so a hit writes
 * exactly the bytes a miss would have.  tests/unit/test_ocsf_golden.c
 * checks that across records that differ in one field each.
 *
 * Per thread (no lock): serve formats on one thread per sandbox drain and
 * journal readers on their own.  A fragment or key larger than the entry
 * is simply not memoised; without memory for the memo nothing is.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "exporter/ocsf_int.h"

struct memo_entry {
	uint32_t klen, vlen;
	char key[OCSF_MEMO_KEY_MAX];
	char val[OCSF_MEMO_VAL_MAX];
};

/* Two heads (a drain thread formats its sandbox's events and, now and
 * then, a LOSS under the daemon's own context); four identities (a
 * sandbox's busy processes: the agent, its shell, git, curl). */
#define N_HEAD 2
#define N_IDENT 4

struct memo {
	struct memo_entry head[N_HEAD], ident[N_IDENT];
	unsigned next_head, next_ident; /* round-robin victims */
	struct ocsf_env_memo env[OCSF_ENV_CLASSES][OCSF_ENV_ACTS];
};

/* On the heap, one per thread that formats events, freed when the thread
 * ends (the key's destructor): ~60 KB of static TLS would be taken from
 * every thread's stack, the proxy's 256 KB inspection threads included. */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t key;
static bool key_ok;
static _Thread_local struct memo *cur;

static void make_key(void)
{
	key_ok = pthread_key_create(&key, free) == 0;
}

static struct memo *memo(void)
{
	if (cur)
		return cur;
	pthread_once(&once, make_key);
	if (!key_ok)
		return NULL;
	struct memo *m = calloc(1, sizeof *m);
	if (!m || pthread_setspecific(key, m) != 0) {
		free(m);
		return NULL;
	}
	return cur = m;
}

struct ocsf_env_memo *ocsf_memo_env(unsigned class_idx, unsigned activity_id)
{
	struct memo *m = memo();
	if (!m || class_idx >= OCSF_ENV_CLASSES || activity_id >= OCSF_ENV_ACTS)
		return NULL;
	return &m->env[class_idx][activity_id];
}

static struct memo_entry *table(enum ocsf_memo_kind kind, unsigned *n, unsigned **next)
{
	struct memo *m = memo();
	if (!m)
		return NULL;
	if (kind == OCSF_MEMO_HEAD) {
		*n = N_HEAD;
		*next = &m->next_head;
		return m->head;
	}
	*n = N_IDENT;
	*next = &m->next_ident;
	return m->ident;
}

const char *ocsf_memo_get(enum ocsf_memo_kind kind, const struct ocsf_memo_key *k, size_t *vlen)
{
	unsigned n, *next;
	struct memo_entry *e = table(kind, &n, &next);
	if (!e || k->over)
		return NULL;
	for (unsigned i = 0; i < n; i++)
		if (e[i].vlen && e[i].klen == k->len && memcmp(e[i].key, k->b, k->len) == 0) {
			*vlen = e[i].vlen;
			return e[i].val;
		}
	return NULL;
}

void ocsf_memo_put(enum ocsf_memo_kind kind, const struct ocsf_memo_key *k, const char *val, size_t vlen)
{
	unsigned n, *next;
	struct memo_entry *e = table(kind, &n, &next);
	if (!e || k->over || vlen == 0 || vlen > OCSF_MEMO_VAL_MAX)
		return;
	struct memo_entry *v = &e[*next % n];
	*next = (*next + 1) % n;
	v->klen = (uint32_t)k->len;
	memcpy(v->key, k->b, k->len);
	memcpy(v->val, val, vlen);
	v->vlen = (uint32_t)vlen;
}

void ocsf_memo_key_bytes(struct ocsf_memo_key *k, const void *p, size_t n)
{
	if (k->over || n > sizeof k->b - k->len) {
		k->over = true;
		return;
	}
	memcpy(k->b + k->len, p, n);
	k->len += n;
}

/* A string with its length in front, so that "ab"+"c" and "a"+"bc" are
 * different keys; NULL is "" (the mapper writes the same for both). */
void ocsf_memo_key_str(struct ocsf_memo_key *k, const char *s)
{
	uint32_t n = s ? (uint32_t)strlen(s) : 0;
	ocsf_memo_key_bytes(k, &n, sizeof n);
	if (n)
		ocsf_memo_key_bytes(k, s, n);
}
