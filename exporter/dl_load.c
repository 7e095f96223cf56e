/* exporter/dl_load.c — see dl_load.h. */
#include "exporter/dl_load.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int gb_dl_load(const char *lib, const struct gb_dl_sym *syms, size_t n, char *why, size_t whylen)
{
	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(why, whylen, "cannot load %s: %s", lib, dlerror());
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		void *p = dlsym(h, syms[i].name);
		if (!p) {
			snprintf(why, whylen, "%s lacks %s", lib, syms[i].name);
			return -1;
		}
		/* dlsym gives void *; POSIX makes it a function pointer, ISO C
		 * does not say so: copy the bits into the field. */
		memcpy(syms[i].slot, &p, sizeof p);
	}
	return 0;
}

const void *gb_dl_lazy_get(struct gb_dl_lazy *l, char *err, size_t errlen)
{
	pthread_once(&l->once, l->load);
	if (!l->loaded)
		snprintf(err, errlen, "%s", l->why);
	return l->loaded;
}
