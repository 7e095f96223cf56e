/* exporter/rdkafka_lazy.c — see rdkafka_lazy.h. */
#include "exporter/rdkafka_lazy.h"

#include <pthread.h>
#include <stdio.h>

#include "common/array.h"
#include "exporter/dl_load.h"

static struct gb_rdkafka_api api;
static const struct gb_rdkafka_api *loaded;
static char why[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
#define GB_RDK_SYM(field, sym) { #sym, &api.field },
	const struct gb_dl_sym syms[] = { GB_RDKAFKA_FUNCS(GB_RDK_SYM) };
#undef GB_RDK_SYM
	if (gb_dl_load("librdkafka.so.1", syms, GB_ARRAY_LEN(syms), why, sizeof why) == 0)
		loaded = &api;
}

const struct gb_rdkafka_api *gb_rdkafka(char *err, size_t errlen)
{
	pthread_once(&once, load);
	if (!loaded)
		snprintf(err, errlen, "%s", why);
	return loaded;
}
