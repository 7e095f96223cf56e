/* exporter/dl_load.h — fill a table of function pointers from a shared
 * library opened with dlopen (curl_lazy.c, rdkafka_lazy.c: libraries the
 * glassbox binary does not link, see there why). */
#ifndef GB_EXPORTER_DL_LOAD_H
#define GB_EXPORTER_DL_LOAD_H

#include <stddef.h>

struct gb_dl_sym {
	const char *name; /* the symbol */
	void *slot;       /* address of the function-pointer field to fill */
};

/* dlopen(lib) (never closed) and every symbol into its slot.  0, or -1
 * with the reason in why. */
int gb_dl_load(const char *lib, const struct gb_dl_sym *syms, size_t n, char *why, size_t whylen);

#endif
