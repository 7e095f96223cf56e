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
 * Per thread (_Thread_local, fixed arrays: no allocation, nothing to free
 * at thread exit, no lock): serve formats on one thread per sandbox drain
 * and journal readers on their own.  A fragment or key larger than the
 * entry is simply not memoised.
 */
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

static _Thread_local struct memo_entry head_e[N_HEAD], ident_e[N_IDENT];

static struct memo_entry *table(enum ocsf_memo_kind kind, unsigned *n, unsigned **next)
{
	static _Thread_local unsigned next_head, next_ident;
	if (kind == OCSF_MEMO_HEAD) {
		*n = N_HEAD;
		*next = &next_head;
		return head_e;
	}
	*n = N_IDENT;
	*next = &next_ident;
	return ident_e;
}

const char *ocsf_memo_get(enum ocsf_memo_kind kind, const struct ocsf_memo_key *k, size_t *vlen)
{
	unsigned n, *next;
	struct memo_entry *e = table(kind, &n, &next);
	if (k->over)
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
	if (k->over || vlen == 0 || vlen > OCSF_MEMO_VAL_MAX)
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
