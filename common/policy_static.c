/* common/policy_static.c — which static sections (filesystem, Landlock,
 * process identity) differ between two policies.  They are applied once at
 * sandbox start, so a runtime revision that changes them is refused: the
 * caller reports these diagnostics instead of silently ignoring the change. */
#include <stdlib.h>
#include <string.h>

#include "common/policy.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Set equality (order and duplicates do not matter to Landlock). */
static bool same_set(const char **a, size_t na, const char **b, size_t nb)
{
	const char **x = malloc((na + 1) * sizeof *x), **y = malloc((nb + 1) * sizeof *y);
	bool eq = false;
	if (!x || !y)
		goto out; /* unknown: report as different, the safe answer */
	if (na)
		memcpy(x, a, na * sizeof *x);
	if (nb)
		memcpy(y, b, nb * sizeof *y);
	qsort(x, na, sizeof *x, cmp_str);
	qsort(y, nb, sizeof *y, cmp_str);
	size_t i = 0, j = 0;
	eq = true;
	while (eq && (i < na || j < nb)) {
		if (i == na || j == nb || strcmp(x[i], y[j])) {
			eq = false;
			break;
		}
		const char *v = x[i];
		while (i < na && !strcmp(x[i], v))
			i++;
		while (j < nb && !strcmp(y[j], v))
			j++;
	}
out:
	free(x);
	free(y);
	return eq;
}

static bool same_id(const char *a, const char *b)
{
	return !strcmp(a ? a : "sandbox", b ? b : "sandbox");
}

unsigned gb_policy_static_diff(const struct gb_policy *a, const struct gb_policy *b,
                               struct gb_diags *d)
{
	static const char why[] = "static section differs from the running policy; it is applied "
	                          "once at sandbox start and cannot change at runtime";
	static const char hint[] = "recreate the sandbox to change it";
	unsigned diff = 0;
	if (!same_set(a->read_only, a->n_read_only, b->read_only, b->n_read_only)) {
		diff |= GB_STATIC_FILESYSTEM;
		gb_diag_add(d, GB_DIAG_ERROR, NULL, 0, 0, "filesystem_policy.read_only", hint, "%s", why);
	}
	if (!same_set(a->read_write, a->n_read_write, b->read_write, b->n_read_write)) {
		diff |= GB_STATIC_FILESYSTEM;
		gb_diag_add(d, GB_DIAG_ERROR, NULL, 0, 0, "filesystem_policy.read_write", hint, "%s", why);
	}
	if (a->include_workdir != b->include_workdir) {
		diff |= GB_STATIC_FILESYSTEM;
		gb_diag_add(d, GB_DIAG_ERROR, NULL, 0, 0, "filesystem_policy.include_workdir", hint, "%s", why);
	}
	if (a->landlock != b->landlock) {
		diff |= GB_STATIC_LANDLOCK;
		gb_diag_add(d, GB_DIAG_ERROR, NULL, 0, 0, "landlock.compatibility", hint, "%s", why);
	}
	if (!same_id(a->run_as_user, b->run_as_user)) {
		diff |= GB_STATIC_PROCESS;
		gb_diag_add(d, GB_DIAG_ERROR, NULL, 0, 0, "process.run_as_user", hint, "%s", why);
	}
	if (!same_id(a->run_as_group, b->run_as_group)) {
		diff |= GB_STATIC_PROCESS;
		gb_diag_add(d, GB_DIAG_ERROR, NULL, 0, 0, "process.run_as_group", hint, "%s", why);
	}
	return diff;
}
