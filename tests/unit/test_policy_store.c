/* tests/unit/test_policy_store.c — live revisions: set, update, content
 * hashes, static sections refused, lock-free readers racing a writer through
 * 10 000 swaps (run under TSan too). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "common/policy.h"
#include "common/policy_match.h"

#define STATIC_PART                               \
	"version: 1\n"                            \
	"filesystem_policy:\n"                    \
	"  read_only: [/usr, /etc]\n"             \
	"  read_write: [/tmp]\n"

static struct gb_policy *load(const char *yaml)
{
	struct gb_diags d = { 0 };
	struct gb_policy *p = NULL;
	int rc = gb_policy_load_buf("store.yaml", yaml, strlen(yaml), &p, &d);
	if (rc)
		gb_diags_print(&d, stderr);
	gb_diags_free(&d);
	assert_int_equal(rc, 0);
	return p;
}

static enum gb_verdict decide(struct gb_policy_store *s, const char *host, uint16_t port,
                              uint64_t *rev)
{
	const struct gb_policy_compiled *c = gb_policy_store_get(s);
	struct gb_decide_in in = { .host = host, .port = port, .exe = "/usr/bin/curl" };
	struct gb_decision d;
	gb_policy_decide(c, &in, &d);
	if (rev)
		*rev = gb_policy_compiled_revision(c);
	gb_policy_store_put(s, c);
	return d.verdict;
}

static const char POL_A[] = STATIC_PART
	"network_policies:\n"
	"  a:\n"
	"    endpoints: [{host: a.test, port: 443}]\n"
	"    binaries: [{path: /usr/bin/curl}]\n";
static const char UPD_B[] =
	"version: 1\n"
	"network_policies:\n"
	"  b:\n"
	"    endpoints: [{host: b.test, port: 443}]\n"
	"    binaries: [{path: /usr/bin/curl}]\n";
static const char UPD_A2[] =
	"version: 1\n"
	"network_policies:\n"
	"  a:\n"
	"    endpoints: [{host: a.test, port: 8443}]\n"
	"    binaries: [{path: /usr/bin/curl}]\n";
static const char SET_C[] = STATIC_PART
	"network_policies:\n"
	"  c:\n"
	"    endpoints: [{host: c.test, port: 443}]\n"
	"    binaries: [{path: /usr/bin/curl}]\n";
static const char SET_STATIC_CHANGED[] =
	"version: 1\n"
	"filesystem_policy:\n"
	"  read_only: [/usr, /etc]\n"
	"  read_write: [/tmp, /var]\n"
	"network_policies:\n"
	"  c:\n"
	"    endpoints: [{host: c.test, port: 443}]\n"
	"    binaries: [{path: /usr/bin/curl}]\n";
static const char UPD_USER_CHANGED[] =
	"version: 1\n"
	"process:\n"
	"  run_as_user: \"1234\"\n"
	"network_policies:\n"
	"  d:\n"
	"    endpoints: [{host: d.test, port: 443}]\n"
	"    binaries: [{path: /usr/bin/curl}]\n";

/* Loads yaml and hands it to op (gb_policy_store_set or _update); returns
 * op's result, the new revision in *rev. */
typedef int (*store_op)(struct gb_policy_store *, const struct gb_policy *, uint64_t *, struct gb_diags *);
static int apply(struct gb_policy_store *s, store_op op, const char *yaml, uint64_t *rev, struct gb_diags *d)
{
	struct gb_policy *p = load(yaml);
	int r = op(s, p, rev, d);
	gb_policy_free(p);
	return r;
}

