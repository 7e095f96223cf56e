/* common/policy_store.c — live policy revisions.
 *
 * Readers (every decision) take the current compiled revision without a
 * lock: they claim a hazard slot (one cache line each; a thread starts at
 * its own slot, so claims do not contend), publish the pointer they read
 * there and re-check that it is still current.  Writers (set/update,
 * serialised by a mutex that readers never touch) swap the pointer with a
 * sequentially consistent exchange — the next get() sees the new revision
 * — and free a retired revision only once no slot holds it.  A thread
 * nesting more than TL_HOLDS gets falls back to a reference taken while the
 * hazard still protects the pointer.
 *
 * Ownership: the store holds one reference on the current revision and on
 * each retired one until reclaimed; static sections are copied at creation
 * and compared on every set/update. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/policy_compiled_int.h"
#include "common/policy_match.h"

#define N_SLOTS 128
#define TL_HOLDS 8

struct hslot {
	_Alignas(64) atomic_uintptr_t v; /* 0 free, 1 claimed, else the protected pointer */
};

struct static_copy {
	int version;
	const char **ro, **rw;
	size_t n_ro, n_rw;
	bool include_workdir;
	enum gb_landlock_compat landlock;
	const char *user, *group;
	struct gb_arena arena;
};

struct gb_policy_store {
	struct hslot slots[N_SLOTS];
	_Alignas(64) _Atomic(struct gb_policy_compiled *) cur;
	pthread_mutex_t wlock;
	uint64_t rev;
	struct gb_policy_compiled **retired;
	size_t n_retired, cap_retired;
	struct static_copy st;
};

struct tl_hold {
	const struct gb_policy_store *s;
	const struct gb_policy_compiled *c;
	unsigned slot;
};
static _Thread_local struct tl_hold tl_holds[TL_HOLDS];
static _Thread_local unsigned tl_n;
static _Thread_local unsigned tl_hint;

/* ---------------- static sections ---------------- */

static const char **copy_list(struct gb_arena *a, const char **v, size_t n)
{
	const char **o = gb_arena_alloc(a, (n + 1) * sizeof *o);
	for (size_t i = 0; o && i < n; i++)
		if (!(o[i] = gb_arena_strdup(a, v[i])))
			return NULL;
	return o;
}

static const char *copy_str(struct gb_arena *a, const char *s)
{
	const char *v[1] = { s };
	const char **o = s ? copy_list(a, v, 1) : NULL;
	return o ? o[0] : NULL;
}

static int static_init(struct static_copy *st, const struct gb_policy *p)
{
	st->version = p->version;
	st->ro = copy_list(&st->arena, p->read_only, p->n_read_only);
	st->rw = copy_list(&st->arena, p->read_write, p->n_read_write);
	st->n_ro = p->n_read_only;
	st->n_rw = p->n_read_write;
	st->include_workdir = p->include_workdir;
	st->landlock = p->landlock;
	st->user = copy_str(&st->arena, p->run_as_user);
	st->group = copy_str(&st->arena, p->run_as_group);
	return st->arena.err;
}

