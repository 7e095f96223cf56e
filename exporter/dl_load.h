/* exporter/dl_load.h — fill a table of function pointers from a shared
 * library opened with dlopen (curl_lazy.c, rdkafka_lazy.c: libraries the
 * glassbox binary does not link, see there why). */
#ifndef GB_EXPORTER_DL_LOAD_H
#define GB_EXPORTER_DL_LOAD_H

#include <pthread.h>
#include <stddef.h>

struct gb_dl_sym {
	const char *name; /* the symbol */
	void *slot;       /* address of the function-pointer field to fill */
};

/* dlopen(lib) (never closed) and every symbol into its slot.  0, or -1
 * with the reason in why. */
int gb_dl_load(const char *lib, const struct gb_dl_sym *syms, size_t n, char *why, size_t whylen);

/* A library loaded once, on first use, from any thread.  load() fills the
 * caller's table and sets loaded to it, or leaves loaded NULL with the
 * reason in why.  Ownership: a static object per library, never freed. */
struct gb_dl_lazy {
	pthread_once_t once; /* PTHREAD_ONCE_INIT */
	void (*load)(void);
	const void *loaded;
	char why[256];
};
#define GB_DL_LAZY_INIT(load_fn) { PTHREAD_ONCE_INIT, (load_fn), NULL, "" }

/* Runs load() once; the table, or NULL with the reason copied to err. */
const void *gb_dl_lazy_get(struct gb_dl_lazy *l, char *err, size_t errlen);

#endif
