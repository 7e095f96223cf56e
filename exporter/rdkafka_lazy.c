/* exporter/rdkafka_lazy.c — see rdkafka_lazy.h. */
#include "exporter/rdkafka_lazy.h"

#include <stdio.h>

#include "common/array.h"
#include "exporter/dl_load.h"

static struct gb_rdkafka_api api;
static void load(void);
static struct gb_dl_lazy lib = GB_DL_LAZY_INIT(load);

static void load(void)
{
#define GB_RDK_SYM(field, sym) { #sym, &api.field },
	const struct gb_dl_sym syms[] = { GB_RDKAFKA_FUNCS(GB_RDK_SYM) };
#undef GB_RDK_SYM
	if (gb_dl_load("librdkafka.so.1", syms, GB_ARRAY_LEN(syms), lib.why, sizeof lib.why) == 0)
		lib.loaded = &api;
}

const struct gb_rdkafka_api *gb_rdkafka(char *err, size_t errlen)
{
	return gb_dl_lazy_get(&lib, err, errlen);
}
