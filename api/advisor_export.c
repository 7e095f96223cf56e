/* api/advisor_export.c — see advisor_rule.h gb_adv_export_with_base: the
 * learned network section joined to the policy the workload ran with, so
 * the file can be given to `glassbox run --policy` as it is (the learned
 * entries alone have no filesystem or process sections). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/advisor_rule.h"
#include "common/diag.h"
#include "common/policy.h"

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct gb_net_entry *)a)->key, ((const struct gb_net_entry *)b)->key);
}

static void first_diag(const struct gb_diags *d, const char *what, char *err, size_t errlen)
{
	if (d->n)
		snprintf(err, errlen, "%s:%d:%d: %s%s%s", what, d->v[0].line, d->v[0].column,
		         d->v[0].field ? d->v[0].field : "", d->v[0].field ? ": " : "", d->v[0].message);
	else
		snprintf(err, errlen, "%s: not a valid policy", what);
}

int gb_adv_export_with_base(const char *base_path, const char *net_yaml, struct gb_buf *out,
                            char *err, size_t errlen)
{
	struct gb_policy *base = NULL, *net = NULL;
	struct gb_diags d = { 0 };
	int rc = gb_policy_load_file(base_path, &base, &d);
	if (rc < 0) {
		if (rc == -EINVAL)
			first_diag(&d, base_path, err, errlen);
		else
			snprintf(err, errlen, "%s: %s", base_path, strerror(-rc));
		gb_diags_free(&d);
		return rc;
	}
	gb_diags_free(&d);
	d = (struct gb_diags){ 0 };
	rc = gb_policy_load_buf("advisor export", net_yaml, strlen(net_yaml), &net, &d);
	if (rc < 0) {
		first_diag(&d, "advisor export", err, errlen);
		gb_diags_free(&d);
		gb_policy_free(base);
		return rc;
	}
	gb_diags_free(&d);
	/* Shallow copies: both policies own the strings until the emit is done. */
	struct gb_net_entry *all = calloc(base->n_entries + net->n_entries + 1, sizeof *all);
	if (!all) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	size_t n = 0;
	for (size_t i = 0; i < base->n_entries; i++) {
		int replaced = 0;
		for (size_t k = 0; k < net->n_entries && !replaced; k++)
			replaced = !strcmp(base->entries[i].key, net->entries[k].key);
		if (!replaced)
			all[n++] = base->entries[i];
	}
	for (size_t k = 0; k < net->n_entries; k++)
		all[n++] = net->entries[k];
	qsort(all, n, sizeof *all, by_key);
	rc = gb_policy_yaml(base, all, n, out);
	if (rc < 0)
		snprintf(err, errlen, "out of memory");
	free(all);
out:
	gb_policy_free(net);
	gb_policy_free(base);
	return rc;
}
