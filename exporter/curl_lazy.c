/* exporter/curl_lazy.c — see curl_lazy.h. */
#include "exporter/curl_lazy.h"

#include <stdio.h>

#include "common/array.h"
#include "exporter/dl_load.h"

static struct gb_curl_api api;
static void load(void);
static struct gb_dl_lazy lib = GB_DL_LAZY_INIT(load);

static void load(void)
{
	CURLcode (*global_init)(long);
	const struct gb_dl_sym syms[] = {
		{ "curl_easy_init", &api.easy_init },       { "curl_easy_setopt", &api.easy_setopt },
		{ "curl_easy_perform", &api.easy_perform }, { "curl_easy_getinfo", &api.easy_getinfo },
		{ "curl_easy_cleanup", &api.easy_cleanup }, { "curl_easy_strerror", &api.easy_strerror },
		{ "curl_slist_append", &api.slist_append }, { "curl_slist_free_all", &api.slist_free_all },
		{ "curl_url", &api.url },                   { "curl_url_cleanup", &api.url_cleanup },
		{ "curl_url_set", &api.url_set },           { "curl_url_get", &api.url_get },
		{ "curl_url_strerror", &api.url_strerror }, { "curl_free", &api.free },
		{ "curl_global_init", &global_init },
	};
	if (gb_dl_load("libcurl.so.4", syms, GB_ARRAY_LEN(syms), lib.why, sizeof lib.why) < 0)
		return;
	if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(lib.why, sizeof lib.why, "curl_global_init failed");
		return;
	}
	lib.loaded = &api;
}

const struct gb_curl_api *gb_curl(char *err, size_t errlen)
{
	return gb_dl_lazy_get(&lib, err, errlen);
}