static bool list_eq(const char **a, size_t na, const char **b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return true;
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void add_diag(struct gb_diags *d, const char *field, const char *msg)
{
	if (!d)
		return;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct gb_diag *v = realloc(d->v, cap * sizeof *v);
		if (!v)
			return;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = (struct gb_diag){ .level = GB_DIAG_ERROR, .file = NULL, .line = 0,
		                         .column = 0, .field = field, .message = msg, .hint = NULL };
	d->errors++;
}

static const char static_msg[] =
    "static section differs from the running policy; it cannot change at runtime "
    "(recreate the sandbox to change it)";

/* partial: only compare what the new policy states (update files usually
 * carry just network_policies). */
static int static_check(const struct static_copy *st, const struct gb_policy *p, bool partial,
                        struct gb_diags *d)
{
	size_t before = d ? d->errors : 0;
	int bad = 0;
#define CHECK(cond, field)                     \
	do {                                   \
		if (!(cond)) {                 \
			add_diag(d, field, static_msg); \
			bad++;                 \
		}                              \
	} while (0)
	if (!partial || p->version)
		CHECK(p->version == st->version, "version");
	if (!partial || p->n_read_only)
		CHECK(list_eq(p->read_only, p->n_read_only, st->ro, st->n_ro),
		      "filesystem_policy.read_only");
	if (!partial || p->n_read_write)
		CHECK(list_eq(p->read_write, p->n_read_write, st->rw, st->n_rw),
		      "filesystem_policy.read_write");
	if (!partial || p->include_workdir)
		CHECK(p->include_workdir == st->include_workdir, "filesystem_policy.include_workdir");
	if (!partial || p->landlock != GB_LL_BEST_EFFORT)
		CHECK(p->landlock == st->landlock, "landlock.compatibility");
	if (!partial || p->run_as_user)
		CHECK(str_eq(p->run_as_user, st->user), "process.run_as_user");
	if (!partial || p->run_as_group)
		CHECK(str_eq(p->run_as_group, st->group), "process.run_as_group");
#undef CHECK
	(void)before;
	return bad ? -EPERM : 0;
}

/* ---------------- lock-free reads ---------------- */

const struct gb_policy_compiled *gb_policy_store_get(struct gb_policy_store *s)
{
	if (!tl_hint)
		tl_hint = (unsigned)(((uintptr_t)&tl_n >> 6) * 2654435761u) | 1u;
	unsigned slot = 0;
	for (unsigned i = 0;; i++) {
		slot = (tl_hint + i) % N_SLOTS;
		uintptr_t exp = 0;
		if (atomic_load_explicit(&s->slots[slot].v, memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_strong_explicit(&s->slots[slot].v, &exp, 1,
		                                            memory_order_acquire, memory_order_relaxed))
			break;
	}
	struct gb_policy_compiled *c;
	for (;;) {
		c = atomic_load_explicit(&s->cur, memory_order_acquire);
		atomic_store_explicit(&s->slots[slot].v, (uintptr_t)c, memory_order_seq_cst);
		if (atomic_load_explicit(&s->cur, memory_order_seq_cst) == c)
			break;
	}
	if (tl_n < TL_HOLDS) {
		tl_holds[tl_n++] = (struct tl_hold){ s, c, slot };
		return c;
	}
	/* Deeply nested: hold a reference instead of the slot. */
	gb_policy_compiled_ref(c);
	atomic_store_explicit(&s->slots[slot].v, 0, memory_order_release);
	return c;
}

void gb_policy_store_put(struct gb_policy_store *s, const struct gb_policy_compiled *c)
{
	if (!c)
		return;
	for (unsigned i = tl_n; i-- > 0;) {
		if (tl_holds[i].s == s && tl_holds[i].c == c) {
			atomic_store_explicit(&s->slots[tl_holds[i].slot].v, 0, memory_order_release);
			tl_holds[i] = tl_holds[--tl_n];
			return;
		}
	}
	gb_policy_compiled_unref((struct gb_policy_compiled *)(uintptr_t)c);
}

/* ---------------- writers ---------------- */

static bool protected_(struct gb_policy_store *s, const struct gb_policy_compiled *c)
{
	for (unsigned i = 0; i < N_SLOTS; i++)
		if (atomic_load_explicit(&s->slots[i].v, memory_order_seq_cst) == (uintptr_t)c)
			return true;
	return false;
}

static void reclaim(struct gb_policy_store *s)
{
	size_t k = 0;
	for (size_t i = 0; i < s->n_retired; i++) {
		if (protected_(s, s->retired[i]))
			s->retired[k++] = s->retired[i];
		else
			gb_policy_compiled_unref(s->retired[i]);
	}
	s->n_retired = k;
}

/* Called with wlock held. */
static int publish(struct gb_policy_store *s, struct gb_policy_compiled *n, uint64_t *rev)
{
	if (s->n_retired == s->cap_retired) {
		size_t cap = s->cap_retired ? s->cap_retired * 2 : 16;
		struct gb_policy_compiled **v = realloc(s->retired, cap * sizeof *v);
		if (!v) {
			gb_policy_compiled_unref(n);
			return -ENOMEM;
		}
		s->retired = v;
		s->cap_retired = cap;
	}
	n->revision = ++s->rev;
	struct gb_policy_compiled *old = atomic_exchange_explicit(&s->cur, n, memory_order_seq_cst);
	s->retired[s->n_retired++] = old;
	reclaim(s);
	if (rev)
		*rev = n->revision;
	return 0;
}

int gb_policy_store_new(const struct gb_policy *initial, struct gb_policy_store **out)
{
	*out = NULL;
	if (!initial)
		return -EINVAL;
	struct gb_policy_store *s = aligned_alloc(64, (sizeof *s + 63) & ~(size_t)63);
	if (!s)
		return -ENOMEM;
	memset(s, 0, sizeof *s);
	for (unsigned i = 0; i < N_SLOTS; i++)
		atomic_init(&s->slots[i].v, 0);
	int rc = static_init(&s->st, initial);
	struct gb_policy_compiled *c = NULL;
	if (!rc)
		rc = gb_policy_compile(initial, &c);
	if (rc) {
		gb_arena_free(&s->st.arena);
		free(s);
		return rc;
	}
	c->revision = s->rev = 1;
	atomic_init(&s->cur, c);
	pthread_mutex_init(&s->wlock, NULL);
	*out = s;
	return 0;
}

void gb_policy_store_free(struct gb_policy_store *s)
{
	if (!s)
		return;
	gb_policy_compiled_unref(atomic_load(&s->cur));
	for (size_t i = 0; i < s->n_retired; i++)
		gb_policy_compiled_unref(s->retired[i]);
	free(s->retired);
	pthread_mutex_destroy(&s->wlock);
	gb_arena_free(&s->st.arena);
	free(s);
}

int gb_policy_store_set(struct gb_policy_store *s, const struct gb_policy *p, uint64_t *rev,
                        struct gb_diags *diags)
{
	if (!s || !p)
		return -EINVAL;
	int rc = static_check(&s->st, p, false, diags);
	if (rc)
		return rc;
	struct gb_policy_compiled *c;
	rc = gb_policy_compile(p, &c);
	if (rc)
		return rc;
	pthread_mutex_lock(&s->wlock);
	rc = publish(s, c, rev);
	pthread_mutex_unlock(&s->wlock);
	return rc;
}

static int cmp_key(const void *a, const void *b)
{
	const struct gb_net_entry *x = *(const struct gb_net_entry *const *)a;
	const struct gb_net_entry *y = *(const struct gb_net_entry *const *)b;
	return strcmp(x->key ? x->key : "", y->key ? y->key : "");
}

int gb_policy_store_update(struct gb_policy_store *s, const struct gb_policy *p, uint64_t *rev,
                           struct gb_diags *diags)
{
	if (!s || !p)
		return -EINVAL;
	int rc = static_check(&s->st, p, true, diags);
	if (rc)
		return rc;
	pthread_mutex_lock(&s->wlock);
	/* Only writers swap `cur`, and we hold the writer lock: it stays ours. */
	struct gb_policy_compiled *cur = atomic_load_explicit(&s->cur, memory_order_acquire);
	size_t n_new = p->n_entries, n_cur = cur->n_entries;
	const struct gb_net_entry **add = malloc((n_new + 1) * sizeof *add);
	const struct gb_net_entry **all = malloc((n_new + n_cur + 1) * sizeof *all);
	rc = -ENOMEM;
	if (add && all) {
		for (size_t i = 0; i < n_new; i++)
			add[i] = &p->entries[i];
		qsort(add, n_new, sizeof *add, cmp_key);
		size_t n = 0;
		for (size_t i = 0; i < n_cur; i++) {
			const struct gb_net_entry *e = &cur->model[i];
			if (!bsearch(&e, add, n_new, sizeof *add, cmp_key))
				all[n++] = e; /* kept: the update does not name it */
		}
		for (size_t i = 0; i < n_new; i++)
			all[n++] = add[i];
		struct gb_policy_compiled *c;
		rc = gbc_build(all, n, &c);
		if (!rc)
			rc = publish(s, c, rev);
	}
	pthread_mutex_unlock(&s->wlock);
	free(add);
	free(all);
	return rc;
}