static void test_revisions(void **state)
{
	(void)state;
	struct gb_policy *pa = load(POL_A);
	struct gb_policy_store *s;
	assert_int_equal(gb_policy_store_new(pa, &s), 0);
	gb_policy_free(pa); /* the store keeps what it needs */
	uint64_t rev;
	assert_int_equal(decide(s, "a.test", 443, &rev), GB_VERDICT_ALLOW);
	assert_int_equal(rev, 1);
	assert_int_equal(decide(s, "b.test", 443, NULL), GB_VERDICT_DENY);

	const struct gb_policy_compiled *c1 = gb_policy_store_get(s);
	char h1[65];
	snprintf(h1, sizeof h1, "%s", gb_policy_compiled_hash(c1));
	gb_policy_store_put(s, c1);

	/* update merges by entry name */
	struct gb_diags d = { 0 };
	assert_int_equal(apply(s, gb_policy_store_update, UPD_B, &rev, &d), 0);
	assert_int_equal(rev, 2);
	assert_int_equal(decide(s, "a.test", 443, &rev), GB_VERDICT_ALLOW);
	assert_int_equal(rev, 2);
	assert_int_equal(decide(s, "b.test", 443, NULL), GB_VERDICT_ALLOW);
	const struct gb_policy_compiled *c2 = gb_policy_store_get(s);
	assert_string_not_equal(h1, gb_policy_compiled_hash(c2));
	assert_int_equal(strlen(gb_policy_compiled_hash(c2)), 64);
	gb_policy_store_put(s, c2);

	/* update of an existing name replaces that entry only */
	assert_int_equal(apply(s, gb_policy_store_update, UPD_A2, &rev, &d), 0);
	assert_int_equal(rev, 3);
	assert_int_equal(decide(s, "a.test", 443, NULL), GB_VERDICT_DENY);
	assert_int_equal(decide(s, "a.test", 8443, NULL), GB_VERDICT_ALLOW);
	assert_int_equal(decide(s, "b.test", 443, NULL), GB_VERDICT_ALLOW);

	/* set replaces the whole network section */
	assert_int_equal(apply(s, gb_policy_store_set, SET_C, &rev, &d), 0);
	assert_int_equal(rev, 4);
	assert_int_equal(decide(s, "a.test", 8443, NULL), GB_VERDICT_DENY);
	assert_int_equal(decide(s, "b.test", 443, NULL), GB_VERDICT_DENY);
	assert_int_equal(decide(s, "c.test", 443, NULL), GB_VERDICT_ALLOW);
	assert_int_equal(d.errors, 0);
	/* the same content again: a new revision with the same content hash */
	const struct gb_policy_compiled *c4 = gb_policy_store_get(s);
	char h4[65];
	snprintf(h4, sizeof h4, "%s", gb_policy_compiled_hash(c4));
	gb_policy_store_put(s, c4);
	assert_int_equal(apply(s, gb_policy_store_set, SET_C, &rev, &d), 0);
	assert_int_equal(rev, 5);
	const struct gb_policy_compiled *c5 = gb_policy_store_get(s);
	assert_string_equal(h4, gb_policy_compiled_hash(c5));
	gb_policy_store_put(s, c5);

	/* static sections cannot change: refused, nothing replaced */
	rev = 0;
	assert_int_equal(apply(s, gb_policy_store_set, SET_STATIC_CHANGED, &rev, &d), -EPERM);
	assert_true(d.errors >= 1);
	int found = 0;
	for (size_t i = 0; i < d.n; i++)
		if (d.v[i].field && strstr(d.v[i].field, "filesystem_policy.read_write"))
			found = 1;
	assert_true(found);
	gb_diags_free(&d);
	memset(&d, 0, sizeof d);
	assert_int_equal(apply(s, gb_policy_store_update, UPD_USER_CHANGED, &rev, &d), -EPERM);
	gb_diags_free(&d);
	assert_int_equal(decide(s, "c.test", 443, &rev), GB_VERDICT_ALLOW);
	assert_int_equal(rev, 5);
	assert_int_equal(decide(s, "d.test", 443, NULL), GB_VERDICT_DENY);

	gb_policy_store_free(s);
}

/* ---- readers racing a writer ---- */

/* Two network sections that differ by which port is open; the revision
 * parity says which one a reader holds, so every decision can be checked
 * against the revision it was made under. */
static const char RACE_EVEN[] = STATIC_PART
	"network_policies:\n"
	"  r:\n"
	"    endpoints: [{host: race.test, port: 1000}]\n"
	"    binaries: [{path: /usr/bin/curl}]\n";
