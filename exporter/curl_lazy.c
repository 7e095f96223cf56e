/* exporter/curl_lazy.c — see curl_lazy.h. */
#include "exporter/curl_lazy.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static struct gb_curl_api api;
static const struct gb_curl_api *loaded;
static char why[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(why, sizeof why, "cannot load libcurl: %s", dlerror());
		return;
	}
	/* dlsym returns void *; POSIX guarantees it converts to a function
	 * pointer, which ISO C does not say: go through memcpy. */
#define SYM(field, name)                                                                         \
	do {                                                                                     \
		void *p = dlsym(h, name);                                                        \
		if (!p) {                                                                        \
			snprintf(why, sizeof why, "libcurl lacks %s", name);                     \
			return;                                                                  \
		}                                                                                \
		memcpy(&api.field, &p, sizeof p);                                                \
	} while (0)
	SYM(easy_init, "curl_easy_init");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(easy_strerror, "curl_easy_strerror");
	SYM(slist_append, "curl_slist_append");
	SYM(slist_free_all, "curl_slist_free_all");
	CURLcode (*global_init)(long);
	void *gi = dlsym(h, "curl_global_init");
	if (!gi) {
		snprintf(why, sizeof why, "libcurl lacks curl_global_init");
		return;
	}
	memcpy(&global_init, &gi, sizeof gi);
#undef SYM
	if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(why, sizeof why, "curl_global_init failed");
		return;
	}
	loaded = &api;
}

const struct gb_curl_api *gb_curl(char *err, size_t errlen)
{
	pthread_once(&once, load);
	if (!loaded)
		snprintf(err, errlen, "%s", why);
	return loaded;
}
