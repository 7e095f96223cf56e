/* exporter/rdkafka_lazy.c — see rdkafka_lazy.h. */
#include "exporter/rdkafka_lazy.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static struct gb_rdkafka_api api;
static const struct gb_rdkafka_api *loaded;
static char why[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *h = dlopen("librdkafka.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(why, sizeof why, "cannot load librdkafka: %s", dlerror());
		return;
	}
	/* dlsym gives void *; POSIX makes it a function pointer, ISO C does
	 * not say so: copy the bits. */
#define GB_RDK_LOAD(field, sym)                                                                  \
	{                                                                                        \
		void *p = dlsym(h, #sym);                                                        \
		if (!p) {                                                                        \
			snprintf(why, sizeof why, "librdkafka lacks %s", #sym);                  \
			return;                                                                  \
		}                                                                                \
		memcpy(&api.field, &p, sizeof p);                                                \
	}
	GB_RDKAFKA_FUNCS(GB_RDK_LOAD)
#undef GB_RDK_LOAD
	loaded = &api;
}

const struct gb_rdkafka_api *gb_rdkafka(char *err, size_t errlen)
{
	pthread_once(&once, load);
	if (!loaded)
		snprintf(err, errlen, "%s", why);
	return loaded;
}