static const char RACE_ODD[] = STATIC_PART
	"network_policies:\n"
	"  r:\n"
	"    endpoints: [{host: race.test, port: 2000}]\n"
	"    binaries: [{path: /usr/bin/curl}]\n";

#define READERS 4
#define READS 5000000 /* cap; readers stop when the writer is done */
#define SWAPS 10000

struct race {
	struct gb_policy_store *s;
	atomic_int stop;
	atomic_ulong bad, done;
	uint64_t max_rev_seen[READERS];
};

struct reader_arg {
	struct race *r;
	int id;
};

static void *reader(void *p)
{
	struct reader_arg *a = p;
	struct race *r = a->r;
	uint64_t last = 0;
	for (int i = 0; i < READS && !atomic_load(&r->stop); i++) {
		const struct gb_policy_compiled *c = gb_policy_store_get(r->s);
		uint64_t rev = gb_policy_compiled_revision(c);
		struct gb_decide_in in = { .host = "race.test", .port = 1000, .exe = "/usr/bin/curl" };
		struct gb_decision d1, d2;
		gb_policy_decide(c, &in, &d1);
		in.port = 2000;
		gb_policy_decide(c, &in, &d2);
		gb_policy_store_put(r->s, c);
		/* revision 1 and every odd one came from RACE_ODD... see writer */
		bool even = rev % 2 == 0;
		if ((d1.verdict == GB_VERDICT_ALLOW) != even || (d2.verdict == GB_VERDICT_ALLOW) == even)
			atomic_fetch_add(&r->bad, 1);
		if (rev < last) /* revisions never go backwards for one reader */
			atomic_fetch_add(&r->bad, 1);
		last = rev;
		atomic_fetch_add(&r->done, 1);
	}
	r->max_rev_seen[a->id] = last;
	return NULL;
}

static void test_readers_race_writer(void **state)
{
	(void)state;
	struct gb_policy *odd = load(RACE_ODD), *even = load(RACE_EVEN);
	struct race r = { 0 };
	assert_int_equal(gb_policy_store_new(odd, &r.s), 0); /* revision 1: odd */
	pthread_t t[READERS];
	struct reader_arg args[READERS];
	for (int i = 0; i < READERS; i++) {
		args[i] = (struct reader_arg){ &r, i };
		assert_int_equal(pthread_create(&t[i], NULL, reader, &args[i]), 0);
	}
	uint64_t rev = 1;
	for (int i = 0; i < SWAPS; i++) {
		uint64_t got;
		struct gb_diags d = { 0 };
		assert_int_equal(gb_policy_store_set(r.s, rev % 2 ? even : odd, &got, &d), 0);
		gb_diags_free(&d);
		assert_int_equal(got, rev + 1);
		rev = got;
		/* a swap is visible to the next decision on this thread */
		const struct gb_policy_compiled *c = gb_policy_store_get(r.s);
		assert_int_equal(gb_policy_compiled_revision(c), rev);
		gb_policy_store_put(r.s, c);
	}
	atomic_store(&r.stop, 1);
	for (int i = 0; i < READERS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&r.bad), 0);
	assert_true(atomic_load(&r.done) > 0);
	gb_policy_store_free(r.s);
	gb_policy_free(odd);
	gb_policy_free(even);
}

/* Nested gets beyond the per-thread hazard slots fall back to references. */
static void test_nested_gets(void **state)
{
	(void)state;
	struct gb_policy *p = load(POL_A);
	struct gb_policy_store *s;
	assert_int_equal(gb_policy_store_new(p, &s), 0);
	const struct gb_policy_compiled *held[20];
	for (int i = 0; i < 20; i++)
		held[i] = gb_policy_store_get(s);
	uint64_t rev;
	struct gb_diags d = { 0 };
	assert_int_equal(gb_policy_store_set(s, p, &rev, &d), 0); /* retires revision 1 */
	for (int i = 0; i < 20; i++) {
		assert_int_equal(gb_policy_compiled_revision(held[i]), 1); /* still readable */
		gb_policy_store_put(s, held[i]);
	}
	gb_policy_store_free(s);
	gb_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_revisions),
		cmocka_unit_test(test_readers_race_writer),
		cmocka_unit_test(test_nested_gets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
